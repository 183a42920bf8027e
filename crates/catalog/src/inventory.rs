//! Inventory (shelf reading): staff scan every barcode along a stretch of shelf, in the order the
//! items stand, and get back what is missing, what stands out of shelf order, what the catalog
//! thinks is somewhere else (checked out, lost, withdrawn) and what belongs to another shelf.
//!
//! Pure: storage hands over the items in the inventory's scope (in shelf order, with their
//! sort keys), the scans in scan order, and the items the scanned barcodes name; [`report`]
//! does the rest. Recomputing a report from the same inputs gives the same report.
//!
//! **Misplaced** is the smallest set of scanned items whose removal leaves the rest in shelf
//! order: everything outside one longest non-decreasing run of sort keys (copies of one call
//! number share a key, so they may stand in any order). Staff then move only those items, and
//! each comes with the neighbours it belongs between.

use crate::{Barcode, Code, Item, ItemStatus};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// The stretch of shelf an inventory covers: a branch, optionally one shelving location, and
/// optionally a call-number range given as sort keys (`from <= key < to_end`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub branch: Code,
    pub location: Option<Code>,
    pub from_key: Option<Vec<u8>>,
    pub to_end_key: Option<Vec<u8>>,
}

impl Scope {
    /// Why an item is not on this stretch of shelf, or `None` when it is.
    pub fn misfit(&self, item: &ShelfItem) -> Option<WrongPlace> {
        let it = &item.item.item;
        if it.home_branch != self.branch {
            return Some(WrongPlace::OtherBranch { home_branch: it.home_branch.clone() });
        }
        if let Some(location) = &self.location {
            if it.location.as_ref() != Some(location) {
                return Some(WrongPlace::OtherLocation { location: it.location.clone() });
            }
        }
        let below = self.from_key.as_ref().is_some_and(|from| item.key < *from);
        let above = self.to_end_key.as_ref().is_some_and(|end| item.key >= *end);
        (below || above).then_some(WrongPlace::OutsideRange)
    }
}

/// An item as a shelf sees it: the stored item, its title, the call number it is shelved under
/// (its own, else the record's) and that call number's sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShelfItem {
    pub item: Item,
    pub title: String,
    pub call_number: Option<String>,
    pub key: Vec<u8>,
    /// When an inventory last scanned it (RFC 3339, UTC).
    pub last_seen_at: Option<String>,
}

/// The part of an item a report line shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportItem {
    pub barcode: Barcode,
    pub call_number: Option<String>,
    pub title: String,
    pub status: ItemStatus,
    pub home_branch: Code,
    pub location: Option<Code>,
}

impl From<&ShelfItem> for ReportItem {
    fn from(s: &ShelfItem) -> Self {
        let it = &s.item.item;
        ReportItem {
            barcode: it.barcode.clone(),
            call_number: s.call_number.clone(),
            title: s.title.clone(),
            status: it.status,
            home_branch: it.home_branch.clone(),
            location: it.location.clone(),
        }
    }
}

/// Why a scanned item does not belong on the stretch of shelf being read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum WrongPlace {
    OtherBranch {
        home_branch: Code,
    },
    OtherLocation {
        location: Option<Code>,
    },
    /// Right branch and location, but its call number is outside the inventory's range.
    OutsideRange,
}

/// What staff should do about an item found on the shelf whose status says it is not there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusFix {
    /// Checked out, yet on the shelf: check it in (it was shelved without a check-in).
    CheckIn,
    /// Lost: check it in as found, which refunds or waives the lost charge.
    CheckInFound,
    /// Missing or on order: mark it available.
    MarkAvailable,
    /// In transit: receive the transit (or send it on).
    ReceiveTransit,
    /// Waiting on the hold shelf for a patron: take it back to the hold shelf.
    ReturnToHoldShelf,
    /// Damaged or in repair: take it off the shelf to the repair queue.
    SendToRepair,
    /// Withdrawn: take it off the shelf, or reinstate it.
    RemoveOrReinstate,
}

