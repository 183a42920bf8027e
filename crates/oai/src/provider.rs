//! Answering a request: the verbs over a [`Store`], written as OAI-PMH XML.

use crate::datestamp;
use crate::error::{ErrorCode, OaiError};
use crate::request::{self, ListArguments, ListStart, Request};
use crate::sets::{identifier, parse_identifier, SetSpec};
use crate::token::{ListVerb, Position, Resumption};
use catalog::dublin_core::{dublin_core, write_dc_xml, OAI_DC, OAI_DC_NAMESPACE};
use chrono::{DateTime, Utc};

pub const OAI_NAMESPACE: &str = "http://www.openarchives.org/OAI/2.0/";
pub const MARCXML_NAMESPACE: &str = "http://www.loc.gov/MARC21/slim";

/// A metadata format this repository disseminates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataFormat {
    pub prefix: &'static str,
    pub schema: &'static str,
    pub namespace: &'static str,
}

/// Unqualified Dublin Core (the LC crosswalk, `catalog::dublin_core`) and the full record as
/// MARCXML.
pub const FORMATS: [MetadataFormat; 2] = [
    MetadataFormat {
        prefix: "oai_dc",
        schema: "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
        namespace: OAI_DC_NAMESPACE,
    },
    MetadataFormat {
        prefix: "marc21",
        schema: "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
        namespace: MARCXML_NAMESPACE,
    },
];

/// Who this repository is (Identify) and how it pages.
#[derive(Debug, Clone)]
pub struct Repository {
    pub name: String,
    /// The URL harvesters send requests to, echoed in every response.
    pub base_url: String,
    /// The `oai-identifier` repository identifier (a domain name).
    pub repository_id: String,
    pub admin_emails: Vec<String>,
    /// Records (or headers) per list response.
    pub page_size: u32,
    /// The key resumption tokens are signed with; it must outlive restarts for tokens to.
    pub token_key: Vec<u8>,
}

/// A record as a list or GetRecord sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    /// The last change (or the deletion), at the precision stored: it orders lists and is
    /// written cut to seconds.
    pub datestamp: DateTime<Utc>,
    pub deleted: bool,
    /// The ISO 2709 record; `None` for a deleted record or when metadata was not asked for.
    pub marc: Option<Vec<u8>>,
    /// The leaf sets it belongs to.
    pub sets: Vec<SetSpec>,
}

/// Which records a list selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Datestamp at or after.
    pub from: Option<DateTime<Utc>>,
    /// Datestamp strictly before.
    pub before: Option<DateTime<Utc>>,
    pub set: Option<SetSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// In (datestamp, id) order.
    pub entries: Vec<Entry>,
    /// The number of records the query selects in all, when it was asked for.
    pub complete_list_size: Option<u64>,
}

/// A leaf set: a branch or a shelving location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetInfo {
    pub spec: SetSpec,
    pub name: String,
}

/// What the provider reads. Each method should be one read transaction.
pub trait Store {
    type Error;
    /// The oldest datestamp of any record or tombstone.
    fn earliest_datestamp(&self) -> Result<Option<DateTime<Utc>>, Self::Error>;
    /// Every leaf set (branches and shelving locations).
    fn sets(&self) -> Result<Vec<SetInfo>, Self::Error>;
    /// The records and tombstones the query selects, in (datestamp, id) order, after `after`,
    /// at most `limit`; with the MARC of live records when `metadata`, and the complete count
    /// when `count`.
    fn page(
        &self,
        query: &ListQuery,
        after: Option<Position>,
        limit: u32,
        count: bool,
        metadata: bool,
    ) -> Result<Page, Self::Error>;
    /// One record or tombstone, with its MARC.
    fn entry(&self, id: i64) -> Result<Option<Entry>, Self::Error>;
}

/// Why a response could not be written: the store failed, or a stored record cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError<E: std::fmt::Display> {
    #[error("{0}")]
    Store(E),
    #[error("stored record {id} cannot be read: {problem}")]
    Corrupt { id: i64, problem: String },
}

