//! Collection prefixes (`J`, `REF`, `FIC`, `DVD`, ...): the words before a call number that
//! group the shelves, and the fixed order of those groups.

use std::fmt;

/// The known prefixes in shelf order, each with the spellings that mean it.
///
/// The order follows a walk through a public library: the adult collection first (call
/// numbers without a prefix: nonfiction), then adult fiction and its genres, biography, then
/// the children's collection (easy, juvenile), teen, reference, and the formats and special
/// locations last. A call number's prefixes are compared in turn, so `J` (juvenile
/// nonfiction) comes before `J FIC`, and `J FIC` before `YA`.
///
/// Changing this table changes sort keys: bump [`crate::SORT_KEY_VERSION`] when you do.
const TABLE: &[(&str, &[&str])] = &[
    ("FIC", &["FICTION"]),
    ("MYS", &["MYSTERY"]),
    ("SF", &["SCIFI"]),
    ("WES", &["WESTERN"]),
    ("ROM", &["ROMANCE"]),
    ("GN", &["GRAPHIC"]),
    ("B", &["BIO", "BIOG", "BIOGRAPHY"]),
    ("E", &["EASY", "EZ"]),
    ("J", &["JUV", "JUVENILE"]),
    ("YA", &["TEEN"]),
    ("REF", &["REFERENCE"]),
    ("LP", &["LARGEPRINT"]),
    ("PB", &["PAPERBACK"]),
    ("AUDIO", &["AUD", "AUDIOBOOK"]),
    ("CD", &[]),
    ("DVD", &[]),
    ("BLU-RAY", &["BLURAY"]),
    ("VHS", &["VIDEO"]),
    ("MAP", &["MAPS"]),
    ("KIT", &[]),
    ("PER", &["PERIODICAL", "MAG", "MAGAZINE"]),
    ("OVERSIZE", &["OS", "FOLIO"]),
];

/// A collection prefix, one of a fixed list; see [`Prefix::ALL`] for the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prefix(u8);

impl Prefix {
    /// Every prefix, in shelf order (a call number without a prefix comes before all).
    pub const ALL: [Prefix; TABLE.len()] = {
        let mut all = [Prefix(0); TABLE.len()];
        let mut i = 0;
        while i < TABLE.len() {
            all[i] = Prefix(i as u8);
            i += 1;
        }
        all
    };

    /// Recognises one whitespace-delimited token (any case, a trailing period allowed:
    /// `Ref.`, `juv`).
    pub fn from_token(token: &str) -> Option<Prefix> {
        let token = token.strip_suffix('.').unwrap_or(token);
        if token.is_empty() || token.len() > 12 {
            return None;
        }
        TABLE
            .iter()
            .position(|(name, aliases)| {
                name.eq_ignore_ascii_case(token) || aliases.iter().any(|a| a.eq_ignore_ascii_case(token))
            })
            .and_then(|i| u8::try_from(i).ok())
            .map(Prefix)
    }

    /// The usual spelling (`REF` for `Reference`).
    pub fn name(self) -> &'static str {
        TABLE.get(usize::from(self.0)).map_or("", |(name, _)| name)
    }

    /// Position in the shelf order, 0 first.
    pub(crate) fn rank(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_spellings() {
        for (token, name) in [
            ("J", "J"),
            ("juv", "J"),
            ("Juv.", "J"),
            ("REF", "REF"),
            ("Reference", "REF"),
            ("Fic", "FIC"),
            ("bluray", "BLU-RAY"),
            ("cd", "CD"),
        ] {
            assert_eq!(Prefix::from_token(token).map(Prefix::name), Some(name), "{token}");
        }
        for token in ["", ".", "JAZZ", "QA", "J599", "REFERENCES", "I"] {
            assert_eq!(Prefix::from_token(token), None, "{token}");
        }
    }

    #[test]
    fn order_is_the_table_order() {
        let names: Vec<_> = Prefix::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(names[..4], ["FIC", "MYS", "SF", "WES"]);
        assert!(Prefix::ALL.windows(2).all(|w| w[0] < w[1]));
        assert!(Prefix::from_token("J") < Prefix::from_token("YA"));
    }
}
