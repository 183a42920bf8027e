//! The reports' output judged by tools we did not write: every chart parses as XML under
//! `xmllint` (libxml2-utils, installed by `scripts/test`), and Python's `csv` module reads every
//! CSV back to exactly the cells written (the interpreter from `SHELFMARK_PYTHON`).

#![allow(clippy::unwrap_used)]

use catalog::Money;
use reports::chart::{self, Labels, Point};
use reports::{Table, Value};
use std::io::Write;
use std::process::{Command, Stdio};

fn python() -> String {
    std::env::var("SHELFMARK_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Nasty text: quotes, commas, line breaks, markup, non-Latin scripts, formula look-alikes.
const AWKWARD: [&str; 8] = [
    "plain",
    "comma, inside",
    "quote \" inside",
    "two\r\nlines",
    "<b>&amp; markup</b> 'single'",
    "Ῥωμαῖοι 東京 Ærø",
    "=HYPERLINK(\"x\")",
    "",
];

fn table() -> Table {
    let mut t = Table::new(&["Label, with comma", "Count", "Money"]);
    for (i, text) in AWKWARD.iter().enumerate() {
        let i = i64::try_from(i).unwrap();
        t.push(vec![
            Value::Text((*text).to_string()),
            Value::Count(i * 7 - 3),
            Value::Money(Money::from_minor(i * 1234 - 99)),
        ]);
    }
    t
}

#[test]
fn python_csv_reads_back_every_cell() {
    let t = table();
    let written = reports::csv::write(&t);
    let script = "import csv, io, json, sys\n\
                  data = sys.stdin.buffer.read().decode('utf-8')\n\
                  rows = list(csv.reader(io.StringIO(data, newline=''), strict=True))\n\
                  print(json.dumps(rows))\n";
    let mut child = Command::new(python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} (set SHELFMARK_PYTHON; scripts/test does): {e}", python()));
    child.stdin.take().unwrap().write_all(written.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python csv failed: {}", String::from_utf8_lossy(&out.stdout));
    let rows: Vec<Vec<String>> = serde_json_lite(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(rows.len(), t.rows.len() + 1);
    assert_eq!(rows[0], t.columns);
    for (read, row) in rows[1..].iter().zip(&t.rows) {
        let expected: Vec<String> = row
            .iter()
            .map(|v| match v {
                Value::Text(s) if s.starts_with('=') => format!("'{s}"),
                other => other.to_string(),
            })
            .collect();
        assert_eq!(read, &expected);
    }
}

/// The JSON Python printed: a list of lists of strings (read without a JSON crate: `reports`
/// has none, and this shape is all there is).
fn serde_json_lite(text: &str) -> Vec<Vec<String>> {
    let out = Command::new(python())
        .args(["-c", "import json,sys\nfor row in json.loads(sys.stdin.read()):\n    print('\\x1e'.join(c.encode('unicode_escape').decode('ascii') for c in row))"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(text.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap().lines().map(|line| line.split('\u{1e}').map(unescape).collect()).collect()
}

/// Undoes Python's `unicode_escape` for what it produces: `\\`, `\r`, `\n`, `\t`, `\xNN`,
/// `\uNNNN`, `\UNNNNNNNN`.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex = |chars: &mut std::str::Chars<'_>, n: usize| {
            let digits: String = chars.take(n).collect();
            char::from_u32(u32::from_str_radix(&digits, 16).unwrap()).unwrap()
        };
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\'') => out.push('\''),
            Some('x') => out.push(hex(&mut chars, 2)),
            Some('u') => out.push(hex(&mut chars, 4)),
            Some('U') => out.push(hex(&mut chars, 8)),
            other => panic!("unexpected escape {other:?} in {s:?}"),
        }
    }
    out
}

#[test]
fn every_chart_is_well_formed_xml_for_xmllint() {
    let labels = Labels {
        title: "Checkouts <&> \"by\" branch",
        description: "Ῥωμαῖοι & 東京",
        category_axis: "Branch <code>",
        value_axis: "Checkouts 'all'",
    };
    let points: Vec<Point> = AWKWARD
        .iter()
        .enumerate()
        .map(|(i, l)| Point {
            label: format!("{l}\u{1}\u{b}"),
            value: i64::try_from(i).unwrap() * 3 - 2,
            shown: format!("<{i}>"),
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let charts = [
        chart::bars(&labels, &points),
        chart::columns(&labels, &points),
        chart::bars(&labels, &[]),
        chart::columns(&labels, &[]),
    ];
    for (i, svg) in charts.iter().enumerate() {
        let path = dir.path().join(format!("chart{i}.svg"));
        std::fs::write(&path, svg).unwrap();
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg(&path)
            .output()
            .unwrap_or_else(|e| panic!("cannot run xmllint (Debian libxml2-utils; scripts/test installs it): {e}"));
        assert!(out.status.success(), "xmllint refused chart {i}: {}\n{svg}", String::from_utf8_lossy(&out.stderr));
    }
}
