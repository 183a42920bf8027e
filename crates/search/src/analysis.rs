//! How text becomes index terms: one analyzer, used for the documents and for the queries, so
//! that whatever a patron types is cut, folded and stemmed exactly as the catalog was.
//!
//! - **Words** are runs of letters and digits; an apostrophe inside a word joins (`O'Brien` is
//!   `obrien`, and the ALA-LC soft sign in `Solʹt͡sev` disappears the same way).
//! - **Han, kana and Hangul** carry no spaces, so a run of them is indexed as overlapping
//!   bigrams (`中国历史` is `中国 国历 历史`; a lone character is itself). A phrase of bigrams
//!   matches the run wherever it stands, which is what CJK catalogs do without a dictionary.
//! - **Folding**: lower case, Latin/Greek/Cyrillic diacritics dropped (`Brontë` is `bronte`),
//!   ligatures and letters without a decomposition spelled out (`ß` is `ss`, `ø` is `o`), Hebrew
//!   points and Arabic short vowels dropped (catalogers supply them, patrons do not).
//! - **Stemming** is deliberately light: plural and possessive endings only, so `apples` meets
//!   `apple` but never `Appling` (the Porter stemmer's famous complaint in Evergreen).
//! - **No stop words are dropped**: "The The" and "It" are real titles. BM25's inverse document
//!   frequency already weighs `the` next to nothing.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// The name the analyzer is registered under in the index.
pub const CATALOG_ANALYZER: &str = "shelfmark_catalog";

/// The name the pair analyzer ([`analyze_pairs`]) is registered under.
pub const PAIRS_ANALYZER: &str = "shelfmark_pairs";

/// One term of analyzed text with its place: `position` counts terms (for phrases), the offsets
/// are bytes into the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub text: String,
    pub position: usize,
    pub offset_from: usize,
    pub offset_to: usize,
}

/// Analyzes `text` into terms, as the index and the query parser both see it.
pub fn analyze(text: &str) -> Vec<Term> {
    analyze_with(text, Mode::Query, true)
}

/// Analyzes a document's text: as [`analyze`], plus the joined form of words with apostrophes.
pub fn analyze_document(text: &str) -> Vec<Term> {
    analyze_with(text, Mode::Index, true)
}

/// Each two neighbouring terms of a document's text as one term, `first second`, at the first's
/// position: what a two-word phrase is searched by. One term's postings answer it, where a
/// phrase query reads the positions of both words in every record that has both (`"united
/// states"` in a quarter of the catalog). Where an apostrophe word stands beside its joined form
/// (`l`, `espace`/`lespace`), each of them pairs with its neighbours. Pairs never span two values
/// of a field: each value is analyzed alone.
pub fn analyze_pairs(text: &str) -> Vec<Term> {
    let terms = analyze_document(text);
    let mut pairs = Vec::new();
    // Positions never fall along the list: the joined form follows its last part, at its place.
    for (at, first) in terms.iter().enumerate() {
        let next = terms[at + 1..].iter().take_while(|t| t.position <= first.position + 1);
        for second in next.filter(|t| t.position == first.position + 1) {
            pairs.push(Term {
                text: format!("{} {}", first.text, second.text),
                position: first.position,
                offset_from: first.offset_from,
                offset_to: second.offset_to,
            });
        }
    }
    pairs
}

/// The pair term a query of exactly two neighbouring terms is searched by (see
/// [`analyze_pairs`]).
pub fn query_pair(terms: &[Term]) -> Option<String> {
    match terms {
        [first, second] if second.position == first.position + 1 => Some(format!("{} {}", first.text, second.text)),
        _ => None,
    }
}

/// The folded words of `text`, unstemmed, joined by single spaces: the form titles and authors
/// sort by (`Brontë, Charlotte` sorts as `bronte charlotte`).
pub fn sort_form(text: &str) -> String {
    analyze_with(text, Mode::Query, false).into_iter().map(|t| t.text).collect::<Vec<_>>().join(" ")
}

fn analyze_with(text: &str, mode: Mode, stemming: bool) -> Vec<Term> {
    let mut terms = Vec::new();
    let mut word = String::new();
    let mut word_start = 0;
    let mut cjk: Vec<(usize, char)> = Vec::new();
    let mut position = 0;

    for (offset, c) in text.char_indices() {
        if is_cjk(c) {
            flush_word(&mut word, word_start, mode, stemming, &mut position, &mut terms);
            cjk.push((offset, c));
        } else if c.is_alphanumeric()
            || (is_joiner(c) && !word.is_empty())
            || (is_combining_mark(c) && !word.is_empty())
        {
            flush_cjk(&mut cjk, offset, &mut position, &mut terms);
            if word.is_empty() {
                word_start = offset;
            }
            word.push(c);
        } else {
            flush_word(&mut word, word_start, mode, stemming, &mut position, &mut terms);
            flush_cjk(&mut cjk, offset, &mut position, &mut terms);
        }
    }
    flush_word(&mut word, word_start, mode, stemming, &mut position, &mut terms);
    flush_cjk(&mut cjk, text.len(), &mut position, &mut terms);
    terms
}

