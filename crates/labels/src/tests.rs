//! Tests of the public functions; the symbologies, layouts and PDF writer test themselves.

use super::*;
use crate::pdf::tests::check_xref;

fn item(barcode: &str, call_number: &str, title: &str) -> ItemLabel {
    ItemLabel::new("Springfield Public Library", barcode, call_number, title)
}

fn ascii(pdf: &[u8]) -> String {
    pdf.iter().map(|&b| if b.is_ascii() { char::from(b) } else { '?' }).collect()
}

#[test]
fn barcode_sheet_has_one_page_per_sheet_and_a_sound_xref() {
    let items: Vec<ItemLabel> =
        (0..35).map(|i| item(&format!("312340004{i:05}"), "QA76.73.R87 K53 2018", "Programming Rust")).collect();
    let sheet = Sheet::new(SheetLayout::AVERY_5160).starting_at(3);
    let pdf = render_barcode_labels(&items, &sheet, Symbology::Codabar).expect("renders");
    // Catalog, pages, two fonts, info, then a page and a content stream per page.
    assert_eq!(check_xref(&pdf), 5 + 2 * 2);
    let text = ascii(&pdf);
    assert!(text.contains("/Count 2"));
    assert!(text.contains("/BaseFont /Helvetica /Encoding /WinAnsiEncoding"));
    assert_eq!(text.matches("(31234000400000) Tj").count(), 1);
    assert_eq!(text.matches("(Springfield Public Library) Tj").count(), 35);
}

#[test]
fn offset_29_prints_first_label_last_on_page_one_and_second_on_page_two() {
    let items = [item("31234000111111", "", "A"), item("31234000222222", "", "B")];
    let sheet = Sheet::new(SheetLayout::AVERY_5160).starting_at(29);
    let pdf = ascii(&render_barcode_labels(&items, &sheet, Symbology::Codabar).expect("renders"));
    let streams: Vec<&str> = pdf.split(">>\nstream\n").skip(1).collect();
    assert_eq!(streams.len(), 2);
    assert!(streams[0].contains("(31234000111111) Tj") && !streams[0].contains("(31234000222222)"));
    assert!(streams[1].contains("(31234000222222) Tj"));
    // The first label's bars start in the third column (x from 5.6875") of the last row
    // (y from 0.5" up to 1.5"); the second's in the first column of the first row.
    let first_bar = |stream: &str| -> (f64, f64) {
        let line = stream.lines().find(|l| l.ends_with(" re f")).expect("a bar");
        let v: Vec<f64> = line.split_whitespace().take(2).map(|n| n.parse().expect("number")).collect();
        (v[0], v[1])
    };
    let (x, y) = first_bar(streams[0]);
    assert!(x > 5.6875 * 72.0 && x < 8.3125 * 72.0, "{x}");
    assert!(y > 0.5 * 72.0 && y < 1.5 * 72.0, "{y}");
    let (x, y) = first_bar(streams[1]);
    assert!(x > 0.1875 * 72.0 && x < 2.8125 * 72.0, "{x}");
    assert!(y > 9.5 * 72.0 && y < 10.5 * 72.0, "{y}");
}

#[test]
fn bars_sit_on_the_300_dpi_grid() {
    let pdf = ascii(
        &render_barcode_labels(
            &[item("31234000456789", "", "")],
            &Sheet::new(SheetLayout::AVERY_5160),
            Symbology::Codabar,
        )
        .expect("renders"),
    );
    let mut bars = 0;
    for line in pdf.lines().filter(|l| l.ends_with(" re f")) {
        let v: Vec<f64> = line.split_whitespace().take(3).map(|n| n.parse().expect("number")).collect();
        for edge in [v[0], v[2]] {
            let dots = edge * 300.0 / 72.0;
            assert!((dots - dots.round()).abs() < 0.01, "{line}");
        }
        bars += 1;
    }
    // 16 characters of 4 bars.
    assert_eq!(bars, 16 * 4);
}

