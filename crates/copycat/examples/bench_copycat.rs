//! Copy-cataloging search latency: `copycat::search` (CQL, the HTTP round trip, the SRU reader,
//! MARCXML, the summary) against `yaz-ztest` (Debian yaz) on 127.0.0.1, one target and three
//! targets at once, and the SRU reader alone on a 10-record response.
//!
//! `cargo run --release -p copycat --example bench_copycat -- [searches]`

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use copycat::settings::{Endpoint, Packing, SruVersion};
use copycat::{CopyQuery, Target};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(label: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{label}: n={} p50={:.2} ms p99={:.2} ms max={:.2} ms",
        times.len(),
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3
    );
}

struct ZTest(std::process::Child);

impl Drop for ZTest {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    let searches: usize = std::env::args().nth(1).map(|n| n.parse().unwrap()).unwrap_or(500);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = std::env::temp_dir().join(format!("bench-ztest-{port}.log"));
    let _ztest = ZTest(
        std::process::Command::new("yaz-ztest")
            .arg("-l")
            .arg(&log)
            .arg(format!("tcp:127.0.0.1:{port}"))
            .spawn()
            .expect("yaz-ztest (Debian yaz) must be installed"),
    );
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let target = |name: &str| Target {
        name: name.into(),
        endpoint: Endpoint::Sru {
            url: format!("http://127.0.0.1:{port}/Default"),
            version: SruVersion::V1_2,
            packing: Packing::Xml,
        },
        record_schema: "marcxml".into(),
        encoding: marc::Encoding::Auto,
        timeout: Duration::from_secs(10),
        credentials: None,
    };
    let one = [target("a")];
    let three = [target("a"), target("b"), target("c")];
    let query = CopyQuery::parse("title", "computer").unwrap();
    for (label, targets) in [("1 target, 10 records", &one[..]), ("3 targets at once, 10 records each", &three[..])] {
        let mut times = Vec::with_capacity(searches);
        for _ in 0..searches {
            let started = Instant::now();
            let results = copycat::search(targets, &query, 10);
            times.push(started.elapsed());
            assert!(results.iter().all(|r| r.outcome.as_ref().is_ok_and(|h| !h.candidates.is_empty())));
        }
        report(label, times);
    }

    // The reader alone: a response with 10 records, read and every record decoded and summarised.
    let url = copycat::sru::search_url(
        &format!("http://127.0.0.1:{port}/Default"),
        SruVersion::V1_2,
        Packing::Xml,
        "marcxml",
        &query.to_cql(),
        10,
    )
    .unwrap();
    let body = reqwest::blocking::get(url).unwrap().bytes().unwrap();
    let mut times = Vec::with_capacity(searches);
    for _ in 0..searches {
        let started = Instant::now();
        let response = copycat::sru::read_response(&body).unwrap();
        for raw in &response.records {
            let (record, _) = copycat::decode(raw, marc::Encoding::Auto).unwrap();
            std::hint::black_box(copycat::Summary::of(&record));
        }
        times.push(started.elapsed());
    }
    report(&format!("reader alone, {} bytes, 10 records", body.len()), times);
}
