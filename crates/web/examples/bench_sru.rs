//! SRU searchRetrieve latency, Shelfmark beside Zebra (Debian idzebra-2.0, Koha's engine) on
//! the same records and the same CQL queries in the same run. Each server gets the records of
//! one ISO 2709 file: Shelfmark through `import` and a search-index rebuild, Zebra through
//! `zebraidx` with the configuration of `shared/peers/zebra`. Then one keep-alive HTTP client
//! asks both, alternating, `version=1.2&operation=searchRetrieve&maximumRecords=10&
//! recordSchema=marcxml` for every query, `--rounds` times, and reports p50/p99 per server
//! and each query's hit counts on both.
//!
//! `cargo run --release -p web --example bench_sru -- FILE.mrc [--rounds N] [--zebra-config DIR]`

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{encode, free_port, ms, sru_hits, start_zebra, Error};
use storage::{OnMatch, SqliteOptions, StorageConfig};

/// Queries both servers answer through their CQL mappings (Zebra's `pqf.properties`).
const QUERIES: &[&str] = &[
    "dc.title = history",
    "dc.title = \"united states\"",
    "dc.creator = smith",
    "dc.subject = china",
    "dc.title = war and dc.subject = history",
    "dc.title = music or dc.title = art",
    "dc.title = education",
    "dc.creator = john",
    "dc.subject = \"social conditions\"",
    "dc.title = religion not dc.subject = christianity",
];

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let mut file: Option<PathBuf> = None;
    let mut rounds = 20usize;
    let mut zebra_config = common::default_zebra_config();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => rounds = args.next().ok_or("--rounds N")?.parse()?,
            "--zebra-config" => zebra_config = PathBuf::from(args.next().ok_or("--zebra-config DIR")?),
            _ => file = Some(PathBuf::from(arg)),
        }
    }
    let file = file.ok_or("usage: bench_sru FILE.mrc [--rounds N] [--zebra-config DIR]")?;
    let work = tempfile::tempdir()?;

    // Shelfmark: import, then build the index in one pass.
    let db = storage::open(&StorageConfig::Sqlite(SqliteOptions::new(work.path().join("db"))))?;
    let started = Instant::now();
    let options = import::ImportOptions { on_match: OnMatch::Add, ..Default::default() };
    let mut rejects = import::RejectSink::at(&work.path().join("rejects"));
    let reader = std::io::BufReader::new(std::fs::File::open(&file)?);
    let report = import::import_reader(&*db, reader, &options, &mut rejects, &|_, _: &import::ImportReport| {})?;
    eprintln!("shelfmark: imported {} records in {:.1} s", report.added, started.elapsed().as_secs_f64());
    let started = Instant::now();
    let search = web::Search::start(&work.path().join("index"), db.clone(), search::IndexSettings::default())?;
    search.index.rebuild(&*db, &mut |_| {})?;
    eprintln!("shelfmark: indexed {} records in {:.1} s", search.index.len(), started.elapsed().as_secs_f64());

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let ours = format!("http://{}/sru", listener.local_addr()?);
    let desk = desk::Desk::new(desk::CirculationSettings::default().build()?);
    runtime.spawn(web::serve(listener, web::router(db.clone(), web::WebConfig::default(), desk, Some(search))));

    // Zebra on the same file.
    let port = free_port()?;
    let started = Instant::now();
    let _zebra = start_zebra(&zebra_config, &work.path().join("zebra"), &file, port)?;
    eprintln!("zebra: indexed in {:.1} s", started.elapsed().as_secs_f64());
    let zebra = format!("http://127.0.0.1:{port}/Default");

    let client = reqwest::blocking::Client::new();
    let ask = |base: &str, query: &str| -> Result<(Duration, Option<u64>), Error> {
        let url = format!(
            "{base}?version=1.2&operation=searchRetrieve&maximumRecords=10&recordSchema=marcxml&query={}",
            encode(query)
        );
        let started = Instant::now();
        let body = client.get(&url).send()?.text()?;
        Ok((started.elapsed(), sru_hits(&body)))
    };
    let servers = [("shelfmark", ours.as_str()), ("zebra", zebra.as_str())];
    let mut latencies: Vec<Vec<Duration>> = vec![Vec::new(); servers.len()];
    println!("| query | shelfmark hits | zebra hits |");
    println!("|---|---:|---:|");
    for query in QUERIES {
        let counts: Vec<String> = servers
            .iter()
            .map(|(_, base)| ask(base, query).map(|(_, h)| h.map_or("error".to_string(), |h| h.to_string())))
            .collect::<Result<_, _>>()?;
        println!("| `{query}` | {} | {} |", counts[0], counts[1]);
    }
    for _ in 0..rounds {
        for query in QUERIES {
            for (i, (_, base)) in servers.iter().enumerate() {
                latencies[i].push(ask(base, query)?.0);
            }
        }
    }
    println!();
    println!("| server | requests | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|");
    for (i, (name, _)) in servers.iter().enumerate() {
        let mut l = latencies[i].clone();
        l.sort();
        println!("| {name} | {} | {:.2} | {:.2} |", l.len(), ms(&l, 0.5), ms(&l, 0.99));
    }
    Ok(())
}
