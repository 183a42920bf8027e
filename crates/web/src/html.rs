//! Tiny HTML helpers: escaping, URL query encoding and the page layout every HTML page shares.
//! Every piece of data written into a page goes through [`Esc`]; markup is written by hand.

use std::fmt::{self, Write};

/// Text escaped for HTML element content and quoted attribute values.
pub(crate) struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// Percent-encodes a query-string value (everything but unreserved characters).
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1b1b1b;background:#fff;line-height:1.5}\
header,main,footer{max-width:64rem;margin:0 auto;padding:0 1rem}\
header{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;border-bottom:2px solid #1d4e89}\
.library{font-size:1.4rem;font-weight:700;margin:.6rem 0}.library a{color:#1d4e89;text-decoration:none}\
nav ul{list-style:none;display:flex;gap:1rem;margin:0;padding:0}\
a{color:#1d4e89}a:focus,input:focus,button:focus,select:focus{outline:3px solid #f2a900;outline-offset:2px}\
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}\
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ccc;vertical-align:top}\
th{background:#eef2f7}caption{text-align:left;font-weight:600;padding:.3rem 0}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}\
form{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;margin:1rem 0}label{display:block;font-weight:600}\
input,button,select{font:inherit;padding:.3rem .5rem}button{background:#1d4e89;color:#fff;border:0;border-radius:3px;padding:.4rem 1rem}\
.marc td:first-child,.marc td:nth-child(2){font-family:ui-monospace,monospace;white-space:pre}.marc .sf{color:#8a2c0d;font-weight:700}\
.status-available{color:#0b6b2c}.muted{color:#555}\
.error{color:#8a1c1c;background:#fdeeee;border-left:4px solid #8a1c1c;padding:.5rem}.message{background:#eef7ee;border-left:4px solid #0b6b2c;padding:.5rem}\
.notice{background:#fff6dd;border-left:4px solid #a86b00;padding:.5rem}.overdue{color:#8a1c1c}\
.search-layout{display:flex;flex-wrap:wrap-reverse;gap:1rem 2rem}.facets{flex:1 1 14rem}.result-list{flex:3 1 20rem;min-width:0}\
.facets ul,.pages ul{list-style:none;padding:0;margin:0 0 1rem}.facets h2{font-size:1rem;margin:.8rem 0 .2rem}\
.results{padding-left:1.5rem}.result{margin:.6rem 0}.result .title{font-weight:600;display:block}.result span{margin-right:.6rem}\
.availability.available{color:#0b6b2c}.pages ul{display:flex;gap:1rem}fieldset{border:1px solid #ccc}\
td form{margin:.2rem 0}@media (max-width:40rem){table{display:block;overflow-x:auto}}footer{margin-top:2rem;padding-bottom:2rem;color:#555;font-size:.9rem}";

/// A whole page: `<title>` is "`title` - `library`", `main` is the content of `<main>`.
pub(crate) fn layout(library: &str, title: &str, main: &str) -> String {
    let mut out = String::with_capacity(main.len() + STYLE.len() + 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} - {library}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <a class=\"skip\" href=\"#main\">Skip to main content</a>\n\
         <header>\n<p class=\"library\"><a href=\"/\">{library}</a></p>\n\
         <nav aria-label=\"Main\"><ul><li><a href=\"/\">Home</a></li><li><a href=\"/search\">Search</a></li>\
         <li><a href=\"/records\">Browse the catalog</a></li><li><a href=\"/account\">My account</a></li></ul></nav>\n\
         </header>\n<main id=\"main\">\n{main}</main>\n\
         <footer><p>Shelfmark {version} &middot; <a href=\"/health\">Service status</a> &middot; \
         <a href=\"/api/v1/records\">JSON API</a></p></footer>\n</body>\n</html>\n",
        title = Esc(title),
        library = Esc(library),
        version = env!("CARGO_PKG_VERSION"),
    );
    out
}

/// The style every page shares, for layouts of their own (the staff client's).
pub(crate) fn base_style() -> &'static str {
    STYLE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            Esc("<a href=\"x\">Tom & Jerry's</a>").to_string(),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
        assert_eq!(Esc("plain é").to_string(), "plain é");
        assert_eq!(url_encode("Tom & Jerry/é"), "Tom%20%26%20Jerry%2F%C3%A9");
    }

    #[test]
    fn layout_is_escaped() {
        let page = layout("<Lib>", "A & B", "<p>x</p>");
        assert!(page.contains("<title>A &amp; B - &lt;Lib&gt;</title>"));
        assert!(page.contains("<html lang=\"en\">"));
        assert!(page.contains("<main id=\"main\">"));
    }
}
