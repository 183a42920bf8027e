//! Integration tests of the call-number crate, in one test binary: the golden sort keys, the
//! real call numbers of the sample TSV, the curated Dewey order, and property tests (the key
//! agrees with the comparator, generated LC and Dewey call numbers sort by the rules, no input
//! panics).

use std::cmp::Ordering;

use callnumber::{CallNumber, Kind, Scheme, Warning, SORT_KEY_VERSION};
use proptest::prelude::*;

const SAMPLE_TSV: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/marc/callnumbers/lc-sample-callnumbers.tsv");
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden-keys.tsv");
const DEWEY_ORDER: &str = include_str!("dewey-expected-order.txt");

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The sample's (tag, display) pairs.
fn sample() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(SAMPLE_TSV)
        .unwrap_or_else(|e| panic!("{SAMPLE_TSV}: {e} (the shared data folder sits beside the repository)"));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let tag = header.iter().position(|c| *c == "tag").expect("tag column");
    let display = header.iter().position(|c| *c == "display").expect("display column");
    lines
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            (cols[tag].to_owned(), cols[display].to_owned())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Golden keys

/// The keys of this version must never change: a database stores them. To change the order
/// on purpose, bump `SORT_KEY_VERSION` and regenerate with
/// `CALLNUMBER_BLESS=1 cargo test -p callnumber --test callnumber golden`.
#[test]
fn golden_keys_are_stable() {
    let text = std::fs::read_to_string(GOLDEN).expect("golden file");
    let header: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).collect();
    let entries: Vec<(Scheme, String, String)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let mut cols = l.splitn(3, '\t');
            let scheme = cols.next().expect("scheme").parse().expect("scheme name");
            let key = cols.next().expect("key").to_owned();
            let call_number = cols.next().expect("call number").to_owned();
            (scheme, key, call_number)
        })
        .collect();
    assert!(entries.len() >= 300, "golden list too short: {}", entries.len());

    if std::env::var_os("CALLNUMBER_BLESS").is_some() {
        let mut fresh: Vec<(Vec<u8>, Scheme, String)> = entries
            .iter()
            .map(|(scheme, _, c)| (CallNumber::parse(c, *scheme).sort_key(), *scheme, c.clone()))
            .collect();
        fresh.sort_by(|a, b| a.0.cmp(&b.0));
        fresh.dedup_by(|a, b| a.0 == b.0);
        let mut out = String::new();
        for line in &header {
            let is_version = line.strip_prefix("# version ").is_some_and(|v| v.bytes().all(|b| b.is_ascii_digit()));
            if is_version {
                out.push_str(&format!("# version {SORT_KEY_VERSION}\n"));
            } else {
                out.push_str(&format!("{line}\n"));
            }
        }
        for (key, scheme, c) in fresh {
            out.push_str(&format!("{scheme}\t{}\t{c}\n", hex(&key)));
        }
        std::fs::write(GOLDEN, out).expect("write golden file");
        return;
    }

    assert!(
        header.contains(&format!("# version {SORT_KEY_VERSION}").as_str()),
        "golden file is for another SORT_KEY_VERSION"
    );
    let mut previous: Option<CallNumber> = None;
    for (scheme, key, c) in &entries {
        let parsed = CallNumber::parse(c, *scheme);
        assert_eq!(&hex(&parsed.sort_key()), key, "key of {c:?} ({scheme}) changed");
        if let Some(previous) = previous {
            assert!(previous < parsed, "{:?} should sort before {c:?}", previous.original());
        }
        previous = Some(parsed);
    }
}

// ---------------------------------------------------------------------------------------
// The real call numbers of the sample

fn tally(values: &[&str], scheme: Scheme) -> [usize; 4] {
    let mut counts = [0; 4];
    for value in values {
        let c = CallNumber::parse(value, scheme);
        match c.kind() {
            Kind::Dewey => counts[0] += 1,
            Kind::Lc => counts[1] += 1,
            Kind::Local => counts[2] += 1,
            Kind::Unparsed => {
                assert!(
                    c.warnings().contains(&Warning::Unparsed) || c.warnings().contains(&Warning::Empty),
                    "{value:?} unparsed without a warning"
                );
                counts[3] += 1;
            }
        }
        assert!(!c.spine_label().is_empty() || value.trim().is_empty(), "{value:?} has no label");
        assert!(c.sort_key().ends_with(value.as_bytes()));
    }
    counts
}

