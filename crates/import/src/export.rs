//! The catalog as a MARC file: ISO 2709 (UTF-8, leader/09 `a`) or MARCXML, with the items
//! embedded as Koha-style 952 fields when asked, read back by yaz-marcdump and pymarc.

use std::io::Write;

use catalog::ItemMapping;
use storage::{Database, RecordFilter};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    #[default]
    Iso2709,
    MarcXml,
}

#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    pub format: ExportFormat,
    pub filter: RecordFilter,
    /// Embed the items in this layout (`None`: bibliographic data only).
    pub items: Option<ItemMapping>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("reading the catalog failed: {0}")]
    Storage(#[from] storage::StorageError),
    #[error("record {id}: {message}")]
    Record { id: i64, message: String },
    #[error("writing the export failed: {0}")]
    Io(#[from] std::io::Error),
}

enum Sink<W: Write> {
    Xml(marc::XmlWriter<W>),
    Iso2709(marc::Iso2709Writer<W>),
}

/// Writes every selected record to `out`; returns how many records and items were written.
/// `progress` is called with the running record count.
pub fn export(
    db: &dyn Database,
    options: &ExportOptions,
    out: &mut dyn Write,
    progress: &dyn Fn(u64),
) -> Result<(u64, u64), ExportError> {
    let mut records = 0u64;
    let mut items_written = 0u64;
    let mut failure: Option<ExportError> = None;
    let buffered = std::io::BufWriter::with_capacity(1 << 16, out);
    let mut sink = match options.format {
        ExportFormat::MarcXml => Sink::Xml(marc::XmlWriter::new(buffered)?),
        ExportFormat::Iso2709 => Sink::Iso2709(marc::Iso2709Writer::new(buffered)),
    };

    db.export(&options.filter, &mut |stored, items| {
        let id = stored.id;
        let result = (|| -> Result<(), ExportError> {
            let mut record = marc::iso2709::read_one(&stored.marc)
                .map_err(|e| ExportError::Record { id, message: format!("stored MARC does not read back: {e}") })?;
            if let Some(mapping) = &options.items {
                for item in &items {
                    let field = catalog::item_field(&item.item, mapping)
                        .map_err(|e| ExportError::Record { id, message: format!("item layout: {e}") })?;
                    record.push_data(field);
                }
                items_written += items.len() as u64;
            }
            match &mut sink {
                Sink::Xml(w) => w.write_record(&record),
                Sink::Iso2709(w) => w.write_record(&record),
            }
            .map_err(|e| ExportError::Record { id, message: e.to_string() })?;
            records += 1;
            if records.is_multiple_of(1000) {
                progress(records);
            }
            Ok(())
        })();
        result.map_err(|e| {
            let message = e.to_string();
            failure = Some(e);
            message
        })
    })
    .map_err(|e| failure.take().unwrap_or(ExportError::Storage(e)))?;
    match sink {
        Sink::Xml(w) => w.finish()?.flush()?,
        Sink::Iso2709(w) => w.into_inner()?.flush()?,
    }
    progress(records);
    Ok((records, items_written))
}
