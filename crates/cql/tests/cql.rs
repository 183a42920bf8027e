//! The CQL crate's one test binary: the specification's examples, the grammar's edge cases,
//! errors and their SRU diagnostics, masking, context sets, validation, and property tests
//! (no input panics; every query survives `to_cql` and back).

use cql::{
    parse, validate, BooleanOp, Capabilities, Comparator, Diagnostic, DiagnosticKind, Index, IndexCapability, Modifier,
    Node, Piece, PrefixAssignment, ProximityCapability, Query, Relation, SortCapability, SortKey, Term, BATH, CQL, DC,
    REC,
};
use proptest::prelude::*;

// --- helpers ------------------------------------------------------------------------------

/// The tree as an s-expression: booleans as `(op/modifiers left right)`, scopes as
/// `(> assignments inner)`, clauses as `[set:name relation term]` with the set's short name.
fn tree(node: &Node) -> String {
    match node {
        Node::Boolean { op, modifiers, left, right } => {
            let mods: String = modifiers.iter().map(|m| m.to_string()).collect();
            format!("({op}{mods} {} {})", tree(left), tree(right))
        }
        Node::Clause { index, relation, term } => {
            let set = cql::KNOWN_CONTEXT_SETS
                .iter()
                .find(|(_, uri)| *uri == index.context_set())
                .map_or(index.context_set(), |(name, _)| name);
            format!("[{set}:{} {relation} {}]", index.name(), term.text())
        }
        Node::Scoped { prefixes, query } => {
            let assignments: Vec<String> = prefixes
                .iter()
                .map(|a| match &a.prefix {
                    Some(p) => format!("{p}={}", a.uri),
                    None => a.uri.clone(),
                })
                .collect();
            format!("(> {} {})", assignments.join(" "), tree(query))
        }
    }
}

/// Parses `input`, checks its tree and its canonical form, and that the canonical form parses
/// back to the same query.
fn check(input: &str, expected_tree: &str, expected_cql: &str) -> Query {
    let query = parse(input).unwrap_or_else(|e| panic!("{input:?} does not parse: {e}"));
    assert_eq!(tree(&query.root), expected_tree, "tree of {input:?}");
    assert_eq!(query.to_cql(), expected_cql, "canonical form of {input:?}");
    assert_eq!(parse(&query.to_cql()).as_ref(), Ok(&query), "round trip of {input:?}");
    query
}

/// Parses `input`, expecting it to fail with diagnostic `number` at character `position`.
fn check_error(input: &str, number: u16, position: usize) -> Diagnostic {
    let error = match parse(input) {
        Ok(query) => panic!("{input:?} parsed: {query:?}"),
        Err(error) => error,
    };
    assert_eq!((error.diagnostic().number(), error.position), (number, position), "{input:?}: {error}");
    error.diagnostic()
}

fn clause(query: &Query) -> (&Index, &Relation, &Term) {
    match &query.root {
        Node::Clause { index, relation, term } => (index, relation, term),
        other => panic!("not a clause: {other:?}"),
    }
}

fn lit(s: &str) -> Piece {
    Piece::Literal(s.to_string())
}

// --- the specification's examples ---------------------------------------------------------

