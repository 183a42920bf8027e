//! Where candidate records come from: the [`Source`] trait, SRU over HTTP, and [`source_for`],
//! the one place that picks the implementation for a target's kind.

use std::io::Read;

use crate::settings::{Endpoint, Target};
use crate::{sru, CopyQuery, CopycatError, RawRecord};

/// A copy-cataloging target as something to search: at most `max` records for `query`.
pub trait Source: Send + Sync {
    fn search(&self, query: &CopyQuery, max: usize) -> Result<Found, CopycatError>;
}

/// What a target answered: how many records match in all, and the first of them as it sent them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub hits: u64,
    pub records: Vec<RawRecord>,
}

/// The source that searches `target`.
pub fn source_for(target: &Target) -> Result<Box<dyn Source>, CopycatError> {
    match &target.endpoint {
        Endpoint::Sru { .. } => Ok(Box::new(SruSource::new(target)?)),
        Endpoint::Z3950 { .. } => Ok(Box::new(Z3950Source { target: target.clone() })),
    }
}

/// A Z39.50 target: one association per search (Init, Search, Present, Close), as the
/// `z3950` crate's blocking client speaks it, within the target's timeout.
pub struct Z3950Source {
    target: Target,
}

impl Source for Z3950Source {
    fn search(&self, query: &CopyQuery, max: usize) -> Result<Found, CopycatError> {
        let Endpoint::Z3950 { host, port, database } = &self.target.endpoint else {
            return Err(CopycatError::Unsupported("a Z39.50 source for a target that is not Z39.50".into()));
        };
        let location = self.target.endpoint.location();
        let failed = |e: z3950::Error| z3950_error(e, &self.target);
        let options = z3950::ClientOptions {
            timeout: self.target.timeout,
            user: self.target.credentials.as_ref().map(|c| c.user.clone()),
            password: self.target.credentials.as_ref().map(|c| c.password.clone()),
            ..Default::default()
        };
        let mut client = z3950::Client::connect(&format!("{host}:{port}"), database, &options).map_err(failed)?;
        let hits = client.search(&bib1_query(query)).map_err(failed)?;
        let wanted = hits.min(max as u64);
        let presented = if wanted == 0 { Vec::new() } else { client.present(1, wanted).map_err(failed)? };
        // The records are in hand: a target that closes rudely changes nothing.
        let _ = client.close();
        let records = presented
            .into_iter()
            .map(|r| match r {
                z3950::PresentedRecord::Marc(bytes) => RawRecord::Iso2709(bytes),
                z3950::PresentedRecord::Diagnostic { code, message, addinfo } => RawRecord::Diagnostic(format!(
                    "{location}: Bib-1 diagnostic {code}: {message}{}",
                    addinfo.map(|a| format!(" ({a})")).unwrap_or_default()
                )),
            })
            .collect();
        Ok(Found { hits, records })
    }
}

/// The query in Bib-1: identifiers as given (an ISBN in both its forms), and title, author and
/// keywords as every word (as the SRU mapping's `all`), so word order and punctuation in what
/// staff type do not matter.
pub(crate) fn bib1_query(query: &CopyQuery) -> z3950::Query {
    use z3950::Query;
    let all_words = |words: &str, each: fn(&str) -> Query| {
        words
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .map(each)
            .reduce(|a, b| Query::And(Box::new(a), Box::new(b)))
            .unwrap_or_else(|| each(words))
    };
    match query {
        CopyQuery::Isbn(isbn) => match isbn.to_isbn10() {
            Some(ten) => Query::Or(Box::new(Query::isbn(isbn.as_isbn13())), Box::new(Query::isbn(&ten))),
            None => Query::isbn(isbn.as_isbn13()),
        },
        CopyQuery::Issn(issn) => Query::issn(issn.as_str()),
        CopyQuery::Lccn(lccn) => Query::lccn(lccn.as_str()),
        CopyQuery::Title(t) => all_words(t, Query::title),
        CopyQuery::Author(a) => all_words(a, Query::author),
        CopyQuery::Keywords(k) => all_words(k, Query::any),
    }
}

fn z3950_error(e: z3950::Error, target: &Target) -> CopycatError {
    let location = target.endpoint.location();
    match e {
        z3950::Error::Timeout { .. } => CopycatError::Timeout { seconds: target.timeout.as_secs(), location },
        z3950::Error::Diagnostic { code, message, addinfo } => CopycatError::Bib1Diagnostic { code, message, addinfo },
        other => CopycatError::Connection(format!("{location}: {other}")),
    }
}

/// An SRU target over HTTP (reqwest's blocking client, with the target's timeout).
pub struct SruSource {
    target: Target,
    client: reqwest::blocking::Client,
}

/// Responses larger than this are refused rather than read into memory: a search asks for a
/// handful of records, so a bigger answer is a misconfigured target.
const MAX_RESPONSE_BYTES: u64 = 32 << 20;

impl SruSource {
    pub fn new(target: &Target) -> Result<SruSource, CopycatError> {
        let client = reqwest::blocking::Client::builder()
            .timeout(target.timeout)
            .connect_timeout(target.timeout)
            .user_agent(concat!("Shelfmark/", env!("CARGO_PKG_VERSION"), " copy cataloging"))
            .build()
            .map_err(|e| CopycatError::Connection(format!("cannot make an HTTP client: {e}")))?;
        Ok(SruSource { target: target.clone(), client })
    }
}

impl Source for SruSource {
    fn search(&self, query: &CopyQuery, max: usize) -> Result<Found, CopycatError> {
        let Endpoint::Sru { url, version, packing } = &self.target.endpoint else {
            return Err(CopycatError::Unsupported("an SRU source for a target that is not SRU".into()));
        };
        let url = sru::search_url(url, *version, *packing, &self.target.record_schema, &query.to_cql(), max)?;
        let mut request = self.client.get(url.clone());
        if let Some(c) = &self.target.credentials {
            request = request.basic_auth(&c.user, Some(&c.password));
        }
        let response = request.send().map_err(|e| http_error(&e, &self.target))?;
        let status = response.status();
        let mut body = Vec::new();
        response
            .take(MAX_RESPONSE_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| CopycatError::Connection(format!("reading the response from {url}: {e}")))?;
        if body.len() as u64 > MAX_RESPONSE_BYTES {
            return Err(CopycatError::Response(format!("the response is larger than {MAX_RESPONSE_BYTES} bytes")));
        }
        // SRU servers answer diagnostics with 200, but some send them with an error status:
        // read the body first, and fall back on the status when it is not an SRU response.
        match sru::read_response(&body) {
            Ok(r) => Ok(Found { hits: r.hits, records: r.records }),
            Err(e @ CopycatError::Diagnostic { .. }) => Err(e),
            Err(e) if !status.is_success() => {
                let start: String = String::from_utf8_lossy(&body).chars().take(200).collect();
                Err(CopycatError::Http { status: status.as_u16(), detail: format!("{e}; the body starts {start:?}") })
            }
            Err(e) => Err(e),
        }
    }
}

fn http_error(e: &reqwest::Error, target: &Target) -> CopycatError {
    let location = target.endpoint.location();
    if e.is_timeout() {
        return CopycatError::Timeout { seconds: target.timeout.as_secs(), location };
    }
    // reqwest's own message is "error sending request"; the cause says what happened.
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason = s.to_string();
        source = s.source();
    }
    CopycatError::Connection(format!("cannot reach {location}: {reason}"))
}
