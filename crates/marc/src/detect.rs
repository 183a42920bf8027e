//! Telling ISO 2709 from MARCXML by the first bytes of a file, and a reader that does so.

use std::io::{self, Read};

use crate::iso2709;
use crate::problem::{ReadOptions, ReadRecord, RecordError};
use crate::xml;

/// The MARC serialisations Shelfmark reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Iso2709,
    MarcXml,
    /// Neither (including UTF-16 XML, which the readers do not support).
    Unknown,
}

impl FileFormat {
    /// Says which format a file is in from its first bytes (a few hundred are plenty),
    /// skipping a UTF-8 byte order mark, whitespace and the padding bytes ISO 2709 files
    /// sometimes start with (NUL, 0x1A, stray record terminators).
    pub fn sniff(prefix: &[u8]) -> FileFormat {
        let rest = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
        let Some(start) = rest.iter().position(|&b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x00 | 0x1A | 0x1D))
        else {
            return FileFormat::Unknown;
        };
        let rest = &rest[start..];
        match rest[0] {
            b'<' => FileFormat::MarcXml,
            b'0'..=b'9' => {
                // A record length: five digits (fewer only if the prefix ends first).
                let digits = rest.iter().take(5).take_while(|b| b.is_ascii_digit()).count();
                if digits == 5 || digits == rest.len() {
                    FileFormat::Iso2709
                } else {
                    FileFormat::Unknown
                }
            }
            _ => FileFormat::Unknown,
        }
    }
}

type Replay<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// A reader for either format, chosen by [`MarcReader::detect`].
pub enum MarcReader<R: Read> {
    Iso2709(iso2709::Reader<Replay<R>>),
    MarcXml(xml::Reader<Replay<R>>),
}

impl<R: Read> MarcReader<R> {
    /// Reads the first bytes of `input`, sniffs the format and returns the matching reader
    /// (which still sees those bytes). `Ok(None)` when the format is not recognised.
    pub fn detect(mut input: R, options: ReadOptions) -> io::Result<Option<Self>> {
        let mut prefix = vec![0u8; 512];
        let mut filled = 0;
        while filled < prefix.len() {
            match input.read(&mut prefix[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        prefix.truncate(filled);
        let format = FileFormat::sniff(&prefix);
        let replay = io::Cursor::new(prefix).chain(input);
        Ok(match format {
            FileFormat::Iso2709 => Some(MarcReader::Iso2709(iso2709::Reader::with_options(replay, options))),
            FileFormat::MarcXml => Some(MarcReader::MarcXml(xml::Reader::new(replay))),
            FileFormat::Unknown => None,
        })
    }

    /// Reads the next record into `read`, reusing its buffers: see
    /// [`iso2709::Reader::read_into`]. The MARCXML reader has no recycling path and moves its
    /// next record into `read`.
    pub fn read_into(&mut self, read: &mut ReadRecord) -> Option<Result<(), RecordError>> {
        match self {
            MarcReader::Iso2709(r) => r.read_into(read),
            MarcReader::MarcXml(r) => r.next().map(|item| item.map(|record| *read = record)),
        }
    }

    pub fn format(&self) -> FileFormat {
        match self {
            MarcReader::Iso2709(_) => FileFormat::Iso2709,
            MarcReader::MarcXml(_) => FileFormat::MarcXml,
        }
    }
}

impl<R: Read> Iterator for MarcReader<R> {
    type Item = Result<ReadRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            MarcReader::Iso2709(r) => r.next(),
            MarcReader::MarcXml(r) => r.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_formats() {
        use FileFormat::*;
        assert_eq!(FileFormat::sniff(b"00714cam a2200205 a 4500"), Iso2709);
        assert_eq!(FileFormat::sniff(b"\xEF\xBB\xBF  \n<?xml version=\"1.0\"?>"), MarcXml);
        assert_eq!(FileFormat::sniff(b"\n\n<collection>"), MarcXml);
        assert_eq!(FileFormat::sniff(b"\x00\x1a00755cam"), Iso2709);
        assert_eq!(FileFormat::sniff(b"007"), Iso2709);
        assert_eq!(FileFormat::sniff(b"00a14"), Unknown);
        assert_eq!(FileFormat::sniff(b"%PDF-1.4"), Unknown);
        assert_eq!(FileFormat::sniff(b"   "), Unknown);
        assert_eq!(FileFormat::sniff(b""), Unknown);
        assert_eq!(FileFormat::sniff(b"\xFF\xFE<\x00"), Unknown);
    }

    #[test]
    fn detecting_reader_replays_the_prefix() {
        let xml = b"<collection><record><leader>00000nam a2200000 a 4500</leader>\
            <controlfield tag=\"001\">x</controlfield></record></collection>";
        let reader = MarcReader::detect(&xml[..], ReadOptions::default()).ok().flatten();
        let Some(reader) = reader else { panic!("not detected") };
        assert_eq!(reader.format(), FileFormat::MarcXml);
        let records: Vec<_> = reader.collect();
        assert_eq!(records.len(), 1);
        assert!(records[0].is_ok());
        assert!(MarcReader::detect(&b"hello"[..], ReadOptions::default()).ok().flatten().is_none());
    }
}
