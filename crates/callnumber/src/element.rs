//! The parts after a class number (numbers, cutters, words) and how text is cut into them.
//!
//! Every scheme ends in a run of these: `K53 2018`, `KIN 2001 v.2 c.3`, `JAZZ ELL`. They are
//! compared one by one, a missing part before any part ("nothing before something"), and
//! numbers before words before cutters (a date or a volume of a work before a further cutter,
//! which is another work: `A1 1999` < `A1 v.2` < `A1 B2`):
//! - a [`Number`] numerically, then its letter suffix (`1899` < `1899c` < `1900`, `9th` < `10th`);
//! - a [`Cutter`] by its letters, then its digits as a decimal fraction (`.R87` < `.R9`), then its
//!   work mark (`K58` < `K58a` < `K581`);
//! - a word alphabetically, volume designators folded together (`v.`, `vol.`, `Bd.`, `t.` are
//!   one designator, so `v. 3` and `vol. 10` sort by number).

use std::cmp::Ordering;

/// Longest run of digits kept as one number; longer runs are split so that a number's
/// length always fits the sort key's length byte.
const MAX_DIGITS: usize = 64;

/// A number: a date, a volume number, an ordinal (`9th`), with any letters glued to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Number {
    /// ASCII digits without leading zeros (`""` is zero); at most [`MAX_DIGITS`] long.
    pub(crate) digits: String,
    /// Upper-case letters that followed the digits (`1899c` -> `C`, `9th` -> `TH`).
    pub(crate) suffix: String,
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        self.digits
            .len()
            .cmp(&other.digits.len())
            .then_with(|| self.digits.cmp(&other.digits))
            .then_with(|| self.suffix.cmp(&other.suffix))
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A cutter (`R87`, `K53`, `A17a`) or a Dewey book mark (`KIN`, `SMI`, `K58a`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Cutter {
    /// Upper-case letters, at least one.
    pub(crate) letters: String,
    /// ASCII digits, compared as a decimal fraction (string order; `87` < `9`).
    pub(crate) digits: String,
    /// Upper-case work-mark letters after the digits.
    pub(crate) work: String,
}

/// One part of the run after a class number. The variant order is the shelf order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Element {
    Number(Number),
    /// Upper-case letters only.
    Word(String),
    Cutter(Cutter),
}

/// Which scheme's rules decide whether a run of letters is a cutter or a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    /// Letters with digits, and short capitalised or dotted letters, are cutters.
    Lc,
    /// The first run of letters is the book mark; letters with digits are cutters.
    Dewey,
    /// Words and numbers only.
    Loose,
}

