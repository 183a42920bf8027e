//! The shelf from the command line: shelf lists and inventories (shelf reading).

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::Context;
use catalog::inventory::{InventoryReport, ReportItem};
use storage::{Database, InventoryId, NewInventory, ShelfCursor, ShelfPage, ShelfQuery};

/// Rows fetched per round trip; the list itself streams, whatever its length.
const PAGE: u32 = 1000;
/// Scans sent per transaction when uploading a scan file.
const SCAN_BATCH: usize = 1000;

/// Prints a shelf list, tab-separated: call number, barcode, status, title; in shelf order.
pub fn print_shelf_list(db: &dyn Database, query: &ShelfQuery, out: &mut dyn Write) -> anyhow::Result<u64> {
    let mut page = ShelfPage { after: None, limit: PAGE };
    let mut n = 0;
    loop {
        let entries = db.shelf_list(query, &page)?;
        for e in &entries {
            let it = &e.item.item;
            writeln!(
                out,
                "{}\t{}\t{}\t{}",
                e.call_number.as_deref().unwrap_or(""),
                it.barcode,
                it.status,
                e.title.replace(['\t', '\n'], " ")
            )?;
            n += 1;
        }
        match entries.last() {
            Some(last) if entries.len() as u32 == PAGE => page.after = Some(ShelfCursor::after(last)),
            _ => return Ok(n),
        }
    }
}

pub fn start(db: &dyn Database, scope: &NewInventory) -> anyhow::Result<InventoryId> {
    Ok(db.start_inventory(scope)?.id)
}

/// Uploads scan files (one barcode a line, `-` for standard input) in order, in batches.
/// Returns the inventory's scan count afterwards.
pub fn scan(db: &dyn Database, id: InventoryId, files: &[std::path::PathBuf]) -> anyhow::Result<u64> {
    let mut total = db.inventory(id)?.with_context(|| format!("there is no inventory {id}"))?.scans;
    for file in files {
        let reader: Box<dyn BufRead> = if file.as_os_str() == "-" {
            Box::new(std::io::BufReader::new(std::io::stdin()))
        } else {
            let f = std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
            Box::new(std::io::BufReader::new(f))
        };
        let mut batch = Vec::with_capacity(SCAN_BATCH);
        for line in reader.lines() {
            batch.push(line.with_context(|| format!("cannot read {}", display(file)))?);
            if batch.len() == SCAN_BATCH {
                total = db.add_inventory_scans(id, &batch)?.scans;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            total = db.add_inventory_scans(id, &batch)?.scans;
        }
    }
    Ok(total)
}

fn display(file: &Path) -> String {
    if file.as_os_str() == "-" {
        "standard input".to_string()
    } else {
        file.display().to_string()
    }
}

/// The report as staff read it on paper: counts, then each list with what to do.
pub fn print_report(db: &dyn Database, id: InventoryId, json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let (inventory, report) = storage::inventory_report(db, id)?;
    if json {
        let value = serde_json::json!({ "inventory": inventory, "report": report });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    let scope = &inventory.scope;
    writeln!(
        out,
        "Inventory {} of {}{}{}, started {}",
        inventory.id,
        scope.branch,
        scope.location.as_ref().map(|l| format!(" / {l}")).unwrap_or_default(),
        match (&scope.call_number_from, &scope.call_number_to) {
            (None, None) => String::new(),
            (f, t) => format!(", {} to {}", f.as_deref().unwrap_or("start"), t.as_deref().unwrap_or("end")),
        },
        inventory.started_at
    )?;
    write_counts(&report, out)?;
    let line = |r: &ReportItem| {
        format!("{}\t{}\t{}", r.call_number.as_deref().unwrap_or(""), r.barcode, r.title.replace(['\t', '\n'], " "))
    };
    section(out, "Missing (expected on the shelf, not scanned)", report.missing.iter().map(line))?;
    section(
        out,
        "Misplaced (out of shelf order: move these)",
        report.misplaced.iter().map(|m| {
            let between = match (&m.shelve_after, &m.shelve_before) {
                (Some(a), Some(b)) => format!("between {a} and {b}"),
                (Some(a), None) => format!("after {a}"),
                (None, Some(b)) => format!("before {b}"),
                (None, None) => String::new(),
            };
            format!("{}\tscan {}\t{between}", line(&m.item), m.scan_position)
        }),
    )?;
    section(
        out,
        "Wrong status (on the shelf, recorded elsewhere)",
        report.wrong_status.iter().map(|w| format!("{}\t{}: {}", line(&w.item), w.item.status, w.fix_sentence)),
    )?;
    section(
        out,
        "Wrong place (belongs to another shelf)",
        report.wrong_place.iter().map(|w| {
            let home = format!(
                "belongs to {}{}",
                w.item.home_branch,
                w.item.location.as_ref().map(|l| format!(" / {l}")).unwrap_or_default()
            );
            format!("{}\t{home}", line(&w.item))
        }),
    )?;
    section(out, "Unknown barcodes", report.unknown.iter().cloned())?;
    section(
        out,
        "Scanned more than once (counted once)",
        report.duplicates.iter().map(|d| format!("{}\t{} times", d.barcode, d.times)),
    )?;
    Ok(())
}

fn write_counts(r: &InventoryReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "expected {}, found {}, missing {}, misplaced {}, wrong status {}, wrong place {}, unknown {}; \
         {} scans of {} barcodes",
        r.expected,
        r.found,
        r.missing.len(),
        r.misplaced.len(),
        r.wrong_status.len(),
        r.wrong_place.len(),
        r.unknown.len(),
        r.scans,
        r.distinct_barcodes
    )
}

fn section(out: &mut dyn Write, title: &str, lines: impl Iterator<Item = String>) -> std::io::Result<()> {
    let lines: Vec<String> = lines.collect();
    if lines.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{title}: {}", lines.len())?;
    for l in lines {
        writeln!(out, "  {l}")?;
    }
    Ok(())
}