/// Answers one request (its arguments in the order they came) with the XML document to send
/// (HTTP 200, `text/xml`, also for protocol errors).
pub fn respond<S: Store>(
    repository: &Repository,
    store: &S,
    arguments: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<String, ProviderError<S::Error>>
where
    S::Error: std::fmt::Display,
{
    let mut out = String::with_capacity(16 * 1024);
    let request = match request::parse(arguments) {
        Ok(r) => r,
        Err(errors) => {
            // After badVerb or badArgument the request element carries no attributes.
            begin(&mut out, repository, now, None);
            return Ok(finish_with_errors(out, &errors));
        }
    };
    let mut echo: Vec<(&str, &str)> = Vec::new();
    echo.push(("verb", request.verb().as_str()));
    echo.extend(arguments.iter().filter(|(k, _)| k != "verb").map(|(k, v)| (k.as_str(), v.as_str())));
    begin(&mut out, repository, now, Some(&echo));
    let answer = Answer { repository, store, now };
    let result = match &request {
        Request::Identify => answer.identify(&mut out),
        Request::ListMetadataFormats { identifier } => answer.list_metadata_formats(&mut out, identifier.as_deref()),
        Request::ListSets { resumption_token } => answer.list_sets(&mut out, resumption_token.is_some()),
        Request::ListIdentifiers(start) => answer.list(&mut out, ListVerb::ListIdentifiers, start),
        Request::ListRecords(start) => answer.list(&mut out, ListVerb::ListRecords, start),
        Request::GetRecord { identifier, metadata_prefix } => answer.get_record(&mut out, identifier, metadata_prefix),
    }?;
    match result {
        Ok(()) => {
            out.push_str("</OAI-PMH>\n");
            Ok(out)
        }
        Err(errors) => {
            // Drop whatever the verb began to write; keep the envelope.
            out.truncate(out.find("</request>").map(|i| i + "</request>".len()).unwrap_or(out.len()));
            out.push('\n');
            Ok(finish_with_errors(out, &errors))
        }
    }
}

/// The answer to a request whose arguments could not even be decoded (bad percent-encoding,
/// a body that is not a form): `badArgument`, naming the problem.
pub fn malformed(repository: &Repository, problem: &str, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    begin(&mut out, repository, now, None);
    finish_with_errors(out, &[OaiError::new(ErrorCode::BadArgument, format!("the request cannot be read: {problem}"))])
}

type Outcome<E> = Result<Result<(), Vec<OaiError>>, ProviderError<E>>;

struct Answer<'a, S> {
    repository: &'a Repository,
    store: &'a S,
    now: DateTime<Utc>,
}

fn refuse<E: std::fmt::Display>(code: ErrorCode, message: impl Into<String>) -> Outcome<E> {
    Ok(Err(vec![OaiError::new(code, message)]))
}

