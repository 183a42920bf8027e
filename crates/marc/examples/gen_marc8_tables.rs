//! Generates the MARC-8 conversion tables (`crates/marc/src/marc8/tables.rs`) from the Library of
//! Congress MARC-8 code tables, `codetables.xml` (the file LC publishes and YAZ redistributes).
//!
//! ```text
//! cargo run -p marc --example gen_marc8_tables -- path/to/codetables.xml crates/marc/src/marc8/tables.rs
//! ```
//!
//! Without an output path the table is written to standard output. The test
//! `generated_tables_match_codetables_xml` in `crates/marc/tests/marc8.rs` regenerates the table in
//! memory and fails if the committed file differs.
//!
//! What is taken from each `<code>`: `<marc>` (the MARC-8 bytes), `<ucs>` (the Unicode code point)
//! and `<isCombining>`. The `<alt>` mappings are not used: YAZ and the MARC 21 Unicode conversion
//! rules use `<ucs>`; the only codes without a `<ucs>` are the second halves of the ANSEL double
//! diacritics, which Unicode does not need (the first half maps to a double-width combining mark).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use quick_xml::events::Event;
use quick_xml::Reader;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, output) = match args.as_slice() {
        [input] => (input, None),
        [input, output] => (input, Some(output)),
        _ => {
            eprintln!("usage: gen_marc8_tables <codetables.xml> [<tables.rs>]");
            return ExitCode::from(2);
        }
    };
    let xml = match std::fs::read_to_string(input) {
        Ok(xml) => xml,
        Err(err) => {
            eprintln!("cannot read {input}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let table = match generate(&xml) {
        Ok(table) => table,
        Err(err) => {
            eprintln!("{input}: {err}");
            return ExitCode::FAILURE;
        }
    };
    match output {
        None => print!("{table}"),
        Some(output) => {
            if let Err(err) = std::fs::write(output, table) {
                eprintln!("cannot write {output}: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// Entry flag: the character is a combining mark (MARC-8 puts it before its base character).
const COMBINING: u32 = 0x8000_0000;
/// Entry value: LC defines the code but gives it no Unicode character.
const NO_UNICODE: u32 = 0x4000_0000;

/// One `<code>` element.
#[derive(Default)]
struct Code {
    marc: String,
    ucs: String,
    combining: String,
}

/// One `<characterSet>` element.
struct CharacterSet {
    name: String,
    final_byte: u8,
    codes: Vec<Code>,
}

/// Reads `codetables.xml` and returns the Rust source of the generated table module.
pub fn generate(xml: &str) -> Result<String, String> {
    let sets = parse(xml)?;
    let mut single = Vec::new();
    let mut multi = None;
    for set in &sets {
        let three_bytes = set.codes.iter().any(|c| c.marc.len() == 6);
        if three_bytes {
            if multi.is_some() {
                return Err("more than one multibyte character set".into());
            }
            multi = Some((set, eacc_entries(set)?));
        } else {
            single.push((set, single_byte_entries(set)?));
        }
    }
    let Some((eacc_set, eacc)) = multi else {
        return Err("no multibyte (EACC) character set".into());
    };

    let mut out = String::new();
    out.push_str(HEADER);
    let _ = writeln!(out, "pub(super) const COMBINING: u32 = {COMBINING:#010X};");
    out.push_str(
        "/// Entry value: LC defines the code but maps it to no Unicode character (the second halves of\n\
         /// the ANSEL double diacritics).\n",
    );
    let _ = writeln!(out, "pub(super) const NO_UNICODE: u32 = {NO_UNICODE:#010X};");
    out.push_str(SET_TYPE);
    let _ = writeln!(out, "pub(super) static SINGLE_BYTE_SETS: [SingleByteSet; {}] = [", single.len());
    for (set, entries) in &single {
        let _ = writeln!(out, "    // {} ({} codes)", set.name, set.codes.len());
        let _ =
            writeln!(out, "    SingleByteSet {{ final_byte: {:#04X}, name: {:?}, codes: [", set.final_byte, set.name);
        for row in entries.chunks(8) {
            let cells: Vec<String> = row.iter().map(|v| format!("{v:#010X}")).collect();
            let _ = writeln!(out, "        {},", cells.join(", "));
        }
        out.push_str("    ] },\n");
    }
    out.push_str("];\n\n");
    let _ = writeln!(out, "/// Final byte of the East Asian character set (EACC) in escape sequences.");
    let _ = writeln!(out, "pub(super) const EACC_FINAL_BYTE: u8 = {:#04X};", eacc_set.final_byte);
    let _ = writeln!(out, "/// Name of the East Asian character set.");
    let _ = writeln!(out, "pub(super) const EACC_NAME: &str = {:?};", eacc_set.name);
    out.push_str(
        "/// EACC characters as `(MARC-8 bytes << 24) | code point`, sorted: the top three bytes are\n\
         /// the MARC-8 code (G0 form), the low three the Unicode code point.\n",
    );
    let _ = writeln!(out, "pub(super) static EACC: [u64; {}] = [", eacc.len());
    for row in eacc.chunks(8) {
        let cells: Vec<String> = row.iter().map(|(marc, ucs)| format!("0x{marc:06X}_{ucs:06X}")).collect();
        let _ = writeln!(out, "    {},", cells.join(", "));
    }
    out.push_str("];\n");
    Ok(out)
}

const HEADER: &str = "\
// @generated by crates/marc/examples/gen_marc8_tables.rs from the Library of Congress MARC-8 code
// tables (codetables.xml). Do not edit by hand; regenerate with
//   cargo run -p marc --example gen_marc8_tables -- <codetables.xml> crates/marc/src/marc8/tables.rs

//! MARC-8 character sets, generated from LC's `codetables.xml`.

/// Entry flag: the character is a combining mark (it precedes its base character in MARC-8).
";

const SET_TYPE: &str = "
/// A MARC-8 character set of single-byte codes. `codes` is indexed by the low seven bits of the
/// byte, whether the set is designated as G0 (0x21-0x7E) or G1 (0xA1-0xFE); ANSEL's four codes in
/// 0x88-0x8E sit at 0x08-0x0E. An entry is a Unicode code point, possibly with `COMBINING`, or
/// `NO_UNICODE`, or 0 for an undefined code. Control characters and the space are left out: the
/// decoder handles them itself.
pub(super) struct SingleByteSet {
    pub(super) final_byte: u8,
    pub(super) name: &'static str,
    pub(super) codes: [u32; 128],
}

";

fn parse(xml: &str) -> Result<Vec<CharacterSet>, String> {
    let mut reader = Reader::from_str(xml);
    let mut sets: Vec<CharacterSet> = Vec::new();
    let mut code: Option<Code> = None;
    let mut element = String::new();
    loop {
        let event = reader.read_event().map_err(|e| format!("XML error: {e}"))?;
        match event {
            Event::Start(start) => {
                let name = start.name().as_ref().to_owned();
                match name.as_str() {
                    "characterSet" => {
                        let attr = |key: &str| -> Result<String, String> {
                            let value = start
                                .try_get_attribute(key)
                                .map_err(|e| format!("characterSet attribute: {e}"))?
                                .ok_or_else(|| format!("characterSet without {key}"))?;
                            value
                                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .map(|v| v.into_owned())
                                .map_err(|e| format!("characterSet attribute: {e}"))
                        };
                        let set_name = attr("name")?;
                        let iso = attr("ISOcode")?;
                        let final_byte = u8::from_str_radix(iso.trim(), 16)
                            .map_err(|_| format!("{set_name}: bad ISOcode {iso:?}"))?;
                        sets.push(CharacterSet { name: set_name, final_byte, codes: Vec::new() });
                    }
                    "code" => code = Some(Code::default()),
                    _ => {}
                }
                element = name;
            }
            Event::Text(text) => {
                if let Some(code) = code.as_mut() {
                    let text = text.xml10_content();
                    match element.as_str() {
                        "marc" => code.marc.push_str(text.trim()),
                        "ucs" => code.ucs.push_str(text.trim()),
                        "isCombining" => code.combining.push_str(text.trim()),
                        _ => {}
                    }
                }
            }
            Event::End(end) => {
                if end.name().as_ref() == "code" {
                    let done = code.take().ok_or("</code> without <code>")?;
                    let set = sets.last_mut().ok_or("<code> outside a characterSet")?;
                    set.codes.push(done);
                }
                element.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(sets)
}

/// Parses a `<ucs>` value and adds the combining flag.
fn entry(set: &CharacterSet, code: &Code) -> Result<u32, String> {
    let combining = match code.combining.as_str() {
        "" | "false" => false,
        "true" => true,
        other => return Err(format!("{}: code {}: isCombining {other:?}", set.name, code.marc)),
    };
    if code.ucs.is_empty() {
        return Ok(NO_UNICODE);
    }
    let cp = u32::from_str_radix(&code.ucs, 16)
        .ok()
        .filter(|&cp| char::from_u32(cp).is_some())
        .ok_or_else(|| format!("{}: code {}: bad ucs {:?}", set.name, code.marc, code.ucs))?;
    Ok(if combining { cp | COMBINING } else { cp })
}

fn single_byte_entries(set: &CharacterSet) -> Result<Vec<u32>, String> {
    let mut table = vec![0u32; 128];
    for code in &set.codes {
        let byte = u8::from_str_radix(&code.marc, 16)
            .ok()
            .filter(|_| code.marc.len() == 2)
            .ok_or_else(|| format!("{}: bad marc code {:?}", set.name, code.marc))?;
        // Controls and the space are structural (escape, ISO 2709 separators), not characters of a
        // set; only ANSEL's codes in the C1 range (0x88-0x8E) are kept.
        if byte <= 0x20 || byte == 0x7F || byte == 0xFF {
            continue;
        }
        let slot = usize::from(byte & 0x7F);
        if table[slot] != 0 {
            return Err(format!("{}: code {} defined twice", set.name, code.marc));
        }
        table[slot] = entry(set, code)?;
    }
    Ok(table)
}

fn eacc_entries(set: &CharacterSet) -> Result<Vec<(u32, u32)>, String> {
    let mut table = BTreeMap::new();
    for code in &set.codes {
        let marc = u32::from_str_radix(&code.marc, 16)
            .ok()
            .filter(|_| code.marc.len() == 6)
            .ok_or_else(|| format!("{}: bad marc code {:?}", set.name, code.marc))?;
        let value = entry(set, code)?;
        if value & (COMBINING | NO_UNICODE) != 0 {
            return Err(format!("{}: code {}: unexpected combining/empty", set.name, code.marc));
        }
        if table.insert(marc & 0x7F_7F7F, value).is_some() {
            return Err(format!("{}: code {} defined twice", set.name, code.marc));
        }
    }
    Ok(table.into_iter().collect())
}