#[test]
fn every_sample_call_number_parses_or_is_flagged() {
    let sample = sample();
    let lc: Vec<&str> = sample.iter().filter(|(t, _)| t == "050").map(|(_, d)| d.as_str()).collect();
    let dewey: Vec<&str> = sample.iter().filter(|(t, _)| t == "082").map(|(_, d)| d.as_str()).collect();
    assert_eq!((lc.len(), dewey.len()), (20_771, 9_048));

    // [Dewey, LC, local, unparsed]. The 1,805 unparsed 050s are LC's own local numbers
    // (`MLCS 2006/46080 (D)`, `CPB Box no. 1798 vol. 19`, `Microfiche 2001/60055 (Q)`, `LAW`,
    // `UNCLASSIFIED 1763 (H)`, `*`): kept, flagged, shelved after the LC call numbers.
    assert_eq!(tally(&lc, Scheme::Lc), [0, 18_966, 0, 1_805]);
    // Auto reads the same LC call numbers as LC, and the local numbers as local.
    assert_eq!(tally(&lc, Scheme::Auto), [0, 18_966, 1_800, 5]);
    // The 327 local 082s are `[E]`, `[Fic]`, `Fic`; the 7 unparsed `-016`, `62103815/22`,
    // `68/.432`, `98.6/097291`, `A823.3`, `C810.8/0357`, `G449`.
    assert_eq!(tally(&dewey, Scheme::Dewey), [8_714, 0, 327, 7]);
    // Auto takes three of those for LC (`A823.3`, `C810.8/0357`, `G449`).
    assert_eq!(tally(&dewey, Scheme::Auto), [8_714, 3, 327, 4]);
}

/// Real 082 values, curated into shelf order by hand (`tests/dewey-expected-order.txt`).
#[test]
fn curated_dewey_order() {
    let expected: Vec<&str> = DEWEY_ORDER.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).collect();
    assert!(expected.len() >= 100);
    let shuffled: String = expected.iter().rev().map(|l| format!("{l}\n")).collect();
    assert_eq!(callnumber::sort_lines(&shuffled, Scheme::Dewey), expected);
}

// ---------------------------------------------------------------------------------------
// Property tests

/// A part after the class number, as the rules order them: numbers, then words, then cutters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Number(u32),
    Word(&'static str),
    Cutter(String, String),
}

/// A generated LC call number: its text, and its place by the rules, computed from the parts.
#[derive(Debug, Clone)]
struct Generated {
    text: String,
    scheme: Scheme,
    model: (String, u32, String, Vec<Part>),
}

// Small domains, so that generated call numbers often share a class, a number, a cutter, and
// differ late, where the subtle rules are.
const LC_CLASSES: &[&str] = &["Q", "QA", "QB", "E", "KFN"];
const LC_WHOLES: &[u32] = &[1, 9, 10, 76, 760, 9999];
const DECIMALS: &[&str] = &["", "05", "5", "54", "6", "73", "8"];
const CUTTER_DIGITS: &[&str] = &["1", "12", "2", "5", "53", "6", "87", "9"];
const YEARS: &[u32] = &[1899, 1900, 2000, 2018];

fn lc_generated() -> impl Strategy<Value = Generated> {
    (
        prop::sample::select(LC_CLASSES),
        prop::sample::select(LC_WHOLES),
        prop::sample::select(DECIMALS),
        prop::collection::vec((prop::char::range('A', 'D'), prop::sample::select(CUTTER_DIGITS)), 0..=3),
        prop::option::of(prop::sample::select(YEARS)),
        prop::option::of(1u32..=12),
        (0usize..3, 0usize..3, 0usize..3, any::<bool>()),
    )
        .prop_map(|(class, whole, decimal, cutters, year, volume, style)| {
            let (first_sep, next_sep, vol_style, space_after_class) = style;
            let mut text = class.to_owned();
            if space_after_class {
                text.push(' ');
            }
            text.push_str(&whole.to_string());
            if !decimal.is_empty() {
                text.push('.');
                text.push_str(decimal);
            }
            let mut parts = Vec::new();
            for (i, (letter, ds)) in cutters.iter().enumerate() {
                let sep = if i == 0 { [".", " .", " "][first_sep] } else { [" ", " .", "."][next_sep] };
                text.push_str(&format!("{sep}{letter}{ds}"));
                parts.push(Part::Cutter(letter.to_string(), (*ds).to_owned()));
            }
            if let Some(y) = year {
                text.push_str(&format!(" {y}"));
                parts.push(Part::Number(y));
            }
            if let Some(v) = volume {
                text.push_str(&[" v.{}", " v. {}", " vol. {}"][vol_style].replace("{}", &v.to_string()));
                parts.push(Part::Word("V"));
                parts.push(Part::Number(v));
            }
            Generated { text, scheme: Scheme::Lc, model: (class.to_owned(), whole, decimal.to_owned(), parts) }
        })
}

