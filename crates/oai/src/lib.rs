//! The OAI-PMH 2.0 provider (<https://www.openarchives.org/OAI/openarchivesprotocol.html>) as pure
//! logic: [`respond`] takes a request's arguments, the repository's description, a [`Store`] to
//! read records from and the time, and gives back the XML document to send. The HTTP edge
//! (`web/src/oai.rs`) implements [`Store`] over the database and does nothing else.
//!
//! - Verbs and their arguments: [`request`] (every `badVerb` / `badArgument` rule).
//! - Identifiers `oai:<repository-id>:<bib id>` and sets (branches, collections): [`sets`].
//! - Datestamps, seconds granularity, UTC: [`datestamp`].
//! - Stateless resumption tokens, signed, that survive a restart: [`token`].
//! - Metadata formats: `oai_dc` (the Library of Congress crosswalk in `catalog::dublin_core`)
//!   and `marc21` (MARCXML of the stored record).
//! - Deleted records are persistent: a tombstone keeps the identifier and the deletion time,
//!   listed with `<header status="deleted">`.
//!
//! **Architecture invariant:** no I/O, no clock reads (`now` is a parameter); no input panics.

pub mod datestamp;
pub mod error;
mod provider;
pub mod request;
pub mod sets;
pub mod token;

pub use error::{ErrorCode, OaiError};
pub use provider::{
    malformed, respond, Entry, ListQuery, MetadataFormat, Page, ProviderError, Repository, SetInfo, Store, FORMATS,
    MARCXML_NAMESPACE, OAI_NAMESPACE,
};
pub use sets::SetSpec;
pub use token::{ListVerb, Position, Resumption};
#[cfg(test)]
mod tests;
