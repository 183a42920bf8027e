//! Key generation speed: parses and keys 1,000,000 call numbers (the sample's LC and Dewey
//! values, repeated) and prints keys per second, by the wall clock and, where Linux's
//! `/proc/self/schedstat` tells it, by the CPU time this process got (steady on a shared
//! machine).
//! `cargo run --release -p callnumber --example bench_keys -- [path/to/lc-sample-callnumbers.tsv] [count]`

use std::time::Instant;

use callnumber::{CallNumber, Scheme};

const DEFAULT_TSV: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/marc/callnumbers/lc-sample-callnumbers.tsv");

/// Nanoseconds this process has run on a CPU, if the kernel says.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}

/// Keys per second by wall clock and by CPU time (`-` where unknown).
fn rates(n: usize, wall: std::time::Duration, cpu: Option<u64>) -> String {
    let cpu = cpu.map_or("-".to_owned(), |ns| format!("{:.0}", n as f64 / (ns as f64 / 1e9)));
    format!("{:.0} keys/s wall, {cpu} keys/s CPU", n as f64 / wall.as_secs_f64())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| DEFAULT_TSV.to_owned());
    let count: usize = args.next().map_or(Ok(1_000_000), |n| n.parse())?;
    let tsv = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let values: Vec<(String, Scheme)> = tsv
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let scheme = match *cols.get(1)? {
                "050" => Scheme::Lc,
                "082" => Scheme::Dewey,
                _ => return None,
            };
            Some((cols.get(7)?.to_string(), scheme))
        })
        .collect();
    if values.is_empty() {
        return Err(format!("{path}: no call numbers").into());
    }
    let inputs: Vec<&(String, Scheme)> = values.iter().cycle().take(count).collect();

    let start = Instant::now();
    let cpu_start = cpu_ns();
    let mut total_bytes = 0usize;
    let mut keys = Vec::with_capacity(inputs.len());
    for (text, scheme) in &inputs {
        let key = CallNumber::parse(text, *scheme).sort_key();
        total_bytes += key.len();
        keys.push(key);
    }
    let keyed = (start.elapsed(), cpu_ns().zip(cpu_start).map(|(b, a)| b - a));

    let start = Instant::now();
    let cpu_start = cpu_ns();
    for (text, _) in &inputs {
        total_bytes += CallNumber::parse(text, Scheme::Auto).sort_key().len();
    }
    let auto = (start.elapsed(), cpu_ns().zip(cpu_start).map(|(b, a)| b - a));

    let start = Instant::now();
    keys.sort_unstable();
    let sorted = start.elapsed();

    println!(
        "{} call numbers ({} distinct), mean key {:.1} bytes",
        inputs.len(),
        values.len(),
        total_bytes as f64 / (2 * inputs.len()) as f64
    );
    println!("  scheme given (lc for 050, dewey for 082): {}", rates(inputs.len(), keyed.0, keyed.1));
    println!("  scheme auto:                              {}", rates(inputs.len(), auto.0, auto.1));
    println!("  sorting the {} keys: {:.3} s", keys.len(), sorted.as_secs_f64());
    Ok(())
}