/// A maximal run of letters and digits, as [`scan`] found it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Piece<'a> {
    pub(crate) kind: PieceKind<'a>,
    /// The separators (spaces, periods, commas, ...) between the previous piece and this one.
    pub(crate) gap: &'a str,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum PieceKind<'a> {
    /// Digits, then letters (`2018`, `1899c`, `9th`).
    Digits { digits: &'a str, suffix: &'a str },
    /// Letters, then digits, then letters (`R87`, `A17a`, `KIN`, `vol`).
    Letters { letters: &'a str, digits: &'a str, work: &'a str },
}

fn is_letter(c: char) -> bool {
    c.is_alphabetic()
}

/// Length in bytes of the leading run of `text` whose chars satisfy `pred`.
fn run(text: &str, pred: impl Fn(char) -> bool) -> usize {
    text.char_indices().find(|&(_, c)| !pred(c)).map_or(text.len(), |(i, _)| i)
}

/// Letters glued after digits are taken, unless digits follow them (then they start a new
/// piece: `1967A4` is a date and a cutter, `R87K53` two cutters).
fn trailing_letters(text: &str) -> usize {
    let n = run(text, is_letter);
    if text[n..].starts_with(|c: char| c.is_ascii_digit()) {
        0
    } else {
        n
    }
}

/// Cuts `text` into pieces of letters and digits; everything else separates them.
pub(crate) fn scan(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = text;
    loop {
        let gap_len = run(rest, |c| !(c.is_ascii_digit() || is_letter(c)));
        let gap = &rest[..gap_len];
        rest = &rest[gap_len..];
        if rest.is_empty() {
            return pieces;
        }
        let kind;
        if rest.starts_with(|c: char| c.is_ascii_digit()) {
            let d = run(rest, |c| c.is_ascii_digit()).min(MAX_DIGITS);
            let s = if d < MAX_DIGITS { trailing_letters(&rest[d..]) } else { 0 };
            kind = PieceKind::Digits { digits: &rest[..d], suffix: &rest[d..d + s] };
            rest = &rest[d + s..];
        } else {
            let l = run(rest, is_letter);
            let d = run(&rest[l..], |c| c.is_ascii_digit());
            let w = if d > 0 { trailing_letters(&rest[l + d..]) } else { 0 };
            kind = PieceKind::Letters { letters: &rest[..l], digits: &rest[l..l + d], work: &rest[l + d..l + d + w] };
            rest = &rest[l + d + w..];
        }
        pieces.push(Piece { kind, gap });
    }
}

/// Upper-cases letters (ASCII fast path).
pub(crate) fn upper(text: &str) -> String {
    if text.is_ascii() {
        text.to_ascii_uppercase()
    } else {
        text.to_uppercase()
    }
}

pub(crate) fn number(digits: &str, suffix: &str) -> Number {
    Number { digits: digits.trim_start_matches('0').to_owned(), suffix: upper(suffix) }
}

/// Volume, number, part and copy designators, folded to one spelling each so that `v. 3`
/// sorts before `vol. 10`. One before a number is abbreviated (a period follows) or in lower
/// case (`vol 2`), and a single letter needs the period (`c.3`, `v. 2`): capitals are usually
/// a cutter or a book mark (`PZ7.B262 D`, `813.54 NOS 2001`).
pub(crate) fn designator(letters: &str, gap_after: &str, number_follows: bool) -> Option<&'static str> {
    if letters.len() > 10 || !letters.is_ascii() {
        return None;
    }
    let abbreviated = gap_after.starts_with('.') || letters.starts_with(|c: char| c.is_ascii_lowercase());
    let lower = letters.to_ascii_lowercase();
    let with_number = |canon: &'static str| (number_follows && abbreviated).then_some(canon);
    match lower.as_str() {
        "v" | "t" if gap_after.starts_with('.') => with_number("V"),
        "n" if gap_after.starts_with('.') => with_number("NO"),
        "c" if gap_after.starts_with('.') => with_number("C"),
        "vol" | "vols" | "volume" | "volumes" | "bd" | "band" | "tome" | "tom" | "tomo" | "tomus" => with_number("V"),
        "no" | "nos" | "nr" | "num" | "number" | "heft" | "hft" => with_number("NO"),
        "pt" | "pts" | "part" | "parts" | "teil" => with_number("PT"),
        "cop" | "copy" | "ex" => with_number("C"),
        "ser" | "series" => with_number("SER"),
        "box" => with_number("BOX"),
        "fasc" => with_number("FASC"),
        "suppl" | "supp" | "supplement" => Some("SUPPL"),
        "index" => Some("INDEX"),
        _ => None,
    }
}

/// Whether a separator is only periods and spaces (`vol. 2`, `v.2`).
fn period_or_space(gap: &str) -> bool {
    gap.chars().all(|c| c == '.' || c.is_whitespace())
}

/// Whether digits could be a year (`1895`, `2001`), as opposed to the rest of a cutter.
fn plausible_year(digits: &str) -> bool {
    digits.len() == 4 && (digits.starts_with('1') || digits.starts_with("20"))
}

