//! TEMPORARY (optimisation check, to be deleted): hashes the Debug output of reading files,
//! as they are and mutated.
use std::hash::{DefaultHasher, Hasher};
use std::io::Write;

struct H(DefaultHasher);
impl Write for H {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.write(b); Ok(b.len()) }
    fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
}

fn hash_read(bytes: &[u8], enc: marc::Encoding) -> u64 {
    let mut h = H(DefaultHasher::new());
    let opts = marc::ReadOptions { encoding: enc };
    for item in marc::Iso2709Reader::with_options(bytes, opts) {
        let _ = write!(h, "{item:?}");
    }
    h.0.finish()
}

fn main() {
    let mut seed: u64 = 0x9E3779B97F4A7C15;
    let mut rnd = move || { seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; seed };
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).unwrap();
        let mut line = format!("{path}");
        for enc in [marc::Encoding::Auto, marc::Encoding::Utf8, marc::Encoding::Marc8] {
            line += &format!(" {:016x}", hash_read(&bytes, enc));
        }
        if bytes.len() < 30_000_000 {
            for round in 0..20 {
                let n = 1 + (bytes.len() / 200) * (round % 4);
                let special = [0x1d, 0x1e, 0x1f, 0x1b, 0xcc, 0xff, 0xc3, 0xe2, 0x80, b' ', b'0', 0x00];
                let mut at: Vec<usize> = (0..n).map(|_| (rnd() as usize) % bytes.len().max(1)).collect();
                at.sort_unstable();
                let mut m = Vec::with_capacity(bytes.len() + n);
                let mut k = 0;
                for (i, &b) in bytes.iter().enumerate() {
                    let mut keep = true;
                    let mut byte = b;
                    while k < at.len() && at[k] == i {
                        k += 1;
                        match rnd() % 4 {
                            0 => byte = special[(rnd() as usize) % special.len()],
                            1 => byte = rnd() as u8,
                            2 => keep = false,
                            _ => m.push(special[(rnd() as usize) % special.len()]),
                        }
                    }
                    if keep { m.push(byte); }
                }
                line += &format!(" {:016x}", hash_read(&m, marc::Encoding::Auto));
            }
        }
        println!("{line}");
    }
}
