//! The few MARC and catalog conversions the web edge needs, in one place: reading the stored
//! ISO 2709, MARCXML in and out, preparing a record for storage, normalising an ISBN filter.

use crate::error::{ApiError, ErrorCode};

/// Parses a record as storage keeps it (ISO 2709, UTF-8). A failure is the server's fault.
pub(crate) fn read_stored(bytes: &[u8]) -> Result<marc::Record, ApiError> {
    marc::iso2709::read_one(bytes).map_err(|e| ApiError::internal(format!("stored record does not parse: {e}")))
}

pub(crate) fn to_marcxml(record: &marc::Record) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&marc::xml::to_marcxml(record));
    out
}

/// Reads the one record of a MARCXML body (`<record>`, or the first of a `<collection>`).
pub(crate) fn from_marcxml(bytes: &[u8]) -> Result<marc::Record, ApiError> {
    marc::xml::read_one(bytes)
        .map_err(|e| ApiError::new(ErrorCode::InvalidMarc, format!("the body is not a MARCXML record: {}", e.problem)))
}

/// Validates and derives a record for storage; a refusal is a 422 whose message starts with
/// the catalog's own reason code (`no_245: field 245 is missing`).
pub(crate) fn prepare(record: marc::Record) -> Result<storage::NewRecord, ApiError> {
    import::prepare_record(record).map_err(|e| {
        let field = match &e {
            import::PrepareError::Rejected(catalog::Rejection::NotBibliographic { .. }) => Some("leader"),
            import::PrepareError::Rejected(_) => Some("245"),
            import::PrepareError::Unwritable(_) => None,
        };
        let message = format!("{}: {e}", e.code());
        match field {
            Some(f) => ApiError::field(ErrorCode::RecordRejected, f, message),
            None => ApiError::new(ErrorCode::RecordRejected, message),
        }
    })
}

/// An ISBN-10 or ISBN-13 (hyphens and spaces allowed) as the ISBN-13 storage matches on, or
/// `None` when the checksum or shape is wrong.
pub(crate) fn normalise_isbn(raw: &str) -> Option<String> {
    catalog::Isbn::parse(raw).ok().map(|i| i.as_isbn13().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isbns() {
        assert_eq!(normalise_isbn("0-306-40615-2").as_deref(), Some("9780306406157"));
        assert_eq!(normalise_isbn("978-0-306-40615-7").as_deref(), Some("9780306406157"));
        assert_eq!(normalise_isbn("080442957X").as_deref(), Some("9780804429573"));
        assert_eq!(normalise_isbn("0-306-40615-3"), None);
        assert_eq!(normalise_isbn("9780306406158"), None);
        assert_eq!(normalise_isbn("12345"), None);
    }
}
