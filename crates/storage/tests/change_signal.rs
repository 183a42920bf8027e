//! The change signal, on every backend: a commit that wrote to the change feed counts once, a
//! write that did not (or that failed) does not.

mod common;

use catalog::{BibDerived, Branch, Code};
use storage::{Database, NewRecord};

suite! {
    db: [signals_each_commit_that_writes_to_the_feed],
    harness: [],
}

fn record(title: &str) -> NewRecord {
    let derived = BibDerived { title: title.into(), ..BibDerived::default() };
    let mut marc = b"00000nam a2200000 a 4500".to_vec();
    marc.extend(title.as_bytes());
    marc.push(0x1d);
    NewRecord { marc, derived, row: None }
}

fn signals_each_commit_that_writes_to_the_feed(db: &dyn Database) {
    let signal = db.change_signal();
    let start = signal.commits();
    let (last, _) = db.changes_after(0).expect("changes_after");
    let id = db.create_record(&record("Signalled")).expect("create");
    assert_eq!(signal.commits(), start + 1);
    assert!(db.changes_after(last).expect("changes_after").1 > 0);
    // The same signal for every caller of the handle.
    assert!(std::sync::Arc::ptr_eq(&signal, &db.change_signal()));

    // No change written: no signal.
    db.upsert_branch(&Branch { code: Code::parse("MAIN").expect("code"), name: "Main".into() }).expect("branch");
    assert_eq!(signal.commits(), start + 1);
    // A write that fails rolls back and signals nothing.
    assert!(db.delete_record(id + 1000).is_err());
    assert_eq!(signal.commits(), start + 1);

    db.delete_record(id).expect("delete");
    assert_eq!(signal.commits(), start + 2);
}
