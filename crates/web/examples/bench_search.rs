//! The search index at scale, with Zebra (Debian idzebra-2.0, Koha's default engine) on the same
//! records and the same queries in the same run as the reference.
//!
//! 1. The records: an ISO 2709 file, or with `--records N` N records derived from it (copies
//!    after the first get their own 001, a word added to the title and a shifted year, so that
//!    no two records are the same).
//! 2. Shelfmark imports them into SQLite, then builds its index from the database: records/s,
//!    index size, and the process's peak resident set while indexing. Zebra indexes the same
//!    file with `zebraidx`: the same three figures.
//! 3. A mixed query log (single words, phrases, fielded, boolean; ours always with every facet
//!    counted, some with a facet filter) over HTTP on loopback: ours through `GET
//!    /api/v1/search`, Zebra's through SRU with the same queries in CQL. p50/p99 with 1 and 8
//!    concurrent clients.
//! 4. The change-to-searchable lag while an import is running: a record is created every
//!    quarter second during a 20,000-record (`--during N`) import and timed until a search finds it; then how
//!    long after the import ends its own records are all searchable.
//!
//! `cargo run --release -p web --example bench_search -- FILE.mrc [--records N] [--rounds R]
//! [--no-zebra] [--zebra-config DIR] [--lag-only] [--during N]`
//!
//! `--lag-only` runs 1, 2 (without Zebra) and 4: the index build and the lag, not the query log.

mod common;
#[path = "../../search/examples/common/derived.rs"]
mod derived;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{encode, free_port, index_zebra, ms, peak_rss_kib, serve_zebra, size_of_dir, sru_hits, Error};
use derived::derive;
use storage::{Database, OnMatch, SqliteOptions, StorageConfig};

// The `shelfmark` binary allocates with mimalloc: measure with the allocator it runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Each query in our language, the same in CQL for Zebra, and a facet filter for ours (only
/// queried without one on Zebra, which has no facets).
const QUERIES: &[(&str, &str, &str)] = &[
    ("history", "history", ""),
    ("music", "music", ""),
    ("china", "china", ""),
    ("education", "education", ""),
    ("philosophy", "philosophy", ""),
    ("\"united states\"", "\"united states\"", ""),
    ("\"social conditions\"", "\"social conditions\"", ""),
    ("\"world war\"", "\"world war\"", ""),
    ("title:history", "dc.title = history", ""),
    ("author:smith", "dc.creator = smith", ""),
    ("subject:china", "dc.subject = china", ""),
    ("title:war subject:history", "dc.title = war and dc.subject = history", ""),
    ("music OR art", "music or art", ""),
    ("religion NOT christianity", "religion not christianity", ""),
    ("american history", "american and history", ""),
    ("author:john title:life", "dc.creator = john and dc.title = life", ""),
    ("subject:\"social conditions\"", "dc.subject = \"social conditions\"", ""),
    ("title:\"new york\"", "dc.title = \"new york\"", ""),
    ("history", "", "&language=eng"),
    ("education", "", "&decade=1990"),
];

/// Resets this process's peak resident set, so the next reading covers what follows.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn percentiles(mut latencies: Vec<Duration>) -> (f64, f64, usize) {
    latencies.sort();
    (ms(&latencies, 0.5), ms(&latencies, 0.99), latencies.len())
}

