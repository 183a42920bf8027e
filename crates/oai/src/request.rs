//! A harvester's request: the arguments of a GET query or a POST form, checked against the verb.
//!
//! What the protocol asks (OAI-PMH 2.0, section 3.1 and the verbs' argument tables):
//! - `verb` missing, repeated or unknown: `badVerb`.
//! - An argument the verb does not take, a required one missing, any argument repeated, or
//!   `resumptionToken` together with anything but the verb: `badArgument`.
//! - `from` / `until` not a legal datestamp, of different granularities, or `from` after
//!   `until`: `badArgument`.
//! - `identifier` must still be one of ours (`idDoesNotExist`) and `metadataPrefix` one we
//!   disseminate (`cannotDisseminateFormat`): those are checked when the request is answered, as
//!   the request itself is well-formed.

use crate::datestamp::Datestamp;
use crate::error::{ErrorCode, OaiError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Identify,
    ListMetadataFormats,
    ListSets,
    ListIdentifiers,
    ListRecords,
    GetRecord,
}

impl Verb {
    pub const ALL: [Verb; 6] = [
        Verb::Identify,
        Verb::ListMetadataFormats,
        Verb::ListSets,
        Verb::ListIdentifiers,
        Verb::ListRecords,
        Verb::GetRecord,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Identify => "Identify",
            Verb::ListMetadataFormats => "ListMetadataFormats",
            Verb::ListSets => "ListSets",
            Verb::ListIdentifiers => "ListIdentifiers",
            Verb::ListRecords => "ListRecords",
            Verb::GetRecord => "GetRecord",
        }
    }

    pub fn parse(s: &str) -> Option<Verb> {
        Verb::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// (argument, required) for every argument the verb takes besides `resumptionToken`.
    fn arguments(self) -> &'static [(&'static str, bool)] {
        match self {
            Verb::Identify | Verb::ListSets => &[],
            Verb::ListMetadataFormats => &[("identifier", false)],
            Verb::ListIdentifiers | Verb::ListRecords => {
                &[("metadataPrefix", true), ("from", false), ("until", false), ("set", false)]
            }
            Verb::GetRecord => &[("identifier", true), ("metadataPrefix", true)],
        }
    }

    fn takes_resumption_token(self) -> bool {
        matches!(self, Verb::ListSets | Verb::ListIdentifiers | Verb::ListRecords)
    }
}

/// The selection of a new list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListArguments {
    pub metadata_prefix: String,
    pub from: Option<Datestamp>,
    pub until: Option<Datestamp>,
    pub set: Option<String>,
}

/// A list request starts a list or continues one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListStart {
    New(ListArguments),
    Resume(String),
}

/// A well-formed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Identify,
    ListMetadataFormats { identifier: Option<String> },
    ListSets { resumption_token: Option<String> },
    ListIdentifiers(ListStart),
    ListRecords(ListStart),
    GetRecord { identifier: String, metadata_prefix: String },
}

impl Request {
    pub fn verb(&self) -> Verb {
        match self {
            Request::Identify => Verb::Identify,
            Request::ListMetadataFormats { .. } => Verb::ListMetadataFormats,
            Request::ListSets { .. } => Verb::ListSets,
            Request::ListIdentifiers(_) => Verb::ListIdentifiers,
            Request::ListRecords(_) => Verb::ListRecords,
            Request::GetRecord { .. } => Verb::GetRecord,
        }
    }
}

