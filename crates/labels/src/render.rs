//! Drawing one label into its rectangle on a page.

use crate::layout::Rect;
use crate::pdf::{encode_text, Font, Page};
use crate::symbol::Pattern;

/// One printer dot at 300 dpi, in points. Bar widths are whole dots and bar edges sit on the
/// 300 dpi grid, so 300 and 600 dpi printers (and a 300 dpi rendering) print every narrow bar
/// the same width instead of rounding some up and some down.
const DOT: f64 = 72.0 / 300.0;

/// Blank border inside each label: printers drift by a millimetre or so, and a bar or letter
/// cut by the label's edge is worse than a smaller one.
const INSET: f64 = 4.0;

/// Quiet zone each side of the bars, in narrow elements (the minimum Code 39 and Codabar set).
const QUIET_ZONE: u32 = 10;

/// Shortest bars worth printing; below this a hand scanner's line easily misses the symbol.
const MIN_BAR_HEIGHT: f64 = 14.0;

/// Narrow and wide element widths in dots, largest first. Two dots (6.7 mil) is the narrowest
/// a 300 dpi printer can print with a distinguishable 2.5:1 wide element; four dots (13 mil) is
/// as large as a library label needs. A 3:1 ratio reads best, 2.5:1 is the fallback for long
/// barcodes; both are inside the 2:1 to 3:1 the specifications allow.
const MODULES: [(u32, u32); 6] = [(4, 12), (4, 10), (3, 9), (3, 8), (2, 6), (2, 5)];

/// The largest module widths whose symbol and quiet zones fit `available` points.
fn modules_for(pattern: &Pattern, available: f64) -> Option<(u32, u32)> {
    MODULES
        .into_iter()
        .find(|&(narrow, wide)| f64::from(pattern.width(narrow, wide) + 2 * QUIET_ZONE * narrow) * DOT <= available)
}

/// Cuts `text` to fit `max_width`, ending it with an ellipsis when anything was cut.
fn fit(font: Font, size: f64, mut text: Vec<u8>, max_width: f64) -> Vec<u8> {
    if font.width(&text, size) <= max_width {
        return text;
    }
    const ELLIPSIS: u8 = 0x85;
    while !text.is_empty() && font.width(&text, size) + font.width(&[ELLIPSIS], size) > max_width {
        text.pop();
    }
    while text.last().is_some_and(|b| b.is_ascii_whitespace() || b"/:;,.".contains(b)) {
        text.pop();
    }
    text.push(ELLIPSIS);
    text
}

/// What goes on an item barcode label.
pub(crate) struct BarcodeLabel<'a> {
    pub(crate) pattern: &'a Pattern,
    pub(crate) human_readable: &'a str,
    pub(crate) library_name: &'a str,
    pub(crate) title: &'a str,
}

/// Why a barcode label could not be drawn; the caller names the item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum DrawError {
    /// The label leaves less than [`MIN_BAR_HEIGHT`] for bars.
    TooSmall,
    /// The symbol with quiet zones needs `needed` points at the smallest module; `available` remain.
    TooWide { needed: f64, available: f64 },
}

/// Library name and short title at the top, the bars, the barcode in bold under them.
pub(crate) fn barcode_label(page: &mut Page, cell: Rect, label: &BarcodeLabel<'_>) -> Result<(), DrawError> {
    let inner_width = cell.width - 2.0 * INSET;
    let small = (cell.height * 0.1).clamp(5.0, 8.0);
    let code_size = (cell.height * 0.12).clamp(6.0, 10.0);

    let top = cell.y + cell.height - INSET;
    let name_baseline = top - small * 0.75;
    let title_baseline = name_baseline - small * 1.15;
    let bars_top = title_baseline - small * 0.25 - 2.0;
    let code_baseline = cell.y + INSET + code_size * 0.22;
    let bars_bottom = code_baseline + code_size * 0.75 + 2.0;
    let bar_height = bars_top - bars_bottom;
    if bar_height < MIN_BAR_HEIGHT {
        return Err(DrawError::TooSmall);
    }

    let Some((narrow, wide)) = modules_for(label.pattern, inner_width) else {
        let (narrow, wide) = MODULES[MODULES.len() - 1];
        let needed = f64::from(label.pattern.width(narrow, wide) + 2 * QUIET_ZONE * narrow) * DOT;
        return Err(DrawError::TooWide { needed, available: inner_width });
    };
    let symbol_width = f64::from(label.pattern.width(narrow, wide)) * DOT;
    let left = ((cell.x + (cell.width - symbol_width) / 2.0) / DOT).round() * DOT;
    for (start, width) in label.pattern.bars(narrow, wide) {
        page.rect(left + f64::from(start) * DOT, bars_bottom, f64::from(width) * DOT, bar_height);
    }

    centred(
        page,
        Font::Helvetica,
        small,
        cell,
        name_baseline,
        fit(Font::Helvetica, small, encode_text(label.library_name), inner_width),
    );
    centred(
        page,
        Font::Helvetica,
        small,
        cell,
        title_baseline,
        fit(Font::Helvetica, small, encode_text(label.title), inner_width),
    );
    let code = encode_text(label.human_readable);
    let code_width = Font::HelveticaBold.width(&code, code_size);
    let code_size = if code_width > inner_width { code_size * inner_width / code_width } else { code_size };
    centred(page, Font::HelveticaBold, code_size, cell, code_baseline, code);
    Ok(())
}

