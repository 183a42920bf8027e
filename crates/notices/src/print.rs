//! The printable batch: one HTML document with one notice per printed page, for patrons who
//! have no email address.
//!
//! HTML rather than PDF: the browser at the desk prints it with the fonts the system has, so a
//! patron named Nguyễn Thị or 王芳 prints correctly, which a PDF with only the standard
//! WinAnsi fonts (all our label writer has) could not do without embedding fonts. Page breaks
//! are CSS (`break-after: page`), which every current browser honours when printing.

use chrono::NaiveDate;

/// One printed notice: who it goes to and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintNotice {
    /// The patron's name and card number, printed as the address block's first line.
    pub addressee: String,
    pub subject: String,
    pub body: String,
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The batch for `day`: a complete HTML document, every notice on a page of its own.
pub fn print_batch(library_name: &str, day: NaiveDate, notices: &[PrintNotice]) -> String {
    let title = format!("{} notices for {}", escape(library_name), day.format("%Y-%m-%d"));
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>\n\
         body {{ font-family: serif; font-size: 12pt; margin: 0; }}\n\
         .notice {{ padding: 2cm; break-after: page; page-break-after: always; }}\n\
         .notice:last-child {{ break-after: auto; page-break-after: auto; }}\n\
         .library {{ font-weight: bold; }}\n\
         .addressee {{ margin: 1.5cm 0 1cm; }}\n\
         .body {{ white-space: pre-wrap; }}\n\
         @media screen {{ .notice {{ border-bottom: 1px dashed #999; }} }}\n\
         </style>\n</head>\n<body>\n"
    );
    if notices.is_empty() {
        html.push_str(&format!("<p class=\"empty\">No printed notices for {}.</p>\n", day.format("%Y-%m-%d")));
    }
    for n in notices {
        html.push_str(&format!(
            "<section class=\"notice\">\n<div class=\"library\">{}</div>\n<div class=\"date\">{}</div>\n\
             <div class=\"addressee\">{}</div>\n<h1>{}</h1>\n<div class=\"body\">{}</div>\n</section>\n",
            escape(library_name),
            day.format("%Y-%m-%d"),
            escape(&n.addressee),
            escape(&n.subject),
            escape(&n.body),
        ));
    }
    html.push_str("</body>\n</html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_section_per_notice_each_breaking_the_page_and_text_escaped() {
        let n = |who: &str| PrintNotice {
            addressee: who.into(),
            subject: "Items overdue".into(),
            body: "a < b & c".into(),
        };
        let day = NaiveDate::from_ymd_opt(2026, 3, 19).expect("date");
        let html = print_batch("Riverton <Public> Library", day, &[n("Nguyễn Thị (card 1)"), n("王芳 (card 2)")]);
        assert_eq!(html.matches("<section class=\"notice\">").count(), 2);
        assert!(html.contains("break-after: page"));
        assert!(html.contains("Nguyễn Thị (card 1)") && html.contains("王芳 (card 2)"));
        assert!(html.contains("a &lt; b &amp; c"));
        assert!(html.contains("Riverton &lt;Public&gt; Library"));
        assert!(!html.contains("<Public>"));
        assert!(print_batch("L", day, &[]).contains("No printed notices for 2026-03-19."));
    }
}
