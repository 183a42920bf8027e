//! Spine labels: a call number broken into the short lines printed on a book's spine.
//!
//! Each prefix on its own line as written; LC: class letters, class number, the first cutter
//! with its period (`.R87`), every further cutter, date and volume on its own line
//! (`QA / 76.73 / .R87 / K53 / 2018`); Dewey: class number without segmentation marks, then
//! the book mark and the rest (`J / 599.75 / SMI`); local and unparsed call numbers: one line
//! per word. A designator stays with its number (`vol. 2`).

use crate::element::designator;
use crate::{dewey, Body, CallNumber};

pub(crate) fn lines(call_number: &CallNumber) -> Vec<String> {
    let text = call_number.original.as_str();
    let end = call_number.end;
    let mut out: Vec<String> = call_number.prefixes.iter().map(|p| text[p.start..p.end].to_owned()).collect();
    match &call_number.body {
        Body::Empty => {}
        Body::Lc { lc, start } => {
            out.push(lc.class.clone());
            let whole = if lc.whole.is_empty() { "0" } else { &lc.whole };
            if lc.decimal.is_empty() {
                out.push(whole.to_owned());
            } else {
                out.push(format!("{whole}.{}", lc.decimal));
            }
            tail(&text[start + lc.tail_start..end], true, &mut out);
        }
        Body::Dewey { dewey, start } => {
            let number_end = start + dewey.number_len;
            out.push(dewey::label_number(&text[*start..number_end]));
            tail(&text[number_end..end], false, &mut out);
        }
        Body::Local { start, .. } | Body::Unparsed { start, .. } => {
            tail(&text[*start..end], false, &mut out);
        }
    }
    out
}

/// Splits a token before a period that starts a cutter glued to what precedes it
/// (`1967.A4` -> `1967`, `.A4`).
fn split_cutters<'a>(token: &'a str, out: &mut Vec<&'a str>) {
    let b = token.as_bytes();
    let mut from = 0;
    for i in 1..b.len().saturating_sub(1) {
        if b[i] == b'.' && b[i - 1].is_ascii_alphanumeric() && b[i + 1].is_ascii_uppercase() {
            out.push(&token[from..i]);
            from = i;
        }
    }
    out.push(&token[from..]);
}

/// A token without its leading periods, trailing commas, and a trailing period after a digit.
fn clean(token: &str) -> &str {
    let t = token.trim_start_matches('.').trim_end_matches([',', ';']);
    match t.strip_suffix('.') {
        Some(rest) if rest.ends_with(|c: char| c.is_ascii_digit()) || rest.is_empty() => rest,
        _ => t,
    }
}

fn is_designator(token: &str) -> bool {
    let (letters, gap) = match token.strip_suffix('.') {
        Some(letters) => (letters, "."),
        None => (token, ""),
    };
    !letters.is_empty() && letters.chars().all(char::is_alphabetic) && designator(letters, gap, true).is_some()
}

fn tail(text: &str, dot_first_cutter: bool, out: &mut Vec<String>) {
    let mut tokens = Vec::new();
    for token in text.split_whitespace() {
        split_cutters(token, &mut tokens);
    }
    let mut cutter_seen = !dot_first_cutter;
    let mut i = 0;
    while i < tokens.len() {
        let token = clean(tokens[i]);
        i += 1;
        if token.is_empty() {
            continue;
        }
        if is_designator(token) {
            if let Some(next) = tokens.get(i).map(|t| clean(t)) {
                if next.starts_with(|c: char| c.is_ascii_digit()) {
                    out.push(format!("{token} {next}"));
                    i += 1;
                    continue;
                }
            }
        } else if !cutter_seen && token.starts_with(|c: char| c.is_ascii_uppercase()) {
            cutter_seen = true;
            out.push(format!(".{token}"));
            continue;
        }
        out.push(token.to_owned());
    }
}
