//! Tables as CSV after RFC 4180: a header row of the column labels, CRLF after every record, and a
//! field quoted when it holds a comma, a double quote, CR or LF (its quotes doubled). Money keeps
//! its two decimals and no currency sign, so a spreadsheet reads it as a number.
//!
//! A field that starts with `=`, `+`, `-` or `@` is text a spreadsheet would run as a formula
//! (a title or a patron's name can be anything); such text fields get a leading `'`, the
//! usual defence. Numbers and money are written as they are: a negative amount stays a number.

use crate::{Table, Value};

/// The whole table as CSV text.
pub fn write(table: &Table) -> String {
    let mut out = String::new();
    record(&mut out, table.columns.iter().map(|c| field_text(c)));
    for row in &table.rows {
        record(&mut out, row.iter().map(cell));
    }
    out
}

fn record(out: &mut String, fields: impl Iterator<Item = String>) {
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        quote_into(out, &f);
    }
    out.push_str("\r\n");
}

fn cell(value: &Value) -> String {
    match value {
        Value::Text(s) => field_text(s),
        other => other.to_string(),
    }
}

fn field_text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn quote_into(out: &mut String, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use catalog::Money;

    #[test]
    fn quotes_only_what_needs_quoting() {
        let mut t = Table::new(&["Title", "Checkouts", "Fines"]);
        t.push(vec![Value::Text("Plain".into()), Value::Count(3), Value::Money(Money::from_minor(-125))]);
        t.push(vec![
            Value::Text("Cats, dogs and \"birds\"\r\nvol. 2".into()),
            Value::Count(0),
            Value::Money(Money::ZERO),
        ]);
        t.push(vec![Value::Text("=SUM(A1)".into()), Value::Count(-1), Value::Money(Money::from_minor(5))]);
        assert_eq!(
            write(&t),
            "Title,Checkouts,Fines\r\nPlain,3,-1.25\r\n\"Cats, dogs and \"\"birds\"\"\r\nvol. 2\",0,0.00\r\n'=SUM(A1),-1,0.05\r\n"
        );
    }

    #[test]
    fn an_empty_table_is_its_header() {
        assert_eq!(write(&Table::new(&["Day", "Registrations"])), "Day,Registrations\r\n");
    }
}
