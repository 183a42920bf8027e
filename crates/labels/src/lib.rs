//! Spine labels and item barcode labels, laid out on label sheets and written as PDF.
//!
//! A library prints labels in runs: the items just catalogued, on a sheet of labels that may
//! already have a few peeled off. [`render_barcode_labels`] and [`render_spine_labels`] take the
//! items, the [`Sheet`] (a [`SheetLayout`] and the offset of the first free position) and
//! return the PDF's bytes; the caller (command line, API, staff client) writes or sends them.
//!
//! - **Spine labels** print the call number broken into lines by its scheme's convention
//!   (`QA / 76.73 / .R87 / K53 / 2018`, `J / 599.75 / SMI`). The breaking is
//!   [`callnumber::CallNumber::spine_label`]'s; this crate only sets the lines in type.
//! - **Barcode labels** print the item barcode as [`Symbology::Codabar`] (`A`...`B`, the usual
//!   form of 14-digit library barcodes) or [`Symbology::Code39`], with the barcode in
//!   human-readable text, the library's name and the title cut to fit.
//!
//! **Fallback.** A library moving from old alphanumeric barcodes to 14-digit Codabar has both
//! on its shelves, and a run asked for in Codabar must still print the old ones. So when
//! Codabar cannot encode a barcode (letters, spaces) the label is printed in Code 39 if Code 39
//! can encode it; scanners tell the two apart on their own. A barcode neither can encode (lower
//! case, accents) fails the whole run with [`LabelError::Barcode`] naming the item, its barcode
//! and the offending character, before any label is wasted. [`symbology_for`] tells a caller in
//! advance which symbology an item will get, to warn staff.
//!
//! Pure: no I/O. Barcodes are drawn as filled rectangles whose edges sit on a 300 dpi grid, with
//! quiet zones inside the label, so 300 dpi printing (and `pdftoppm -r 300` with `zbarimg`, as
//! the tests do) reads every one.

pub mod codabar;
pub mod code39;
mod layout;
mod metrics;
mod pdf;
mod render;
mod symbol;

pub use layout::{Rect, Sheet, SheetLayout, Slot, INCH, MM};
pub use render::Align;
pub use symbol::{BarcodeError, Element, Pattern, Symbology};

use callnumber::CallNumber;
/// The call-number scheme spine labels are broken by, re-exported so callers need not depend
/// on `callnumber` to choose it.
pub use callnumber::Scheme;

/// Why a sheet of labels could not be made. Nothing is printed when any label fails: half a
/// sheet of labels is harder to recover from than an error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LabelError {
    /// No items were given.
    #[error("no labels to print")]
    NoLabels,
    /// A custom layout that cannot be printed.
    #[error("invalid label sheet layout: {0}")]
    InvalidLayout(&'static str),
    /// The offset is at or past the last position of the sheet.
    #[error("offset {offset} leaves no free label on a sheet of {per_sheet}")]
    OffsetPastSheet {
        /// Positions said to be used.
        offset: usize,
        /// Positions on the sheet.
        per_sheet: usize,
    },
    /// An item's barcode that neither the chosen symbology nor the fallback can encode.
    #[error("item {index} (barcode {barcode:?}): {source}")]
    Barcode {
        /// The item's index in the list given, from 0.
        index: usize,
        /// The item's barcode.
        barcode: String,
        /// What the symbology refused.
        source: BarcodeError,
    },
    /// An item's barcode too long to fit the label at the narrowest bars a 300 dpi printer
    /// prints reliably.
    #[error("item {index} (barcode {barcode:?}) needs {needed:.0} pt of label width with quiet zones; the label has {available:.0} pt")]
    BarcodeTooWide {
        /// The item's index in the list given, from 0.
        index: usize,
        /// The item's barcode.
        barcode: String,
        /// Width the symbol needs, in points.
        needed: f64,
        /// Width the label offers, in points.
        available: f64,
    },
    /// The layout's labels are too small for a barcode with its text.
    #[error("labels of {width:.0} x {height:.0} pt are too small for a barcode label")]
    LabelTooSmall {
        /// Label width, in points.
        width: f64,
        /// Label height, in points.
        height: f64,
    },
    /// An item with no call number to put on a spine.
    #[error("item {index} (barcode {barcode:?}) has no call number for its spine label")]
    NoCallNumber {
        /// The item's index in the list given, from 0.
        index: usize,
        /// The item's barcode.
        barcode: String,
    },
}

/// One item to label: what a caller has at hand from the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemLabel {
    /// The item barcode, as stored and as the scanner must read it back.
    pub barcode: String,
    /// The owning library's name, printed small on barcode labels.
    pub library_name: String,
    /// The title, cut to fit on barcode labels.
    pub title: String,
    /// The call number as written (`QA76.73.R87 K53 2018`, `J 599.75 SMI`), for spine labels.
    pub call_number: String,
}