/// The analyzed words of `text` joined by single spaces: the form exact-title and starts-with
/// matching compare.
pub fn normalize(text: &str) -> String {
    analyze(text).into_iter().map(|t| t.text).collect::<Vec<_>>().join(" ")
}

/// How analysis treats words with apostrophes inside (`l'espace`, `O'Brien`, `ch'imnyak`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Documents: the parts (`l`, `espace`) and, at the last part's position, the joined word
    /// (`lespace`), so that `espace`, `l'espace` and `obrien` all find their record.
    Index,
    /// Queries and normalised forms: the parts only (a phrase of them matches the document's).
    Query,
}

fn flush_word(
    word: &mut String,
    start: usize,
    mode: Mode,
    stemming: bool,
    position: &mut usize,
    terms: &mut Vec<Term>,
) {
    if word.is_empty() {
        return;
    }
    let term = |text: &str| if stemming { stem(&fold(text)) } else { fold(text) };
    let core = strip_possessive(word);
    let mut parts: Vec<(usize, &str)> = Vec::new();
    let mut part_start = 0;
    for (i, c) in core.char_indices() {
        if is_joiner(c) {
            if i > part_start {
                parts.push((part_start, &core[part_start..i]));
            }
            part_start = i + c.len_utf8();
        }
    }
    if part_start < core.len() {
        parts.push((part_start, &core[part_start..]));
    }
    if parts.len() > 1 {
        let mut last = None;
        for (offset, part) in &parts {
            let text = term(part);
            if !text.is_empty() {
                let (from, to) = (start + offset, start + offset + part.len());
                terms.push(Term { text, position: *position, offset_from: from, offset_to: to });
                last = Some(*position);
                *position += 1;
            }
        }
        let joined = term(core);
        if let (Mode::Index, Some(at)) = (mode, last) {
            if !joined.is_empty() {
                terms.push(Term { text: joined, position: at, offset_from: start, offset_to: start + core.len() });
            }
        }
    } else {
        let text = term(core);
        if !text.is_empty() {
            terms.push(Term { text, position: *position, offset_from: start, offset_to: start + core.len() });
            *position += 1;
        }
    }
    word.clear();
}

/// A trailing apostrophe-s is the possessive (`Dickens's`, `children's`), and a trailing
/// apostrophe alone (`cats'`) ends the word.
fn strip_possessive(word: &str) -> &str {
    let mut core = word.trim_end_matches(is_joiner);
    if let Some(rest) = core.strip_suffix(['s', 'S']) {
        if rest.ends_with(is_joiner) && rest.trim_end_matches(is_joiner).chars().count() >= 1 {
            core = rest.trim_end_matches(is_joiner);
        }
    }
    core
}

fn flush_cjk(run: &mut Vec<(usize, char)>, end: usize, position: &mut usize, terms: &mut Vec<Term>) {
    if run.is_empty() {
        return;
    }
    let end_of = |i: usize| run.get(i + 1).map(|(o, _)| *o).unwrap_or(end);
    if run.len() == 1 {
        let (offset, c) = run[0];
        terms.push(Term { text: c.to_string(), position: *position, offset_from: offset, offset_to: end });
        *position += 1;
    } else {
        for i in 0..run.len() - 1 {
            let mut text = String::with_capacity(8);
            text.push(run[i].1);
            text.push(run[i + 1].1);
            terms.push(Term { text, position: *position, offset_from: run[i].0, offset_to: end_of(i + 1) });
            *position += 1;
        }
    }
    run.clear();
}

/// Characters that join the two halves of a word instead of splitting it: apostrophes and the
/// ALA-LC romanisation's soft and hard signs (ʹ ʺ) and ayn/alif (ʻ ʼ).
fn is_joiner(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}' | '\u{02BB}' | '\u{02B9}' | '\u{02BA}' | '\u{02BE}' | '\u{02BF}')
}

/// Scripts written without spaces between words, indexed as bigrams.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F  // Extensions B-F, compatibility supplement
    )
}

