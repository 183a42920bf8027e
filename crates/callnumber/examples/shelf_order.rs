//! Prints, for each line of standard input, its sort key in hex, a tab, and the line, in input
//! order: `cargo run -p callnumber --example shelf_order -- [--scheme auto|lc|dewey]`.
//! Used by `scripts/callnumber-reference.sh` to compare our order with reference libraries.

use std::io::{self, BufRead, BufWriter, Write};

use callnumber::{CallNumber, Scheme};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut scheme = Scheme::Auto;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--scheme" => scheme = args.next().unwrap_or_default().parse()?,
            other => {
                return Err(format!("unknown argument {other:?}; usage: shelf_order [--scheme auto|lc|dewey]").into())
            }
        }
    }
    let stdin = io::stdin();
    let mut out = BufWriter::new(io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line?;
        let key = CallNumber::parse(&line, scheme).sort_key();
        for byte in key {
            write!(out, "{byte:02x}")?;
        }
        writeln!(out, "\t{line}")?;
    }
    out.flush()?;
    Ok(())
}
