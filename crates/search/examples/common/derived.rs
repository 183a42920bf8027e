//! The records the search benchmarks share (`search`'s `bench_query`, `web`'s `bench_search`):
//! copies of a file's records that differ from each other, so that a catalog of any size can be
//! derived from the 250,000-record LC file. Copies after the first get their own 001, a word
//! added to the title and a shifted year.

use std::io::Write;
use std::path::Path;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Words the derived copies add to their titles.
pub const VARIANTS: &[&str] = &[
    "revised",
    "annotated",
    "illustrated",
    "collected",
    "selected",
    "complete",
    "abridged",
    "concise",
    "expanded",
    "pocket",
    "library",
    "student",
    "centennial",
    "commemorative",
    "definitive",
    "critical",
];

/// Writes `total` records derived from `source` to `out`, starting at copy `first_copy` (copy 0
/// is the file's own records).
pub fn derive(source: &Path, total: u64, first_copy: u64, out: &Path) -> Result<u64, Error> {
    let reader = marc::Iso2709Reader::new(std::io::BufReader::new(std::fs::File::open(source)?));
    let originals: Vec<marc::Record> = reader.flatten().map(|read| read.record).collect();
    let mut writer = std::io::BufWriter::new(std::fs::File::create(out)?);
    let mut written = 0u64;
    'copies: for copy in first_copy.. {
        for (i, original) in originals.iter().enumerate() {
            if written == total {
                break 'copies;
            }
            let mut record = original.clone();
            if copy > 0 {
                vary(&mut record, copy, i);
            }
            writer.write_all(&marc::to_iso2709(&record)?)?;
            written += 1;
        }
    }
    writer.flush()?;
    Ok(written)
}

fn vary(record: &mut marc::Record, copy: u64, i: usize) {
    let word = VARIANTS[(i + copy as usize) % VARIANTS.len()];
    for field in record.fields.iter_mut() {
        match field {
            marc::Field::Control(c) if c.tag.as_str() == "001" => c.value = format!("{}.{copy}", c.value),
            marc::Field::Control(c) if c.tag.as_str() == "008" && c.value.len() >= 11 => {
                if let Ok(year) = c.value[7..11].parse::<u64>() {
                    let shifted = 1900 + (year + copy) % 125;
                    c.value.replace_range(7..11, &shifted.to_string());
                }
            }
            marc::Field::Data(d) if d.tag.as_str() == "245" => {
                if let Some(a) = d.subfields.iter_mut().find(|s| s.code == 'a') {
                    a.value =
                        format!("{} {word} edition", a.value.as_str().trim_end_matches([' ', '/', ':', '.'])).into();
                }
            }
            _ => {}
        }
    }
}
