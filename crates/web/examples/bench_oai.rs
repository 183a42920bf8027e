//! A full OAI-PMH harvest over HTTP, as a harvester does it: ListRecords from the first page to
//! the last resumption token, one request at a time on one keep-alive connection, for `oai_dc`
//! and `marc21`, and ListIdentifiers. The server is the real router on 127.0.0.1 over a real
//! database loaded with a real file through the importer (by default LC's 2016 books sample).
//!
//! `cargo run --release -p web --example bench_oai -- [--file F.mrc] [--page-size N] [--database-url URL]`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use storage::{Database, StorageConfig};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn default_file() -> PathBuf {
    let shared = std::env::var_os("SHELFMARK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    shared.join("data/marc/lc-books-2016/lc-books-2016-sample.mrc")
}

/// The text between `<resumptionToken ...>` and its end tag; `None` at the end of the list.
fn token(xml: &str) -> Option<String> {
    let start = xml.find("<resumptionToken")?;
    let (_, rest) = xml[start..].split_once('>')?;
    let (token, _) = rest.split_once("</resumptionToken>")?;
    (!token.is_empty()).then(|| token.to_string())
}

fn main() -> Result<(), Error> {
    let mut file = default_file();
    let mut page_size = 100;
    let mut url = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--file" => file = PathBuf::from(args.next().ok_or("--file F")?),
            "--page-size" => page_size = args.next().ok_or("--page-size N")?.parse()?,
            "--database-url" => url = Some(args.next().ok_or("--database-url URL")?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let dir = tempfile::tempdir()?;
    let config = match &url {
        Some(u) => StorageConfig::parse(u),
        None => StorageConfig::parse(dir.path().to_str().ok_or("temp path")?),
    };
    let db: Arc<dyn Database> = storage::open(&config)?;
    let started = Instant::now();
    let mut rejects = import::RejectSink::beside(&dir.path().join("input.mrc"));
    let report = import::import_file(
        &*db,
        &file,
        &import::ImportOptions::default(),
        &mut rejects,
        &|_: u64, _: &import::ImportReport| {},
    )?;
    println!(
        "loaded {} records from {} in {:.1} s ({} rejected); backend {}",
        report.added,
        file.display(),
        started.elapsed().as_secs_f64(),
        report.rejected,
        db.backend()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base = format!("http://{}/oai", listener.local_addr()?);
    let mut web_config = web::WebConfig::default();
    web_config.oai.page_size = page_size;
    let desk = desk::Desk::new(desk::CirculationSettings::default().build()?);
    runtime.spawn(web::serve(listener, web::router(db.clone(), web_config, desk, None)));
    let client = reqwest::Client::new();

    println!("| harvest | records | pages | seconds | records/s | MB sent |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (verb, prefix) in [("ListRecords", "oai_dc"), ("ListRecords", "marc21"), ("ListIdentifiers", "oai_dc")] {
        let (records, pages, bytes, seconds) = runtime.block_on(async {
            let started = Instant::now();
            let (mut records, mut pages, mut bytes) = (0usize, 0usize, 0usize);
            let mut query = format!("verb={verb}&metadataPrefix={prefix}");
            loop {
                let xml = client.get(format!("{base}?{query}")).send().await?.error_for_status()?.text().await?;
                if xml.contains("<error ") {
                    return Err::<_, Error>(format!("{verb}: {xml}").into());
                }
                pages += 1;
                bytes += xml.len();
                records += xml.matches("<header").count();
                match token(&xml) {
                    Some(t) => query = format!("verb={verb}&resumptionToken={t}"),
                    None => break,
                }
            }
            Ok((records, pages, bytes, started.elapsed().as_secs_f64()))
        })?;
        println!(
            "| {verb} {prefix} | {records} | {pages} | {seconds:.2} | {:.0} | {:.1} |",
            records as f64 / seconds,
            bytes as f64 / 1e6
        );
    }
    // The database goes down off the runtime (the PostgreSQL client must not be dropped on it).
    drop(runtime);
    Ok(())
}