impl StatusFix {
    /// The fix for an item found on the shelf with `status`, or `None` when the status is right
    /// for an item on the shelf.
    pub fn for_status(status: ItemStatus) -> Option<StatusFix> {
        Some(match status {
            ItemStatus::Available => return None,
            ItemStatus::CheckedOut => StatusFix::CheckIn,
            ItemStatus::Lost => StatusFix::CheckInFound,
            ItemStatus::Missing | ItemStatus::OnOrder => StatusFix::MarkAvailable,
            ItemStatus::InTransit => StatusFix::ReceiveTransit,
            ItemStatus::OnHoldShelf => StatusFix::ReturnToHoldShelf,
            ItemStatus::Damaged | ItemStatus::InRepair => StatusFix::SendToRepair,
            ItemStatus::Withdrawn => StatusFix::RemoveOrReinstate,
        })
    }

    /// What a clerk reads on the report.
    pub fn sentence(self) -> &'static str {
        match self {
            StatusFix::CheckIn => "recorded as checked out: check it in",
            StatusFix::CheckInFound => "recorded as lost: check it in as found (the lost charge is refunded or waived)",
            StatusFix::MarkAvailable => "recorded as missing or on order: mark it available",
            StatusFix::ReceiveTransit => "recorded as in transit: receive the transit",
            StatusFix::ReturnToHoldShelf => "waiting for a patron: take it back to the hold shelf",
            StatusFix::SendToRepair => "recorded as damaged or in repair: take it to the repair queue",
            StatusFix::RemoveOrReinstate => "recorded as withdrawn: take it off the shelf or reinstate it",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Misplaced {
    #[serde(flatten)]
    pub item: ReportItem,
    /// 1-based position of its first scan.
    pub scan_position: usize,
    /// The in-order items it belongs between (by shelf order), when there are any.
    pub shelve_after: Option<Barcode>,
    pub shelve_before: Option<Barcode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WrongStatus {
    #[serde(flatten)]
    pub item: ReportItem,
    pub fix: StatusFix,
    pub fix_sentence: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WrongPlaceItem {
    #[serde(flatten)]
    pub item: ReportItem,
    #[serde(flatten)]
    pub why: WrongPlace,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Duplicate {
    pub barcode: String,
    pub times: usize,
}

/// Everything an inventory found. Lists are in shelf order (missing) or scan order (the rest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct InventoryReport {
    /// Items in scope whose status says they should be on the shelf (available).
    pub expected: usize,
    /// Scans received, and distinct barcodes among them.
    pub scans: usize,
    pub distinct_barcodes: usize,
    /// Expected items that were scanned.
    pub found: usize,
    /// Expected on the shelf and not scanned, in shelf order.
    pub missing: Vec<ReportItem>,
    /// Scanned out of shelf order, in scan order.
    pub misplaced: Vec<Misplaced>,
    /// Scanned, in scope, but recorded as somewhere else.
    pub wrong_status: Vec<WrongStatus>,
    /// Scanned but belonging to another branch, location or call-number range.
    pub wrong_place: Vec<WrongPlaceItem>,
    /// Scanned barcodes the catalog does not know, in scan order.
    pub unknown: Vec<String>,
    /// Barcodes scanned more than once: counted once, reported here.
    pub duplicates: Vec<Duplicate>,
}

/// Builds the report. `in_scope` holds every item of the scope whatever its status (storage's
/// shelf list for the scope); `scans` the barcodes as scanned, in order; `scanned_items` the
/// stored item of every scanned barcode the catalog knows, in scope or not.
pub fn report(
    scope: &Scope,
    in_scope: &[ShelfItem],
    scans: &[String],
    scanned_items: &HashMap<String, ShelfItem>,
) -> InventoryReport {
    let mut report = InventoryReport { scans: scans.len(), ..InventoryReport::default() };

    // First occurrence of each barcode, in scan order; later ones are duplicates.
    let mut times: HashMap<&str, usize> = HashMap::new();
    let mut distinct: Vec<(usize, &str)> = Vec::new();
    for (i, scan) in scans.iter().enumerate() {
        let n = times.entry(scan.as_str()).or_insert(0);
        *n += 1;
        if *n == 1 {
            distinct.push((i + 1, scan.as_str()));
        }
    }
    report.distinct_barcodes = distinct.len();
    report.duplicates = distinct
        .iter()
        .filter_map(|(_, b)| {
            let n = times[b];
            (n > 1).then(|| Duplicate { barcode: (*b).to_string(), times: n })
        })
        .collect();

    // Scanned items standing in scope, in scan order: these are the ones whose order counts.
    let mut on_this_shelf: Vec<(usize, &ShelfItem)> = Vec::new();
    for &(position, barcode) in &distinct {
        let Some(item) = scanned_items.get(barcode) else {
            report.unknown.push(barcode.to_string());
            continue;
        };
        if let Some(why) = scope.misfit(item) {
            report.wrong_place.push(WrongPlaceItem { item: item.into(), why });
            continue;
        }
        if let Some(fix) = StatusFix::for_status(item.item.item.status) {
            report.wrong_status.push(WrongStatus { item: item.into(), fix, fix_sentence: fix.sentence() });
        }
        on_this_shelf.push((position, item));
    }

    let keys: Vec<&[u8]> = on_this_shelf.iter().map(|(_, s)| s.key.as_slice()).collect();
    let kept = longest_non_decreasing(&keys);
    // The in-order items sorted by key: a misplaced item belongs after the last one not above it.
    let in_order: Vec<&ShelfItem> =
        on_this_shelf.iter().zip(&kept).filter(|(_, k)| **k).map(|((_, s), _)| *s).collect();
    for ((position, item), _) in on_this_shelf.iter().zip(&kept).filter(|(_, k)| !**k) {
        let at = in_order.partition_point(|s| s.key <= item.key);
        report.misplaced.push(Misplaced {
            item: (*item).into(),
            scan_position: *position,
            shelve_after: at.checked_sub(1).map(|i| in_order[i].item.item.barcode.clone()),
            shelve_before: in_order.get(at).map(|s| s.item.item.barcode.clone()),
        });
    }

    let scanned: HashSet<&str> = distinct.iter().map(|(_, b)| *b).collect();
    for item in in_scope.iter().filter(|s| s.item.item.status == ItemStatus::Available) {
        report.expected += 1;
        if scanned.contains(item.item.item.barcode.as_str()) {
            report.found += 1;
        } else {
            report.missing.push(item.into());
        }
    }
    report
}

/// Which elements to keep so that the kept ones form a longest non-decreasing subsequence
/// (`true` = kept). O(n log n): patience sorting, remembering each element's predecessor.
/// Ties between equally long subsequences go to the one ending with the smallest keys, found
/// scanning left to right, so the answer is deterministic.
pub fn longest_non_decreasing<T: Ord>(keys: &[T]) -> Vec<bool> {
    // tails[len - 1] = index of the smallest last element of a run of length len.
    let mut tails: Vec<usize> = Vec::new();
    let mut previous: Vec<Option<usize>> = vec![None; keys.len()];
    for (i, key) in keys.iter().enumerate() {
        // First run whose tail is greater than key: equal keys extend a run (non-decreasing).
        let at = tails.partition_point(|&t| keys[t] <= *key);
        previous[i] = at.checked_sub(1).map(|p| tails[p]);
        if at == tails.len() {
            tails.push(i);
        } else {
            tails[at] = i;
        }
    }
    let mut kept = vec![false; keys.len()];
    let mut next = tails.last().copied();
    while let Some(i) = next {
        kept[i] = true;
        next = previous[i];
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewItem;
    use proptest::prelude::*;

    fn code(s: &str) -> Code {
        Code::parse(s).expect("code")
    }

    fn shelf_item(barcode: &str, key: &[u8], status: ItemStatus, branch: &str, location: &str) -> ShelfItem {
        ShelfItem {
            item: Item {
                id: 0,
                bib_id: 0,
                item: NewItem {
                    barcode: Barcode::parse(barcode).expect("barcode"),
                    home_branch: code(branch),
                    holding_branch: code(branch),
                    location: Some(code(location)),
                    collection: None,
                    call_number: Some(String::from_utf8_lossy(key).into_owned()),
                    item_type: code("BK"),
                    price: None,
                    public_note: None,
                    staff_note: None,
                    materials_specified: None,
                    status,
                    acquired_on: None,
                },
            },
            title: format!("Title {barcode}"),
            call_number: Some(String::from_utf8_lossy(key).into_owned()),
            key: key.to_vec(),
            last_seen_at: None,
        }
    }

    fn scope() -> Scope {
        Scope { branch: code("MAIN"), location: Some(code("ADULT")), from_key: None, to_end_key: None }
    }

    fn lookup(items: &[ShelfItem]) -> HashMap<String, ShelfItem> {
        items.iter().map(|s| (s.item.item.barcode.to_string(), s.clone())).collect()
    }

    fn barcodes(list: &[ReportItem]) -> Vec<&str> {
        list.iter().map(|r| r.barcode.as_str()).collect()
    }

    #[test]
    fn a_shelf_read_in_order_reports_nothing() {
        let shelf: Vec<ShelfItem> =
            (0..5).map(|i| shelf_item(&format!("B{i}"), &[b'a' + i], ItemStatus::Available, "MAIN", "ADULT")).collect();
        let scans: Vec<String> = (0..5).map(|i| format!("B{i}")).collect();
        let r = report(&scope(), &shelf, &scans, &lookup(&shelf));
        assert_eq!((r.expected, r.found, r.scans, r.distinct_barcodes), (5, 5, 5, 5));
        assert!(r.missing.is_empty() && r.misplaced.is_empty() && r.wrong_status.is_empty());
        assert!(r.wrong_place.is_empty() && r.unknown.is_empty() && r.duplicates.is_empty());
    }

    #[test]
    fn every_kind_of_finding() {
        let mut shelf: Vec<ShelfItem> =
            (0..8).map(|i| shelf_item(&format!("B{i}"), &[b'a' + i], ItemStatus::Available, "MAIN", "ADULT")).collect();
        shelf[3].item.item.status = ItemStatus::CheckedOut;
        shelf[6].item.item.status = ItemStatus::Withdrawn;
        let foreign = shelf_item("X1", b"c", ItemStatus::Available, "EAST", "ADULT");
        let children = shelf_item("X2", b"c", ItemStatus::Available, "MAIN", "CHILD");
        let mut known = lookup(&shelf);
        known.extend(lookup(&[foreign, children]));
        // B5 is pulled out and shelved at the front; B2 and B7 are not on the shelf; B3 (checked
        // out) is there; B1 is scanned twice; two foreign items and one unknown barcode.
        let scans: Vec<String> =
            ["B5", "B0", "B1", "B1", "X1", "B3", "B4", "NOPE", "B6", "X2"].iter().map(|s| s.to_string()).collect();
        let r = report(&scope(), &shelf, &scans, &known);
        assert_eq!(r.expected, 6, "B3 and B6 are not expected on the shelf");
        assert_eq!(r.found, 4);
        assert_eq!(barcodes(&r.missing), ["B2", "B7"]);
        assert_eq!(r.misplaced.len(), 1);
        let m = &r.misplaced[0];
        assert_eq!((m.item.barcode.as_str(), m.scan_position), ("B5", 1));
        assert_eq!(m.shelve_after.as_ref().map(Barcode::as_str), Some("B4"));
        assert_eq!(m.shelve_before.as_ref().map(Barcode::as_str), Some("B6"));
        let fixes: Vec<(&str, StatusFix)> = r.wrong_status.iter().map(|w| (w.item.barcode.as_str(), w.fix)).collect();
        assert_eq!(fixes, [("B3", StatusFix::CheckIn), ("B6", StatusFix::RemoveOrReinstate)]);
        let wrong: Vec<(&str, &WrongPlace)> = r.wrong_place.iter().map(|w| (w.item.barcode.as_str(), &w.why)).collect();
        assert_eq!(
            wrong,
            [
                ("X1", &WrongPlace::OtherBranch { home_branch: code("EAST") }),
                ("X2", &WrongPlace::OtherLocation { location: Some(code("CHILD")) }),
            ]
        );
        assert_eq!(r.unknown, ["NOPE"]);
        assert_eq!(r.duplicates, [Duplicate { barcode: "B1".into(), times: 2 }]);
        assert_eq!((r.scans, r.distinct_barcodes), (10, 9));
    }

    #[test]
    fn a_range_puts_items_outside_it_in_the_wrong_place() {
        let shelf: Vec<ShelfItem> =
            (0..4).map(|i| shelf_item(&format!("B{i}"), &[b'a' + i], ItemStatus::Available, "MAIN", "ADULT")).collect();
        let scope = Scope { from_key: Some(b"b".to_vec()), to_end_key: Some(b"d".to_vec()), ..scope() };
        let in_scope: Vec<ShelfItem> = shelf[1..3].to_vec();
        let scans: Vec<String> = ["B0", "B1", "B2", "B3"].iter().map(|s| s.to_string()).collect();
        let r = report(&scope, &in_scope, &scans, &lookup(&shelf));
        let wrong: Vec<&str> = r.wrong_place.iter().map(|w| w.item.barcode.as_str()).collect();
        assert_eq!(wrong, ["B0", "B3"]);
        assert!(r.wrong_place.iter().all(|w| w.why == WrongPlace::OutsideRange));
        assert_eq!((r.expected, r.found), (2, 2));
    }

    #[test]
    fn copies_of_one_call_number_may_stand_in_any_order() {
        assert_eq!(longest_non_decreasing(&[1, 2, 2, 2, 3]), [true; 5]);
        assert_eq!(longest_non_decreasing(&[3, 1, 2]), [false, true, true]);
        assert_eq!(longest_non_decreasing::<u8>(&[]), Vec::<bool>::new());
    }

    /// The O(n^2) textbook answer: length of the longest non-decreasing subsequence.
    fn longest_by_dp(keys: &[u8]) -> usize {
        let mut best = vec![1usize; keys.len()];
        for i in 0..keys.len() {
            for j in 0..i {
                if keys[j] <= keys[i] {
                    best[i] = best[i].max(best[j] + 1);
                }
            }
        }
        best.into_iter().max().unwrap_or(0)
    }

    proptest! {
        /// What is kept is in order, and no longer in-order subsequence exists: the misplaced
        /// set is as small as it can be.
        #[test]
        fn kept_items_are_a_longest_ordered_run(keys in proptest::collection::vec(0u8..20, 0..60)) {
            let kept = longest_non_decreasing(&keys);
            let run: Vec<u8> = keys.iter().zip(&kept).filter(|(_, k)| **k).map(|(v, _)| *v).collect();
            prop_assert!(run.windows(2).all(|w| w[0] <= w[1]));
            prop_assert_eq!(run.len(), longest_by_dp(&keys));
        }

        /// Every scan is accounted for exactly once, and every expected item is found or missing.
        #[test]
        fn every_scan_and_item_is_counted_once(
            order in Just((0u8..30).collect::<Vec<u8>>()).prop_shuffle(),
            take in 0usize..30,
            repeat in proptest::collection::vec(0usize..30, 0..5),
        ) {
            let shelf: Vec<ShelfItem> = (0u8..30)
                .map(|i| shelf_item(&format!("B{i:02}"), &[i], ItemStatus::Available, "MAIN", "ADULT"))
                .collect();
            let mut scans: Vec<String> = order[..take].iter().map(|i| format!("B{i:02}")).collect();
            for r in &repeat {
                if let Some(s) = scans.get(*r).cloned() {
                    scans.push(s);
                }
            }
            let r = report(&scope(), &shelf, &scans, &lookup(&shelf));
            prop_assert_eq!(r.found + r.missing.len(), r.expected);
            prop_assert_eq!(r.found, r.distinct_barcodes);
            let extra: usize = r.duplicates.iter().map(|d| d.times - 1).sum();
            prop_assert_eq!(r.distinct_barcodes + extra, r.scans);
            prop_assert!(r.misplaced.len() < r.distinct_barcodes.max(1));
        }
    }
}
