//! MARC 21 bibliographic records: the record model, streaming ISO 2709 and MARCXML readers and
//! writers, and MARC-8 to UTF-8 conversion.
//!
//! This crate knows MARC, not libraries: it never decides what a field *means* for Shelfmark
//! (that is the `catalog` crate's job) and does no I/O beyond the `Read`/`Write` it is handed.

mod record;
pub mod marc8;

pub use record::{ControlField, DataField, Field, Leader, Record, Subfield, Tag, TagError};
