//! Where a search's time goes, without HTTP around it: the query log of `web`'s `bench_search`
//! straight against [`search::SearchIndex::search`] (every facet counted, 20 hits), over an
//! index built once and kept, so that a change to the query path is measured in seconds rather
//! than after a twenty-minute import.
//!
//! 1. With `--records N` and no index in `--index DIR` yet: N records derived from FILE as
//!    `bench_search` derives them (copies after the first get their own 001, a word added to
//!    the title and a shifted year), imported into SQLite in a temporary directory, and the
//!    index rebuilt from it into DIR. An index already in DIR is reused.
//! 2. Each query alone: its hits and its median and slowest time over the rounds.
//! 3. The whole log, `--rounds` times, from 1 and from 8 threads at once: p50 and p99.
//!
//! `cargo run --release -p search --example bench_query -- FILE.mrc --index DIR [--records N]
//! [--rounds R] [--clients 1,8] [--query Q]`
//!
//! `--query Q` searches Q alone instead of the log (for `perf record` on one query).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "common/derived.rs"]
mod derived;

use derived::derive;
use search::{FacetFilter, FacetName, IndexSettings, SearchIndex, SearchRequest};
use storage::{Database, OnMatch, SqliteOptions, StorageConfig};

// The `shelfmark` binary allocates with mimalloc: measure with the allocator it runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// `bench_search`'s log: each query and the facet filter it goes with.
const QUERIES: &[(&str, Option<(FacetName, &str)>)] = &[
    ("history", None),
    ("music", None),
    ("china", None),
    ("education", None),
    ("philosophy", None),
    ("\"united states\"", None),
    ("\"social conditions\"", None),
    ("\"world war\"", None),
    ("title:history", None),
    ("author:smith", None),
    ("subject:china", None),
    ("title:war subject:history", None),
    ("music OR art", None),
    ("religion NOT christianity", None),
    ("american history", None),
    ("author:john title:life", None),
    ("subject:\"social conditions\"", None),
    ("title:\"new york\"", None),
    ("history", Some((FacetName::Language, "eng"))),
    ("education", Some((FacetName::Decade, "1990"))),
];

fn build(source: &Path, records: Option<u64>, index: &SearchIndex) -> Result<(), Error> {
    let work = tempfile::tempdir()?;
    let file = match records {
        Some(n) => {
            let derived = work.path().join("derived.mrc");
            eprintln!("derived {} records", derive(source, n, 0, &derived)?);
            derived
        }
        None => source.to_path_buf(),
    };
    let db: Arc<dyn Database> = storage::open(&StorageConfig::Sqlite(SqliteOptions::new(work.path().join("db"))))?;
    let started = Instant::now();
    let options = import::ImportOptions { on_match: OnMatch::Add, ..Default::default() };
    let mut rejects = import::RejectSink::at(&work.path().join("rejects"));
    let reader = std::io::BufReader::new(std::fs::File::open(&file)?);
    let report = import::import_reader(&*db, reader, &options, &mut rejects, &|_, _: &import::ImportReport| {})?;
    eprintln!("imported {} records in {:.1} s", report.added, started.elapsed().as_secs_f64());
    let started = Instant::now();
    let built = index.rebuild(&*db, &mut |_| {})?;
    eprintln!("indexed {} records in {:.1} s", built.records, started.elapsed().as_secs_f64());
    Ok(())
}

fn requests() -> Vec<SearchRequest> {
    QUERIES
        .iter()
        .map(|(query, filter)| SearchRequest {
            filters: filter
                .iter()
                .map(|(facet, value)| FacetFilter { facet: *facet, value: value.to_string() })
                .collect(),
            ..SearchRequest::new(*query)
        })
        .collect()
}

fn ms(sorted: &[Duration], quantile: f64) -> f64 {
    // As `bench_search` reads its percentiles.
    let at = ((sorted.len() as f64 - 1.0) * quantile).round() as usize;
    sorted[at].as_secs_f64() * 1000.0
}

/// Every request, `rounds` times, from `clients` threads at once (each walking the log from its
/// own starting point, as `bench_search`'s clients do).
fn run_clients(index: &Arc<SearchIndex>, requests: &[SearchRequest], rounds: usize, clients: usize) -> Vec<Duration> {
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let index = index.clone();
            let requests = requests.to_vec();
            std::thread::spawn(move || -> Result<Vec<Duration>, String> {
                let mut out = Vec::new();
                for round in 0..rounds {
                    for k in 0..requests.len() {
                        let request = &requests[(k + c * 7 + round) % requests.len()];
                        let started = Instant::now();
                        index.search(request).map_err(|e| e.to_string())?;
                        out.push(started.elapsed());
                    }
                }
                Ok(out)
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in threads {
        match t.join() {
            Ok(Ok(times)) => all.extend(times),
            Ok(Err(e)) => eprintln!("a search failed: {e}"),
            Err(_) => eprintln!("a client thread panicked"),
        }
    }
    all.sort();
    all
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let mut file: Option<PathBuf> = None;
    let mut dir: Option<PathBuf> = None;
    let mut records: Option<u64> = None;
    let mut rounds = 5usize;
    let mut clients = vec![1usize, 8];
    let mut only: Option<String> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--records" => records = Some(args.next().ok_or("--records N")?.parse()?),
            "--rounds" => rounds = args.next().ok_or("--rounds R")?.parse()?,
            "--query" => only = Some(args.next().ok_or("--query Q")?),
            "--index" => dir = Some(PathBuf::from(args.next().ok_or("--index DIR")?)),
            "--clients" => {
                clients = args.next().ok_or("--clients 1,8")?.split(',').map(str::parse).collect::<Result<_, _>>()?
            }
            _ => file = Some(PathBuf::from(arg)),
        }
    }
    let usage = "usage: bench_query FILE.mrc --index DIR [--records N] [--rounds R] [--clients 1,8]";
    let dir = dir.ok_or(usage)?;
    let index = Arc::new(SearchIndex::open(&dir, IndexSettings::default())?);
    if index.is_empty() {
        build(&file.ok_or(usage)?, records, &index)?;
    }
    println!("Records: {}", index.len());
    let requests: Vec<SearchRequest> = match &only {
        Some(q) => vec![SearchRequest::new(q.as_str())],
        None => requests(),
    };

    // Warm: the first search of a segment reads its facet terms.
    for request in &requests {
        index.search(request)?;
    }
    println!();
    println!("| query | hits | p50 ms | max ms |");
    println!("|---|---:|---:|---:|");
    let filters = QUERIES.iter().map(|(_, filter)| *filter).chain(std::iter::repeat(None));
    for (request, filter) in requests.iter().zip(filters) {
        let mut times = Vec::with_capacity(rounds);
        let mut hits = 0;
        for _ in 0..rounds.max(1) {
            let started = Instant::now();
            hits = index.search(request)?.total;
            times.push(started.elapsed());
        }
        times.sort();
        let filter = filter.map(|(f, v)| format!(" ({}={v})", f.as_str())).unwrap_or_default();
        println!("| `{}`{filter} | {hits} | {:.2} | {:.2} |", request.query, ms(&times, 0.5), ms(&times, 1.0));
    }
    println!();
    println!("| clients | searches | p50 ms | p99 ms |");
    println!("|---:|---:|---:|---:|");
    for c in clients {
        let times = run_clients(&index, &requests, rounds, c);
        if times.is_empty() {
            return Err("no search succeeded".into());
        }
        println!("| {c} | {} | {:.2} | {:.2} |", times.len(), ms(&times, 0.5), ms(&times, 0.99));
    }
    Ok(())
}