/// Parses and checks the arguments (in the order they came; names are case-sensitive).
/// The errors are every `badVerb` or `badArgument` found.
pub fn parse(arguments: &[(String, String)]) -> Result<Request, Vec<OaiError>> {
    let verbs: Vec<&str> = arguments.iter().filter(|(k, _)| k == "verb").map(|(_, v)| v.as_str()).collect();
    let verb = match verbs.as_slice() {
        [] => return Err(vec![OaiError::new(ErrorCode::BadVerb, "the verb argument is missing")]),
        [one] => Verb::parse(one)
            .ok_or_else(|| vec![OaiError::new(ErrorCode::BadVerb, format!("{one:?} is not an OAI-PMH verb"))])?,
        _ => return Err(vec![OaiError::new(ErrorCode::BadVerb, "the verb argument is repeated")]),
    };
    let mut errors = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (name, _) in arguments.iter().filter(|(k, _)| k != "verb") {
        let known = verb.arguments().iter().any(|(a, _)| a == name)
            || (name == "resumptionToken" && verb.takes_resumption_token());
        if !known {
            errors.push(OaiError::new(
                ErrorCode::BadArgument,
                format!("{} does not take the argument {name:?}", verb.as_str()),
            ));
        } else if seen.contains(&name.as_str()) {
            errors.push(OaiError::new(ErrorCode::BadArgument, format!("the argument {name} is repeated")));
        }
        seen.push(name);
    }
    let get = |name: &str| arguments.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let token = get("resumptionToken").filter(|_| verb.takes_resumption_token());
    if token.is_some() {
        if let Some(other) = seen.iter().find(|n| **n != "resumptionToken") {
            errors.push(OaiError::new(
                ErrorCode::BadArgument,
                format!("resumptionToken is an exclusive argument, but {other} was given too"),
            ));
        }
    } else {
        for (name, required) in verb.arguments() {
            if *required && get(name).is_none() {
                errors.push(OaiError::new(
                    ErrorCode::BadArgument,
                    format!("{} needs the argument {name}", verb.as_str()),
                ));
            }
        }
    }
    let mut datestamp = |name: &str| -> Option<Datestamp> {
        let value = get(name)?;
        let parsed = Datestamp::parse(&value);
        if parsed.is_none() {
            errors.push(OaiError::new(
                ErrorCode::BadArgument,
                format!("{name}={value:?} is not a datestamp (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)"),
            ));
        }
        parsed
    };
    let (from, until) = (datestamp("from"), datestamp("until"));
    if let (Some(f), Some(u)) = (from, until) {
        if f.granularity != u.granularity {
            errors.push(OaiError::new(ErrorCode::BadArgument, "from and until must have the same granularity"));
        } else if f.start > u.start {
            errors.push(OaiError::new(ErrorCode::BadArgument, "from is later than until"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let list = |token: Option<String>| match token {
        Some(t) => ListStart::Resume(t),
        None => ListStart::New(ListArguments {
            metadata_prefix: get("metadataPrefix").unwrap_or_default(),
            from,
            until,
            set: get("set"),
        }),
    };
    Ok(match verb {
        Verb::Identify => Request::Identify,
        Verb::ListMetadataFormats => Request::ListMetadataFormats { identifier: get("identifier") },
        Verb::ListSets => Request::ListSets { resumption_token: token },
        Verb::ListIdentifiers => Request::ListIdentifiers(list(token)),
        Verb::ListRecords => Request::ListRecords(list(token)),
        Verb::GetRecord => Request::GetRecord {
            identifier: get("identifier").unwrap_or_default(),
            metadata_prefix: get("metadataPrefix").unwrap_or_default(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn args(s: &str) -> Vec<(String, String)> {
        s.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_string(), v.to_string())
            })
            .collect()
    }

    fn ok(s: &str) -> Request {
        parse(&args(s)).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    /// The request is refused with exactly these codes.
    fn refused(s: &str, codes: &[ErrorCode]) {
        let errors = parse(&args(s)).err().unwrap_or_else(|| panic!("{s} was accepted"));
        let got: Vec<ErrorCode> = errors.iter().map(|e| e.code).collect();
        assert_eq!(got, codes, "{s}: {errors:?}");
        assert!(errors.iter().all(|e| !e.message.is_empty()));
    }

    use ErrorCode::{BadArgument as Arg, BadVerb};

    #[test]
    fn verbs() {
        refused("", &[BadVerb]);
        refused("metadataPrefix=oai_dc", &[BadVerb]);
        refused("verb=Frobnicate", &[BadVerb]);
        refused("verb=identify", &[BadVerb]);
        refused("verb=Identify&verb=Identify", &[BadVerb]);
        refused("verb=Identify&verb=ListSets", &[BadVerb]);
    }

    #[test]
    fn identify() {
        assert_eq!(ok("verb=Identify"), Request::Identify);
        refused("verb=Identify&metadataPrefix=oai_dc", &[Arg]);
        refused("verb=Identify&resumptionToken=x", &[Arg]);
    }

    #[test]
    fn list_metadata_formats() {
        assert_eq!(ok("verb=ListMetadataFormats"), Request::ListMetadataFormats { identifier: None });
        assert_eq!(
            ok("verb=ListMetadataFormats&identifier=oai:a.b:1"),
            Request::ListMetadataFormats { identifier: Some("oai:a.b:1".into()) }
        );
        refused("verb=ListMetadataFormats&identifier=a&identifier=b", &[Arg]);
        refused("verb=ListMetadataFormats&set=x", &[Arg]);
    }

    #[test]
    fn list_sets() {
        assert_eq!(ok("verb=ListSets"), Request::ListSets { resumption_token: None });
        assert_eq!(ok("verb=ListSets&resumptionToken=t"), Request::ListSets { resumption_token: Some("t".into()) });
        refused("verb=ListSets&set=branch", &[Arg]);
    }

    #[test]
    fn list_records_and_identifiers() {
        for verb in ["ListRecords", "ListIdentifiers"] {
            let r = ok(&format!("verb={verb}&metadataPrefix=oai_dc&from=2026-01-01&until=2026-01-31&set=branch:MAIN"));
            let ListStart::New(a) = (match r {
                Request::ListRecords(s) | Request::ListIdentifiers(s) => s,
                other => panic!("{other:?}"),
            }) else {
                panic!("not new")
            };
            assert_eq!(a.metadata_prefix, "oai_dc");
            assert_eq!(a.set.as_deref(), Some("branch:MAIN"));
            assert_eq!(a.from, Datestamp::parse("2026-01-01"));
            assert_eq!(a.until, Datestamp::parse("2026-01-31"));
            ok(&format!("verb={verb}&metadataPrefix=marc21&from=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00Z"));
            assert!(matches!(
                ok(&format!("verb={verb}&resumptionToken=abc")),
                Request::ListRecords(ListStart::Resume(_)) | Request::ListIdentifiers(ListStart::Resume(_))
            ));
            refused(&format!("verb={verb}"), &[Arg]);
            refused(&format!("verb={verb}&from=2026-01-01"), &[Arg]);
            refused(&format!("verb={verb}&metadataPrefix=oai_dc&metadataPrefix=marc21"), &[Arg]);
            refused(&format!("verb={verb}&metadataPrefix=oai_dc&resumptionToken=abc"), &[Arg]);
            refused(&format!("verb={verb}&metadataPrefix=oai_dc&from=2026-13-01"), &[Arg]);
            refused(&format!("verb={verb}&metadataPrefix=oai_dc&until=2026-01-01T10:00:00"), &[Arg]);
            refused(&format!("verb={verb}&metadataPrefix=oai_dc&from=2026-02-01&until=2026-01-01"), &[Arg]);
            refused(&format!("verb={verb}&metadataPrefix=oai_dc&from=2026-01-01&until=2026-02-01T00:00:00Z"), &[Arg]);
            refused(&format!("verb={verb}&metadataPrefix=oai_dc&identifier=x"), &[Arg]);
            refused(&format!("verb={verb}&metadataPrefix=oai_dc&Set=x"), &[Arg]);
            // Every problem is reported, not only the first.
            refused(&format!("verb={verb}&from=x&bogus=1"), &[Arg, Arg, Arg]);
        }
    }

    #[test]
    fn get_record() {
        assert_eq!(
            ok("verb=GetRecord&identifier=oai:a.b:1&metadataPrefix=marc21"),
            Request::GetRecord { identifier: "oai:a.b:1".into(), metadata_prefix: "marc21".into() }
        );
        refused("verb=GetRecord&identifier=oai:a.b:1", &[Arg]);
        refused("verb=GetRecord&metadataPrefix=oai_dc", &[Arg]);
        refused("verb=GetRecord", &[Arg, Arg]);
        refused("verb=GetRecord&identifier=oai:a.b:1&metadataPrefix=oai_dc&resumptionToken=x", &[Arg]);
        refused("verb=GetRecord&identifier=oai:a.b:1&metadataPrefix=oai_dc&from=2026-01-01", &[Arg]);
    }

    proptest! {
        #[test]
        fn never_panics(pairs in proptest::collection::vec(("[a-zA-Z]{0,16}", "\\PC{0,24}"), 0..6), verb in 0usize..7) {
            let mut arguments: Vec<(String, String)> = pairs;
            if let Some(v) = Verb::ALL.get(verb) {
                arguments.push(("verb".into(), v.as_str().into()));
            }
            if let Ok(request) = parse(&arguments) {
                prop_assert_eq!(Some(request.verb()), Verb::ALL.get(verb).copied());
            }
        }
    }
}
