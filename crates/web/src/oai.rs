//! `/oai`: the OAI-PMH 2.0 provider, GET and POST, public (no login). The protocol lives in the
//! `oai` crate; this module reads the arguments, runs `oai::respond` on a blocking thread over
//! the database ([`DbStore`]) and sends the XML (HTTP 200, also for protocol errors).
//!
//! The token key is drawn at random the first time and kept in the database's settings, so
//! resumption tokens outlive a restart (and work on every server of one database).

use crate::{ApiError, AppState};
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use oai::{Entry, ListQuery, Page, Position, SetInfo, SetSpec};
use serde::{Deserialize, Serialize};
use storage::oai::{OaiPosition, OaiQuery, OaiRecord, OaiSet};
use storage::{Database, StorageError};

/// The `[oai]` settings: who the repository says it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OaiConfig {
    /// `repositoryName` in Identify; the library's name when absent.
    pub repository_name: Option<String>,
    /// The repository identifier in `oai:<repository_id>:<record id>`: a domain name the
    /// library controls, so identifiers are unique across repositories.
    pub repository_id: String,
    /// `adminEmail` in Identify.
    pub admin_email: String,
    /// The public URL of `/oai` (behind a proxy); else `http://<Host header>/oai`.
    pub base_url: Option<String>,
    /// Records per ListRecords / ListIdentifiers response.
    pub page_size: u32,
}

impl Default for OaiConfig {
    fn default() -> Self {
        OaiConfig {
            repository_name: None,
            repository_id: "shelfmark.localhost".to_string(),
            admin_email: "librarian@localhost".to_string(),
            base_url: None,
            page_size: 100,
        }
    }
}

impl OaiConfig {
    /// Refuses settings a harvester could not use, naming the field.
    pub fn check(&self) -> Result<(), String> {
        if !oai::sets::valid_repository_id(&self.repository_id) {
            return Err(format!(
                "repository_id {:?} must be a domain name (letters, digits and '-' in two or more dot-separated labels)",
                self.repository_id
            ));
        }
        if !self.admin_email.contains('@') {
            return Err(format!("admin_email {:?} is not an email address", self.admin_email));
        }
        if !(1..=1000).contains(&self.page_size) {
            return Err(format!("page_size {} must be between 1 and 1000", self.page_size));
        }
        Ok(())
    }
}

/// The provider's view of the database.
struct DbStore<'a>(&'a dyn Database);

fn storage_set(set: &SetSpec) -> OaiSet {
    match set {
        SetSpec::Branches => OaiSet::AnyBranch,
        SetSpec::Branch(code) => OaiSet::Branch(code.clone()),
        SetSpec::Collections => OaiSet::AnyLocation,
        SetSpec::Collection(code) => OaiSet::Location(code.clone()),
    }
}

fn entry(r: OaiRecord) -> Entry {
    let sets = r.branches.into_iter().map(SetSpec::Branch).chain(r.locations.into_iter().map(SetSpec::Collection));
    Entry { id: r.id, datestamp: r.datestamp, deleted: r.deleted, marc: r.marc, sets: sets.collect() }
}

impl oai::Store for DbStore<'_> {
    type Error = StorageError;

    fn earliest_datestamp(&self) -> Result<Option<DateTime<Utc>>, StorageError> {
        self.0.oai_earliest_datestamp()
    }

    fn sets(&self) -> Result<Vec<SetInfo>, StorageError> {
        let branches = self.0.branches()?;
        let locations = self.0.locations()?;
        let branch_sets =
            branches.into_iter().map(|b| SetInfo { spec: SetSpec::Branch(b.code.as_str().to_string()), name: b.name });
        let location_sets = locations
            .into_iter()
            .map(|l| SetInfo { spec: SetSpec::Collection(l.code.as_str().to_string()), name: l.name });
        Ok(branch_sets.chain(location_sets).collect())
    }

    fn page(
        &self,
        query: &ListQuery,
        after: Option<Position>,
        limit: u32,
        count: bool,
        metadata: bool,
    ) -> Result<Page, StorageError> {
        let q = OaiQuery { from: query.from, before: query.before, set: query.set.as_ref().map(storage_set) };
        let after = after.map(|p| OaiPosition { datestamp: p.datestamp, id: p.id });
        let page = self.0.oai_page(&q, after.as_ref(), limit, count, metadata)?;
        Ok(Page { entries: page.records.into_iter().map(entry).collect(), complete_list_size: page.total })
    }

    fn entry(&self, id: i64) -> Result<Option<Entry>, StorageError> {
        Ok(self.0.oai_record(id)?.map(entry))
    }
}

pub(crate) async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    answer(state, &headers, query.map(|q| q.0).map_err(|e| e.body_text())).await
}

pub(crate) async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, ApiError> {
    answer(state, &headers, form.map(|f| f.0).map_err(|e| e.body_text())).await
}

async fn answer(
    state: AppState,
    headers: &HeaderMap,
    arguments: Result<Vec<(String, String)>, String>,
) -> Result<Response, ApiError> {
    let config = &state.config;
    let base_url = config.oai.base_url.clone().unwrap_or_else(|| {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        format!("http://{host}/oai")
    });
    let mut repository = oai::Repository {
        name: config.oai.repository_name.clone().unwrap_or_else(|| config.library_name.clone()),
        base_url,
        repository_id: config.oai.repository_id.clone(),
        admin_emails: vec![config.oai.admin_email.clone()],
        page_size: config.oai.page_size,
        token_key: Vec::new(),
    };
    let key_cell = state.oai_key.clone();
    let body = state
        .db(move |db| {
            repository.token_key = match key_cell.get() {
                Some(key) => key.clone(),
                None => {
                    let key = token_key(db)?;
                    key_cell.get_or_init(|| key).clone()
                }
            };
            let now = Utc::now();
            match arguments {
                Ok(arguments) => oai::respond(&repository, &DbStore(db), &arguments, now).map_err(ApiError::internal),
                Err(problem) => Ok(oai::malformed(&repository, &problem, now)),
            }
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response())
}

/// The stored token key, or a new random one stored now.
fn token_key(db: &dyn Database) -> Result<Vec<u8>, ApiError> {
    let mut fresh = [0u8; 32];
    getrandom::fill(&mut fresh).map_err(ApiError::internal)?;
    let candidate: String = fresh.iter().map(|b| format!("{b:02x}")).collect();
    Ok(db.oai_token_key(&candidate)?.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_checks() {
        assert_eq!(OaiConfig::default().check(), Ok(()));
        let bad_id = OaiConfig { repository_id: "my library".into(), ..OaiConfig::default() };
        assert!(bad_id.check().expect_err("refused").contains("repository_id"));
        let bad_mail = OaiConfig { admin_email: "nobody".into(), ..OaiConfig::default() };
        assert!(bad_mail.check().expect_err("refused").contains("admin_email"));
        let bad_page = OaiConfig { page_size: 0, ..OaiConfig::default() };
        assert!(bad_page.check().expect_err("refused").contains("page_size"));
    }
}