impl<S: Store> Answer<'_, S>
where
    S::Error: std::fmt::Display,
{
    fn identify(&self, out: &mut String) -> Outcome<S::Error> {
        let earliest = self.store.earliest_datestamp().map_err(ProviderError::Store)?.unwrap_or(self.now);
        let r = self.repository;
        out.push_str("<Identify>\n");
        element(out, "repositoryName", &r.name);
        element(out, "baseURL", &r.base_url);
        element(out, "protocolVersion", "2.0");
        for email in &r.admin_emails {
            element(out, "adminEmail", email);
        }
        element(out, "earliestDatestamp", &datestamp::format(earliest));
        element(out, "deletedRecord", "persistent");
        element(out, "granularity", "YYYY-MM-DDThh:mm:ssZ");
        out.push_str(
            "<description><oai-identifier xmlns=\"http://www.openarchives.org/OAI/2.0/oai-identifier\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"\
             http://www.openarchives.org/OAI/2.0/oai-identifier http://www.openarchives.org/OAI/2.0/oai-identifier.xsd\">\n",
        );
        element(out, "scheme", "oai");
        element(out, "repositoryIdentifier", &r.repository_id);
        element(out, "delimiter", ":");
        element(out, "sampleIdentifier", &identifier(&r.repository_id, 1));
        out.push_str("</oai-identifier></description>\n</Identify>\n");
        Ok(Ok(()))
    }

    fn list_metadata_formats(&self, out: &mut String, id: Option<&str>) -> Outcome<S::Error> {
        if let Some(id) = id {
            match self.lookup(id)? {
                None => {
                    return refuse(ErrorCode::IdDoesNotExist, format!("{id} is not an identifier of this repository"))
                }
                Some(e) if e.deleted => {
                    return refuse(ErrorCode::NoMetadataFormats, format!("{id} was deleted: it has no metadata left"))
                }
                Some(_) => {}
            }
        }
        out.push_str("<ListMetadataFormats>\n");
        for f in FORMATS {
            out.push_str("<metadataFormat>");
            element(out, "metadataPrefix", f.prefix);
            element(out, "schema", f.schema);
            element(out, "metadataNamespace", f.namespace);
            out.push_str("</metadataFormat>\n");
        }
        out.push_str("</ListMetadataFormats>\n");
        Ok(Ok(()))
    }

    fn list_sets(&self, out: &mut String, token: bool) -> Outcome<S::Error> {
        if token {
            return refuse(
                ErrorCode::BadResumptionToken,
                "this repository lists its sets in one response and issues no ListSets tokens",
            );
        }
        let sets = self.store.sets().map_err(ProviderError::Store)?;
        if sets.is_empty() {
            return refuse(ErrorCode::NoSetHierarchy, "this library has no branches or shelving locations yet");
        }
        out.push_str("<ListSets>\n");
        for (parent, name) in
            [(SetSpec::Branches, "Branches"), (SetSpec::Collections, "Collections (shelving locations)")]
        {
            let children: Vec<&SetInfo> = sets.iter().filter(|s| s.spec.parent().as_ref() == Some(&parent)).collect();
            if children.is_empty() {
                continue;
            }
            set_element(out, &parent.spec(), name);
            for child in children {
                set_element(out, &child.spec.spec(), &child.name);
            }
        }
        out.push_str("</ListSets>\n");
        Ok(Ok(()))
    }

    fn get_record(&self, out: &mut String, id: &str, prefix: &str) -> Outcome<S::Error> {
        let Some(entry) = self.lookup(id)? else {
            return refuse(ErrorCode::IdDoesNotExist, format!("{id} is not an identifier of this repository"));
        };
        let Some(format) = format_of(prefix) else {
            return refuse(ErrorCode::CannotDisseminateFormat, cannot_disseminate(prefix));
        };
        out.push_str("<GetRecord>\n");
        self.record(out, &entry, Some(format))?;
        out.push_str("</GetRecord>\n");
        Ok(Ok(()))
    }

    fn list(&self, out: &mut String, verb: ListVerb, start: &ListStart) -> Outcome<S::Error> {
        let state = match start {
            ListStart::New(arguments) => match self.start_list(verb, arguments)? {
                Ok(state) => state,
                Err(errors) => return Ok(Err(errors)),
            },
            ListStart::Resume(token) => match Resumption::decode(token, &self.repository.token_key) {
                Some(state) if state.verb == verb => state,
                Some(_) => {
                    return refuse(
                        ErrorCode::BadResumptionToken,
                        format!("the resumption token continues another verb, not {}", verb.as_str()),
                    )
                }
                None => {
                    return refuse(
                        ErrorCode::BadResumptionToken,
                        "the resumption token is not one this repository issued (or it was altered)",
                    )
                }
            },
        };
        let Some(format) = format_of(&state.metadata_prefix) else {
            return refuse(ErrorCode::BadResumptionToken, "the resumption token names an unknown metadata format");
        };
        let set = match &state.set {
            None => None,
            Some(s) => match SetSpec::parse(s) {
                Some(set) => Some(set),
                None => return refuse(ErrorCode::NoRecordsMatch, format!("there is no set {s:?} (see ListSets)")),
            },
        };
        let query = ListQuery { from: state.from, before: state.before, set };
        let first = matches!(start, ListStart::New(_));
        let after = (!first).then_some(state.after);
        let limit = self.repository.page_size.max(1);
        let metadata = verb == ListVerb::ListRecords;
        let page =
            self.store.page(&query, after, limit.saturating_add(1), first, metadata).map_err(ProviderError::Store)?;
        let mut entries = page.entries;
        if entries.is_empty() {
            return refuse(ErrorCode::NoRecordsMatch, "no records match the request");
        }
        let more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        let total = page.complete_list_size.unwrap_or(state.complete_list_size);
        out.push('<');
        out.push_str(verb.as_str());
        out.push_str(">\n");
        for entry in &entries {
            if metadata {
                self.record(out, entry, Some(format))?;
            } else {
                header(out, &self.repository.repository_id, entry);
            }
        }
        if more || !first {
            let cursor = if first { 0 } else { state.cursor };
            out.push_str(&format!("<resumptionToken completeListSize=\"{total}\" cursor=\"{cursor}\">"));
            if more {
                let last = entries.last().map(|e| Position { datestamp: e.datestamp, id: e.id }).unwrap_or(state.after);
                let next = Resumption {
                    after: last,
                    cursor: cursor + entries.len() as u64,
                    complete_list_size: total,
                    ..state.clone()
                };
                out.push_str(&next.encode(&self.repository.token_key));
            }
            out.push_str("</resumptionToken>\n");
        }
        out.push_str("</");
        out.push_str(verb.as_str());
        out.push_str(">\n");
        Ok(Ok(()))
    }

    fn start_list(
        &self,
        verb: ListVerb,
        a: &ListArguments,
    ) -> Result<Result<Resumption, Vec<OaiError>>, ProviderError<S::Error>> {
        if format_of(&a.metadata_prefix).is_none() {
            return Ok(Err(vec![OaiError::new(
                ErrorCode::CannotDisseminateFormat,
                cannot_disseminate(&a.metadata_prefix),
            )]));
        }
        if a.set.is_some() && self.store.sets().map_err(ProviderError::Store)?.is_empty() {
            return Ok(Err(vec![OaiError::new(
                ErrorCode::NoSetHierarchy,
                "this library has no branches or shelving locations yet",
            )]));
        }
        Ok(Ok(Resumption {
            verb,
            metadata_prefix: a.metadata_prefix.clone(),
            set: a.set.clone(),
            from: a.from.map(|f| f.start),
            before: a.until.map(|u| u.end()),
            after: Position { datestamp: DateTime::<Utc>::UNIX_EPOCH, id: 0 },
            cursor: 0,
            complete_list_size: 0,
        }))
    }

    fn lookup(&self, id: &str) -> Result<Option<Entry>, ProviderError<S::Error>> {
        match parse_identifier(&self.repository.repository_id, id) {
            Some(n) => self.store.entry(n).map_err(ProviderError::Store),
            None => Ok(None),
        }
    }

    fn record(
        &self,
        out: &mut String,
        entry: &Entry,
        format: Option<MetadataFormat>,
    ) -> Result<(), ProviderError<S::Error>> {
        out.push_str("<record>");
        header(out, &self.repository.repository_id, entry);
        if let (false, Some(format), Some(marc)) = (entry.deleted, format, &entry.marc) {
            let (record, _) = marc::parse_record(marc, &marc::ReadOptions::default())
                .map_err(|p| ProviderError::Corrupt { id: entry.id, problem: p.to_string() })?;
            out.push_str("<metadata>");
            if format.prefix == "oai_dc" {
                write_dc_xml(out, OAI_DC, &dublin_core(&record));
            } else {
                out.push_str(marc::to_marcxml(&record).trim_end());
            }
            out.push_str("</metadata>");
        }
        out.push_str("</record>\n");
        Ok(())
    }
}

