//! The record schemas a searchRetrieve can ask for, and each one's XML for a MARC record.

use catalog::dublin_core::{dublin_core, write_dc_xml, DcContainer, SRW_DC_NAMESPACE};
use marc::Record;

/// A record schema this server returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordSchema {
    /// MARC 21 in MARCXML (slim), the whole record.
    MarcXml,
    /// Unqualified Dublin Core by the Library of Congress crosswalk, in SRU's `srw_dc:dc`.
    DublinCore,
}

impl RecordSchema {
    pub const ALL: [RecordSchema; 2] = [RecordSchema::MarcXml, RecordSchema::DublinCore];

    /// The schema's identifier, as responses name it.
    pub fn uri(self) -> &'static str {
        match self {
            RecordSchema::MarcXml => "info:srw/schema/1/marcxml-v1.1",
            RecordSchema::DublinCore => "info:srw/schema/1/dc-v1.1",
        }
    }

    /// The short name the explain record gives it.
    pub fn name(self) -> &'static str {
        match self {
            RecordSchema::MarcXml => "marcxml",
            RecordSchema::DublinCore => "dc",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            RecordSchema::MarcXml => "MARC 21 in MARCXML",
            RecordSchema::DublinCore => "Dublin Core (unqualified, LC MARC to DC crosswalk)",
        }
    }

    /// By URI or short name, as clients send them (short names case-insensitively; `marc21`
    /// and `MARC21-xml` are what some clients call MARCXML).
    pub fn parse(name: &str) -> Option<RecordSchema> {
        let name = name.trim();
        RecordSchema::ALL.into_iter().find(|s| s.uri() == name).or_else(|| match name.to_ascii_lowercase().as_str() {
            "marcxml" | "marc21" | "marc21-xml" | "marc" | "info:srw/schema/1/marcxml-v1.1-light" => {
                Some(RecordSchema::MarcXml)
            }
            "dc" | "dublincore" | "info:srw/schema/1/dc-schema" => Some(RecordSchema::DublinCore),
            _ => None,
        })
    }

    /// The record as an XML element in this schema, ready for `recordData`.
    pub fn render(self, record: &Record) -> String {
        match self {
            RecordSchema::MarcXml => marc::xml::to_marcxml(record),
            RecordSchema::DublinCore => {
                let mut out = String::new();
                let container = DcContainer { name: "srw_dc:dc", namespace: SRW_DC_NAMESPACE, schema_location: None };
                write_dc_xml(&mut out, container, &dublin_core(record));
                out
            }
        }
    }
}
