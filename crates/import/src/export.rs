//! The catalog as a MARC file: ISO 2709 (UTF-8, leader/09 `a`) or MARCXML, with the items
//! embedded as Koha-style 952 fields when asked, read back by yaz-marcdump and pymarc.

use std::io::Write;

use catalog::{Item, ItemMapping, NewItem};
use marc::{DataField, Subfield, Tag};
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
                    record.push_data(item_field(item, mapping));
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

/// An item as a field of `mapping`'s layout: the inverse of `catalog::extract_items` for the
/// subfields the mapping names.
pub fn item_field(item: &Item, mapping: &ItemMapping) -> DataField {
    let NewItem {
        barcode,
        home_branch,
        holding_branch,
        location,
        collection,
        call_number,
        item_type,
        price,
        public_note,
        staff_note,
        materials_specified,
        status,
        acquired_on,
    } = &item.item;
    let tag = Tag::parse(&mapping.tag).unwrap_or_else(|_| Tag::parse("952").expect("952 is a tag"));
    let mut field = DataField::new(tag, ' ', mapping.ind2.unwrap_or(' '));
    let mut push = |code: Option<char>, value: Option<String>| {
        if let (Some(code), Some(value)) = (code, value) {
            if !value.is_empty() {
                field.subfields.push(Subfield::new(code, value));
            }
        }
    };
    use catalog::ItemStatus as S;
    push(mapping.withdrawn, matches!(status, S::Withdrawn).then(|| "1".to_string()));
    push(
        mapping.lost,
        match status {
            S::Lost => Some("1".to_string()),
            S::Missing => Some("4".to_string()),
            _ => None,
        },
    );
    push(mapping.damaged, matches!(status, S::Damaged).then(|| "1".to_string()));
    push(mapping.not_for_loan, matches!(status, S::OnOrder).then(|| "-1".to_string()));
    push(mapping.materials_specified, materials_specified.clone());
    push(mapping.collection, collection.clone());
    push(Some(mapping.home_branch), Some(home_branch.to_string()));
    push(mapping.holding_branch, Some(holding_branch.to_string()));
    push(mapping.location, location.as_ref().map(ToString::to_string));
    push(mapping.acquired_on, acquired_on.clone());
    push(mapping.price, price.map(|p| p.to_string()));
    push(mapping.call_number.first().copied(), call_number.clone());
    push(Some(mapping.barcode), Some(barcode.to_string()));
    push(mapping.staff_note, staff_note.clone());
    push(mapping.item_type, Some(item_type.to_string()));
    push(mapping.public_note, public_note.clone());
    field
}
