//! Sets and identifiers.
//!
//! # Sets
//! Two hierarchies, both derived from the items a record has (a record with no items belongs to
//! no set):
//! - `branch`: records with an item whose **home branch** (the owning branch) is the branch;
//!   `branch:<code>` per branch.
//! - `collection`: records with an item on a **shelving location** (Adult Fiction, Children's,
//!   Reference, ...), `collection:<code>` per location. Shelving locations rather than item types
//!   because they are what a library presents as its collections to the public; item types are
//!   loan categories (book, DVD, laptop) that the metadata's `dc:type` already says.
//!
//! A parent set (`branch`, `collection`) holds every record of its children. A code is used as
//! it is when every character is allowed in a setSpec; other characters (non-ASCII letters a
//! branch code may hold) are written `~` and two hex digits per UTF-8 byte, which `~` itself
//! cannot appear in a code, so the mapping is reversible.
//!
//! Tombstones belong to no set: a record can only be deleted once it has no items left.
//!
//! # Identifiers
//! `oai:<repository-id>:<bib id>`, the `oai-identifier` scheme with `:` as delimiter.

/// A set a harvest can ask for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SetSpec {
    Branches,
    Branch(String),
    Collections,
    Collection(String),
}

impl SetSpec {
    pub fn parse(s: &str) -> Option<SetSpec> {
        match s.split_once(':') {
            None if s == "branch" => Some(SetSpec::Branches),
            None if s == "collection" => Some(SetSpec::Collections),
            Some(("branch", code)) => Some(SetSpec::Branch(decode_code(code)?)),
            Some(("collection", code)) => Some(SetSpec::Collection(decode_code(code)?)),
            _ => None,
        }
    }

    pub fn spec(&self) -> String {
        match self {
            SetSpec::Branches => "branch".to_string(),
            SetSpec::Collections => "collection".to_string(),
            SetSpec::Branch(code) => format!("branch:{}", encode_code(code)),
            SetSpec::Collection(code) => format!("collection:{}", encode_code(code)),
        }
    }

    /// The parent set of a leaf set, `None` for a parent.
    pub fn parent(&self) -> Option<SetSpec> {
        match self {
            SetSpec::Branch(_) => Some(SetSpec::Branches),
            SetSpec::Collection(_) => Some(SetSpec::Collections),
            SetSpec::Branches | SetSpec::Collections => None,
        }
    }
}

fn spec_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '!' | '*' | '\'' | '(' | ')')
}

fn encode_code(code: &str) -> String {
    let mut out = String::new();
    for c in code.chars() {
        if spec_char(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("~{b:02X}"));
            }
        }
    }
    out
}

fn decode_code(s: &str) -> Option<String> {
    let mut bytes = Vec::new();
    let mut rest = s.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'~' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else if spec_char(char::from(b)) {
            bytes.push(b);
            rest = tail;
        } else {
            return None;
        }
    }
    let code = String::from_utf8(bytes).ok()?;
    (!code.is_empty()).then_some(code)
}

/// `oai:<repository-id>:<id>`.
pub fn identifier(repository_id: &str, id: i64) -> String {
    format!("oai:{repository_id}:{id}")
}

/// The record id in an identifier of this repository; `None` for anything else.
pub fn parse_identifier(repository_id: &str, identifier: &str) -> Option<i64> {
    let id = identifier.strip_prefix("oai:")?.strip_prefix(repository_id)?.strip_prefix(':')?;
    // `+5`, `05` and the like would name the same record twice.
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) || (id.len() > 1 && id.starts_with('0')) {
        return None;
    }
    id.parse().ok().filter(|n| *n > 0)
}

/// Whether `s` can be a repository identifier in the `oai-identifier` scheme: a domain name.
pub fn valid_repository_id(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            l.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_specs() {
        for (text, set) in [
            ("branch", SetSpec::Branches),
            ("collection", SetSpec::Collections),
            ("branch:MAIN", SetSpec::Branch("MAIN".into())),
            ("collection:ADULT-FIC_2.x", SetSpec::Collection("ADULT-FIC_2.x".into())),
            ("branch:K~C3~96LN", SetSpec::Branch("KÖLN".into())),
        ] {
            assert_eq!(SetSpec::parse(text), Some(set.clone()), "{text}");
            assert_eq!(set.spec(), text);
        }
        for bad in ["", "branch:", "branches", "item:BK", "branch:A:B", "branch:A B", "branch:~ZZ", "branch:~C3"] {
            assert_eq!(SetSpec::parse(bad), None, "{bad}");
        }
        assert_eq!(SetSpec::Branch("X".into()).parent(), Some(SetSpec::Branches));
        assert_eq!(SetSpec::Collections.parent(), None);
    }

    #[test]
    fn identifiers() {
        assert_eq!(identifier("library.example.org", 42), "oai:library.example.org:42");
        assert_eq!(parse_identifier("library.example.org", "oai:library.example.org:42"), Some(42));
        for bad in [
            "oai:library.example.org:",
            "oai:library.example.org:0",
            "oai:library.example.org:042",
            "oai:library.example.org:+42",
            "oai:library.example.org:4x",
            "oai:other.example.org:42",
            "oai:library.example.org.evil:42",
            "library.example.org:42",
            "oai:library.example.org:99999999999999999999",
        ] {
            assert_eq!(parse_identifier("library.example.org", bad), None, "{bad}");
        }
    }

    #[test]
    fn repository_ids() {
        assert!(valid_repository_id("library.example.org"));
        assert!(valid_repository_id("lib-1.example"));
        for bad in ["library", "1lib.org", "lib..org", "lib.org.", "lib_x.org", ""] {
            assert!(!valid_repository_id(bad), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_code_round_trips(code in "[\\p{L}\\p{N}._-]{1,32}") {
            let set = SetSpec::Branch(code);
            proptest::prop_assert_eq!(SetSpec::parse(&set.spec()), Some(set));
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,40}") {
            let _ = SetSpec::parse(&s);
            let _ = parse_identifier("a.b", &s);
        }
    }
}
