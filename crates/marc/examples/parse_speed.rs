//! Parses a MARC file (ISO 2709 or MARCXML, sniffed) and prints how fast.
//!
//! `cargo run --release -p marc --example parse_speed -- FILE [--recycle] [--write]`
//! With `--recycle` the records are read with `MarcReader::read_into` into one `ReadRecord`
//! reused throughout (what a caller that handles a record at a time does, and what
//! `scripts/bench-import` measures); without it, with the iterator, a new record each time.
//! With `--write` each record is also written back (ISO 2709 or MARCXML, to memory).

use std::fs::File;
use std::io::BufReader;
use std::time::Instant;

use marc::{FileFormat, MarcReader, ReadOptions, ReadRecord};

// The `shelfmark` binary allocates with mimalloc; measure parsing with the allocator it will
// actually run with (the system malloc would make a record's many small strings look costlier).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: parse_speed FILE [--recycle] [--write]");
        std::process::exit(2);
    };
    let flags: Vec<String> = args.collect();
    let write = flags.iter().any(|a| a == "--write");
    let recycle = flags.iter().any(|a| a == "--recycle");
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let started = Instant::now();
    let mut reader = match MarcReader::detect(BufReader::new(file), ReadOptions::default()) {
        Ok(Some(r)) => r,
        Ok(None) => {
            eprintln!("{path}: neither ISO 2709 nor MARCXML");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let format = reader.format();
    let (mut ok, mut bad, mut warned, mut fields) = (0u64, 0u64, 0u64, 0u64);
    let mut out = Vec::new();
    let mut read = ReadRecord::default();
    loop {
        let item = if recycle {
            reader.read_into(&mut read)
        } else {
            // A new record each time; the one before is dropped here, as in a `for` loop.
            reader.next().map(|r| r.map(|next| read = next))
        };
        let Some(item) = item else { break };
        match item {
            Ok(()) => {
                ok += 1;
                fields += read.record.fields.len() as u64;
                if !read.warnings.is_empty() {
                    warned += 1;
                }
                if write {
                    out.clear();
                    let written = match format {
                        FileFormat::MarcXml => {
                            out.extend_from_slice(marc::to_marcxml(&read.record).as_bytes());
                            Ok(())
                        }
                        _ => marc::iso2709::write_record(&read.record, &mut out),
                    };
                    if let Err(e) = written {
                        eprintln!("record {}: cannot write: {e}", read.number);
                    }
                }
            }
            Err(e) => {
                bad += 1;
                eprintln!("{e}");
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let total = ok + bad;
    println!(
        "{path}: {format:?}, {total} records ({ok} read, {warned} with warnings, {bad} rejected), {fields} fields, \
         {:.3} s, {:.0} records/s, {:.1} MB/s",
        secs,
        total as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
}
