//! Where the index's time goes when it follows the change feed, and how fast it rebuilds.
//!
//! Imports the first N records of a MARC file into SQLite in a temporary directory, then times,
//! each over all N records:
//! 1. reading them back one at a time (`record` + paged `items`, as the follower once did) and
//!    in bulk (`records_by_ids` + `items_of_records`, 500 at a time, as it does now);
//! 2. building their index documents (MARC parse, `catalog_document`);
//! 3. the follower catching up from an empty index (every record a change in the feed);
//! 4. a rebuild from the database.
//!
//! Each line gives wall-clock seconds, the process's CPU seconds (on a shared machine the two
//! differ) and records/s.
//!
//! `cargo run --release -p search --example bench_follower -- FILE.mrc [--records N]`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use storage::{Database, ItemFilter, OnMatch, Page, SqliteOptions, StorageConfig};

// The `shelfmark` binary allocates with mimalloc: measure with the allocator it runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The process's user + system CPU time, from /proc (clock ticks of 10 ms).
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

struct Timer {
    wall: Instant,
    cpu: Duration,
}

impl Timer {
    fn start() -> Timer {
        Timer { wall: Instant::now(), cpu: cpu() }
    }

    fn report(&self, what: &str, records: u64) {
        let wall = self.wall.elapsed().as_secs_f64();
        let cpu = (cpu() - self.cpu).as_secs_f64();
        println!("| {what} | {wall:.2} | {cpu:.2} | {:.0} |", records as f64 / wall);
    }
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let mut file: Option<PathBuf> = None;
    let mut records = 20_000usize;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--records" => records = args.next().ok_or("--records N")?.parse()?,
            _ => file = Some(PathBuf::from(arg)),
        }
    }
    let file = file.ok_or("usage: bench_follower FILE.mrc [--records N]")?;
    let work = tempfile::tempdir()?;

    let reader = marc::Iso2709Reader::new(std::io::BufReader::new(std::fs::File::open(&file)?));
    let mut bytes = Vec::new();
    for read in reader.flatten().take(records) {
        bytes.extend(marc::to_iso2709(&read.record)?);
    }
    let db: Arc<dyn Database> = storage::open(&StorageConfig::Sqlite(SqliteOptions::new(work.path().join("db"))))?;
    let options = import::ImportOptions { on_match: OnMatch::Add, ..Default::default() };
    let mut rejects = import::RejectSink::at(&work.path().join("rejects"));
    let t = Timer::start();
    let report = import::import_reader(&*db, &bytes[..], &options, &mut rejects, &|_, _: &import::ImportReport| {})?;
    let n = report.added;
    println!("| step | wall s | CPU s | records/s |");
    println!("|---|---:|---:|---:|");
    t.report("import (for reference)", n);

    let ids: Vec<i64> = db
        .records(&storage::RecordFilter::default(), Page { after: 0, limit: u32::MAX })?
        .iter()
        .map(|r| r.id)
        .collect();

    let t = Timer::start();
    let mut read = 0u64;
    for id in &ids {
        if db.record(*id)?.is_some() {
            read += 1;
        }
        db.items(&ItemFilter { bib_id: Some(*id), ..Default::default() }, Page { after: 0, limit: 500 })?;
    }
    t.report("read one record at a time", read);

    let t = Timer::start();
    let mut stored = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        stored.extend(db.records_by_ids(chunk)?);
        db.items_of_records(chunk)?;
    }
    t.report("read 500 records at a time", stored.len() as u64);

    let t = Timer::start();
    let mut terms = 0usize;
    for record in &stored {
        terms += search::catalog_document(record, &[]).titles.len();
    }
    t.report("build documents (MARC parse, catalog_document)", stored.len() as u64);
    assert!(terms > 0);

    let index = Arc::new(search::SearchIndex::open(work.path().join("follow"), search::IndexSettings::default())?);
    let follower = search::Follower::new(index.clone(), db.clone());
    let t = Timer::start();
    let mut commits = 0;
    while follower.poll_once()? > 0 {
        commits += 1;
    }
    t.report(&format!("follower catch-up ({commits} commits)"), index.len());

    let rebuilt = search::SearchIndex::open(work.path().join("rebuild"), search::IndexSettings::default())?;
    let t = Timer::start();
    let report = rebuilt.rebuild(&*db, &mut |_| {})?;
    t.report("rebuild", report.records);
    Ok(())
}
