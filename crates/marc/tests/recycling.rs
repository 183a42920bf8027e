//! The recycling read path (`read_into`, one `ReadRecord` written over record after record)
//! yields exactly what the iterator yields: the same records, text, warnings, errors, numbers
//! and offsets, on every file in `shared/data/marc` (clean, damaged, MARC-8, MARCXML read as
//! ISO 2709 and rejected) and on arbitrary and mutated bytes.

use std::fs;
use std::path::{Path, PathBuf};

use marc::{Iso2709Reader, MarcReader, ReadOptions, ReadRecord, RecordError};
use proptest::prelude::*;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/marc")
}

/// Every file under `dir`, sorted, as (path relative to the data directory, bytes).
fn files_under(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_under(&path, out);
        } else {
            let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let rel = path.strip_prefix(data_dir()).unwrap_or(&path).display().to_string();
            out.push((rel, bytes));
        }
    }
}

fn all_files() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    files_under(&data_dir(), &mut out);
    out
}

/// Every item of `bytes` read through `read_into` into `slot`, which keeps whatever it held
/// before (the last record of another file, say).
fn recycled(bytes: &[u8], slot: &mut ReadRecord) -> Vec<Result<ReadRecord, RecordError>> {
    let mut reader = Iso2709Reader::new(bytes);
    let mut out = Vec::new();
    while let Some(item) = reader.read_into(slot) {
        out.push(item.map(|()| slot.clone()));
    }
    out
}

#[test]
fn every_real_file_reads_the_same_recycled() {
    let files = all_files();
    assert!(files.len() > 100, "only {} files under {}", files.len(), data_dir().display());
    // One slot for the whole run: every file starts on the leftovers of the one before.
    let mut slot = ReadRecord::default();
    let (mut records, mut warned, mut rejected, mut marc8) = (0, 0, 0, 0);
    for (rel, bytes) in &files {
        let fresh: Vec<_> = Iso2709Reader::new(&bytes[..]).collect();
        let again = recycled(bytes, &mut slot);
        assert_eq!(fresh.len(), again.len(), "{rel}: number of items");
        for (k, (a, b)) in fresh.iter().zip(&again).enumerate() {
            assert_eq!(a, b, "{rel}: item {}", k + 1);
        }
        for item in &fresh {
            match item {
                Ok(r) => {
                    records += 1;
                    warned += usize::from(!r.warnings.is_empty());
                    marc8 += usize::from(r.raw.get(9) == Some(&b' '));
                }
                Err(_) => rejected += 1,
            }
        }
        // The detecting reader, which the importer uses, recycles the same way (MARCXML by moving).
        if let (Some(iterating), Some(mut recycling)) = (detect(bytes), detect(bytes)) {
            let fresh: Vec<_> = iterating.collect();
            let mut again = Vec::new();
            while let Some(item) = recycling.read_into(&mut slot) {
                again.push(item.map(|()| slot.clone()));
            }
            assert!(fresh == again, "{rel}: the detecting reader differs when recycling");
        }
    }
    // The files hold all the cases this test is about.
    assert!(records > 1_000, "{records} records read");
    assert!(warned > 10, "{warned} records with warnings");
    assert!(rejected > 10, "{rejected} rejected");
    assert!(marc8 > 10, "{marc8} MARC-8 records");
}

/// Reading the same file twice into one slot, the second time over its own records, once more
/// checks that nothing of a record survives into the next one.
#[test]
fn a_record_written_over_itself_and_its_neighbours() {
    let bytes = fs::read(data_dir().join("lc-books-2016/lc-books-2016-sample.mrc")).unwrap_or_else(|e| panic!("{e}"));
    let fresh: Vec<_> = Iso2709Reader::new(&bytes[..]).collect();
    let mut slot = ReadRecord::default();
    // Backwards too, so that long records are written over by short ones and the other way.
    let backwards: Vec<u8> =
        fresh.iter().rev().flat_map(|r| r.as_ref().map(|r| r.raw.clone()).unwrap_or_default()).collect();
    let fresh_backwards: Vec<_> = Iso2709Reader::new(&backwards[..]).collect();
    for _ in 0..2 {
        assert!(recycled(&bytes, &mut slot) == fresh);
        assert!(recycled(&backwards, &mut slot) == fresh_backwards);
    }
    assert!(fresh.len() > 100 && fresh.iter().all(Result::is_ok));
}

fn sample_bytes() -> Vec<Vec<u8>> {
    ["pymarc-tests/marc8.dat", "ruby-marc-tests/utf8.marc", "yaz-tests/marc12.marc", "pymarc-tests/bad_records.mrc"]
        .iter()
        .map(|rel| fs::read(data_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}")))
        .collect()
}

/// A slot holding a real record with many fields, as it would after reading a file.
fn warm_slot() -> ReadRecord {
    let bytes = fs::read(data_dir().join("lc-books-2016/lc-books-2016-sample.mrc")).unwrap_or_else(|e| panic!("{e}"));
    let mut reader = Iso2709Reader::new(&bytes[..]);
    let mut slot = ReadRecord::default();
    for _ in 0..7 {
        let _ = reader.read_into(&mut slot);
    }
    slot
}

fn detect(bytes: &[u8]) -> Option<MarcReader<&[u8]>> {
    MarcReader::detect(bytes, ReadOptions::default()).ok().flatten()
}

fn same_both_ways(bytes: &[u8]) -> Result<(), TestCaseError> {
    let fresh: Vec<_> = Iso2709Reader::new(bytes).collect();
    for mut slot in [ReadRecord::default(), warm_slot()] {
        prop_assert_eq!(&recycled(bytes, &mut slot), &fresh);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_read_the_same_recycled(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        same_both_ways(&bytes)?;
    }

    #[test]
    fn bytes_with_marc_delimiters_read_the_same_recycled(
        bytes in proptest::collection::vec(prop_oneof![Just(0x1Du8), Just(0x1E), Just(0x1F), Just(b'0'), Just(0xCC), any::<u8>()], 0..2048)
    ) {
        same_both_ways(&bytes)?;
    }

    #[test]
    fn mutated_real_records_read_the_same_recycled(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..12),
    ) {
        let mut bytes = sample_bytes().swap_remove(which);
        for (at, byte, kind) in &edits {
            if bytes.is_empty() {
                bytes.push(*byte);
                continue;
            }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = *byte,
                1 => bytes.insert(i, *byte),
                2 => {
                    bytes.remove(i);
                }
                _ => bytes.truncate(i),
            }
        }
        same_both_ways(&bytes)?;
    }
}
