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
///
/// Z39.50 targets are refused here until the `z3950` crate's client is wired in: this match arm
/// is where an adapter from [`CopyQuery`] to `z3950::Query` and from its `PresentedRecord`s to
/// [`RawRecord::Iso2709`] / [`RawRecord::Diagnostic`] goes.
pub fn source_for(target: &Target) -> Result<Box<dyn Source>, CopycatError> {
    match &target.endpoint {
        Endpoint::Sru { .. } => Ok(Box::new(SruSource::new(target)?)),
        Endpoint::Z3950 { .. } => Err(CopycatError::Unsupported("Z39.50 targets need the z3950 crate".into())),
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
