//! What Code 39 and Codabar have in common: a symbol is a run of bars and spaces, each either
//! narrow or wide, and characters are separated by a narrow space (the inter-character gap).
//! Keeping the symbol as narrow/wide elements, not as dots, lets the label pick the widths that
//! fit the label and the printer's dot grid.

use std::fmt;

/// The two symbologies libraries print on item barcode labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Symbology {
    /// Codabar with `A` start and `B` stop, the usual form of 14-digit library barcodes.
    Codabar,
    /// Code 39; `check_character` appends the modulo-43 check character, which some scanners
    /// are set to require and strip.
    Code39 {
        /// Whether to append the modulo-43 check character.
        check_character: bool,
    },
}

impl fmt::Display for Symbology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Symbology::Codabar => "Codabar",
            Symbology::Code39 { .. } => "Code 39",
        })
    }
}

/// Why a barcode cannot be drawn in a symbology.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarcodeError {
    /// A character the symbology has no pattern for (or one it reserves, such as Code 39's `*`).
    /// `position` counts characters from 1, as staff would count them on the label.
    #[error("{symbology} cannot encode {character:?} (character {position})")]
    Unencodable {
        /// The symbology that refused.
        symbology: Symbology,
        /// The character.
        character: char,
        /// Its position in the barcode, counting characters from 1.
        position: usize,
    },
    /// Nothing to encode: a symbol of start and stop characters alone identifies no item.
    #[error("empty barcode")]
    Empty,
}

/// One bar or space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element {
    /// Bar (printed) or space.
    pub bar: bool,
    /// Wide or narrow.
    pub wide: bool,
}

/// An encoded symbol: its elements from left to right, beginning and ending with a bar,
/// inter-character gaps included; quiet zones are the label's business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    elements: Vec<Element>,
}

impl Pattern {
    /// Builds a symbol from per-character patterns of bar/space widths (bit set = wide, most
    /// significant of `len` bits first, starting with a bar), joined by narrow gaps.
    pub(crate) fn from_characters(codes: impl IntoIterator<Item = u16>, len: u32) -> Pattern {
        let mut elements = Vec::new();
        for (i, code) in codes.into_iter().enumerate() {
            if i > 0 {
                elements.push(Element { bar: false, wide: false });
            }
            let mut bar = true;
            for bit in (0..len).rev() {
                elements.push(Element { bar, wide: code >> bit & 1 == 1 });
                bar = !bar;
            }
        }
        Pattern { elements }
    }

    /// The elements, left to right.
    pub fn elements(&self) -> &[Element] {
        &self.elements
    }

    /// Width in dots when a narrow element is `narrow` dots and a wide one `wide` dots.
    pub fn width(&self, narrow: u32, wide: u32) -> u32 {
        self.elements.iter().map(|e| if e.wide { wide } else { narrow }).sum()
    }

    /// The bars as (start, width) in dots from the symbol's left edge.
    pub fn bars(&self, narrow: u32, wide: u32) -> Vec<(u32, u32)> {
        let mut x = 0;
        let mut bars = Vec::new();
        for e in &self.elements {
            let w = if e.wide { wide } else { narrow };
            if e.bar {
                bars.push((x, w));
            }
            x += w;
        }
        bars
    }

    /// The symbol written as `n`/`w` per element, gaps included: the form the published
    /// tables use, and what the tests compare against.
    pub fn to_nw(&self) -> String {
        self.elements.iter().map(|e| if e.wide { 'w' } else { 'n' }).collect()
    }
}
