//! Bringing MARC files into the catalog and taking them out again.
//!
//! - [`prepare_record`]: the one path by which a MARC record becomes a storable bibliographic
//!   record (checked, derived, serialised). Import, the API and the cataloging screens all use it.
//! - [`import_file`]: streaming import of ISO 2709 or MARCXML with embedded items, matching,
//!   batched transactions and a reject report.
//! - [`export()`]: the catalog (or a selection) as ISO 2709 or MARCXML, items as 952.

mod engine;
pub mod export;
mod prepare;

pub use engine::{import_file, import_reader, ImportError, ImportOptions, ImportReport, Progress, RejectSink};
pub use export::{export, ExportError, ExportFormat, ExportOptions};
pub use prepare::{prepare_record, PrepareError};
