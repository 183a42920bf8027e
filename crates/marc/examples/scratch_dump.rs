use std::fs::File;
use std::io::BufReader;
use marc::{MarcReader, ReadOptions};
fn main() {
    let verbose = std::env::var("V").is_ok();
    for path in std::env::args().skip(1) {
        let reader = MarcReader::detect(BufReader::new(File::open(&path).unwrap()), ReadOptions::default()).unwrap();
        let Some(reader) = reader else { println!("{path}: UNKNOWN FORMAT"); continue };
        let mut ok = 0; let mut bad = vec![];
        let mut lines = vec![];
        for item in reader {
            match item {
                Ok(r) => { ok += 1; for w in &r.warnings { lines.push(format!("   #{} W {w}", r.number)); }
                    if verbose { for f in &r.record.fields { lines.push(format!("      {:?}", f)); } } }
                Err(e) => { bad.push(e.number); lines.push(format!("   #{} E {}{}", e.number, e.problem, if e.fatal {" FATAL"} else {""})); }
            }
        }
        println!("{path}: ok={ok} bad={bad:?}");
        for l in lines.iter().take(40) { println!("{l}"); }
    }
}