/// Lower case without diacritics, as described in the module documentation.
fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        fold_char(c, &mut out);
    }
    out
}

fn fold_char(c: char, out: &mut String) {
    if c.is_ascii() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        }
        return;
    }
    if is_joiner(c) {
        return;
    }
    match c {
        'ß' => out.push_str("ss"),
        'æ' | 'Æ' => out.push_str("ae"),
        'œ' | 'Œ' => out.push_str("oe"),
        'ø' | 'Ø' => out.push('o'),
        'đ' | 'Đ' | 'ð' | 'Ð' => out.push('d'),
        'ł' | 'Ł' => out.push('l'),
        'þ' | 'Þ' => out.push_str("th"),
        'ı' => out.push('i'),
        // Final sigma is a spelling of sigma; upper case folds to the medial form.
        'ς' => out.push('σ'),
        'ŀ' | 'Ŀ' => out.push('l'),
        'ħ' | 'Ħ' => out.push('h'),
        // Hebrew points and cantillation, Arabic short vowels and tatweel: optional in writing.
        '\u{0591}'..='\u{05C7}' | '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' => {}
        _ if is_combining_mark(c) => {
            // Marks on Latin, Greek and Cyrillic letters are diacritics; on other scripts (Indic
            // vowel signs) they are letters and stay.
            if out.chars().last().is_none_or(|p| (p as u32) >= 0x0530) {
                out.push(c);
            }
        }
        _ if decomposes_to_base(c) => {
            decompose_compatible(c, |d| {
                if !is_combining_mark(d) {
                    for l in d.to_lowercase() {
                        if l.is_ascii() {
                            if l.is_ascii_alphanumeric() {
                                out.push(l);
                            }
                        } else {
                            out.push(l);
                        }
                    }
                }
            });
        }
        _ => out.extend(c.to_lowercase()),
    }
}

/// Latin (with Extended Additional), Greek, Cyrillic, ligatures and full-width forms: letters
/// whose compatibility decomposition is a base letter plus marks we drop.
fn decomposes_to_base(c: char) -> bool {
    matches!(c as u32, 0x00C0..=0x052F | 0x1E00..=0x1FFF | 0xFB00..=0xFB06 | 0xFF00..=0xFFEF | 0x2160..=0x217F)
}

/// Words whose final `s` is not a plural, and which a plural rule would turn into another word
/// (`news` is not `new`, `does` is not `doe`).
const NOT_PLURALS: &[&str] = &[
    "news",
    "does",
    "goes",
    "series",
    "species",
    "means",
    "lens",
    "bus",
    "gas",
    "chaos",
    "canvas",
    "atlas",
    "jeans",
    "always",
    "perhaps",
    "thus",
    "this",
    "his",
    "hers",
    "its",
    "yes",
    "was",
    "has",
    "is",
    "as",
    "us",
    "texas",
    "paris",
    "athens",
    "christmas",
    "james",
    "charles",
    "jones",
    "dickens",
    "williams",
    "adams",
    "hughes",
    "davis",
    "lewis",
    "moses",
    "jesus",
    "mars",
    "venus",
    "aries",
    "lies",
    "dies",
    "ties",
    "pies",
    "odds",
    "arms",
    "wales",
    "indies",
    "physics",
    "mathematics",
    "economics",
    "politics",
    "ethics",
    "statistics",
    "linguistics",
    "genetics",
];

/// Strips plural endings conservatively (a Harman-style "S" stemmer with exceptions). Only
/// words of plain ASCII letters and at least four letters are touched; words the exceptions list
/// names, and endings that are not plurals (`-ss`, `-us`, `-is`), are left alone.
pub fn stem(word: &str) -> String {
    let len = word.len();
    if len < 4 || !word.bytes().all(|b| b.is_ascii_lowercase()) || NOT_PLURALS.contains(&word) {
        return word.to_string();
    }
    if let Some(base) = word.strip_suffix("ies") {
        // libraries -> library, but not "eies"/"aies" words.
        if len > 4 && !base.ends_with('e') && !base.ends_with('a') {
            return format!("{base}y");
        }
        return word.to_string();
    }
    if let Some(base) = word.strip_suffix("es") {
        // classes -> class, boxes -> box, churches -> church, wishes -> wish, buzzes -> buzz;
        // other -es words lose the s only (houses -> house, apples -> apple).
        if base.ends_with("ss")
            || base.ends_with('x')
            || base.ends_with("ch")
            || base.ends_with("sh")
            || base.ends_with("zz")
        {
            return base.to_string();
        }
        if base.ends_with('a') || base.ends_with('e') || base.ends_with('o') {
            return word.to_string();
        }
        return word[..len - 1].to_string();
    }
    if word.ends_with("ss") || word.ends_with("us") || word.ends_with("is") || word.ends_with("ics") {
        return word.to_string();
    }
    if let Some(base) = word.strip_suffix('s') {
        return base.to_string();
    }
    word.to_string()
}

