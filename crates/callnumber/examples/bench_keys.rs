//! Key generation speed: parses and keys 1,000,000 call numbers (the sample's LC and Dewey
//! values, repeated) and prints keys per second.
//! `cargo run --release -p callnumber --example bench_keys -- [path/to/lc-sample-callnumbers.tsv] [count]`

use std::time::Instant;

use callnumber::{CallNumber, Scheme};

const DEFAULT_TSV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/marc/callnumbers/lc-sample-callnumbers.tsv"
);

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
            let scheme = match cols.get(1)? {
                &"050" => Scheme::Lc,
                &"082" => Scheme::Dewey,
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
    let mut total_bytes = 0usize;
    let mut keys = Vec::with_capacity(inputs.len());
    for (text, scheme) in &inputs {
        let key = CallNumber::parse(text, *scheme).sort_key();
        total_bytes += key.len();
        keys.push(key);
    }
    let keyed = start.elapsed();

    let auto_start = Instant::now();
    for (text, _) in &inputs {
        total_bytes += CallNumber::parse(text, Scheme::Auto).sort_key().len();
    }
    let auto = auto_start.elapsed();

    let sort_start = Instant::now();
    keys.sort_unstable();
    let sorted = sort_start.elapsed();

    let rate = |d: std::time::Duration| inputs.len() as f64 / d.as_secs_f64();
    println!(
        "{} call numbers ({} distinct): {:.0} keys/s with the scheme given, {:.0} keys/s with auto; \
         mean key {:.1} bytes; sorting the keys took {:.3} s",
        inputs.len(),
        values.len(),
        rate(keyed),
        rate(auto),
        total_bytes as f64 / (2 * inputs.len()) as f64,
        sorted.as_secs_f64()
    );
    Ok(())
}