fn format_of(prefix: &str) -> Option<MetadataFormat> {
    FORMATS.into_iter().find(|f| f.prefix == prefix)
}

fn cannot_disseminate(prefix: &str) -> String {
    format!("the metadata format {prefix:?} is not disseminated here (oai_dc, marc21)")
}

fn header(out: &mut String, repository_id: &str, entry: &Entry) {
    out.push_str(if entry.deleted { "<header status=\"deleted\">" } else { "<header>" });
    element(out, "identifier", &identifier(repository_id, entry.id));
    element(out, "datestamp", &datestamp::format(entry.datestamp));
    for set in &entry.sets {
        element(out, "setSpec", &set.spec());
    }
    out.push_str("</header>");
}

fn set_element(out: &mut String, spec: &str, name: &str) {
    out.push_str("<set>");
    element(out, "setSpec", spec);
    element(out, "setName", name);
    out.push_str("</set>\n");
}

fn begin(out: &mut String, repository: &Repository, now: DateTime<Utc>, echo: Option<&[(&str, &str)]>) {
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OAI-PMH xmlns=\"");
    out.push_str(OAI_NAMESPACE);
    out.push_str(
        "\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"\
         http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd\">\n",
    );
    element(out, "responseDate", &datestamp::format(now));
    out.push_str("<request");
    for (name, value) in echo.unwrap_or_default() {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        escape_attribute(out, value);
        out.push('"');
    }
    out.push('>');
    marc::xml::escape_text(out, &repository.base_url);
    out.push_str("</request>\n");
}

fn finish_with_errors(mut out: String, errors: &[OaiError]) -> String {
    for e in errors {
        out.push_str("<error code=\"");
        out.push_str(e.code.as_str());
        out.push_str("\">");
        marc::xml::escape_text(&mut out, &e.message);
        out.push_str("</error>\n");
    }
    out.push_str("</OAI-PMH>\n");
    out
}

fn element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    marc::xml::escape_text(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

fn escape_attribute(out: &mut String, s: &str) {
    let mut text = String::new();
    marc::xml::escape_text(&mut text, s);
    for c in text.chars() {
        match c {
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            c => out.push(c),
        }
    }
}
