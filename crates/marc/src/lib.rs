//! MARC 21 bibliographic records: the record model, streaming ISO 2709 and MARCXML readers and
//! writers, and MARC-8 to UTF-8 conversion.
//!
//! This crate knows MARC, not libraries: it never decides what a field *means* for Shelfmark
//! (that is the `catalog` crate's job) and does no I/O beyond the `Read`/`Write` it is handed.

pub mod detect;
pub mod iso2709;
pub mod json;
pub mod marc8;
pub mod problem;
mod record;
mod text;
pub mod xml;

pub use record::{ControlField, DataField, Field, Leader, Record, Subfield, SubfieldValue, Tag, TagError};

pub use detect::{FileFormat, MarcReader};
pub use iso2709::{parse_record, to_iso2709, Reader as Iso2709Reader, Writer as Iso2709Writer};
pub use problem::{Encoding, Problem, ReadOptions, ReadRecord, RecordError, WriteError};
pub use xml::{to_marcxml, Reader as XmlReader, Writer as XmlWriter};