/// Every query of `urls`, `rounds` times, from `clients` threads at once, each with its own
/// keep-alive connection; the latency of every request.
fn run_clients(urls: &[String], rounds: usize, clients: usize) -> Result<Vec<Duration>, Error> {
    let urls = Arc::new(urls.to_vec());
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let urls = urls.clone();
            std::thread::spawn(move || -> Result<Vec<Duration>, String> {
                let client = reqwest::blocking::Client::new();
                let mut out = Vec::new();
                for round in 0..rounds {
                    // Each client walks the log from its own starting point.
                    for k in 0..urls.len() {
                        let url = &urls[(k + c * 7 + round) % urls.len()];
                        let started = Instant::now();
                        let response = client.get(url).send().map_err(|e| e.to_string())?;
                        if !response.status().is_success() {
                            return Err(format!("{url}: {}", response.status()));
                        }
                        response.bytes().map_err(|e| e.to_string())?;
                        out.push(started.elapsed());
                    }
                }
                Ok(out)
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in threads {
        all.extend(t.join().map_err(|_| "a client thread panicked")??);
    }
    Ok(all)
}

fn hits_json(client: &reqwest::blocking::Client, url: &str) -> Result<u64, Error> {
    let body: serde_json::Value = client.get(url).send()?.json()?;
    body["results"]["total"].as_u64().ok_or_else(|| format!("no results.total in {body}").into())
}

fn hits_sru(client: &reqwest::blocking::Client, url: &str) -> Result<Option<u64>, Error> {
    Ok(sru_hits(&client.get(url).send()?.text()?))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// A record with a title nobody else has, created in the database; the search must find it.
fn probe_record(n: u64) -> Result<(storage::NewRecord, String), Error> {
    let word = format!("zqprobe{n}x");
    let mut record = marc::Record::new(marc::Leader::new_bibliographic());
    let fixed = "200101s2020    nyu           000 1 eng d".to_string();
    record.push(marc::Field::Control(marc::ControlField { tag: marc::Tag::parse("008")?, value: fixed }));
    record.push(marc::Field::Data(
        marc::DataField::new(marc::Tag::parse("245")?, '1', '0').with('a', format!("Probe {word}")),
    ));
    Ok((import::prepare_record(record)?, word))
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let mut file: Option<PathBuf> = None;
    let mut records: Option<u64> = None;
    let mut rounds = 5usize;
    let mut with_zebra = true;
    let mut zebra_config = common::default_zebra_config();
    let mut lag_only = false;
    let mut during = 20_000u64;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--records" => records = Some(args.next().ok_or("--records N")?.parse()?),
            "--rounds" => rounds = args.next().ok_or("--rounds R")?.parse()?,
            "--no-zebra" => with_zebra = false,
            "--lag-only" => lag_only = true,
            "--during" => during = args.next().ok_or("--during N")?.parse()?,
            "--zebra-config" => zebra_config = PathBuf::from(args.next().ok_or("--zebra-config DIR")?),
            _ => file = Some(PathBuf::from(arg)),
        }
    }
    let source = file.ok_or("usage: bench_search FILE.mrc [--records N] [--rounds R] [--no-zebra]")?;
    let work = tempfile::tempdir()?;
    let file = match records {
        Some(n) => {
            let derived = work.path().join("derived.mrc");
            let written = derive(&source, n, 0, &derived)?;
            eprintln!("derived {written} records from {}", source.display());
            derived
        }
        None => source.clone(),
    };

    // Shelfmark: import, then the index built from the database in one pass.
    let db: Arc<dyn Database> = storage::open(&StorageConfig::Sqlite(SqliteOptions::new(work.path().join("db"))))?;
    let started = Instant::now();
    let options = import::ImportOptions { on_match: OnMatch::Add, ..Default::default() };
    let mut rejects = import::RejectSink::at(&work.path().join("rejects"));
    let reader = std::io::BufReader::new(std::fs::File::open(&file)?);
    let report = import::import_reader(&*db, reader, &options, &mut rejects, &|_, _: &import::ImportReport| {})?;
    eprintln!("shelfmark: imported {} records in {:.1} s", report.added, started.elapsed().as_secs_f64());
    let index_dir = work.path().join("index");
    let index = Arc::new(search::SearchIndex::open(&index_dir, search::IndexSettings::default())?);
    reset_peak_rss();
    let started = Instant::now();
    index.rebuild(&*db, &mut |_| {})?;
    let ours_build = started.elapsed();
    let ours_rss = peak_rss_kib(std::process::id()).unwrap_or(0);
    let ours_size = size_of_dir(&index_dir);
    let indexed = index.len();
    eprintln!("shelfmark: indexed {indexed} records in {:.1} s", ours_build.as_secs_f64());

    let follower = search::Follower::new(index.clone(), db.clone());
    let handle = follower.clone().spawn(Duration::from_millis(250))?;
    let watcher = follower.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let ours = format!("http://{}", listener.local_addr()?);
    let desk = desk::Desk::new(desk::CirculationSettings::default().build()?);
    let search = web::Search { index: index.clone(), follower, handle };
    runtime.spawn(web::serve(listener, web::router(db.clone(), web::WebConfig::default(), desk, Some(search))));

    // Zebra on the same file.
    let zebra = if with_zebra && !lag_only {
        let port = free_port()?;
        let dir = work.path().join("zebra");
        let indexing = index_zebra(&zebra_config, &dir, &file, port)?;
        eprintln!("zebra: indexed in {:.1} s", indexing.elapsed.as_secs_f64());
        let size = size_of_dir(&dir.join("reg"));
        let server = serve_zebra(&dir, port)?;
        Some((indexing, size, server, format!("http://127.0.0.1:{port}/Default")))
    } else {
        None
    };

    println!("Records: {indexed} ({})", if records.is_some() { "derived" } else { "as in the file" });
    println!();
    println!("| engine | index build | records/s | index size | peak RSS while indexing |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| Shelfmark (tantivy) | {:.1} s | {:.0} | {:.0} MiB | {:.0} MiB |",
        ours_build.as_secs_f64(),
        indexed as f64 / ours_build.as_secs_f64(),
        mib(ours_size),
        ours_rss as f64 / 1024.0
    );
    if let Some((indexing, size, _, _)) = &zebra {
        println!(
            "| Zebra (zebraidx) | {:.1} s | {:.0} | {:.0} MiB | {:.0} MiB |",
            indexing.elapsed.as_secs_f64(),
            indexed as f64 / indexing.elapsed.as_secs_f64(),
            mib(*size),
            indexing.peak_rss_kib as f64 / 1024.0
        );
    }

    if !lag_only {
        // The query log on both, hit counts first.
        let ours_urls: Vec<String> =
            QUERIES.iter().map(|(q, _, filter)| format!("{ours}/api/v1/search?q={}{filter}", encode(q))).collect();
        let zebra_urls: Vec<String> = match &zebra {
            Some((_, _, _, base)) => QUERIES
                .iter()
                .filter(|(_, cql, _)| !cql.is_empty())
                .map(|(_, cql, _)| {
                    format!(
                        "{base}?version=1.2&operation=searchRetrieve&maximumRecords=20&recordSchema=marcxml&query={}",
                        encode(cql)
                    )
                })
                .collect(),
            None => Vec::new(),
        };
        let client = reqwest::blocking::Client::new();
        println!();
        println!("| query | Shelfmark hits | Zebra hits |");
        println!("|---|---:|---:|");
        let mut z = zebra_urls.iter();
        for ((query, cql, filter), url) in QUERIES.iter().zip(&ours_urls) {
            let theirs = if cql.is_empty() {
                "(no facets)".to_string()
            } else {
                match z.next() {
                    Some(u) => hits_sru(&client, u)?.map_or("error".into(), |h| h.to_string()),
                    None => "-".into(),
                }
            };
            println!("| `{query}`{filter} | {} | {theirs} |", hits_json(&client, url)?);
        }

        println!();
        println!("| engine | clients | requests | p50 ms | p99 ms |");
        println!("|---|---:|---:|---:|---:|");
        for clients in [1, 8] {
            let (p50, p99, n) = percentiles(run_clients(&ours_urls, rounds, clients)?);
            println!("| Shelfmark, every facet counted | {clients} | {n} | {p50:.2} | {p99:.2} |");
            if !zebra_urls.is_empty() {
                let (p50, p99, n) = percentiles(run_clients(&zebra_urls, rounds, clients)?);
                println!("| Zebra, SRU | {clients} | {n} | {p50:.2} | {p99:.2} |");
            }
        }
    }
    drop(zebra);

    // Change-to-searchable lag while `during` records are imported.
    let importing = Arc::new(AtomicBool::new(true));
    let import_db = db.clone();
    let import_file = work.path().join("during.mrc");
    // Copies far past any `--records` derivation, so that every one is new and added.
    derive(&source, during, 1_000, &import_file)?;
    let flag = importing.clone();
    let rejects_dir = work.path().join("rejects-during");
    let import_started = Instant::now();
    let importer = std::thread::spawn(move || -> Result<(u64, Duration), String> {
        let mut rejects = import::RejectSink::at(&rejects_dir);
        let options = import::ImportOptions { on_match: OnMatch::Add, batch_size: 500, ..Default::default() };
        let reader = std::io::BufReader::new(std::fs::File::open(&import_file).map_err(|e| e.to_string())?);
        let report =
            import::import_reader(&*import_db, reader, &options, &mut rejects, &|_, _: &import::ImportReport| {})
                .map_err(|e| e.to_string());
        flag.store(false, Ordering::SeqCst);
        report.map(|r| (r.added, import_started.elapsed()))
    });
    let mut lags = Vec::new();
    let mut n = 0;
    while importing.load(Ordering::SeqCst) {
        n += 1;
        let (record, word) = probe_record(n)?;
        let created = Instant::now();
        db.create_record(&record)?;
        let ahead = watcher.lag()?.pending;
        let request = search::SearchRequest::new(format!("title:{word}"));
        loop {
            if index.search(&request)?.total == 1 {
                break;
            }
            if created.elapsed() > Duration::from_secs(30) {
                return Err(format!("{word} was not searchable after 30 s").into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        lags.push(created.elapsed());
        eprintln!(
            "probe {n}: created {:.2} s into the import, {ahead} changes not yet indexed, searchable after {} ms",
            (created - import_started).as_secs_f64(),
            created.elapsed().as_millis()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let (added, import_took) = importer.join().map_err(|_| "the importer panicked")??;
    eprintln!("the import took {:.2} s", import_took.as_secs_f64());
    // The import's own records wait behind nothing but each other: how long the backlog takes.
    let ended = Instant::now();
    let backlog = watcher.lag()?.pending;
    while watcher.lag()?.pending > 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let drained = ended.elapsed();
    let max = lags.iter().max().copied().unwrap_or_default();
    let (p50, _, probes) = percentiles(lags);
    println!();
    println!(
        "Change-to-searchable lag during a {added}-record import: {probes} probes, p50 {p50:.0} ms, max {:.0} ms",
        max.as_secs_f64() * 1000.0
    );
    println!(
        "The import's own backlog: {backlog} changes at its end, all searchable {:.2} s later (the import took {:.2} s)",
        drained.as_secs_f64(),
        import_took.as_secs_f64()
    );
    Ok(())
}