fn dewey_generated() -> impl Strategy<Value = Generated> {
    (
        prop::sample::select(&[4u32, 5, 30, 599, 813][..]),
        prop::sample::select(DECIMALS),
        prop::option::of((
            prop::sample::select(&["K", "KI", "KIN", "KING", "S"][..]),
            prop::sample::select(&["", "58", "581", "6"][..]),
        )),
        prop::option::of(prop::sample::select(YEARS)),
        prop::option::of(1u32..=12),
        prop::option::of(1u32..=3),
        (any::<bool>(), any::<bool>()),
    )
        .prop_map(|(whole, decimal, cutter, year, volume, copy, (segmented, prefixed))| {
            let mut text = String::new();
            let mut class = String::new();
            if prefixed {
                text.push_str("J ");
                class.push('J');
            }
            text.push_str(&format!("{whole:03}"));
            if !decimal.is_empty() {
                text.push_str(if segmented { "/." } else { "." });
                text.push_str(decimal);
            }
            let mut parts = Vec::new();
            if let Some((letters, ds)) = cutter {
                text.push_str(&format!(" {letters}{ds}"));
                parts.push(Part::Cutter(letters.to_owned(), ds.to_owned()));
            }
            if let Some(y) = year {
                text.push_str(&format!(" {y}"));
                parts.push(Part::Number(y));
            }
            if let Some(v) = volume {
                text.push_str(&format!(" v.{v}"));
                parts.push(Part::Word("V"));
                parts.push(Part::Number(v));
            }
            if let Some(c) = copy {
                text.push_str(&format!(" c.{c}"));
                parts.push(Part::Word("C"));
                parts.push(Part::Number(c));
            }
            Generated { text, scheme: Scheme::Dewey, model: (class, whole, decimal.to_owned(), parts) }
        })
}

/// Any text a person might type, structured or not.
fn any_text() -> impl Strategy<Value = (String, Scheme)> {
    let scheme = prop::sample::select(vec![Scheme::Auto, Scheme::Lc, Scheme::Dewey]);
    let text = prop_oneof![
        lc_generated().prop_map(|g| g.text),
        dewey_generated().prop_map(|g| g.text),
        "(FIC|J|REF|CD|B|E|YA|DVD|[Fic]) [A-Z]{1,6}( [A-Z]{1,4})?( [0-9]{1,4})?",
        "[ -~]{0,24}",
        "\\PC{0,16}",
        "[A-Z0-9 ./|\\[\\]-]{0,20}",
    ];
    (text, scheme)
}

fn key_order(a: &CallNumber, b: &CallNumber) -> Ordering {
    a.sort_key().cmp(&b.sort_key())
}

fn pairs<T>(items: &[T]) -> impl Iterator<Item = (&T, &T)> {
    items.iter().flat_map(move |a| items.iter().map(move |b| (a, b)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// memcmp on the keys is the comparator's order, for any two call numbers.
    #[test]
    fn key_agrees_with_ord(texts in prop::collection::vec(any_text(), 2..10)) {
        let parsed: Vec<CallNumber> = texts.iter().map(|(t, s)| CallNumber::parse(t, *s)).collect();
        for (a, b) in pairs(&parsed) {
            prop_assert_eq!(a.cmp(b), key_order(a, b), "{:?} vs {:?}", a.original(), b.original());
            prop_assert_eq!(a.cmp(b), b.cmp(a).reverse());
            prop_assert_eq!(a == b, a.original() == b.original() && a.sort_key() == b.sort_key());
        }
    }

    /// Generated LC call numbers, however spaced and punctuated, parse as LC and sort by the
    /// rules: class letters, class number, then the parts.
    #[test]
    fn generated_lc_sorts_by_the_rules(items in prop::collection::vec(lc_generated(), 2..10)) {
        for (a, b) in pairs(&items) {
            check_generated(a, b)?;
        }
    }

    /// Generated Dewey call numbers parse as Dewey and sort by the rules.
    #[test]
    fn generated_dewey_sorts_by_the_rules(items in prop::collection::vec(dewey_generated(), 2..10)) {
        for (a, b) in pairs(&items) {
            check_generated(a, b)?;
        }
    }

    /// No text makes anything panic; the key is the shelf key, `0x00` (the only one) and the
    /// text, and is below the range end.
    #[test]
    fn no_input_panics(text in any_text()) {
        let c = CallNumber::parse(&text.0, text.1);
        let key = c.sort_key();
        let shelf_len = key.len() - text.0.len() - 1;
        prop_assert!(key.ends_with(text.0.as_bytes()));
        prop_assert_eq!(key[shelf_len], 0);
        prop_assert!(!key[..shelf_len].contains(&0));
        prop_assert_eq!(&key[..shelf_len], &c.shelf_key()[..]);
        prop_assert!(key < c.range_end_key());
        let _ = c.spine_label();
        let _ = c.kind();
        prop_assert_eq!(c.is_parsed(), c.kind() != Kind::Unparsed);
    }
}

fn check_generated(a: &Generated, b: &Generated) -> Result<(), TestCaseError> {
    let ca = CallNumber::parse(&a.text, a.scheme);
    let cb = CallNumber::parse(&b.text, b.scheme);
    let expected_kind = if a.scheme == Scheme::Lc { Kind::Lc } else { Kind::Dewey };
    prop_assert_eq!(ca.kind(), expected_kind, "{:?}", a.text);
    prop_assert_eq!(ca.warnings(), &[] as &[Warning], "{:?}", a.text);
    let model = a.model.cmp(&b.model);
    if model != Ordering::Equal {
        prop_assert_eq!(ca.cmp(&cb), model, "{:?} vs {:?}", a.text, b.text);
        prop_assert_eq!(key_order(&ca, &cb), model);
    }
    Ok(())
}