#[test]
fn simple_queries() {
    check("dinosaur", "[cql:serverChoice = dinosaur]", "dinosaur");
    check(r#""complete dinosaur""#, "[cql:serverChoice = complete dinosaur]", r#""complete dinosaur""#);
    check(r#""the the""#, "[cql:serverChoice = the the]", r#""the the""#);
    check(r#"title = "complete dinosaur""#, "[cql:title = complete dinosaur]", r#"title = "complete dinosaur""#);
    check(
        r#"title exact "the complete dinosaur""#,
        "[cql:title exact the complete dinosaur]",
        r#"title exact "the complete dinosaur""#,
    );
    check("cql.serverChoice = dinosaur", "[cql:serverChoice = dinosaur]", "dinosaur");
    check("cql.serverChoice all dinosaur", "[cql:serverChoice all dinosaur]", "cql.serverChoice all dinosaur");
}

#[test]
fn booleans() {
    check("dinosaur or bird", "(or [cql:serverChoice = dinosaur] [cql:serverChoice = bird])", "dinosaur or bird");
    check(
        "dinosaur not reptile",
        "(not [cql:serverChoice = dinosaur] [cql:serverChoice = reptile])",
        "dinosaur not reptile",
    );
    check(
        "dinosaur and bird or dinobird",
        "(or (and [cql:serverChoice = dinosaur] [cql:serverChoice = bird]) [cql:serverChoice = dinobird])",
        "dinosaur and bird or dinobird",
    );
    check(
        "(bird or dinosaur) and (feathers or scales)",
        "(and (or [cql:serverChoice = bird] [cql:serverChoice = dinosaur]) (or [cql:serverChoice = feathers] [cql:serverChoice = scales]))",
        "bird or dinosaur and (feathers or scales)",
    );
    check(
        r#""feathered dinosaur" and (yixian or jehol)"#,
        "(and [cql:serverChoice = feathered dinosaur] (or [cql:serverChoice = yixian] [cql:serverChoice = jehol]))",
        r#""feathered dinosaur" and (yixian or jehol)"#,
    );
    check(
        "lengthOfFemur > 2.4 and bioMass >= 100",
        "(and [cql:lengthOfFemur > 2.4] [cql:bioMass >= 100])",
        "lengthOfFemur > 2.4 and bioMass >= 100",
    );
}

#[test]
fn booleans_group_to_the_left_without_precedence() {
    check(
        "a or b and c",
        "(and (or [cql:serverChoice = a] [cql:serverChoice = b]) [cql:serverChoice = c])",
        "a or b and c",
    );
    check(
        "a and b or c",
        "(or (and [cql:serverChoice = a] [cql:serverChoice = b]) [cql:serverChoice = c])",
        "a and b or c",
    );
    check(
        "a or (b and c)",
        "(or [cql:serverChoice = a] (and [cql:serverChoice = b] [cql:serverChoice = c]))",
        "a or (b and c)",
    );
    check("((a))", "[cql:serverChoice = a]", "a");
    check(
        "a AND b Or c nOt d",
        "(not (or (and [cql:serverChoice = a] [cql:serverChoice = b]) [cql:serverChoice = c]) [cql:serverChoice = d])",
        "a and b or c not d",
    );
}

#[test]
fn relations_and_modifiers() {
    check(
        r#"dc.title any "a b" and/rel.combine=sum dc.creator = x"#,
        "(and/rel.combine=sum [dc:title any a b] [dc:creator = x])",
        r#"dc.title any "a b" and/rel.combine=sum dc.creator = x"#,
    );
    check(
        r#"dc.title any/relevant "fish frog""#,
        "[dc:title any/relevant fish frog]",
        r#"dc.title any/relevant "fish frog""#,
    );
    check(
        r#"dc.title any / relevant / cql.string "fish frog""#,
        "[dc:title any/relevant/cql.string fish frog]",
        r#"dc.title any/relevant/cql.string "fish frog""#,
    );
    check(
        r#"dc.title any/rel.algorithm=cori "fish frog""#,
        "[dc:title any/rel.algorithm=cori fish frog]",
        r#"dc.title any/rel.algorithm=cori "fish frog""#,
    );
    check(r#"dc.title =/relevant dinosaur"#, "[dc:title =/relevant dinosaur]", "dc.title =/relevant dinosaur");
    check(r#"dc.title all "fish frog""#, "[dc:title all fish frog]", r#"dc.title all "fish frog""#);
    check(
        r#"dc.title adj "the complete dinosaur""#,
        "[dc:title adj the complete dinosaur]",
        r#"dc.title adj "the complete dinosaur""#,
    );
    check(
        r#"dc.title == "the complete dinosaur""#,
        "[dc:title == the complete dinosaur]",
        r#"dc.title == "the complete dinosaur""#,
    );
    check(r#"dc.date within "2002 2005""#, "[dc:date within 2002 2005]", r#"dc.date within "2002 2005""#);
    check("dc.date encloses 2002", "[dc:date encloses 2002]", "dc.date encloses 2002");
    check("dc.date <> 2002", "[dc:date <> 2002]", "dc.date <> 2002");
    check("dc.date<=2002", "[dc:date <= 2002]", "dc.date <= 2002");
    check("dc.date<2002", "[dc:date < 2002]", "dc.date < 2002");
    check("dc.title=\"x\"", "[dc:title = x]", "dc.title = x");
    // Named relations are case-insensitive and may carry the cql prefix.
    let q = check("dc.title ANY fish", "[dc:title any fish]", "dc.title any fish");
    assert_eq!(clause(&q).1.comparator, Comparator::Any);
    let q = check("dc.title cql.All fish", "[dc:title all fish]", "dc.title all fish");
    assert_eq!(clause(&q).1.comparator, Comparator::All);
    let q = check("dc.title x.near fish", "[dc:title x.near fish]", "dc.title x.near fish");
    assert_eq!(clause(&q).1.comparator, Comparator::Named("x.near".into()));
    let q = parse("dc.title any/relevant/rel.algorithm=cori x").unwrap();
    assert_eq!(
        clause(&q).1.modifiers,
        [Modifier::flag("relevant"), Modifier::with_value("rel.algorithm", Comparator::Eq, "cori")]
    );
}

#[test]
fn proximity() {
    let q = check(
        "dinosaur prox/unit=word/distance>2 bird",
        "(prox/unit=word/distance>2 [cql:serverChoice = dinosaur] [cql:serverChoice = bird])",
        "dinosaur prox/unit=word/distance>2 bird",
    );
    let Node::Boolean { op, modifiers, .. } = &q.root else { panic!() };
    assert_eq!(*op, BooleanOp::Prox);
    assert_eq!(
        modifiers,
        &[Modifier::with_value("unit", Comparator::Eq, "word"), Modifier::with_value("distance", Comparator::Gt, "2")]
    );
    check(
        "a PROX/distance<=3/ordered b",
        "(prox/distance<=3/ordered [cql:serverChoice = a] [cql:serverChoice = b])",
        "a prox/distance<=3/ordered b",
    );
}

#[test]
fn reserved_words_as_terms() {
    check(r#""and""#, "[cql:serverChoice = and]", r#""and""#);
    check(r#"dc.title = "or""#, "[dc:title = or]", r#"dc.title = "or""#);
    // The grammar allows a reserved word wherever it wants a term; its case is kept.
    check("dc.title = AND", "[dc:title = AND]", r#"dc.title = "AND""#);
    check("prox", "[cql:serverChoice = prox]", r#""prox""#);
    check("sortby", "[cql:serverChoice = sortby]", r#""sortby""#);
    check(
        r#"a and "not" or b"#,
        "(or (and [cql:serverChoice = a] [cql:serverChoice = not]) [cql:serverChoice = b])",
        r#"a and "not" or b"#,
    );
    check(r#""dc.title" = x"#, "[dc:title = x]", "dc.title = x");
    check(r#""and" = x"#, "[cql:and = x]", r#""and" = x"#);
}

#[test]
fn quoting_and_escapes() {
    let q = check(r#""quoted \"escape\"""#, r#"[cql:serverChoice = quoted "escape"]"#, r#""quoted \"escape\"""#);
    assert_eq!(clause(&q).2.pattern(), [lit(r#"quoted "escape""#)]);
    // Other backslashes stay in the value, for the masking rules.
    let q = check(r#""a\*b""#, r"[cql:serverChoice = a\*b]", r"a\*b");
    assert_eq!(clause(&q).2.pattern(), [lit("a*b")]);
    let q = check(r#"x = "back\\slash""#, r"[cql:x = back\\slash]", r"x = back\\slash");
    assert_eq!(clause(&q).2.pattern(), [lit(r"back\slash")]);
    let q = check(r#"x = "a\\\"b""#, r#"[cql:x = a\\"b]"#, r#"x = "a\\\"b""#);
    assert_eq!(clause(&q).2.pattern(), [lit(r#"a\"b"#)]);
    check(r#"x = """#, "[cql:x = ]", r#"x = """#);
    check(r#"x = "a/b(c)=d<e>""#, "[cql:x = a/b(c)=d<e>]", r#"x = "a/b(c)=d<e>""#);
    check("x = ü.ß", "[cql:x = ü.ß]", "x = ü.ß");
}

#[test]
fn sortby() {
    let q = check(
        "dinosaur sortby dc.date/sort.descending",
        "[cql:serverChoice = dinosaur]",
        "dinosaur sortby dc.date/sort.descending",
    );
    assert_eq!(
        q.sort,
        [SortKey { index: Index::new(Some("dc"), "date", DC), modifiers: vec![Modifier::flag("sort.descending")] }]
    );
    let q = check(
        r#""cat" SORTBY dc.title/sort.ascending/sort.ignoreCase dc.date/sort.descending/sort.missingValue="0" rec.id"#,
        "[cql:serverChoice = cat]",
        "cat sortby dc.title/sort.ascending/sort.ignoreCase dc.date/sort.descending/sort.missingValue=0 rec.id",
    );
    assert_eq!(q.sort.len(), 3);
    assert_eq!(q.sort[2].index, Index::new(Some("rec"), "id", REC));
    check("a or b sortby title", "(or [cql:serverChoice = a] [cql:serverChoice = b])", "a or b sortby title");
}

// --- context sets ---------------------------------------------------------------------------

#[test]
fn context_sets_resolve_with_their_scopes() {
    let q = parse("title = x").unwrap();
    assert_eq!(clause(&q).0, &Index::new(None, "title", CQL));
    let q = parse("DC.Title = x").unwrap();
    assert!(clause(&q).0.is(DC, "title"));
    assert_eq!(clause(&q).0.written(), "DC.Title");
    let q = parse("bath.isbn = 0262510871").unwrap();
    assert!(clause(&q).0.is(BATH, "isbn"));
    let q = parse("rec.id == 42").unwrap();
    assert!(clause(&q).0.is(REC, "id"));

    let q = check(
        r#"> dc = "info:srw/cql-context-set/1/dc-v1.1" dc.title = jaws"#,
        "[dc:title = jaws]",
        r#"> dc = "info:srw/cql-context-set/1/dc-v1.1" dc.title = jaws"#,
    );
    assert_eq!(q.prefixes, [PrefixAssignment { prefix: Some("dc".into()), uri: DC.into() }]);

    // A default set for unprefixed indexes; bare terms stay cql.serverChoice.
    let q = check(
        r#">"http://example.org/set/" title = a and b"#,
        "(and [http://example.org/set/:title = a] [cql:serverChoice = b])",
        r#"> "http://example.org/set/" title = a and b"#,
    );
    assert_eq!(q.prefixes, [PrefixAssignment { prefix: None, uri: "http://example.org/set/".into() }]);

    // An assignment inside parentheses holds until the matching `)`.
    check(
        r#"(> dc = "http://other/" dc.title = a) and dc.title = b"#,
        "(and (> dc=http://other/ [http://other/:title = a]) [dc:title = b])",
        r#"(> dc = "http://other/" dc.title = a) and dc.title = b"#,
    );
    check(
        r#"> x = "http://x/" (> x = "http://y/" x.a = 1 or (> "http://z/" b = 2)) and x.c = 3"#,
        "(and (> x=http://y/ (or [http://y/:a = 1] (> http://z/ [http://z/:b = 2]))) [http://x/:c = 3])",
        r#"> x = "http://x/" (> x = "http://y/" x.a = 1 or (> "http://z/" b = 2)) and x.c = 3"#,
    );
    // A later assignment hides an earlier one; prefixes compare case-insensitively.
    check(
        r#"> x = "http://1/" > X = "http://2/" x.a = 1"#,
        "[http://2/:a = 1]",
        r#"> x = "http://1/" > X = "http://2/" x.a = 1"#,
    );
    // Sort keys see the query's top-level assignments.
    let q = parse(r#"> s = "http://s/" a sortby s.date"#).unwrap();
    assert_eq!(q.sort[0].index, Index::new(Some("s"), "date", "http://s/"));
    // Names with a dot but no prefix before it keep the whole name.
    let q = parse(".title = x").unwrap();
    assert_eq!(clause(&q).0, &Index::new(None, ".title", CQL));
}

#[test]
fn unknown_prefixes_are_diagnostic_15() {
    let d = check_error("foo.title = x", 15, 0);
    assert_eq!(d.details.as_deref(), Some("foo"));
    check_error(r#"(> foo = "http://f/" foo.a = 1) and foo.b = 2"#, 15, 36);
    check_error("a sortby foo.date", 15, 9);
}

// --- errors ---------------------------------------------------------------------------------

#[test]
fn syntax_errors_and_their_diagnostics() {
    check_error("", 10, 0);
    check_error("  \t\n", 10, 0);
    check_error("a and", 10, 5);
    check_error("a b", 10, 3);
    check_error("dc.title =", 10, 10);
    check_error("= x", 10, 0);
    check_error("a and = b", 10, 6);
    check_error("dc.title any/", 10, 13);
    check_error("dc.title any/relevant=", 10, 22);
    check_error("a sortby", 10, 8);
    check_error("a sortby b = c", 10, 11);
    check_error("a / b", 10, 2);
    check_error(">", 10, 1);
    check_error("> dc =", 10, 6);
    check_error("> dc = x", 10, 8);
    check_error(r#"a "b""#, 10, 2);
    check_error("(a sortby b)", 10, 3);
    check_error("a > b c", 10, 6);
    // Parentheses: 13, with the offset.
    check_error("(", 13, 0);
    check_error("(a", 13, 0);
    check_error("((a) or b", 13, 0);
    check_error("a)", 13, 1);
    check_error("a ) b", 13, 2);
    check_error("()", 13, 0);
    check_error("a and ()", 13, 6);
    check_error("a and )", 13, 6);
    // Quotes: 14, with the offset of the opening quote.
    check_error(r#""abc"#, 14, 0);
    check_error(r#"dc.title = "abc\""#, 14, 11);
    check_error(r#"x = "abc\"#, 14, 4);
    // Offsets count characters, not bytes.
    check_error("ééé )", 13, 4);
    let d = check_error("ééé and", 10, 7);
    assert!(d.details.unwrap().contains("at character 7"));
}

#[test]
fn error_messages_say_what_was_expected() {
    let e = parse("a and").unwrap_err();
    assert_eq!(e.to_string(), "expected a search term or `(`, but the query ends (at character 5)");
    let e = parse("a b c d").unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected a boolean operator, `sortby` or the end of the query, found `d` (at character 6)"
    );
    let d = parse("(a").unwrap_err().diagnostic();
    assert_eq!(
        (d.uri().as_str(), d.message(), d.details.as_deref()),
        ("info:srw/diagnostic/1/13", "Invalid or unsupported use of parentheses", Some("0"))
    );
}

#[test]
fn nesting_and_length_are_bounded() {
    let deep = format!("{}a{}", "(".repeat(cql::MAX_NESTING), ")".repeat(cql::MAX_NESTING));
    check(&deep, "[cql:serverChoice = a]", "a");
    let too_deep = format!("{}a{}", "(".repeat(cql::MAX_NESTING + 1), ")".repeat(cql::MAX_NESTING + 1));
    check_error(&too_deep, 13, cql::MAX_NESTING);
    check_error(&"(".repeat(100_000), 13, cql::MAX_NESTING);

    let isbns: Vec<String> = (0..=cql::MAX_BOOLEANS).map(|i| format!("bath.isbn = {i}")).collect();
    let longest = isbns.join(" or ");
    let query = parse(&longest).unwrap();
    assert_eq!(query.to_cql(), longest);
    assert_eq!(validate(&query, &shelfmark_capabilities()), Ok(()));
    let too_long = format!("{longest} or x");
    let d = check_error(&too_long, 38, too_long.len() - 4);
    assert_eq!(d.details.as_deref(), Some("1000"));
    // Right-nested through parentheses, at both limits at once.
    let nested = (0..cql::MAX_NESTING).fold("a and a".to_string(), |acc, _| format!("a and ({acc})"));
    assert_eq!(parse(&nested).unwrap().to_cql(), nested);
}

// --- masking ----------------------------------------------------------------------------------

fn pattern(text: &str) -> Vec<Piece> {
    Term::new(text).unwrap_or_else(|e| panic!("{text:?}: {e}")).pattern().to_vec()
}

#[test]
fn masking_characters() {
    assert_eq!(pattern("dinosaur"), [lit("dinosaur")]);
    assert_eq!(pattern("dino*"), [lit("dino"), Piece::AnyChars]);
    assert_eq!(pattern("*saur"), [Piece::AnyChars, lit("saur")]);
    assert_eq!(pattern("d?no"), [lit("d"), Piece::OneChar, lit("no")]);
    assert_eq!(pattern("??"), [Piece::OneChar, Piece::OneChar]);
    assert_eq!(pattern("^dinosaur"), [Piece::Anchor, lit("dinosaur")]);
    assert_eq!(pattern("dinosaur^"), [lit("dinosaur"), Piece::Anchor]);
    assert_eq!(pattern("^the complete^"), [Piece::Anchor, lit("the complete"), Piece::Anchor]);
    assert_eq!(
        pattern("the ^complete dino^ saur"),
        [lit("the "), Piece::Anchor, lit("complete dino"), Piece::Anchor, lit(" saur")]
    );
    assert_eq!(pattern("^"), [Piece::Anchor]);
    // Escapes make the masking characters (and quotes and backslashes) literal.
    assert_eq!(pattern(r#"a\*b\?c\^d\\e\""#), [lit(r#"a*b?c^d\e""#)]);
    assert_eq!(pattern(r"\^a"), [lit("^a")]);
    assert_eq!(pattern(r"a\^b"), [lit("a^b")]);
    assert_eq!(pattern(""), []);
}

#[test]
fn masking_errors() {
    assert_eq!(Term::new(r"a\b"), Err(cql::MaskError::NonSpecialEscaped(Some('b'))));
    assert_eq!(Term::new(r"a\"), Err(cql::MaskError::NonSpecialEscaped(None)));
    assert_eq!(Term::new("a^b"), Err(cql::MaskError::AnchorInsideWord));
    assert_eq!(Term::new("^^a"), Err(cql::MaskError::AnchorInsideWord));
    let d = check_error(r"dc.title = a\b", 26, 11);
    assert_eq!(d.details.as_deref(), Some("b"));
    let d = check_error(r"dc.title = a\", 26, 11);
    assert_eq!(d.details.as_deref(), Some("\\"));
    let d = check_error(r#"dc.title = "the com^plete""#, 32, 11);
    assert_eq!(d.details.as_deref(), Some("the com^plete"));
    // Modifier values, prefixes and URIs are not search terms: no masking rules there.
    assert!(parse(r#"> p = "a\b" a =/x="c\d^e" b"#).is_ok());
}

#[test]
fn term_helpers() {
    let t = Term::new("^moby dick* whale").unwrap();
    assert!(t.has_anchors() && t.has_masking());
    assert_eq!(t.as_literal(), None);
    assert_eq!(t.words(), [vec![Piece::Anchor, lit("moby")], vec![lit("dick"), Piece::AnyChars], vec![lit("whale")]]);
    assert_eq!(Term::new("  a  b ").unwrap().words(), [vec![lit("a")], vec![lit("b")]]);
    let t = Term::new(r"C\+\+").err();
    assert_eq!(t, Some(cql::MaskError::NonSpecialEscaped(Some('+'))));
    let t = Term::new(r"what\?").unwrap();
    assert_eq!(t.as_literal().as_deref(), Some("what?"));
    assert!(!t.has_masking());
    for s in ["plain", "a*b?c^d\\e\"f", "", "^", " spaced out "] {
        let t = Term::literal(s);
        assert_eq!(Term::new(t.text()).as_ref(), Ok(&t), "{s:?}");
        assert_eq!(t.as_literal().as_deref(), Some(s));
    }
}

// --- validation -------------------------------------------------------------------------------

/// What issue 7's SRU server is to offer.
fn shelfmark_capabilities() -> Capabilities {
    use Comparator::*;
    let words = [Eq, Exact, All, Any, Adj];
    Capabilities {
        indexes: vec![
            IndexCapability::new(DC, "title", &words).sortable(),
            IndexCapability::new(DC, "creator", &words).sortable(),
            IndexCapability::new(DC, "subject", &words),
            IndexCapability::new(DC, "date", &[Eq, Lt, Gt, Le, Ge, Within]).sortable(),
            IndexCapability::new(BATH, "isbn", &[Eq, Exact]),
            IndexCapability::new(CQL, "anywhere", &words),
            IndexCapability::new(CQL, "serverChoice", &words),
            IndexCapability::new(REC, "id", &[Eq, Exact]),
        ],
        booleans: vec![BooleanOp::And, BooleanOp::Or, BooleanOp::Not],
        boolean_modifiers: vec![],
        proximity: Some(ProximityCapability {
            units: vec!["word".into()],
            distance_relations: vec![Eq, Lt, Le],
            max_distance: 10,
            ordered: true,
            unordered: false,
        }),
        relation_modifiers: vec!["relevant".into()],
        masking: true,
        anchoring: true,
        empty_terms: false,
        sort: Some(SortCapability { modifiers: vec!["ascending".into(), "descending".into()] }),
    }
}

/// Validates `input` against the Shelfmark capabilities: `None` for accepted, or the
/// diagnostic's number and details.
fn verdict_with(input: &str, caps: &Capabilities) -> Option<(u16, Option<String>)> {
    let query = parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
    validate(&query, caps).err().map(|d| (d.number(), d.details))
}

fn verdict(input: &str) -> Option<(u16, Option<String>)> {
    verdict_with(input, &shelfmark_capabilities())
}

fn refused(number: u16, details: &str) -> Option<(u16, Option<String>)> {
    Some((number, Some(details.to_string())))
}

#[test]
fn validation_accepts_what_the_server_offers() {
    for ok in [
        "dinosaur",
        r#""the complete dinosaur""#,
        r#"dc.title any "moby whale" and dc.creator = melville"#,
        "DC.TITLE ALL moby or Dc.Creator == \"Melville, Herman\" not dc.subject adj whales",
        "bath.isbn = 9780262510875 or rec.id == 42",
        "cql.anywhere = whale*",
        "dc.title = ^moby",
        "dc.title =/relevant moby",
        "dc.title =/cql.relevant moby",
        "dc.date within \"1850 1860\"",
        "moby prox/unit=word/distance<=3/ordered dick",
        "moby sortby dc.title/sort.descending dc.date/Ascending",
        r#"> dc = "info:srw/cql-context-set/1/dc-v1.1" dc.title = moby"#,
        r#"> "info:srw/cql-context-set/1/dc-v1.1" title = moby"#,
    ] {
        assert_eq!(verdict(ok), None, "{ok}");
    }
}

#[test]
fn validation_diagnostics() {
    assert_eq!(verdict("dc.publisher = x"), refused(16, "dc.publisher"));
    assert_eq!(verdict("title = x"), refused(16, "title"));
    assert_eq!(verdict(r#"> x = "http://x/" x.title = a"#), refused(15, "x"));
    assert_eq!(verdict(r#"> "http://x/" title = a"#), refused(15, "http://x/"));
    assert_eq!(verdict("dc.title within x"), refused(22, "dc.title within"));
    assert_eq!(verdict("rec.id any 42"), refused(22, "rec.id any"));
    assert_eq!(verdict("dc.title encloses x"), refused(19, "encloses"));
    assert_eq!(verdict("dc.title exact x"), refused(19, "exact"));
    assert_eq!(verdict("dc.title <> x"), refused(19, "<>"));
    assert_eq!(verdict("dc.title =/stem x"), refused(20, "stem"));
    assert_eq!(verdict(r#"dc.title = """#), Some((27, None)));
    assert_eq!(verdict(r#"dc.title == "^moby dick""#), refused(32, "^moby dick"));
    assert_eq!(verdict("a and/rel.combine=sum b"), refused(46, "rel.combine"));
    assert_eq!(verdict("a prox/unit=sentence b"), refused(42, "sentence"));
    assert_eq!(verdict("a prox/unit<>word b"), refused(42, "word"));
    assert_eq!(verdict("a prox/distance>2 b"), refused(40, ">"));
    assert_eq!(verdict("a prox/distance=11 b"), refused(41, "11"));
    assert_eq!(verdict("a prox/distance=far b"), refused(41, "far"));
    assert_eq!(verdict("a prox/unordered b"), refused(43, "unordered"));
    assert_eq!(verdict("a prox/window=3 b"), refused(46, "window"));
    assert_eq!(verdict("a sortby dc.subject"), refused(16, "dc.subject"));
    assert_eq!(verdict("a sortby dc.title/sort.ignoreCase"), refused(91, "sort.ignoreCase"));
    assert_eq!(verdict("a sortby dc.title/sort.missingOmit"), refused(92, "sort.missingOmit"));
    // The first problem in reading order wins.
    assert_eq!(verdict("dc.x = 1 and dc.y = 2"), refused(16, "dc.x"));
    assert_eq!(verdict("a or (b and dc.y = 2)"), refused(16, "dc.y"));

    let mut caps = shelfmark_capabilities();
    caps.masking = false;
    caps.anchoring = false;
    caps.booleans.retain(|&op| op != BooleanOp::Not);
    caps.proximity = None;
    caps.sort = None;
    caps.empty_terms = true;
    assert_eq!(verdict_with("dc.title = whale*", &caps), refused(28, "whale*"));
    assert_eq!(verdict_with("dc.title = wh?le", &caps), refused(28, "wh?le"));
    assert_eq!(verdict_with(r"dc.title = whale\*", &caps), None);
    assert_eq!(verdict_with("dc.title = ^whale", &caps), refused(31, "^whale"));
    assert_eq!(verdict_with("a not b", &caps), refused(37, "not"));
    assert_eq!(verdict_with("a prox b", &caps), Some((39, None)));
    assert_eq!(verdict_with("a sortby dc.title", &caps), Some((80, None)));
    assert_eq!(verdict_with(r#"dc.title = """#, &caps), None);
}

#[test]
fn diagnostics_table() {
    let mut seen = std::collections::HashSet::new();
    for &kind in DiagnosticKind::ALL {
        assert!(seen.insert(kind.number()), "{kind:?} repeats a number");
        assert_eq!(DiagnosticKind::from_number(kind.number()), Some(kind));
        assert!(!kind.message().is_empty());
    }
    for deprecated in [11, 17, 25, 45] {
        assert_eq!(DiagnosticKind::from_number(deprecated), None);
    }
    let d = Diagnostic::new(DiagnosticKind::UnsupportedIndex, "dc.publisher");
    assert_eq!(d.to_string(), "Unsupported index (info:srw/diagnostic/1/16): dc.publisher");
    // The record, stylesheet and scan conditions an SRU server answers beyond the query's.
    for (number, message) in [
        (61, "First record position out of range"),
        (66, "Unknown schema for retrieval"),
        (71, "Unsupported record packing"),
        (110, "Stylesheets not supported"),
        (120, "Response position out of range"),
        (121, "Too many terms requested"),
    ] {
        assert_eq!(DiagnosticKind::from_number(number).map(DiagnosticKind::message), Some(message));
    }
}

// --- XCQL -----------------------------------------------------------------------------------

#[test]
fn xcql() {
    let q = parse(r#"> dc = "info:srw/cql-context-set/1/dc-v1.1" dc.title any/relevant "fish & <frog>" and/rel.combine=sum (> x = "http://x/" x.creator = "a\"b") sortby dc.date/sort.descending"#).unwrap();
    let expected = r#"<triple xmlns="http://www.loc.gov/zing/cql/xcql/">
  <prefixes>
    <prefix>
      <name>dc</name>
      <identifier>info:srw/cql-context-set/1/dc-v1.1</identifier>
    </prefix>
  </prefixes>
  <boolean>
    <value>and</value>
    <modifiers>
      <modifier>
        <type>rel.combine</type>
        <comparison>=</comparison>
        <value>sum</value>
      </modifier>
    </modifiers>
  </boolean>
  <leftOperand>
    <searchClause>
      <index>dc.title</index>
      <relation>
        <value>any</value>
        <modifiers>
          <modifier>
            <type>relevant</type>
          </modifier>
        </modifiers>
      </relation>
      <term>fish &amp; &lt;frog&gt;</term>
    </searchClause>
  </leftOperand>
  <rightOperand>
    <searchClause>
      <prefixes>
        <prefix>
          <name>x</name>
          <identifier>http://x/</identifier>
        </prefix>
      </prefixes>
      <index>x.creator</index>
      <relation>
        <value>=</value>
      </relation>
      <term>a&quot;b</term>
    </searchClause>
  </rightOperand>
  <sortKeys>
    <key>
      <index>dc.date</index>
      <modifiers>
        <modifier>
          <type>sort.descending</type>
        </modifier>
      </modifiers>
    </key>
  </sortKeys>
</triple>
"#;
    assert_eq!(q.to_xcql(), expected);

    let q = parse("(> \"http://d/\" (> y = \"http://y/\" \"a\u{1}b\"))").unwrap();
    let expected = "<searchClause xmlns=\"http://www.loc.gov/zing/cql/xcql/\">
  <prefixes>
    <prefix>
      <identifier>http://d/</identifier>
    </prefix>
    <prefix>
      <name>y</name>
      <identifier>http://y/</identifier>
    </prefix>
  </prefixes>
  <index>cql.serverChoice</index>
  <relation>
    <value>=</value>
  </relation>
  <term>a\u{fffd}b</term>
</searchClause>
";
    assert_eq!(q.to_xcql(), expected);
}

// --- properties ---------------------------------------------------------------------------------

/// Token soup: strings made of CQL's own pieces, so the parser's deeper paths are reached far
/// more often than by arbitrary text.
fn cql_soup() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "a",
        "b",
        "dc.title",
        "x.y",
        "bath.isbn",
        "foo.bar",
        "(",
        ")",
        "a =",
        "dc.title any",
        "=",
        "==",
        "<",
        ">",
        "<=",
        ">=",
        "<>",
        "/",
        "and",
        "OR",
        "not",
        "prox",
        "sortby",
        "any",
        "all",
        "adj",
        "within",
        "\"",
        "\"q r\"",
        "\\",
        "*",
        "?",
        "^",
        "\\*",
        "\"x\\\"y\"",
        "relevant",
        "unit",
        "word",
        "1",
        "é",
        "> dc = \"u\"",
        "> \"d\"",
    ]);
    // Mostly spaced, sometimes glued: `dc.title="x"` is as valid as `dc.title = "x"`.
    let spaced = (piece, prop::sample::select(vec![" ", " ", " ", ""]));
    prop::collection::vec(spaced, 0..24)
        .prop_map(|pieces| pieces.into_iter().flat_map(|(piece, space)| [piece, space]).collect())
}

fn check_no_panic_and_round_trip(input: &str) -> Result<(), TestCaseError> {
    match parse(input) {
        Ok(query) => {
            let canonical = query.to_cql();
            let reparsed = parse(&canonical);
            prop_assert_eq!(reparsed.as_ref(), Ok(&query), "canonical form {:?}", canonical);
            let _ = validate(&query, &shelfmark_capabilities());
        }
        Err(error) => {
            prop_assert!(error.position <= input.chars().count());
            let diagnostic = error.diagnostic();
            prop_assert!(DiagnosticKind::from_number(diagnostic.number()).is_some());
            let _ = error.to_string();
        }
    }
    Ok(())
}

// The text of a search term, from units that never make an invalid term except through `^`
// (filtered by `Term::new`).
fn term_text() -> impl Strategy<Value = String> {
    let unit = prop::sample::select(vec![
        "a", "Z", "7", "é", " ", ".", "-", "\"", "(", ")", "=", "/", "<", ">", "\\*", "\\?", "\\^", "\\\\", "*", "?",
    ]);
    let body = prop::collection::vec(unit, 0..8).prop_map(|units| units.concat());
    let reserved = prop::sample::select(vec!["and", "OR", "Not", "prox", "sortby"]).prop_map(str::to_string);
    let text = prop_oneof![4 => body, 1 => reserved];
    (any::<bool>(), text, any::<bool>()).prop_map(|(open, text, close)| {
        format!("{}{text}{}", if open { "^" } else { "" }, if close { "^" } else { "" })
    })
}

fn term() -> impl Strategy<Value = Term> {
    term_text().prop_filter_map("invalid masking", |text| Term::new(text).ok())
}

fn comparator() -> impl Strategy<Value = Comparator> {
    use Comparator::*;
    prop::sample::select(vec![
        Eq,
        Exact,
        Lt,
        Gt,
        Le,
        Ge,
        Ne,
        Adj,
        All,
        Any,
        Within,
        Encloses,
        Named("exact".into()),
        Named("x.near".into()),
    ])
}

fn modifiers() -> impl Strategy<Value = Vec<Modifier>> {
    let name = prop::sample::select(vec!["relevant", "cql.stem", "rel.combine", "unit", "distance", "and", "a b"]);
    let symbol =
        prop::sample::select(vec![Comparator::Eq, Comparator::Exact, Comparator::Lt, Comparator::Ge, Comparator::Ne]);
    let value = prop::sample::select(vec!["sum", "3", "word", "a b", "\"", "or", ""]);
    let modifier = (name, prop::option::of((symbol, value)))
        .prop_map(|(name, value)| Modifier { name: name.into(), value: value.map(|(c, v)| (c, v.to_string())) });
    prop::collection::vec(modifier, 0..3)
}

/// An index with no context set yet: [`resolve`] fills it in.
fn index() -> impl Strategy<Value = (Option<String>, String)> {
    let prefix =
        prop::sample::select(vec![None, Some("dc"), Some("bath"), Some("cql"), Some("rec"), Some("x"), Some("X")]);
    let name = prop::sample::select(vec!["title", "creator", "serverChoice", "isbn", "id", "and", "with space"]);
    (prefix, name).prop_map(|(p, n)| (p.map(str::to_string), n.to_string()))
}

fn assignments() -> impl Strategy<Value = Vec<PrefixAssignment>> {
    let prefix = prop::sample::select(vec![None, Some("x"), Some("dc"), Some("y")]);
    let uri = prop::sample::select(vec!["http://example.org/1/", "info:srw/cql-context-set/1/dc-v1.1", "u"]);
    let assignment = (prefix, uri)
        .prop_map(|(prefix, uri)| PrefixAssignment { prefix: prefix.map(str::to_string), uri: uri.to_string() });
    prop::collection::vec(assignment, 1..3)
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        (index(), comparator(), modifiers(), term()).prop_map(|((prefix, name), comparator, modifiers, term)| {
            Node::Clause {
                index: Index::new(prefix.as_deref(), &name, ""),
                relation: Relation { comparator, modifiers },
                term,
            }
        }),
        // A bare term.
        term().prop_map(|term| Node::Clause {
            index: Index::new(Some("cql"), "serverChoice", ""),
            relation: Relation::new(Comparator::Eq),
            term,
        }),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        let op = prop::sample::select(vec![BooleanOp::And, BooleanOp::Or, BooleanOp::Not, BooleanOp::Prox]);
        prop_oneof![
            3 => (op, modifiers(), inner.clone(), inner.clone()).prop_map(|(op, modifiers, left, right)| {
                Node::Boolean { op, modifiers, left: Box::new(left), right: Box::new(right) }
            }),
            1 => (assignments(), inner).prop_map(|(prefixes, query)| Node::Scoped { prefixes, query: Box::new(query) }),
        ]
    })
}

/// Fills in context sets the way CQL scopes them, independently of the parser's own code.
fn resolve(node: &mut Node, scopes: &mut Vec<Vec<PrefixAssignment>>) {
    fn lookup(scopes: &[Vec<PrefixAssignment>], prefix: Option<&str>) -> String {
        let assigned = scopes.iter().flatten().rev().find(|a| match (prefix, a.prefix.as_deref()) {
            (Some(p), Some(q)) => p.eq_ignore_ascii_case(q),
            (None, None) => true,
            _ => false,
        });
        match (assigned, prefix) {
            (Some(a), _) => a.uri.clone(),
            (None, None) => CQL.to_string(),
            (None, Some(p)) => cql::known_context_set(p).expect("generated prefixes are known or assigned").to_string(),
        }
    }
    match node {
        Node::Boolean { left, right, .. } => {
            resolve(left, scopes);
            resolve(right, scopes);
        }
        Node::Clause { index, relation, .. } => {
            let bare = index.prefix() == Some("cql")
                && index.name() == "serverChoice"
                && *relation == Relation::new(Comparator::Eq);
            // A bare term is cql.serverChoice whatever the scope says.
            let set = if bare { CQL.to_string() } else { lookup(scopes, index.prefix()) };
            *index = Index::new(index.prefix(), index.name(), &set);
        }
        Node::Scoped { prefixes, query } => {
            scopes.push(prefixes.clone());
            resolve(query, scopes);
            scopes.pop();
        }
    }
}

fn query() -> impl Strategy<Value = Query> {
    let sort = prop::collection::vec((index(), modifiers()), 0..3);
    (assignments(), node(), sort).prop_map(|(mut prefixes, mut root, sort)| {
        // `x` is always assigned at the top so every generated index resolves.
        prefixes.insert(0, PrefixAssignment { prefix: Some("x".into()), uri: "http://example.org/x/".into() });
        let mut scopes = vec![prefixes.clone()];
        resolve(&mut root, &mut scopes);
        let sort = sort
            .into_iter()
            .map(|((prefix, name), modifiers)| {
                let mut node = Node::Clause {
                    index: Index::new(prefix.as_deref(), &name, ""),
                    relation: Relation::new(Comparator::Lt),
                    term: Term::literal(""),
                };
                resolve(&mut node, &mut scopes);
                let Node::Clause { index, .. } = node else { unreachable!() };
                SortKey { index, modifiers }
            })
            .collect();
        Query { prefixes, root, sort }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        check_no_panic_and_round_trip(&input)?;
    }

    #[test]
    fn cql_like_strings_never_panic_and_round_trip(input in cql_soup()) {
        check_no_panic_and_round_trip(&input)?;
    }

    #[test]
    fn generated_queries_round_trip(query in query()) {
        let cql = query.to_cql();
        let reparsed = parse(&cql);
        prop_assert_eq!(reparsed.as_ref(), Ok(&query), "{}", cql);
        let xcql = query.to_xcql();
        prop_assert!(xcql.starts_with('<') && xcql.ends_with(">\n"));
    }

    /// Near-valid input: a valid query with a piece cut out or something spliced in.
    #[test]
    fn damaged_queries_never_panic(
        query in query(),
        at in any::<prop::sample::Index>(),
        cut in 0usize..4,
        splice in prop::sample::select(vec!["", "(", ")", "\"", "\\", "/", ">", "=", "and", "^", " "]),
    ) {
        let chars: Vec<char> = query.to_cql().chars().collect();
        let at = at.index(chars.len() + 1);
        let end = (at + cut).min(chars.len());
        let damaged: String = chars[..at].iter().chain(splice.chars().collect::<Vec<_>>().iter()).chain(&chars[end..]).collect();
        check_no_panic_and_round_trip(&damaged)?;
    }
}