fn centred(page: &mut Page, font: Font, size: f64, cell: Rect, baseline: f64, text: Vec<u8>) {
    let width = font.width(&text, size);
    page.text(font, size, cell.x + (cell.width - width) / 2.0, baseline, &text);
}

/// How spine-label lines sit across the label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    /// Each line centred: the common style on narrow spines.
    #[default]
    Centre,
    /// Lines flush left, as some libraries prefer so the class letters line up along a shelf.
    Left,
}

/// Largest type for spine labels; above it a short call number looks shouted.
const SPINE_MAX_SIZE: f64 = 14.0;
/// Line spacing as a multiple of the type size.
const LEADING: f64 = 1.15;

/// The call-number lines in bold, as large as fits the label (up to 14 pt), the block centred
/// from top to bottom.
pub(crate) fn spine_label(page: &mut Page, cell: Rect, lines: &[String], align: Align) {
    let lines: Vec<Vec<u8>> = lines.iter().map(|l| encode_text(l)).collect();
    let count = lines.len().max(1) as f64;
    let inner_width = cell.width - 2.0 * INSET;
    let inner_height = cell.height - 2.0 * INSET;
    let widest = lines.iter().map(|l| Font::HelveticaBold.width(l, 1.0)).fold(0.0, f64::max);
    let mut size = (inner_height / (count * LEADING)).min(SPINE_MAX_SIZE);
    if widest > 0.0 {
        size = size.min(inner_width / widest);
    }
    let line_height = size * LEADING;
    let block_top = cell.y + (cell.height + count * line_height) / 2.0;
    for (i, line) in lines.iter().enumerate() {
        let baseline = block_top - (i as f64 + 1.0) * line_height + 0.25 * size;
        let x = match align {
            Align::Left => cell.x + INSET,
            Align::Centre => cell.x + (cell.width - Font::HelveticaBold.width(line, size)) / 2.0,
        };
        page.text(Font::HelveticaBold, size, x, baseline, line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{codabar, code39};

    #[test]
    fn fourteen_digit_codabar_gets_three_dot_modules_on_avery_5160() {
        let pattern = codabar::encode("31234000456789").expect("encodable");
        assert_eq!(modules_for(&pattern, 2.625 * 72.0 - 2.0 * INSET), Some((3, 9)));
        let pattern = code39::encode("31234000456789", false).expect("encodable");
        assert_eq!(modules_for(&pattern, 2.625 * 72.0 - 2.0 * INSET), Some((2, 6)));
        let long = code39::encode(&"X".repeat(40), false).expect("encodable");
        assert_eq!(modules_for(&long, 2.625 * 72.0 - 2.0 * INSET), None);
    }

    #[test]
    fn long_titles_end_in_an_ellipsis_within_the_width() {
        let title = encode_text("The Very Hungry Caterpillar and Other Stories of Appetite, Metamorphosis and Fruit");
        let cut = fit(Font::Helvetica, 7.0, title.clone(), 100.0);
        assert!(Font::Helvetica.width(&cut, 7.0) <= 100.0);
        assert_eq!(cut.last(), Some(&0x85));
        assert!(title.starts_with(&cut[..cut.len() - 1]));
        assert_eq!(fit(Font::Helvetica, 7.0, b"Short".to_vec(), 100.0), b"Short");
        assert_eq!(fit(Font::Helvetica, 7.0, b"Wide".to_vec(), 1.0), vec![0x85]);
    }
}