/// The analyzer as a tantivy tokenizer: [`analyze_document`] (or, for the pair fields,
/// [`analyze_pairs`]) behind tantivy's streaming interface.
#[derive(Clone, Default)]
pub struct CatalogTokenizer {
    pairs: bool,
    terms: Vec<Term>,
    token: Token,
}

impl CatalogTokenizer {
    /// The tokenizer of the pair fields.
    pub fn pairs() -> CatalogTokenizer {
        CatalogTokenizer { pairs: true, ..CatalogTokenizer::default() }
    }
}

pub struct CatalogTokenStream<'a> {
    terms: std::vec::IntoIter<Term>,
    token: &'a mut Token,
}

impl Tokenizer for CatalogTokenizer {
    type TokenStream<'a> = CatalogTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CatalogTokenStream<'a> {
        self.terms = if self.pairs { analyze_pairs(text) } else { analyze_document(text) };
        self.token.reset();
        CatalogTokenStream { terms: std::mem::take(&mut self.terms).into_iter(), token: &mut self.token }
    }
}

impl TokenStream for CatalogTokenStream<'_> {
    fn advance(&mut self) -> bool {
        match self.terms.next() {
            Some(term) => {
                self.token.text = term.text;
                self.token.position = term.position;
                self.token.offset_from = term.offset_from;
                self.token.offset_to = term.offset_to;
                self.token.position_length = 1;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// An ISBN as the index keeps it: ISBN-13 digits when it parses (so ISBN-10 and ISBN-13, with
/// or without hyphens, meet), else its digits and X as written.
pub fn isbn_key(text: &str) -> Option<String> {
    if let Ok(isbn) = catalog::Isbn::parse(text) {
        return Some(isbn.as_isbn13().to_string());
    }
    let digits: String =
        text.chars().filter(|c| c.is_ascii_digit() || *c == 'x' || *c == 'X').map(|c| c.to_ascii_uppercase()).collect();
    (digits.len() >= 9).then_some(digits)
}

/// An ISSN, LCCN or other identifier as the index keeps it: letters and digits only, upper case.
pub fn identifier_key(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// A call number as prefix searches compare it: upper case, without spaces and dots, so that
/// `qa76.73` and `QA 76.73` both start `QA76.73.R87 K53 2018`.
pub fn call_number_key(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace() && *c != '.').flat_map(|c| c.to_uppercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        analyze(text).into_iter().map(|t| t.text).collect()
    }

    fn document_words(text: &str) -> Vec<String> {
        analyze_document(text).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn elisions_and_apostrophes() {
        assert_eq!(words("L'espace judiciaire"), ["l", "espace", "judiciaire"]);
        let doc = analyze_document("L'espace judiciaire");
        let at: Vec<(&str, usize)> = doc.iter().map(|t| (t.text.as_str(), t.position)).collect();
        assert_eq!(at, [("l", 0), ("espace", 1), ("lespace", 1), ("judiciaire", 2)]);
        assert_eq!(document_words("ch'imnyakchadŭl"), ["ch", "imnyakchadul", "chimnyakchadul"]);
        assert_eq!(words("'quoted'"), ["quoted"]);
    }

    #[test]
    fn pairs_are_neighbouring_terms_within_one_value() {
        let pairs = |text: &str| analyze_pairs(text).into_iter().map(|t| t.text).collect::<Vec<_>>();
        assert_eq!(pairs("Women -- United States"), ["women united", "united state"]);
        assert_eq!(pairs("History"), Vec::<String>::new());
        // The parts of an apostrophe word and its joined form each meet their neighbours.
        assert_eq!(pairs("L'espace judiciaire"), ["l espace", "l lespace", "espace judiciaire", "lespace judiciaire"]);
        assert_eq!(pairs("中国历史"), ["中国 国历", "国历 历史"]);
        assert_eq!(query_pair(&analyze("United  States!")), Some("united state".to_string()));
        assert_eq!(query_pair(&analyze("Brontë's novels")), Some("bronte novel".to_string()));
        assert_eq!(query_pair(&analyze("history")), None);
        assert_eq!(query_pair(&analyze("new york times")), None);
        // Every pair a query makes is one the document's own text makes.
        for text in ["L'espace", "O'Brien", "中国历", "The The"] {
            let pair = query_pair(&analyze(text)).expect("two terms");
            assert!(pairs(text).contains(&pair), "{text}: {pair}");
        }
    }

    #[test]
    fn folds_diacritics_and_case() {
        assert_eq!(words("Brontë"), ["bronte"]);
        assert_eq!(words("Gabriel García Márquez"), ["gabriel", "garcia", "marquez"]);
        assert_eq!(words("Straße Øster Łódź Æsop"), ["strasse", "oster", "lodz", "aesop"]);
        assert_eq!(words("ﬁnal ＡＢＣ"), ["final", "abc"]);
        assert_eq!(words("Dostoevskiĭ, Fedor Mikhaĭlovich"), ["dostoevskii", "fedor", "mikhailovich"]);
        assert_eq!(document_words("Solʹt͡sev"), ["sol", "tsev", "soltsev"]);
        assert_eq!(document_words("O'Brien"), ["o", "brien", "obrien"]);
        assert_eq!(words("O'Brien"), ["o", "brien"]);
        assert_eq!(words("ΌΜΗΡΟΣ Όμηρος"), ["ομηροσ", "ομηροσ"]);
    }

    #[test]
    fn strips_plurals_and_possessives_but_nothing_more() {
        assert_eq!(words("apples"), ["apple"]);
        assert_eq!(words("apple"), ["apple"]);
        assert_eq!(words("Appling"), ["appling"]);
        assert_ne!(words("Appling"), words("apples"));
        assert_eq!(words("libraries library"), ["library", "library"]);
        assert_eq!(words("classes boxes churches houses"), ["class", "box", "church", "house"]);
        assert_eq!(words("children's Dickens's cats'"), ["children", "dickens", "cat"]);
        assert_eq!(words("news analysis virus glass physics"), ["news", "analysis", "virus", "glass", "physics"]);
        assert_eq!(words("does goes"), ["does", "goes"]);
        assert_eq!(words("running organization"), ["running", "organization"]);
    }

    #[test]
    fn keeps_stop_words() {
        assert_eq!(words("The The"), ["the", "the"]);
        assert_eq!(words("It"), ["it"]);
        assert_eq!(words("To be or not to be"), ["to", "be", "or", "not", "to", "be"]);
    }

    #[test]
    fn cjk_runs_become_bigrams() {
        assert_eq!(words("中国历史"), ["中国", "国历", "历史"]);
        assert_eq!(words("書"), ["書"]);
        assert_eq!(words("Tokyo 東京 guide"), ["tokyo", "東京", "guide"]);
        assert_eq!(words("ひらがな"), ["ひら", "らが", "がな"]);
        let positions: Vec<usize> = analyze("a 中国历史 b").iter().map(|t| t.position).collect();
        assert_eq!(positions, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn other_scripts_are_words() {
        // Folding treats й as и and ё as е, as ICU folding does: patrons type either.
        assert_eq!(words("Война и мир Ёлка"), ["воина", "и", "мир", "елка"]);
        assert_eq!(words("שָׁלוֹם עולם"), ["שלום", "עולם"]);
        assert_eq!(words("كِتَاب"), ["كتاب"]);
        assert_eq!(words("हिन्दी"), ["हिन्दी"]);
    }

    #[test]
    fn offsets_point_into_the_text() {
        let text = "Brontë 中国";
        for t in analyze(text) {
            assert!(text.get(t.offset_from..t.offset_to).is_some(), "{t:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_analyzes_with_valid_offsets_and_ordered_positions(text in "\\PC{0,40}") {
            let terms = analyze_document(&text);
            let mut last = 0;
            for t in &terms {
                proptest::prop_assert!(text.get(t.offset_from..t.offset_to).is_some());
                proptest::prop_assert!(!t.text.is_empty());
                proptest::prop_assert!(t.position >= last);
                last = t.position;
            }
            let _ = isbn_key(&text);
            let _ = sort_form(&text);
        }
    }

    #[test]
    fn identifiers() {
        assert_eq!(isbn_key("0-306-40615-2").as_deref(), Some("9780306406157"));
        assert_eq!(isbn_key("978-0-306-40615-7").as_deref(), Some("9780306406157"));
        assert_eq!(isbn_key("9780306406157").as_deref(), Some("9780306406157"));
        assert_eq!(isbn_key("12"), None);
        assert_eq!(identifier_key("0028-0836"), "00280836");
        assert_eq!(call_number_key("QA 76.73 .R87"), "QA7673R87");
        assert_eq!(call_number_key("qa76.73.R87 K53 2018"), "QA7673R87K532018");
    }
}