impl ItemLabel {
    /// An item of `library_name` with its barcode, call number and title.
    pub fn new(
        library_name: impl Into<String>,
        barcode: impl Into<String>,
        call_number: impl Into<String>,
        title: impl Into<String>,
    ) -> ItemLabel {
        ItemLabel {
            barcode: barcode.into(),
            library_name: library_name.into(),
            title: title.into(),
            call_number: call_number.into(),
        }
    }
}

/// Encodes `barcode` in `symbology`.
pub fn encode(barcode: &str, symbology: Symbology) -> Result<Pattern, BarcodeError> {
    match symbology {
        Symbology::Codabar => codabar::encode(barcode),
        Symbology::Code39 { check_character } => code39::encode(barcode, check_character),
    }
}

/// The symbology `barcode` will be printed in when `preferred` is asked for: `preferred` when
/// it can encode the barcode, Code 39 (without check character) when Codabar was preferred and
/// cannot, otherwise `preferred`'s refusal.
pub fn symbology_for(barcode: &str, preferred: Symbology) -> Result<Symbology, BarcodeError> {
    match encode(barcode, preferred) {
        Ok(_) => Ok(preferred),
        Err(refusal) => {
            let fallback = Symbology::Code39 { check_character: false };
            if preferred == Symbology::Codabar && encode(barcode, fallback).is_ok() {
                Ok(fallback)
            } else {
                Err(refusal)
            }
        }
    }
}

fn encode_with_fallback(barcode: &str, preferred: Symbology) -> Result<(Pattern, Symbology), BarcodeError> {
    let symbology = symbology_for(barcode, preferred)?;
    Ok((encode(barcode, symbology)?, symbology))
}

fn start(items: &[ItemLabel], sheet: &Sheet) -> Result<Vec<pdf::Page>, LabelError> {
    if items.is_empty() {
        return Err(LabelError::NoLabels);
    }
    sheet.validate()?;
    Ok((0..sheet.pages(items.len())).map(|_| pdf::Page::default()).collect())
}

/// A PDF of item barcode labels, one per item in the order given, from `sheet.offset` on.
/// Codabar falls back to Code 39 per item (see the crate documentation).
pub fn render_barcode_labels(items: &[ItemLabel], sheet: &Sheet, symbology: Symbology) -> Result<Vec<u8>, LabelError> {
    let mut pages = start(items, sheet)?;
    for (index, item) in items.iter().enumerate() {
        let (pattern, used) = encode_with_fallback(&item.barcode, symbology).map_err(|source| LabelError::Barcode {
            index,
            barcode: item.barcode.clone(),
            source,
        })?;
        let human_readable = match used {
            Symbology::Codabar => codabar::data(&item.barcode),
            Symbology::Code39 { .. } => &item.barcode,
        };
        let slot = sheet.slot(index);
        let cell = sheet.layout.label_rect(slot.row, slot.column);
        let label = render::BarcodeLabel {
            pattern: &pattern,
            human_readable,
            library_name: &item.library_name,
            title: &item.title,
        };
        let Some(page) = pages.get_mut(slot.page) else { continue };
        render::barcode_label(page, cell, &label).map_err(|e| match e {
            render::DrawError::TooSmall => LabelError::LabelTooSmall { width: cell.width, height: cell.height },
            render::DrawError::TooWide { needed, available } => {
                LabelError::BarcodeTooWide { index, barcode: item.barcode.clone(), needed, available }
            }
        })?;
    }
    Ok(pdf::document(&pages, sheet.layout.page_width, sheet.layout.page_height))
}

/// The spine-label lines of `call_number` read as `scheme`: [`CallNumber::spine_label`].
pub fn spine_lines(call_number: &str, scheme: Scheme) -> Vec<String> {
    CallNumber::parse(call_number, scheme).spine_label()
}

/// A PDF of spine labels, one per item in the order given, from `sheet.offset` on, each call
/// number read as `scheme` ([`Scheme::Auto`] for a mixed collection). An item without a call
/// number fails the run rather than leaving a blank label that shifts every later one.
pub fn render_spine_labels(
    items: &[ItemLabel],
    sheet: &Sheet,
    scheme: Scheme,
    align: Align,
) -> Result<Vec<u8>, LabelError> {
    let mut pages = start(items, sheet)?;
    for (index, item) in items.iter().enumerate() {
        let lines = spine_lines(&item.call_number, scheme);
        if lines.iter().all(|l| l.trim().is_empty()) {
            return Err(LabelError::NoCallNumber { index, barcode: item.barcode.clone() });
        }
        let slot = sheet.slot(index);
        let cell = sheet.layout.label_rect(slot.row, slot.column);
        if let Some(page) = pages.get_mut(slot.page) {
            render::spine_label(page, cell, &lines, align);
        }
    }
    Ok(pdf::document(&pages, sheet.layout.page_width, sheet.layout.page_height))
}

#[cfg(test)]
mod tests;
