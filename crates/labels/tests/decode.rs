//! The labels judged by outside tools, as a scanner would judge them: `pdftoppm` (poppler-utils)
//! renders the PDF at 300 dpi, `zbarimg` (zbar-tools) decodes the barcodes, `pdftotext` reads
//! the spine labels back. `scripts/test` installs the tools; a missing tool fails the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use labels::{render_barcode_labels, render_spine_labels, Align, ItemLabel, Scheme, Sheet, SheetLayout, Symbology};

const DPI: f64 = 300.0;

fn run(program: &str, args: &[&str], package: &str) -> Output {
    match Command::new(program).args(args).output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "{program} is not installed: install {package} (apt-get install poppler-utils zbar-tools; \
             scripts/test does this)"
        ),
        Err(e) => panic!("cannot run {program}: {e}"),
    }
}

fn succeed(program: &str, args: &[&str], package: &str) -> Output {
    let output = run(program, args, package);
    assert!(output.status.success(), "{program} {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// `zbarimg` over `images`: what it decoded in each image, as (symbology, data). Exit status 4
/// means "no symbol found", an answer rather than a failure.
fn zbar(images: &[PathBuf]) -> BTreeMap<String, Vec<(String, String)>> {
    let mut args = vec!["--xml", "--nodbus", "-q"];
    args.extend(images.iter().map(|p| p.to_str().expect("utf-8 temp path")));
    let output = run("zbarimg", &args, "zbar-tools");
    assert!(matches!(output.status.code(), Some(0 | 4)), "zbarimg failed: {}", String::from_utf8_lossy(&output.stderr));
    let xml = String::from_utf8(output.stdout).expect("zbarimg writes UTF-8");
    let mut found: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for source in xml.split("<source href='").skip(1) {
        let name = source[..source.find('\'').expect("href")].to_owned();
        let symbols = found.entry(name).or_default();
        for symbol in source.split("<symbol type='").skip(1) {
            let kind = symbol[..symbol.find('\'').expect("type")].to_owned();
            let start = symbol.find("<![CDATA[").expect("data") + 9;
            let end = symbol[start..].find("]]>").expect("data end") + start;
            symbols.push((kind, symbol[start..end].to_owned()));
        }
    }
    found
}

/// A grayscale page as `pdftoppm -gray` writes it (binary PGM, maxval 255).
struct Gray {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Gray {
    fn read(path: &Path) -> Gray {
        let bytes = std::fs::read(path).expect("read PGM");
        let mut fields = Vec::new();
        let mut at = 0;
        while fields.len() < 4 {
            while bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            let start = at;
            while !bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            fields.push(std::str::from_utf8(&bytes[start..at]).expect("PGM header").to_owned());
        }
        assert_eq!(fields[0], "P5");
        assert_eq!(fields[3], "255");
        let (width, height) = (fields[1].parse().expect("width"), fields[2].parse().expect("height"));
        let pixels = bytes[at + 1..].to_vec();
        assert_eq!(pixels.len(), width * height);
        Gray { width, height, pixels }
    }

    /// Writes the rectangle from (`x`, `y`), `w` x `h` pixels, as a PGM of its own.
    fn crop(&self, x: usize, y: usize, w: usize, h: usize, path: &Path) {
        assert!(x + w <= self.width && y + h <= self.height);
        let mut out = format!("P5\n{w} {h}\n255\n").into_bytes();
        for row in y..y + h {
            out.extend_from_slice(&self.pixels[row * self.width + x..row * self.width + x + w]);
        }
        std::fs::write(path, out).expect("write crop");
    }
}

/// Barcodes as libraries print them: 14-digit Codabar (`3` item prefix, 4-digit library code,
/// 8-digit item number, a check digit) and the older alphanumeric Code 39 ones.
fn items() -> Vec<ItemLabel> {
    (0..35u32)
        .map(|i| {
            let barcode = if i % 5 == 4 {
                format!("SPL-{:05}", 800 + i * 7)
            } else {
                let body = format!("31234{:08}", 1_002_345 + i * 1_117);
                format!("{body}{}", luhn(&body))
            };
            ItemLabel::new(
                "Springfield Public Library",
                barcode,
                "QA76.73.R87 K53 2018",
                "Programming Rust: fast, safe systems development",
            )
        })
        .collect()
}

/// The Luhn check digit, as many library barcode ranges carry.
fn luhn(digits: &str) -> u32 {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { (d * 2) / 10 + (d * 2) % 10 } else { d })
        .sum();
    (10 - sum % 10) % 10
}

/// What zbar should report for an item: Codabar with the `A`/`B` frame the label printed.
fn expected(barcode: &str) -> (String, String) {
    if barcode.chars().all(|c| c.is_ascii_digit()) {
        ("Codabar".to_owned(), format!("A{barcode}B"))
    } else {
        ("CODE-39".to_owned(), barcode.to_owned())
    }
}

#[test]
fn every_barcode_on_every_page_decodes_in_its_own_label() {
    let items = items();
    let offset = 3;
    let pdf =
        render_barcode_labels(&items, &Sheet::new(SheetLayout::AVERY_5160).starting_at(offset), Symbology::Codabar)
            .expect("labels render");
    let dir = tempfile::tempdir().expect("temp dir");
    let pdf_path = dir.path().join("labels.pdf");
    std::fs::write(&pdf_path, &pdf).expect("write PDF");
    let pdf_arg = pdf_path.to_str().expect("utf-8 temp path");

    // Whole pages, as PNG: each page decodes exactly its labels' barcodes.
    let png_root = dir.path().join("page");
    succeed("pdftoppm", &["-r", "300", "-png", pdf_arg, png_root.to_str().expect("utf-8")], "poppler-utils");
    let pages = [dir.path().join("page-1.png"), dir.path().join("page-2.png")];
    assert!(!dir.path().join("page-3.png").exists(), "35 labels from position 4 of a 30-up sheet fill two pages");
    for (page, path) in pages.iter().enumerate() {
        let raw = succeed("zbarimg", &["--raw", "--nodbus", "-q", path.to_str().expect("utf-8")], "zbar-tools");
        let mut decoded: Vec<String> = String::from_utf8_lossy(&raw.stdout).lines().map(str::to_owned).collect();
        decoded.sort();
        // 27 free positions on the first sheet, the other 8 on the second.
        let on_page = if page == 0 { &items[..27] } else { &items[27..] };
        let mut wanted: Vec<String> = on_page.iter().map(|i| expected(&i.barcode).1).collect();
        wanted.sort();
        assert_eq!(decoded, wanted, "page {}", page + 1);
    }

    // Label by label: crop each Avery 5160 position (3/16" left, 1/2" top, 2 3/4" across,
    // 1" down, 2 5/8" x 1") out of a grayscale rendering and decode it alone.
    let gray_root = dir.path().join("gray");
    succeed("pdftoppm", &["-r", "300", "-gray", pdf_arg, gray_root.to_str().expect("utf-8")], "poppler-utils");
    let px = |inches: f64| (inches * DPI).round() as usize;
    let mut cells = Vec::new();
    let mut wanted = BTreeMap::new();
    for page in 0..2usize {
        let gray = Gray::read(&dir.path().join(format!("gray-{}.pgm", page + 1)));
        assert_eq!((gray.width, gray.height), (px(8.5), px(11.0)));
        for position in 0..30usize {
            let (row, column) = (position / 3, position % 3);
            let x = px(0.1875 + 2.75 * column as f64);
            let y = px(0.5 + 1.0 * row as f64);
            let path = dir.path().join(format!("cell-{page}-{position:02}.pgm"));
            gray.crop(x, y, px(2.625), px(1.0), &path);
            let index = (page * 30 + position).checked_sub(offset).filter(|&i| i < items.len());
            wanted.insert(
                path.to_str().expect("utf-8").to_owned(),
                index.map(|i| vec![expected(&items[i].barcode)]).unwrap_or_default(),
            );
            cells.push(path);
        }
    }
    let found = zbar(&cells);
    for (cell, want) in &wanted {
        let got = found.get(cell).cloned().unwrap_or_default();
        assert_eq!(&got, want, "{cell}");
    }
    // Both symbologies were exercised: Codabar and the Code 39 fallback.
    let kinds: std::collections::BTreeSet<&str> = found.values().flatten().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["CODE-39", "Codabar"].into_iter().collect());
}

#[test]
fn code_39_with_check_character_decodes() {
    let items: Vec<ItemLabel> =
        ["T0001234", "BPL 0099", "X/1.5+2%"].iter().map(|b| ItemLabel::new("Branch", *b, "", "Title")).collect();
    let pdf = render_barcode_labels(
        &items,
        &Sheet::new(SheetLayout::AVERY_5160),
        Symbology::Code39 { check_character: true },
    )
    .expect("labels render");
    let dir = tempfile::tempdir().expect("temp dir");
    let pdf_path = dir.path().join("c39.pdf");
    std::fs::write(&pdf_path, &pdf).expect("write PDF");
    let root = dir.path().join("page");
    succeed(
        "pdftoppm",
        &["-r", "300", "-png", pdf_path.to_str().expect("utf-8"), root.to_str().expect("utf-8")],
        "poppler-utils",
    );
    let found = zbar(&[dir.path().join("page-1.png")]);
    // zbar does not strip the check character: it is the last one read.
    let mut got: Vec<String> = found.values().flatten().map(|(_, d)| d.clone()).collect();
    got.sort();
    let mut want: Vec<String> = items
        .iter()
        .map(|i| format!("{}{}", i.barcode, labels::code39::check_character(&i.barcode).expect("encodable")))
        .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn spine_labels_read_back_line_by_line() {
    let items = [
        ItemLabel::new("Springfield", "31234000456789", "QA76.73.R87 K53 2018", ""),
        ItemLabel::new("Springfield", "31234000456790", "J 599.75 SMI", ""),
    ];
    // Offset 4 on the 5-across Demco sheet: the LC label ends the first row, the Dewey one
    // starts the second, so the text comes out one label after the other.
    let sheet = Sheet::new(SheetLayout::DEMCO_WS14942260).starting_at(4);
    let pdf = render_spine_labels(&items, &sheet, Scheme::Auto, Align::Centre).expect("spine labels");
    let dir = tempfile::tempdir().expect("temp dir");
    let pdf_path = dir.path().join("spine.pdf");
    std::fs::write(&pdf_path, &pdf).expect("write PDF");
    let out = succeed("pdftotext", &["-layout", pdf_path.to_str().expect("utf-8"), "-"], "poppler-utils");
    let text = String::from_utf8(out.stdout).expect("pdftotext writes UTF-8");
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    assert_eq!(lines, ["QA", "76.73", ".R87", "K53", "2018", "J", "599.75", "SMI"], "{text}");
}

#[test]
fn accented_text_reads_back_through_win_ansi() {
    let items = [ItemLabel::new("Bibliothèque Müller (Zürich)", "31234000456789", "", "Œuvres – “Café”")];
    let pdf =
        render_barcode_labels(&items, &Sheet::new(SheetLayout::AVERY_5160), Symbology::Codabar).expect("labels render");
    let dir = tempfile::tempdir().expect("temp dir");
    let pdf_path = dir.path().join("accents.pdf");
    std::fs::write(&pdf_path, &pdf).expect("write PDF");
    let out = succeed("pdftotext", &[pdf_path.to_str().expect("utf-8"), "-"], "poppler-utils");
    let text = String::from_utf8(out.stdout).expect("pdftotext writes UTF-8");
    assert!(text.contains("Bibliothèque Müller (Zürich)"), "{text}");
    assert!(text.contains("Œuvres – “Café”"), "{text}");
    assert!(text.contains("31234000456789"), "{text}");
}
