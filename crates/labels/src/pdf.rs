//! A small PDF 1.4 writer: pages of filled rectangles and one-line text in the standard
//! Helvetica fonts. Labels need nothing more, and writing it by hand keeps the crate free of a
//! large PDF dependency. Content streams are left uncompressed so the output stays plain ASCII
//! that tests (and curious staff) can read.

use std::fmt::Write as _;

use unicode_normalization::UnicodeNormalization;

use crate::metrics;

/// The two fonts a label uses; the PDF names them `/F1` and `/F2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Font {
    Helvetica,
    HelveticaBold,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Font::Helvetica => "F1",
            Font::HelveticaBold => "F2",
        }
    }

    /// Width of WinAnsi-encoded `text` at `size` points.
    pub(crate) fn width(self, text: &[u8], size: f64) -> f64 {
        let table = match self {
            Font::Helvetica => &metrics::HELVETICA,
            Font::HelveticaBold => &metrics::HELVETICA_BOLD,
        };
        let units: u32 =
            text.iter().map(|&b| u32::from(table.get(usize::from(b).wrapping_sub(32)).copied().unwrap_or(0))).sum();
        f64::from(units) * size / 1000.0
    }
}

/// The WinAnsiEncoding code of `c`, if it has one.
fn win_ansi(c: char) -> Option<u8> {
    let code = u32::from(c);
    match code {
        0x20..=0x7E | 0xA0..=0xFF => u8::try_from(code).ok(),
        _ => Some(match c {
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8A,
            '‹' => 0x8B,
            'Œ' => 0x8C,
            'Ž' => 0x8E,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9A,
            '›' => 0x9B,
            'œ' => 0x9C,
            'ž' => 0x9E,
            'Ÿ' => 0x9F,
            _ => return None,
        }),
    }
}

/// `text` in WinAnsiEncoding, the encoding the standard fonts print without embedding a font.
/// Text is composed first (NFC), so `e` + combining acute prints as `é`; a letter WinAnsi lacks
/// prints as its base letter when it has one (`ő` as `o`, `Ł` has none); anything else as `?`.
/// Line breaks and tabs become spaces: a label line is one line.
pub(crate) fn encode_text(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.nfc() {
        if c.is_whitespace() {
            out.push(b' ');
        } else if let Some(b) = win_ansi(c) {
            out.push(b);
        } else {
            let mut decomposed = std::iter::once(c).nfd();
            match decomposed.next().and_then(win_ansi) {
                Some(base) if decomposed.all(unicode_normalization::char::is_combining_mark) => out.push(base),
                _ if unicode_normalization::char::is_combining_mark(c) => {}
                _ => out.push(b'?'),
            }
        }
    }
    out
}