/// A cutter with a space inside (`D805.G3 B 6925 1998`): one capital letter, spaces, and
/// digits that cannot be a year. `Z733.W92 R 1895` stays a cutter `R` and a date.
fn spaced_cutter(piece: &Piece<'_>, next: Option<&Piece<'_>>) -> Option<Cutter> {
    let PieceKind::Letters { letters, digits: "", .. } = piece.kind else {
        return None;
    };
    let next = next?;
    let PieceKind::Digits { digits, suffix: "" } = next.kind else {
        return None;
    };
    let one_capital = letters.len() == 1 && letters.bytes().all(|b| b.is_ascii_uppercase());
    let spaces = !next.gap.is_empty() && next.gap.bytes().all(|b| b == b' ');
    (one_capital && spaces && !plausible_year(digits) && digits.len() <= 5).then(|| Cutter {
        letters: letters.to_owned(),
        digits: digits.to_owned(),
        work: String::new(),
    })
}

/// Turns text into ordered parts by the rules of `flavour`.
pub(crate) fn elements(text: &str, flavour: Flavour) -> Vec<Element> {
    let pieces = scan(text);
    let mut out = Vec::with_capacity(pieces.len() + 1);
    let mut seen_word = false;
    let mut seen_cutter = false;
    let mut seen_number = false;
    let mut skip_next = false;
    for (i, piece) in pieces.iter().enumerate() {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        if flavour == Flavour::Lc {
            if let Some(cutter) = spaced_cutter(piece, pieces.get(i + 1)) {
                out.push(Element::Cutter(cutter));
                seen_cutter = true;
                skip_next = true;
                continue;
            }
        }
        match piece.kind {
            PieceKind::Digits { digits, suffix } => {
                out.push(Element::Number(number(digits, suffix)));
                seen_number = true;
            }
            PieceKind::Letters { letters, digits, work } => {
                let next = pieces.get(i + 1);
                let number_follows = digits.is_empty()
                    && next.is_some_and(|n| matches!(n.kind, PieceKind::Digits { .. }) && period_or_space(n.gap));
                let gap_after = next.map_or("", |n| n.gap);
                let dotted = piece.gap.trim_end().ends_with('.');
                let capital = letters.starts_with(|c: char| c.is_uppercase());
                if digits.is_empty() && !(flavour == Flavour::Lc && dotted && capital) {
                    if let Some(canon) = designator(letters, gap_after, number_follows) {
                        out.push(Element::Word(canon.to_owned()));
                        seen_word = true;
                        continue;
                    }
                }
                let cutter = match flavour {
                    // Title marks count as cutters (`PZ7.B79984 Marf`, `PZ3.S918 Lo`).
                    Flavour::Lc => !digits.is_empty() || (capital && (dotted || !seen_word)),
                    Flavour::Dewey => !digits.is_empty() || !(seen_cutter || seen_word || seen_number),
                    Flavour::Loose => false,
                };
                if cutter {
                    out.push(Element::Cutter(Cutter {
                        letters: upper(letters),
                        digits: digits.to_owned(),
                        work: upper(work),
                    }));
                    seen_cutter = true;
                } else {
                    out.push(Element::Word(upper(letters)));
                    seen_word = true;
                    if !digits.is_empty() {
                        out.push(Element::Number(number(digits, work)));
                        seen_number = true;
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders parts compactly: `#2018`, `#1899C`, `R.87`, `K.58.A`, `'V`.
    fn show(elements: &[Element]) -> String {
        elements
            .iter()
            .map(|e| match e {
                Element::Number(n) => format!("#{}{}", n.digits, n.suffix),
                Element::Cutter(c) if c.work.is_empty() => format!("{}.{}", c.letters, c.digits),
                Element::Cutter(c) => format!("{}.{}.{}", c.letters, c.digits, c.work),
                Element::Word(w) => format!("'{w}"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn check(flavour: Flavour, input: &str, expected: &str) {
        assert_eq!(show(&elements(input, flavour)), expected, "input {input:?}");
    }

    #[test]
    fn lc_tails() {
        let lc = Flavour::Lc;
        check(lc, ".R87 K53 2018", "R.87 K.53 #2018");
        check(lc, " .A1 1899c", "A.1 #1899C");
        check(lc, " 9th .M33 2000", "#9TH M.33 #2000");
        check(lc, ".S91 Roj", "S.91 ROJ.");
        check(lc, ".B262 D", "B.262 D.");
        check(lc, " .W28a z.125", "W.28.A 'Z #125");
        check(lc, ".T844A G vol. 12", "T.844.A G. 'V #12");
        check(lc, " .P35 2000 vol. 2", "P.35 #2000 'V #2");
        check(lc, " .L5 vol. 213, 214", "L.5 'V #213 #214");
        check(lc, " .A4 t. 228", "A.4 'V #228");
        check(lc, " .C", "C.");
        check(lc, " .C. 1999", "C. #1999");
        check(lc, " .V9 2000c, no. 94", "V.9 #2000C 'NO #94");
        check(lc, " .B73 Price list", "B.73 PRICE. 'LIST");
        check(lc, ".B79984 Marf 2000", "B.79984 MARF. #2000");
        check(lc, ".V3 C37 1998 Index", "V.3 C.37 #1998 'INDEX");
        check(lc, " 1967.A4 C66 1998", "#1967 A.4 C.66 #1998");
        check(lc, " .A3vol. 22", "A.3.VOL #22");
        check(lc, ".R87K53", "R.87 K.53");
        check(lc, " .A82 1937 F55 1999", "A.82 #1937 F.55 #1999");
        check(lc, " .N18 no. 1998-206861", "N.18 'NO #1998 #206861");
        check(lc, " .F75 Suppl.", "F.75 'SUPPL");
        check(lc, ".G3 B 6925 1998", "G.3 B.6925 #1998");
        check(lc, ".W92 R 1895", "W.92 R. #1895");
        check(lc, "", "");
        check(lc, " . ,;()", "");
    }

    #[test]
    fn dewey_tails() {
        let dewey = Flavour::Dewey;
        check(dewey, " KIN 2001 v.2 c.3", "KIN. #2001 'V #2 'C #3");
        check(dewey, " SMI", "SMI.");
        check(dewey, " K58a", "K.58.A");
        check(dewey, " Kin", "KIN.");
        check(dewey, " s", "S.");
        check(dewey, " KIN FRE", "KIN. 'FRE");
        check(dewey, " v.2", "'V #2");
        check(dewey, " 2001 KIN", "#2001 'KIN");
        check(dewey, " NOS 2001", "NOS. #2001");
        check(dewey, " VOL 2", "VOL. #2");
        check(dewey, " KIN Vol. 2 No 3", "KIN. 'V #2 'NO #3");
    }

    #[test]
    fn loose_parts() {
        let loose = Flavour::Loose;
        check(loose, "JAZZ ELL", "'JAZZ 'ELL");
        check(loose, "9468 DT", "#9468 'DT");
        check(loose, "Box no. 1798 vol. 19", "'BOX 'NO #1798 'V #19");
        check(loose, "ELL2", "'ELL #2");
        check(loose, "Éluard ß", "'ÉLUARD 'SS");
    }

    #[test]
    fn long_digit_runs_are_split() {
        let digits = "1".repeat(MAX_DIGITS + 3);
        let parts = elements(&digits, Flavour::Loose);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| matches!(p, Element::Number(n) if n.digits.len() <= MAX_DIGITS)));
    }

    #[test]
    fn numbers_compare_numerically_then_by_suffix() {
        let n = |d: &str, s: &str| number(d, s);
        assert!(n("9", "th") < n("10", "th"));
        assert!(n("1899", "") < n("1899", "c"));
        assert!(n("1899", "c") < n("1900", ""));
        assert_eq!(n("007", "").cmp(&n("7", "")), Ordering::Equal);
        assert!(n("0", "") < n("1", ""));
    }
}
