//! Shelf-list speed: one shelving location of 200,000 items with real call numbers (the LC and
//! Dewey values of `../shared/data/marc/callnumbers/lc-sample-callnumbers.tsv`, each used for
//! several copies), then pages of the shelf list in shelf order: the first page, pages deep in
//! the list (keyset cursors), a call-number range, and a walk of the whole location.
//!
//! `cargo run --release -p storage --example bench_shelf_list -- [--items N] [--database-url URL] [--tsv PATH]`
//! Without `--database-url` it runs on SQLite in a temporary directory.

use std::time::{Duration, Instant};

use catalog::inventory::ShelfItem;
use catalog::{Barcode, BibDerived, Branch, Code, ItemStatus, ItemType, NewItem, ShelvingLocation};
use storage::{ImportCandidate, NewRecord, OnMatch, ShelfCursor, ShelfPage, ShelfQuery, StorageConfig};

const DEFAULT_TSV: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/marc/callnumbers/lc-sample-callnumbers.tsv");
const ITEMS_PER_RECORD: usize = 100;
const PAGE: u32 = 50;

type Error = Box<dyn std::error::Error>;

fn code(s: &str) -> Result<Code, Error> {
    Ok(Code::parse(s)?)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Runs `f` `n` times; returns p50 and p99 in milliseconds.
fn time(n: usize, mut f: impl FnMut(usize) -> Result<usize, Error>) -> Result<(f64, f64), Error> {
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        let got = f(i)?;
        times.push(started.elapsed());
        if got == 0 {
            return Err("a page came back empty".into());
        }
    }
    times.sort();
    Ok((percentile(&times, 0.5), percentile(&times, 0.99)))
}

fn main() -> Result<(), Error> {
    let mut items = 200_000usize;
    let mut url: Option<String> = None;
    let mut tsv_path = DEFAULT_TSV.to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--items" => items = args.next().ok_or("--items N")?.parse()?,
            "--database-url" => url = Some(args.next().ok_or("--database-url URL")?),
            "--tsv" => tsv_path = args.next().ok_or("--tsv PATH")?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let tsv = std::fs::read_to_string(&tsv_path).map_err(|e| format!("{tsv_path}: {e}"))?;
    let call_numbers: Vec<String> = tsv
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').nth(7))
        .filter(|c| !c.trim().is_empty())
        .map(String::from)
        .collect();

    let dir = tempfile::tempdir()?;
    let config = match &url {
        Some(u) => StorageConfig::parse(u),
        None => StorageConfig::parse(dir.path().to_str().ok_or("temp dir path")?),
    };
    let db = storage::open(&config)?;
    db.upsert_branch(&Branch { code: code("MAIN")?, name: "Main Library".into() })?;
    db.upsert_location(&ShelvingLocation { code: code("STACKS")?, name: "Stacks".into() })?;
    db.upsert_item_type(&ItemType { code: code("BK")?, name: "Book".into(), loanable: true })?;

    let started = Instant::now();
    let mut batch = Vec::new();
    let mut made = 0;
    let mut record_no = 0;
    while made < items {
        record_no += 1;
        let derived = BibDerived { title: format!("Shelf list benchmark record {record_no}"), ..BibDerived::default() };
        let mut marc = format!("bench record {record_no}").into_bytes();
        marc.push(0x1d);
        let n = ITEMS_PER_RECORD.min(items - made);
        let its: Vec<NewItem> = (0..n)
            .map(|k| {
                let i = made + k;
                let copy = i / call_numbers.len() + 1;
                Ok(NewItem {
                    barcode: Barcode::parse(&format!("3{i:013}"))?,
                    home_branch: code("MAIN")?,
                    holding_branch: code("MAIN")?,
                    location: Some(code("STACKS")?),
                    collection: None,
                    call_number: Some(format!("{} c.{copy}", call_numbers[i % call_numbers.len()])),
                    item_type: code("BK")?,
                    price: None,
                    public_note: None,
                    staff_note: None,
                    materials_specified: None,
                    status: ItemStatus::Available,
                    acquired_on: None,
                })
            })
            .collect::<Result<_, Error>>()?;
        made += n;
        batch.push(ImportCandidate { record: NewRecord { marc, derived, row: None }, items: its });
        if batch.len() == 50 || made == items {
            db.import_batch(&batch, OnMatch::Add)?;
            batch.clear();
        }
    }
    eprintln!("loaded {items} items in {:.1} s ({})", started.elapsed().as_secs_f64(), db.backend());

    let query =
        ShelfQuery { branch: code("MAIN")?, location: Some(code("STACKS")?), from: None, to: None, status: None };
    // Walk the whole location once, keeping a cursor every 1,000 items for the deep pages.
    let started = Instant::now();
    let mut cursors: Vec<ShelfCursor> = Vec::new();
    let mut page = ShelfPage { after: None, limit: 1000 };
    let mut walked = 0;
    let mut previous: Option<Vec<u8>> = None;
    loop {
        let got: Vec<ShelfItem> = db.shelf_list(&query, &page)?;
        let Some(last) = got.last() else { break };
        if let Some(p) = &previous {
            if got[0].key < *p {
                return Err("the shelf list went backwards between pages".into());
            }
        }
        previous = Some(last.key.clone());
        walked += got.len();
        page.after = Some(ShelfCursor::after(last));
        cursors.push(ShelfCursor::after(last));
    }
    let walk = started.elapsed();
    if walked != items {
        return Err(format!("walked {walked} items of {items}").into());
    }

    let first = time(200, |_| Ok(db.shelf_list(&query, &ShelfPage { after: None, limit: PAGE })?.len()))?;
    let deep = time(200, |i| {
        let cursor = cursors[(i * 7919) % (cursors.len() - 1)].clone();
        Ok(db.shelf_list(&query, &ShelfPage { after: Some(cursor), limit: PAGE })?.len())
    })?;
    let range_query = ShelfQuery { from: Some("PS3500".into()), to: Some("PS3599".into()), ..query.clone() };
    let range = time(200, |_| Ok(db.shelf_list(&range_query, &ShelfPage { after: None, limit: PAGE })?.len()))?;

    println!("| shelf list, {items} items in one location ({}) | p50 ms | p99 ms |", db.backend());
    println!("|---|---:|---:|");
    println!("| first page of {PAGE} | {:.2} | {:.2} |", first.0, first.1);
    println!("| a page of {PAGE} deep in the list (keyset cursor) | {:.2} | {:.2} |", deep.0, deep.1);
    println!("| first page of {PAGE} of the range PS3500-PS3599 | {:.2} | {:.2} |", range.0, range.1);
    println!(
        "\nwhole location in pages of 1,000: {:.2} s ({:.0} items/s)",
        walk.as_secs_f64(),
        items as f64 / walk.as_secs_f64()
    );
    Ok(())
}