/// A PDF literal string: parentheses and backslashes escaped, and bytes outside printable
/// ASCII as octal escapes so the file stays ASCII.
pub(crate) fn literal(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('(');
    for &b in bytes {
        match b {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7E => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push(')');
    out
}

/// A number as PDF writes it: at most three decimals, no exponent, no `-0`.
pub(crate) fn number(value: f64) -> String {
    let value = if value.is_finite() { value } else { 0.0 };
    let mut s = format!("{value:.3}");
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    if s == "-0" {
        s = "0".to_owned();
    }
    s
}

/// The drawing operations of one page.
#[derive(Debug, Default)]
pub(crate) struct Page {
    content: String,
}

impl Page {
    /// A filled black rectangle.
    pub(crate) fn rect(&mut self, x: f64, y: f64, width: f64, height: f64) {
        let _ = writeln!(self.content, "{} {} {} {} re f", number(x), number(y), number(width), number(height));
    }

    /// One line of already-encoded text with its baseline starting at (`x`, `y`).
    pub(crate) fn text(&mut self, font: Font, size: f64, x: f64, y: f64, text: &[u8]) {
        if text.is_empty() {
            return;
        }
        let _ = writeln!(
            self.content,
            "BT /{} {} Tf {} {} Td {} Tj ET",
            font.resource(),
            number(size),
            number(x),
            number(y),
            literal(text)
        );
    }
}

/// Writes a PDF of `pages`, each `width` x `height` points.
pub(crate) fn document(pages: &[Page], width: f64, height: f64) -> Vec<u8> {
    // Objects: 1 catalog, 2 page tree, 3 and 4 fonts, 5 info, then a page and its content
    // stream for each page.
    const FIRST_PAGE: usize = 6;
    let mut out: Vec<u8> = Vec::new();
    let mut offsets: Vec<usize> = Vec::new();
    out.extend_from_slice(b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
    let mut object = |out: &mut Vec<u8>, body: &str| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", offsets.len()).as_bytes());
    };
    let kids: Vec<String> = (0..pages.len()).map(|i| format!("{} 0 R", FIRST_PAGE + 2 * i)).collect();
    object(&mut out, "<< /Type /Catalog /Pages 2 0 R >>");
    object(&mut out, &format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()));
    for name in ["Helvetica", "Helvetica-Bold"] {
        object(&mut out, &format!("<< /Type /Font /Subtype /Type1 /BaseFont /{name} /Encoding /WinAnsiEncoding >>"));
    }
    object(&mut out, "<< /Producer (Shelfmark) >>");
    for (i, page) in pages.iter().enumerate() {
        let content_id = FIRST_PAGE + 2 * i + 1;
        object(
            &mut out,
            &format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] \
                 /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {content_id} 0 R >>",
                number(width),
                number(height)
            ),
        );
        let stream = format!("0 g\n{}", page.content);
        object(&mut out, &format!("<< /Length {} >>\nstream\n{stream}endstream", stream.len()));
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
    for offset in &offsets {
        // Each entry is exactly 20 bytes: the space before the newline is part of it.
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ =
        write!(table, "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n", offsets.len() + 1);
    out.extend_from_slice(table.as_bytes());
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Checks the cross-reference table: `startxref` points at `xref`, every entry is 20 bytes,
    /// and every in-use entry's offset points at `N 0 obj` for its own N. Returns the object count.
    pub(crate) fn check_xref(pdf: &[u8]) -> usize {
        // Byte for byte, so offsets into `text` are offsets into the file.
        let text: String = pdf.iter().map(|&b| if b.is_ascii() { char::from(b) } else { '?' }).collect();
        assert!(text.starts_with("%PDF-1.4\n"));
        assert!(text.ends_with("%%EOF\n"));
        let startxref = text.rfind("startxref\n").expect("startxref");
        let xref: usize = text[startxref + 10..].lines().next().and_then(|l| l.parse().ok()).expect("xref offset");
        assert_eq!(&pdf[xref..xref + 5], b"xref\n");
        let mut lines = text[xref + 5..].split_inclusive('\n');
        let header = lines.next().expect("xref header");
        let mut parts = header.split_whitespace();
        assert_eq!(parts.next(), Some("0"));
        let size: usize = parts.next().and_then(|n| n.parse().ok()).expect("xref size");
        let entries: Vec<&str> = lines.take(size).collect();
        assert_eq!(entries[0], "0000000000 65535 f \n");
        for (n, entry) in entries.iter().enumerate().skip(1) {
            assert_eq!(entry.len(), 20, "entry {n}: {entry:?}");
            assert!(entry.ends_with(" n \n"));
            let offset: usize = entry[..10].parse().expect("offset");
            let expected = format!("{n} 0 obj\n");
            assert_eq!(&pdf[offset..offset + expected.len()], expected.as_bytes(), "object {n}");
        }
        assert!(text.contains(&format!("/Size {size} ")));
        // Each stream's /Length is the byte count between `stream\n` and `endstream`.
        let mut from = 0;
        while let Some(at) = text[from..].find("/Length ") {
            let at = from + at + 8;
            let len: usize = text[at..].split_whitespace().next().and_then(|n| n.parse().ok()).expect("length");
            let start = at + text[at..].find("stream\n").expect("stream") + 7;
            assert_eq!(&text[start + len..start + len + 9], "endstream");
            from = start + len;
        }
        size - 1
    }

    #[test]
    fn empty_and_multi_page_documents_have_a_sound_xref() {
        let mut page = Page::default();
        page.rect(10.0, 20.0, 0.48, 36.0);
        page.text(Font::Helvetica, 8.0, 10.0, 10.0, &encode_text("Pride (and) \\ Prejudice"));
        let pdf = document(&[page, Page::default()], 612.0, 792.0);
        assert_eq!(check_xref(&pdf), 5 + 2 * 2);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("10 20 0.48 36 re f\n"));
        assert!(text.contains("(Pride \\(and\\) \\\\ Prejudice) Tj"));
        assert!(text.contains("/Count 2"));
        assert!(text.contains("/MediaBox [0 0 612 792]"));
    }

    #[test]
    fn text_maps_to_win_ansi() {
        assert_eq!(encode_text("Café"), b"Caf\xE9");
        assert_eq!(encode_text("Cafe\u{301}"), b"Caf\xE9");
        assert_eq!(encode_text("Müller – “Œuvres” €5…"), b"M\xFCller \x96 \x93\x8Cuvres\x94 \x805\x85");
        assert_eq!(encode_text("Erdős Łódź"), b"Erdos ?\xF3dz");
        assert_eq!(encode_text("東京 a\tb\nc"), b"?? a b c");
        assert_eq!(encode_text("\u{7}x\u{301}"), b"?x");
        assert_eq!(literal(b"a(b)c\\d\xE9\n"), "(a\\(b\\)c\\\\d\\351\\012)");
    }

    #[test]
    fn numbers_are_plain() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(-0.0001), "0");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(1.23456), "1.235");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(f64::NAN), "0");
    }

    #[test]
    fn widths_come_from_the_afm() {
        assert!((Font::Helvetica.width(b"W", 10.0) - 9.44).abs() < 1e-9);
        assert!((Font::HelveticaBold.width(b"i", 1000.0) - 278.0).abs() < 1e-9);
        assert!((Font::Helvetica.width(b"\xE9", 1000.0) - 556.0).abs() < 1e-9);
        assert_eq!(Font::Helvetica.width(b"\x07", 10.0), 0.0);
    }

    proptest! {
        #[test]
        fn any_text_keeps_the_pdf_sound(texts in proptest::collection::vec("\\PC{0,40}", 1..5)) {
            let mut page = Page::default();
            for (i, t) in texts.iter().enumerate() {
                page.text(Font::HelveticaBold, 9.0, 5.0, 10.0 * i as f64, &encode_text(t));
            }
            let pdf = document(&[page], 100.0, 100.0);
            check_xref(&pdf);
            // Past the binary-marker comment of the header, the file is ASCII.
            prop_assert!(pdf[15..].is_ascii());
            // Every string is balanced: unescaped parentheses pair up within each Tj line.
            for line in String::from_utf8_lossy(&pdf).lines().filter(|l| l.ends_with("Tj ET")) {
                let mut depth = 0i32;
                let mut escaped = false;
                for c in line.chars() {
                    match (escaped, c) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '(') => depth += 1,
                        (false, ')') => depth -= 1,
                        _ => {}
                    }
                    prop_assert!(depth >= 0);
                }
                prop_assert_eq!(depth, 0);
            }
        }
    }
}
