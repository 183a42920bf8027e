//! Measures `import_batch` speed: batches of 1,000 records, each with 2 ISBNs, an OCLC number, a
//! 001/003 pair, authors and subjects, and one item.
//!
//! ```sh
//! cargo run --release -p storage --example import_bench              # SQLite in a temp dir
//! cargo run --release -p storage --example import_bench -- postgres://user@host/db
//! ```

use catalog::{Barcode, BibDerived, Code, ItemStatus, Money, NewItem};
use std::time::Instant;
use storage::{ImportCandidate, NewRecord, OnMatch, StorageConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg = std::env::args().nth(1);
    let dir = tempfile::tempdir()?;
    let config = match &arg {
        Some(url) => {
            let mut o = storage::PostgresOptions::new(url.clone());
            o.schema = Some(format!("bench_{}", std::process::id()));
            StorageConfig::Postgres(o)
        }
        None => StorageConfig::parse(dir.path().to_str().ok_or("temp path")?),
    };
    let db = storage::open(&config)?;
    let batches = 5;
    let mut total = 0.0;
    for b in 0..batches {
        let batch = batch(b, 1000)?;
        let (start, cpu) = (Instant::now(), cpu_seconds());
        let out = db.import_batch(&batch, OnMatch::Skip)?;
        let secs = start.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu;
        total += secs;
        assert_eq!(out.len(), 1000);
        println!(
            "{}: batch {b}: {:.1} ms wall, {:.0} records/s ({:.1} ms on this thread's CPU: {:.0} records/s)",
            db.backend(),
            secs * 1e3,
            1000.0 / secs,
            cpu * 1e3,
            1000.0 / cpu
        );
    }
    println!("{}: mean {:.0} records/s", db.backend(), f64::from(batches * 1000) / total);
    let again = Instant::now();
    db.import_batch(&batch(0, 1000)?, OnMatch::Skip)?;
    println!(
        "{}: re-import of an identical batch: {:.0} records/s",
        db.backend(),
        1000.0 / again.elapsed().as_secs_f64()
    );
    if let StorageConfig::Postgres(o) = &config {
        let mut client = postgres::Client::connect(&o.url, postgres::NoTls)?;
        client.batch_execute(&format!("DROP SCHEMA \"{}\" CASCADE", o.schema.as_deref().unwrap_or("x")))?;
    }
    Ok(())
}

/// CPU time of this thread (Linux), so a busy machine does not hide what the import costs.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse::<f64>().ok()))
        .map_or(0.0, |ns| ns / 1e9)
}

fn batch(b: u32, n: u32) -> Result<Vec<ImportCandidate>, Box<dyn std::error::Error>> {
    (0..n)
        .map(|i| {
            let derived = BibDerived {
                title: format!("Benchmark title {b}-{i}"),
                authors: vec![format!("Author {i}"), "Editor, Some".into()],
                isbns: vec![format!("978{b:03}{i:07}"), format!("979{b:03}{i:07}")],
                oclc_numbers: vec![format!("{b}{i:07}")],
                control_number: Some(format!("bench{b}-{i}")),
                control_number_identifier: Some("BENCH".into()),
                subjects: vec!["Benchmarks -- Fiction".into()],
                year: Some(2000 + (i % 25) as i32),
                ..BibDerived::default()
            };
            let mut marc = b"00000nam a2200000 a 4500".to_vec();
            marc.extend(serde_json::to_vec(&derived)?);
            marc.resize(1500, b' ');
            let item = NewItem {
                barcode: Barcode::parse(&format!("B{b}{i:07}"))?,
                home_branch: Code::parse("MAIN")?,
                holding_branch: Code::parse("MAIN")?,
                location: Some(Code::parse("ADULT")?),
                collection: None,
                call_number: Some(format!("FIC {i}")),
                item_type: Code::parse("BK")?,
                price: Some(Money::from_minor(2500)),
                public_note: None,
                staff_note: None,
                materials_specified: None,
                status: ItemStatus::Available,
                acquired_on: Some("2024-01-15".into()),
            };
            Ok(ImportCandidate { record: NewRecord { marc, derived, row: None }, items: vec![item] })
        })
        .collect()
}