#[test]
fn codabar_falls_back_to_code_39_and_unencodable_items_are_named() {
    assert_eq!(symbology_for("31234000456789", Symbology::Codabar), Ok(Symbology::Codabar));
    assert_eq!(symbology_for("A31234000456789B", Symbology::Codabar), Ok(Symbology::Codabar));
    assert_eq!(symbology_for("BPL-00123", Symbology::Codabar), Ok(Symbology::Code39 { check_character: false }));
    assert_eq!(
        symbology_for("bpl00123", Symbology::Codabar),
        Err(BarcodeError::Unencodable { symbology: Symbology::Codabar, character: 'b', position: 1 })
    );
    assert_eq!(
        symbology_for("12:34", Symbology::Code39 { check_character: true }),
        Err(BarcodeError::Unencodable {
            symbology: Symbology::Code39 { check_character: true },
            character: ':',
            position: 3
        })
    );
    let items = [item("31234000456789", "", ""), item("BPL00123", "", ""), item("3123400045678x", "", "")];
    let err =
        render_barcode_labels(&items, &Sheet::new(SheetLayout::AVERY_5160), Symbology::Codabar).expect_err("refused");
    assert_eq!(err.to_string(), "item 2 (barcode \"3123400045678x\"): Codabar cannot encode 'x' (character 14)");
    let pdf = ascii(
        &render_barcode_labels(&items[..2], &Sheet::new(SheetLayout::AVERY_5160), Symbology::Codabar).expect("renders"),
    );
    assert!(pdf.contains("(BPL00123) Tj"));
}

#[test]
fn run_level_errors() {
    let sheet = Sheet::new(SheetLayout::AVERY_5160);
    assert_eq!(render_barcode_labels(&[], &sheet, Symbology::Codabar), Err(LabelError::NoLabels));
    let one = [item("31234000456789", "813.54 KIN", "It")];
    assert_eq!(
        render_spine_labels(&one, &sheet.starting_at(30), Scheme::Auto, Align::Centre),
        Err(LabelError::OffsetPastSheet { offset: 30, per_sheet: 30 })
    );
    let tiny = SheetLayout { label_height: 20.0, vertical_pitch: 20.0, ..SheetLayout::AVERY_5160 };
    assert!(matches!(
        render_barcode_labels(&one, &Sheet::new(tiny), Symbology::Codabar),
        Err(LabelError::LabelTooSmall { .. })
    ));
    let long = [item(&"9".repeat(40), "", "")];
    let err = render_barcode_labels(&long, &sheet, Symbology::Code39 { check_character: false }).expect_err("refused");
    assert!(matches!(err, LabelError::BarcodeTooWide { index: 0, .. }), "{err}");
    let no_call = [one[0].clone(), item("31234000456790", "  ", "Blank")];
    assert_eq!(
        render_spine_labels(&no_call, &Sheet::new(SheetLayout::DEMCO_WS14942260), Scheme::Auto, Align::Left),
        Err(LabelError::NoCallNumber { index: 1, barcode: "31234000456790".to_owned() })
    );
}

#[test]
fn spine_labels_print_the_call_number_lines_in_order() {
    assert_eq!(spine_lines("QA76.73.R87 K53 2018", Scheme::Lc), ["QA", "76.73", ".R87", "K53", "2018"]);
    assert_eq!(spine_lines("J 599.75 SMI", Scheme::Auto), ["J", "599.75", "SMI"]);
    let items = [item("1", "QA76.73.R87 K53 2018", ""), item("2", "J 599.75 SMI", "")];
    let pdf = render_spine_labels(&items, &Sheet::new(SheetLayout::DEMCO_WS14942260), Scheme::Auto, Align::Centre)
        .expect("renders");
    check_xref(&pdf);
    let text = ascii(&pdf);
    let order: Vec<usize> =
        ["(QA) Tj", "(76.73) Tj", "(.R87) Tj", "(K53) Tj", "(2018) Tj", "(J) Tj", "(599.75) Tj", "(SMI) Tj"]
            .iter()
            .map(|s| text.find(s).expect(s))
            .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
}

#[test]
fn text_outside_win_ansi_and_pdf_delimiters_do_not_break_the_file() {
    let items = [
        ItemLabel::new("Bibliothèque (Centre) \\ Łódź", "31234000456789", "QA76 .R87", "Über (die) Welt: 東京 \\ 2018"),
        ItemLabel::new("", "BPL 0012", "813.54 KIN", ""),
    ];
    let sheet = Sheet::new(SheetLayout::AVERY_5160);
    let pdf = render_barcode_labels(&items, &sheet, Symbology::Codabar).expect("renders");
    check_xref(&pdf);
    let text = ascii(&pdf);
    assert!(text.contains("(Biblioth\\350que \\(Centre\\) \\\\ ?\\363dz) Tj"), "{text}");
    assert!(text.contains("(\\334ber \\(die\\) Welt: ?? \\\\ 2018) Tj"));
    check_xref(&render_spine_labels(&items, &sheet, Scheme::Auto, Align::Left).expect("renders"));
}
