//! The storage test suite for the catalog, the shelf and loans, written once and run against
//! every backend (the harness and `suite!` are in `common/`).

mod common;

use catalog::{Barcode, BibDerived, Branch, Code, Format, ItemStatus, ItemType, Money, NewItem, ShelvingLocation};
use common::Harness;
use std::collections::{BTreeSet, HashSet};

use std::time::Instant;
use storage::{
    ChangeEntity, ChangeKind, Database, ImportCandidate, ImportMatch, ImportOutcome, ItemFilter, NewInventory,
    NewRecord, OnMatch, Page, Patron, RecordFilter, ShelfCursor, ShelfPage, ShelfQuery, StorageConfig, StorageError,
    StoredRecord,
};

suite! {
    db: [
        organisation,
        patrons,
        records_round_trip,
        items_round_trip,
        item_filters_and_paging,
        record_filters_and_paging,
        import_matching,
        import_match_finds_what_an_import_would_match,
        import_rejects_one_candidate_and_commits_the_rest,
        import_twice_changes_nothing,
        export_streams_in_id_order,
        change_feed,
        import_changes_are_bulk,
        concurrent_writers,
        concurrent_same_barcode,
        import_speed,
        shelf_list_is_in_shelf_order,
        call_number_changes_move_items,
        inventory_scans_and_report,
        checkout_renew_and_check_in,
        two_desks_one_copy,
    ],
    harness: [migrations_are_idempotent, refuses_a_database_from_a_newer_shelfmark, stale_sort_keys_are_rebuilt],
}

// ---------------------------------------------------------------------------------------------
// Builders.

fn code(s: &str) -> Code {
    Code::parse(s).expect("code")
}

fn barcode(s: &str) -> Barcode {
    Barcode::parse(s).expect("barcode")
}

/// A record with a title and whatever else `f` sets; its "MARC" is a stand-in byte string that
/// differs whenever the derived fields differ (derivation is not this crate's job).
fn record(title: &str, f: impl FnOnce(&mut BibDerived)) -> NewRecord {
    let mut derived = BibDerived { title: title.to_string(), ..BibDerived::default() };
    f(&mut derived);
    let mut marc = b"00000nam a2200000 a 4500".to_vec();
    marc.extend(serde_json::to_vec(&derived).expect("json"));
    marc.push(0x1d);
    NewRecord { marc, derived, row: None }
}

fn item(bc: &str, branch: &str) -> NewItem {
    NewItem {
        barcode: barcode(bc),
        home_branch: code(branch),
        holding_branch: code(branch),
        location: None,
        collection: None,
        call_number: None,
        item_type: code("BK"),
        price: None,
        public_note: None,
        staff_note: None,
        materials_specified: None,
        status: ItemStatus::Available,
        acquired_on: None,
    }
}

fn setup_org(db: &dyn Database) {
    for (c, n) in [("MAIN", "Main Library"), ("EAST", "East Branch")] {
        db.upsert_branch(&Branch { code: code(c), name: n.into() }).expect("branch");
    }
    db.upsert_location(&ShelvingLocation { code: code("ADULT-FIC"), name: "Adult Fiction".into() }).expect("loc");
    db.upsert_location(&ShelvingLocation { code: code("REF"), name: "Reference".into() }).expect("loc");
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).expect("type");
    db.upsert_item_type(&ItemType { code: code("REF"), name: "Reference".into(), loanable: false }).expect("type");
}

fn outcome_id(o: &ImportOutcome) -> i64 {
    match o {
        ImportOutcome::Added { id, .. }
        | ImportOutcome::Replaced { id, .. }
        | ImportOutcome::Unchanged { id, .. }
        | ImportOutcome::Skipped { id, .. } => *id,
        ImportOutcome::Rejected { reason } => panic!("rejected: {reason}"),
    }
}

fn all_records(db: &dyn Database) -> Vec<StoredRecord> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = db.records(&RecordFilter::default(), Page { after, limit: 100 }).expect("records");
        match page.last() {
            Some(last) => after = last.id,
            None => return out,
        }
        out.extend(page);
    }
}

fn all_changes(db: &dyn Database) -> Vec<storage::Change> {
    let mut out: Vec<storage::Change> = Vec::new();
    loop {
        let after = out.last().map_or(0, |c| c.id);
        let page = db.changes(after, 500).expect("changes");
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

fn constraint_text(r: storage::Result<impl std::fmt::Debug>) -> String {
    match r {
        Err(StorageError::Constraint(s)) => s,
        other => panic!("expected a Constraint error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Tests.

fn migrations_are_idempotent(h: &mut Harness) {
    let db = h.db();
    setup_org(db);
    let id = db.create_record(&record("Kept across reopening", |_| {})).expect("create");
    h.reopen();
    h.reopen();
    let db = h.db();
    assert_eq!(db.count_records().expect("count"), 1);
    assert_eq!(db.record(id).expect("record").expect("present").derived.title, "Kept across reopening");
    assert_eq!(db.branches().expect("branches").len(), 2);
}

fn refuses_a_database_from_a_newer_shelfmark(h: &mut Harness) {
    let future = "INSERT INTO schema_migrations (version, name) VALUES (9999, 'from the future')";
    match (&h.config, &h.pg_schema) {
        (StorageConfig::Sqlite(o), _) => {
            let conn = rusqlite::Connection::open(o.database_file()).expect("open file");
            conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'x', 'now')", [])
                .expect("insert");
        }
        (StorageConfig::Postgres(_), Some((url, schema))) => {
            let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
            client.batch_execute(&format!("SET search_path TO \"{schema}\"; {future}")).expect("insert");
        }
        _ => unreachable!("a PostgreSQL harness has a schema"),
    }
    h.db = None;
    match storage::open(&h.config) {
        Err(StorageError::Migration { version: 9999, message }) => assert!(message.contains("newer"), "{message}"),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("opened a database from a newer Shelfmark"),
    }
}

fn organisation(db: &dyn Database) {
    setup_org(db);
    db.upsert_branch(&Branch { code: code("MAIN"), name: "Central Library".into() }).expect("rename");
    let branches = db.branches().expect("branches");
    assert_eq!(
        branches,
        vec![
            Branch { code: code("EAST"), name: "East Branch".into() },
            Branch { code: code("MAIN"), name: "Central Library".into() },
        ]
    );
    assert_eq!(db.branch(&code("MAIN")).expect("branch").map(|b| b.name), Some("Central Library".into()));
    assert_eq!(db.branch(&code("NOPE")).expect("branch"), None);

    let locations = db.locations().expect("locations");
    assert_eq!(locations.iter().map(|l| l.code.as_str()).collect::<Vec<_>>(), ["ADULT-FIC", "REF"]);
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Books".into(), loanable: false }).expect("type");
    let types = db.item_types().expect("types");
    assert_eq!(types[0], ItemType { code: code("BK"), name: "Books".into(), loanable: false });
    assert!(!types[1].loanable);

    assert!(matches!(db.delete_branch(&code("NOPE")), Err(StorageError::NotFound { what: "branch", .. })));

    // A branch with items or patrons stays.
    let bib = db.create_record(&record("Held at East", |_| {})).expect("record");
    let item_id = db.create_item(bib, &item("31000000000001", "EAST")).expect("item");
    let text = constraint_text(db.delete_branch(&code("EAST")));
    assert!(text.contains("EAST") && text.contains("1 item"), "{text}");
    db.delete_item(item_id).expect("delete item");
    let patron = Patron {
        card_number: "21000000000001".into(),
        surname: "Reader".into(),
        first_name: "Ada".into(),
        category: code("adult"),
        home_branch: code("EAST"),
        expiry_date: "2030-01-31".into(),
        email: None,
    };
    db.upsert_patron(&patron).expect("patron");
    let text = constraint_text(db.delete_branch(&code("EAST")));
    assert!(text.contains("patron"), "{text}");
    db.upsert_patron(&Patron { home_branch: code("MAIN"), ..patron }).expect("move patron");
    db.delete_branch(&code("EAST")).expect("delete free branch");
    assert_eq!(db.branch(&code("EAST")).expect("branch"), None);
}

fn patrons(db: &dyn Database) {
    setup_org(db);
    let patron = |card: &str, surname: &str| Patron {
        card_number: card.into(),
        surname: surname.into(),
        first_name: "Sam".into(),
        category: code("adult"),
        home_branch: code("MAIN"),
        expiry_date: "2031-12-31".into(),
        email: Some(format!("{surname}@example.org").to_lowercase()),
    };
    for (card, name) in [("C1", "Ames"), ("C2", "Brook"), ("C3", "Cole")] {
        db.upsert_patron(&patron(card, name)).expect("patron");
    }
    let updated = Patron { surname: "Brooke".into(), email: None, ..patron("C2", "Brook") };
    db.upsert_patron(&updated).expect("update");
    assert_eq!(db.count_patrons().expect("count"), 3);
    let first = db.patrons(Page { after: 0, limit: 2 }).expect("page 1");
    let second = db.patrons(Page { after: 2, limit: 2 }).expect("page 2");
    assert_eq!(first.iter().map(|p| p.card_number.as_str()).collect::<Vec<_>>(), ["C1", "C2"]);
    assert_eq!(first[1], updated);
    assert_eq!(second.iter().map(|p| p.card_number.as_str()).collect::<Vec<_>>(), ["C3"]);

    let text = constraint_text(db.upsert_patron(&Patron { home_branch: code("NOPE"), ..patron("C4", "Dale") }));
    assert_eq!(text, "home branch NOPE does not exist");
    let text = constraint_text(db.upsert_patron(&Patron { expiry_date: "31/12/2031".into(), ..patron("C5", "Eve") }));
    assert!(text.contains("expiry date"), "{text}");
    assert_eq!(db.count_patrons().expect("count"), 3);
}

fn full_record() -> NewRecord {
    record("Études for the left hand : a method", |d| {
        d.responsibility = Some("by Jöhn Smïth ; edited by A. N. Other".into());
        d.authors = vec!["Smïth, Jöhn".into(), "Other, A. N.".into()];
        d.isbns = vec!["9780306406157".into(), "9781861972712".into()];
        d.issns = vec!["0317-8471".into()];
        d.lccn = Some("2001012345".into());
        d.oclc_numbers = vec!["12345678".into()];
        d.control_number = Some("ocm12345678".into());
        d.control_number_identifier = Some("OCoLC".into());
        d.publisher = Some("Éditions Exemple".into());
        d.year = Some(1987);
        d.language = Some("fre".into());
        d.format = Format::Score;
        d.subjects = vec!["Piano -- Studies and exercises".into()];
        d.series = vec!["Méthodes ; 4".into()];
        d.lc_call_number = Some("MT225 .S65 1987".into());
        d.dewey_call_number = Some("786.2/193".into());
        d.edition = Some("2nd ed.".into());
    })
}

fn records_round_trip(db: &dyn Database) {
    setup_org(db);
    let new = full_record();
    let id = db.create_record(&new).expect("create");
    let stored = db.record(id).expect("read").expect("present");
    assert_eq!(stored.id, id);
    assert_eq!(stored.marc, new.marc);
    assert_eq!(stored.derived, new.derived);
    assert_eq!(stored.created_at, stored.updated_at);
    assert!(stored.created_at.ends_with('Z') && stored.created_at.len() == 27, "{}", stored.created_at);
    assert_eq!(db.count_records().expect("count"), 1);

    std::thread::sleep(std::time::Duration::from_millis(5));
    let changed = record("Études (revised)", |d| {
        d.isbns = vec!["9781861972712".into(), "9780000000002".into()];
        d.format = Format::Book;
    });
    db.update_record(id, &changed).expect("update");
    let stored2 = db.record(id).expect("read").expect("present");
    assert_eq!(stored2.derived, changed.derived);
    assert_eq!(stored2.marc, changed.marc);
    assert_eq!(stored2.created_at, stored.created_at);
    assert!(stored2.updated_at > stored.updated_at, "{} > {}", stored2.updated_at, stored.updated_at);
    // The ISBN index followed the update.
    let by_isbn = |isbn: &str| {
        db.records(&RecordFilter { isbn: Some(isbn.into()), ..Default::default() }, Page::default()).expect("records")
    };
    assert!(by_isbn("9780306406157").is_empty());
    assert_eq!(by_isbn("9780000000002").len(), 1);

    assert!(db.record(id + 1000).expect("read").is_none());
    assert!(matches!(db.update_record(id + 1000, &changed), Err(StorageError::NotFound { what: "record", .. })));

    let item_id = db.create_item(id, &item("39000000000001", "MAIN")).expect("item");
    let text = constraint_text(db.delete_record(id));
    assert!(text.contains(&format!("record {id}")) && text.contains("1 item"), "{text}");
    db.delete_item(item_id).expect("delete item");
    db.delete_record(id).expect("delete record");
    assert!(db.record(id).expect("read").is_none());
    assert!(matches!(db.delete_record(id), Err(StorageError::NotFound { .. })));
    assert_eq!(db.count_records().expect("count"), 0);
}

fn items_round_trip(db: &dyn Database) {
    setup_org(db);
    let bib = db.create_record(&record("The Shining", |_| {})).expect("record");
    let new = NewItem {
        barcode: barcode("31234000123456"),
        home_branch: code("MAIN"),
        holding_branch: code("EAST"),
        location: Some(code("ADULT-FIC")),
        collection: Some("Horror".into()),
        call_number: Some("FIC KING".into()),
        item_type: code("BK"),
        price: Some(Money::from_minor(2599)),
        public_note: Some("Signed copy".into()),
        staff_note: Some("Donated 2019".into()),
        materials_specified: Some("1 volume + map".into()),
        status: ItemStatus::InTransit,
        acquired_on: Some("2019-03-04".into()),
    };
    let id = db.create_item(bib, &new).expect("create");
    let stored = db.item(id).expect("read").expect("present");
    assert_eq!((stored.id, stored.bib_id), (id, bib));
    assert_eq!(stored.item, new);
    assert_eq!(db.item_by_barcode(&new.barcode).expect("by barcode").map(|i| i.id), Some(id));
    assert_eq!(db.item_by_barcode(&barcode("nope")).expect("by barcode"), None);

    let moved = NewItem {
        holding_branch: code("MAIN"),
        location: None,
        status: ItemStatus::Available,
        price: None,
        acquired_on: None,
        ..new.clone()
    };
    db.update_item(id, &moved).expect("update");
    assert_eq!(db.item(id).expect("read").expect("present").item, moved);

    // Unique barcodes.
    match db.create_item(bib, &new) {
        Err(StorageError::Conflict { what, key }) => {
            assert_eq!(key, "31234000123456");
            assert_eq!(what, "item barcode");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let other = db.create_item(bib, &item("31234000999999", "MAIN")).expect("second item");
    assert!(matches!(db.update_item(other, &new), Err(StorageError::Conflict { .. })));

    // References that do not exist, as sentences.
    assert_eq!(
        constraint_text(db.create_item(bib + 1000, &item("X1", "MAIN"))),
        format!("record {} does not exist", bib + 1000)
    );
    assert_eq!(constraint_text(db.create_item(bib, &item("X2", "NOPE"))), "home branch NOPE does not exist");
    let bad_holding = NewItem { holding_branch: code("GONE"), ..item("X3", "MAIN") };
    assert_eq!(constraint_text(db.create_item(bib, &bad_holding)), "holding branch GONE does not exist");
    let bad_location = NewItem { location: Some(code("ATTIC")), ..item("X4", "MAIN") };
    assert_eq!(constraint_text(db.create_item(bib, &bad_location)), "shelving location ATTIC does not exist");
    let bad_type = NewItem { item_type: code("ROBOT"), ..item("X5", "MAIN") };
    assert_eq!(constraint_text(db.create_item(bib, &bad_type)), "item type ROBOT does not exist");
    assert_eq!(constraint_text(db.update_item(id, &bad_type)), "item type ROBOT does not exist");
    let bad_date = NewItem { acquired_on: Some("March 2019".into()), ..item("X6", "MAIN") };
    assert!(constraint_text(db.create_item(bib, &bad_date)).contains("acquisition date"));
    assert!(matches!(db.update_item(id + 1000, &moved), Err(StorageError::NotFound { what: "item", .. })));
    assert_eq!(db.count_items().expect("count"), 2);

    db.delete_item(id).expect("delete");
    assert_eq!(db.item(id).expect("read"), None);
    assert!(matches!(db.delete_item(id), Err(StorageError::NotFound { .. })));
    assert_eq!(db.count_items().expect("count"), 1);
}

fn item_filters_and_paging(db: &dyn Database) {
    setup_org(db);
    let a = db.create_record(&record("A", |_| {})).expect("a");
    let b = db.create_record(&record("B", |_| {})).expect("b");
    let mut ids = Vec::new();
    for n in 0..25 {
        let mut it = item(&format!("B{n:04}"), if n % 2 == 0 { "MAIN" } else { "EAST" });
        if n % 5 == 0 {
            it.status = ItemStatus::Missing;
            it.location = Some(code("REF"));
            it.item_type = code("REF");
            it.holding_branch = code("MAIN");
        }
        ids.push(db.create_item(if n < 10 { a } else { b }, &it).expect("item"));
    }
    let ids_of = |f: ItemFilter| -> Vec<i64> {
        db.items(&f, Page { after: 0, limit: 100 }).expect("items").iter().map(|i| i.id).collect()
    };
    assert_eq!(ids_of(ItemFilter::default()), ids);
    assert_eq!(ids_of(ItemFilter { bib_id: Some(a), ..Default::default() }), ids[..10].to_vec());
    assert_eq!(ids_of(ItemFilter { bib_ids: Some(vec![a, b]), ..Default::default() }), ids);
    assert_eq!(ids_of(ItemFilter { bib_ids: Some(vec![b, b + 100]), ..Default::default() }), ids[10..].to_vec());
    assert_eq!(ids_of(ItemFilter { bib_ids: Some(vec![]), ..Default::default() }), Vec::<i64>::new());
    assert_eq!(ids_of(ItemFilter { home_branch: Some(code("MAIN")), ..Default::default() }).len(), 13);
    assert_eq!(ids_of(ItemFilter { holding_branch: Some(code("MAIN")), ..Default::default() }).len(), 13 + 2);
    assert_eq!(ids_of(ItemFilter { status: Some(ItemStatus::Missing), ..Default::default() }).len(), 5);
    assert_eq!(ids_of(ItemFilter { location: Some(code("REF")), ..Default::default() }).len(), 5);
    assert_eq!(
        ids_of(ItemFilter {
            item_type: Some(code("REF")),
            home_branch: Some(code("EAST")),
            bib_id: Some(b),
            ..Default::default()
        }),
        vec![ids[15]]
    );

    // Keyset paging walks every item once, in id order, in pages of at most `limit`.
    let mut seen = Vec::new();
    let mut after = 0;
    let mut pages = 0;
    loop {
        let page = db.items(&ItemFilter::default(), Page { after, limit: 10 }).expect("page");
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 10);
        after = page.last().expect("last").id;
        seen.extend(page.iter().map(|i| i.id));
        pages += 1;
    }
    assert_eq!(seen, ids);
    assert_eq!(pages, 3);
}

fn record_filters_and_paging(db: &dyn Database) {
    setup_org(db);
    let shining = db
        .create_record(&record("The Shining", |d| {
            d.authors = vec!["King, Stephen".into()];
            d.isbns = vec!["9780385121675".into()];
            d.year = Some(1977);
        }))
        .expect("shining");
    let etudes = db
        .create_record(&record("ÉTUDES pour piano", |d| {
            d.authors = vec!["Chopin, Frédéric".into(), "Cortot, Alfred".into()];
            d.year = Some(1915);
            d.format = Format::Score;
        }))
        .expect("etudes");
    let talisman = db
        .create_record(&record("The Talisman", |d| {
            d.authors = vec!["King, Stephen".into(), "Straub, Peter".into()];
            d.year = Some(1984);
            d.format = Format::AudiobookCd;
        }))
        .expect("talisman");
    db.create_item(talisman, &item("T1", "EAST")).expect("item");
    db.create_item(shining, &item("S1", "MAIN")).expect("item");

    let find = |f: RecordFilter| -> Vec<i64> {
        db.records(&f, Page { after: 0, limit: 50 }).expect("records").iter().map(|r| r.id).collect()
    };
    assert_eq!(find(RecordFilter::default()), vec![shining, etudes, talisman]);
    assert_eq!(find(RecordFilter { title: Some("the ".into()), ..Default::default() }), vec![shining, talisman]);
    assert_eq!(find(RecordFilter { title: Some("études".into()), ..Default::default() }), vec![etudes]);
    assert_eq!(find(RecordFilter { author: Some("STRAUB".into()), ..Default::default() }), vec![talisman]);
    assert_eq!(find(RecordFilter { author: Some("king, s".into()), ..Default::default() }), vec![shining, talisman]);
    assert_eq!(find(RecordFilter { author: Some("frédéric".into()), ..Default::default() }), vec![etudes]);
    assert_eq!(find(RecordFilter { isbn: Some("9780385121675".into()), ..Default::default() }), vec![shining]);
    assert_eq!(find(RecordFilter { year_from: Some(1977), ..Default::default() }), vec![shining, talisman]);
    assert_eq!(find(RecordFilter { year_to: Some(1977), ..Default::default() }), vec![shining, etudes]);
    assert_eq!(
        find(RecordFilter {
            year_from: Some(1900),
            year_to: Some(1980),
            author: Some("king".into()),
            ..Default::default()
        }),
        vec![shining]
    );
    assert_eq!(find(RecordFilter { format: Some(Format::Score), ..Default::default() }), vec![etudes]);
    assert_eq!(find(RecordFilter { format: Some(Format::AudiobookCd), ..Default::default() }), vec![talisman]);
    assert_eq!(find(RecordFilter { branch: Some(code("EAST")), ..Default::default() }), vec![talisman]);
    assert_eq!(
        find(RecordFilter { ids: Some(vec![talisman, shining, 99999]), ..Default::default() }),
        vec![shining, talisman]
    );
    assert_eq!(find(RecordFilter { ids: Some(vec![]), ..Default::default() }), Vec::<i64>::new());

    let page1 = db.records(&RecordFilter::default(), Page { after: 0, limit: 2 }).expect("page");
    let page2 = db.records(&RecordFilter::default(), Page { after: page1[1].id, limit: 2 }).expect("page");
    assert_eq!(page1.iter().chain(&page2).map(|r| r.id).collect::<Vec<_>>(), vec![shining, etudes, talisman]);
}

fn import_matching(db: &dyn Database) {
    // Nothing set up: the import creates branches, locations and item types it meets.
    let with_loc =
        |bc: &str| NewItem { location: Some(code("NEW-SHELF")), item_type: code("DVD"), ..item(bc, "NORTH") };
    let a = record("Control number", |d| {
        d.control_number = Some("a1".into());
        d.control_number_identifier = Some("XYZ".into());
    });
    let b = record("OCLC", |d| d.oclc_numbers = vec!["123".into()]);
    let c = record("ISBN", |d| d.isbns = vec!["9780000000001".into(), "9780000000003".into()]);
    let d = record("No identifiers", |_| {});
    let batch = vec![
        ImportCandidate { record: a.clone(), items: vec![with_loc("I-A1")] },
        ImportCandidate { record: b.clone(), items: vec![item("I-B1", "NORTH"), item("I-B2", "SOUTH")] },
        ImportCandidate { record: c.clone(), items: vec![] },
        ImportCandidate { record: d.clone(), items: vec![item("I-D1", "NORTH")] },
    ];
    let out = db.import_batch(&batch, OnMatch::Skip).expect("import");
    let ids: Vec<i64> = out.iter().map(outcome_id).collect();
    assert_eq!(
        out,
        vec![
            ImportOutcome::Added { id: ids[0], items_added: 1, items_existing: 0 },
            ImportOutcome::Added { id: ids[1], items_added: 2, items_existing: 0 },
            ImportOutcome::Added { id: ids[2], items_added: 0, items_existing: 0 },
            ImportOutcome::Added { id: ids[3], items_added: 1, items_existing: 0 },
        ]
    );
    let branches = db.branches().expect("branches");
    assert_eq!(
        branches,
        vec![
            Branch { code: code("NORTH"), name: "NORTH".into() },
            Branch { code: code("SOUTH"), name: "SOUTH".into() },
        ]
    );
    assert_eq!(
        db.locations().expect("locations"),
        vec![ShelvingLocation { code: code("NEW-SHELF"), name: "NEW-SHELF".into() }]
    );
    let types = db.item_types().expect("types");
    assert_eq!(
        types.iter().map(|t| (t.code.as_str(), t.name.as_str())).collect::<Vec<_>>(),
        [("BK", "BK"), ("DVD", "DVD")]
    );
    let before: Vec<StoredRecord> = all_records(db);

    // Changed versions of each: matched by 001+003, OCLC number, ISBN; D unchanged.
    let a2 = record("Control number, revised", |d| {
        d.control_number = Some("a1".into());
        d.control_number_identifier = Some("XYZ".into());
        d.isbns = vec!["9780000000001".into()]; // also matches C by ISBN: 001+003 wins
    });
    let b2 = record("OCLC, revised", |d| {
        d.oclc_numbers = vec!["999".into(), "123".into()];
        d.isbns = vec!["9780000000001".into()]; // OCLC wins over ISBN
    });
    let c2 = record("ISBN, revised", |d| d.isbns = vec!["9789999999999".into(), "9780000000003".into()]);
    let other_org = record("Same 001, other 003", |d| {
        d.control_number = Some("a1".into());
        d.control_number_identifier = Some("OTHER".into());
    });
    let second = vec![
        ImportCandidate { record: a2.clone(), items: vec![with_loc("I-A1"), with_loc("I-A2")] },
        ImportCandidate { record: b2.clone(), items: vec![] },
        ImportCandidate { record: c2.clone(), items: vec![] },
        ImportCandidate { record: d.clone(), items: vec![item("I-D1", "NORTH"), item("I-D2", "NORTH")] },
        ImportCandidate { record: other_org.clone(), items: vec![] },
    ];
    let out = db.import_batch(&second, OnMatch::Skip).expect("skip");
    assert_eq!(out[0], ImportOutcome::Skipped { id: ids[0], items_added: 1, items_existing: 1 });
    assert_eq!(out[1], ImportOutcome::Skipped { id: ids[1], items_added: 0, items_existing: 0 });
    assert_eq!(out[2], ImportOutcome::Skipped { id: ids[2], items_added: 0, items_existing: 0 });
    assert_eq!(out[3], ImportOutcome::Unchanged { id: ids[3], items_added: 1, items_existing: 1 });
    let other_id = match out[4] {
        ImportOutcome::Added { id, .. } => id,
        ref o => panic!("001 with another 003 must not match: {o:?}"),
    };
    // Skip left the records as they were; the new items are attached to the matched records.
    let after_skip = all_records(db);
    assert_eq!(after_skip[..4], before[..]);
    let on_a = db.items(&ItemFilter { bib_id: Some(ids[0]), ..Default::default() }, Page::default()).expect("items");
    assert_eq!(on_a.iter().map(|i| i.item.barcode.as_str()).collect::<Vec<_>>(), ["I-A1", "I-A2"]);

    std::thread::sleep(std::time::Duration::from_millis(5));
    let third: Vec<ImportCandidate> =
        second[..4].iter().map(|c| ImportCandidate { record: c.record.clone(), items: vec![] }).collect();
    let out = db.import_batch(&third, OnMatch::Replace).expect("replace");
    assert_eq!(
        out,
        vec![
            ImportOutcome::Replaced { id: ids[0], items_added: 0, items_existing: 0 },
            ImportOutcome::Replaced { id: ids[1], items_added: 0, items_existing: 0 },
            ImportOutcome::Replaced { id: ids[2], items_added: 0, items_existing: 0 },
            ImportOutcome::Unchanged { id: ids[3], items_added: 0, items_existing: 0 },
        ]
    );
    let replaced = db.record(ids[0]).expect("read").expect("present");
    assert_eq!(replaced.derived, a2.derived);
    assert_eq!(replaced.marc, a2.marc);
    assert_eq!(replaced.created_at, before[0].created_at);
    assert!(replaced.updated_at > before[0].updated_at);
    let unchanged = db.record(ids[3]).expect("read").expect("present");
    assert_eq!(unchanged.updated_at, before[3].updated_at, "an identical record is not written");
    assert_eq!(
        db.items(&ItemFilter { bib_id: Some(ids[0]), ..Default::default() }, Page::default()).expect("items").len(),
        2
    );

    // Add: a matching but different record becomes a new one; an identical one is still Unchanged.
    let b3 = record("OCLC, third version", |d| d.oclc_numbers = vec!["123".into()]);
    let out = db
        .import_batch(
            &[ImportCandidate { record: b3, items: vec![] }, ImportCandidate { record: b2, items: vec![] }],
            OnMatch::Add,
        )
        .expect("add");
    let new_id = match out[0] {
        ImportOutcome::Added { id, .. } => id,
        ref o => panic!("{o:?}"),
    };
    assert!(new_id > other_id);
    assert_eq!(out[1], ImportOutcome::Unchanged { id: ids[1], items_added: 0, items_existing: 0 });
    assert_eq!(db.count_records().expect("count"), 6);
    assert_eq!(db.count_items().expect("count"), 6);

    // Within one batch, a later candidate matches an earlier one.
    let e = record("Twice in one file", |d| d.isbns = vec!["9781111111111".into()]);
    let e2 = record("Twice in one file (other version)", |d| d.isbns = vec!["9781111111111".into()]);
    let out = db
        .import_batch(
            &[
                ImportCandidate { record: e.clone(), items: vec![] },
                ImportCandidate { record: e2, items: vec![] },
                ImportCandidate { record: e, items: vec![] },
            ],
            OnMatch::Skip,
        )
        .expect("import");
    let first = outcome_id(&out[0]);
    assert!(matches!(out[0], ImportOutcome::Added { .. }));
    assert_eq!(out[1], ImportOutcome::Skipped { id: first, items_added: 0, items_existing: 0 });
    assert_eq!(out[2], ImportOutcome::Unchanged { id: first, items_added: 0, items_existing: 0 });
}

/// `import_match` answers what `import_batch` would match, by the same rules, and writes nothing.
fn import_match_finds_what_an_import_would_match(db: &dyn Database) {
    let a = record("Control number", |d| {
        d.control_number = Some("m1".into());
        d.control_number_identifier = Some("XYZ".into());
    });
    let b = record("OCLC", |d| d.oclc_numbers = vec!["4242".into()]);
    let c = record("ISBN", |d| d.isbns = vec!["9780000004242".into()]);
    let batch: Vec<ImportCandidate> =
        [&a, &b, &c].iter().map(|r| ImportCandidate { record: (*r).clone(), items: vec![] }).collect();
    let ids: Vec<i64> = db.import_batch(&batch, OnMatch::Skip).expect("import").iter().map(outcome_id).collect();
    let changes = all_changes(db).len();

    assert_eq!(db.import_match(&a).expect("match"), Some(ImportMatch::Identical(ids[0])));
    let a2 = record("Control number, revised", |d| {
        d.control_number = Some("m1".into());
        d.control_number_identifier = Some("XYZ".into());
        d.isbns = vec!["9780000004242".into()]; // 001+003 outranks C's ISBN
    });
    assert_eq!(db.import_match(&a2).expect("match"), Some(ImportMatch::Matched(ids[0])));
    let b2 = record("OCLC, revised", |d| d.oclc_numbers = vec!["4242".into()]);
    assert_eq!(db.import_match(&b2).expect("match"), Some(ImportMatch::Matched(ids[1])));
    let c2 = record("ISBN, revised", |d| d.isbns = vec!["9780000004242".into()]);
    assert_eq!(db.import_match(&c2).expect("match"), Some(ImportMatch::Matched(ids[2])));
    let other = record("Same 001, other 003", |d| {
        d.control_number = Some("m1".into());
        d.control_number_identifier = Some("OTHER".into());
    });
    assert_eq!(db.import_match(&other).expect("match"), None);
    // Nothing written, and the import then does what the match said.
    assert_eq!(all_changes(db).len(), changes);
    let out = db.import_batch(&[ImportCandidate { record: c2, items: vec![] }], OnMatch::Skip).expect("import");
    assert_eq!(out, vec![ImportOutcome::Skipped { id: ids[2], items_added: 0, items_existing: 0 }]);
}

fn import_rejects_one_candidate_and_commits_the_rest(db: &dyn Database) {
    setup_org(db);
    let existing = db.create_record(&record("Already here", |_| {})).expect("record");
    db.create_item(existing, &item("HAVE-1", "MAIN")).expect("item");
    let batch = vec![
        ImportCandidate { record: record("One", |_| {}), items: vec![item("DUP-1", "MAIN"), item("HAVE-1", "MAIN")] },
        ImportCandidate { record: record("Two", |_| {}), items: vec![item("OK-2", "MAIN"), item("DUP-1", "EAST")] },
        ImportCandidate {
            record: record("Three", |_| {}),
            items: vec![NewItem { acquired_on: Some("yesterday".into()), ..item("OK-3", "MAIN") }],
        },
        ImportCandidate { record: record("Four", |_| {}), items: vec![item("OK-4", "NEWBRANCH")] },
    ];
    let out = db.import_batch(&batch, OnMatch::Skip).expect("import");
    assert!(matches!(out[0], ImportOutcome::Added { items_added: 1, items_existing: 1, .. }), "{:?}", out[0]);
    match &out[1] {
        ImportOutcome::Rejected { reason } => {
            assert!(reason.contains("DUP-1") && reason.contains("more than once"), "{reason}")
        }
        o => panic!("{o:?}"),
    }
    match &out[2] {
        ImportOutcome::Rejected { reason } => {
            assert!(reason.contains("OK-3") && reason.contains("yesterday"), "{reason}")
        }
        o => panic!("{o:?}"),
    }
    assert!(matches!(out[3], ImportOutcome::Added { items_added: 1, items_existing: 0, .. }), "{:?}", out[3]);
    assert_eq!(db.count_records().expect("count"), 3);
    assert_eq!(db.count_items().expect("count"), 3);
    assert!(db.item_by_barcode(&barcode("OK-2")).expect("read").is_none());
    assert!(db.branch(&code("NEWBRANCH")).expect("read").is_some());
    let titles: Vec<String> = all_records(db).into_iter().map(|r| r.derived.title).collect();
    assert_eq!(titles, ["Already here", "One", "Four"]);
    // Nothing of the rejected candidates reached the change feed.
    let changes = all_changes(db);
    assert_eq!(changes.len(), 2 + 2 + 2, "{changes:?}");
}

fn sample_batch(n: usize, prefix: &str) -> Vec<ImportCandidate> {
    (0..n)
        .map(|i| {
            let rec = record(&format!("{prefix} title {i}"), |d| {
                d.authors = vec![format!("Author {i}"), "Editor, Some".into()];
                d.isbns = vec![format!("978{prefix}{i:07}"), format!("979{prefix}{i:07}")];
                d.oclc_numbers = vec![format!("{prefix}{i}")];
                d.control_number = Some(format!("{prefix}-{i}"));
                d.control_number_identifier = Some("TEST".into());
                d.subjects = vec!["Testing -- Fiction".into()];
                d.year = Some(2000 + (i % 20) as i32);
            });
            let items = (0..(i % 3))
                .map(|k| NewItem {
                    call_number: Some(format!("FIC {i}")),
                    location: Some(code("ADULT-FIC")),
                    price: Some(Money::from_minor(1999)),
                    ..item(&format!("{prefix}-{i}-{k}"), if k == 0 { "MAIN" } else { "EAST" })
                })
                .collect();
            ImportCandidate { record: rec, items }
        })
        .collect()
}

fn import_twice_changes_nothing(db: &dyn Database) {
    setup_org(db);
    let batch = sample_batch(30, "tw");
    let first = db.import_batch(&batch, OnMatch::Replace).expect("first");
    assert!(first.iter().all(|o| matches!(o, ImportOutcome::Added { .. })), "{first:?}");
    let records = all_records(db);
    let items = db.items(&ItemFilter::default(), Page { after: 0, limit: 1000 }).expect("items");
    let changes = all_changes(db);
    for mode in [OnMatch::Replace, OnMatch::Add, OnMatch::Skip] {
        let again = db.import_batch(&batch, mode).expect("again");
        for (o, (f, c)) in again.iter().zip(first.iter().zip(&batch)) {
            let n = c.items.len() as u32;
            assert_eq!(*o, ImportOutcome::Unchanged { id: outcome_id(f), items_added: 0, items_existing: n });
        }
        assert_eq!(all_records(db), records);
        assert_eq!(db.items(&ItemFilter::default(), Page { after: 0, limit: 1000 }).expect("items"), items);
        assert_eq!(all_changes(db), changes, "a repeated import writes nothing to the change feed");
    }
}

fn export_streams_in_id_order(db: &dyn Database) {
    setup_org(db);
    // More records than one PostgreSQL fetch, in several batches.
    let mut expected_items = 0;
    for chunk in 0..3 {
        let batch = sample_batch(250, &format!("x{chunk}"));
        expected_items += batch.iter().map(|c| c.items.len()).sum::<usize>();
        db.import_batch(&batch, OnMatch::Skip).expect("import");
    }
    let mut seen = Vec::new();
    let mut items = 0;
    db.export(&RecordFilter::default(), &mut |record, its| {
        for it in &its {
            if it.bib_id != record.id {
                return Err(format!("item {} of {} exported with {}", it.id, it.bib_id, record.id));
            }
        }
        if its.windows(2).any(|w| w[0].id >= w[1].id) {
            return Err("items out of order".into());
        }
        items += its.len();
        seen.push(record.id);
        Ok(())
    })
    .expect("export");
    assert_eq!(seen.len(), 750);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "id order");
    assert_eq!(items, expected_items);

    // A filter selects; the callback's error stops the export.
    let mut selected = Vec::new();
    let filter = RecordFilter { title: Some("x1 title 1".into()), branch: Some(code("EAST")), ..Default::default() };
    db.export(&filter, &mut |r, its| {
        assert!(its.iter().any(|i| i.item.home_branch.as_str() == "EAST"));
        selected.push(r.derived.title);
        Ok(())
    })
    .expect("export");
    assert!(!selected.is_empty() && selected.iter().all(|t| t.starts_with("x1 title 1")), "{selected:?}");
    let mut calls = 0;
    let result = db.export(&RecordFilter::default(), &mut |_, _| {
        calls += 1;
        if calls == 300 {
            Err("disk full".into())
        } else {
            Ok(())
        }
    });
    match result {
        Err(StorageError::Other(m)) => assert!(m.contains("disk full")),
        other => panic!("{other:?}"),
    }
    assert_eq!(calls, 300);
}

fn change_feed(db: &dyn Database) {
    setup_org(db);
    assert!(db.changes(0, 10).expect("changes").is_empty());
    let r = db.create_record(&record("Fed", |_| {})).expect("record");
    let i = db.create_item(r, &item("F1", "MAIN")).expect("item");
    db.update_item(i, &item("F1", "EAST")).expect("update item");
    db.update_record(r, &record("Fed, again", |_| {})).expect("update record");
    db.delete_item(i).expect("delete item");
    db.delete_record(r).expect("delete record");
    // Refused writes leave no trace.
    let _ = db.create_item(r, &item("F2", "MAIN"));
    let _ = db.delete_record(r);
    let changes = db.changes(0, 100).expect("changes");
    let seen: Vec<(ChangeEntity, i64, ChangeKind)> = changes.iter().map(|c| (c.entity, c.entity_id, c.kind)).collect();
    assert_eq!(
        seen,
        vec![
            (ChangeEntity::Record, r, ChangeKind::Created),
            (ChangeEntity::Item, i, ChangeKind::Created),
            (ChangeEntity::Item, i, ChangeKind::Updated),
            (ChangeEntity::Record, r, ChangeKind::Updated),
            (ChangeEntity::Item, i, ChangeKind::Deleted),
            (ChangeEntity::Record, r, ChangeKind::Deleted),
        ]
    );
    assert!(changes.windows(2).all(|w| w[0].id < w[1].id));
    assert!(changes.iter().all(|c| c.at.ends_with('Z')));
    let tail = db.changes(changes[3].id, 2).expect("changes");
    assert_eq!(tail, changes[4..6].to_vec());
    // Branch and patron writes are not in the feed (only records and items are indexed).
    db.upsert_branch(&Branch { code: code("WEST"), name: "West".into() }).expect("branch");
    assert_eq!(db.changes(changes[5].id, 10).expect("changes"), vec![]);
    // Where the feed stands, as a follower asks it.
    let last = changes.last().expect("changes").id;
    assert_eq!(db.changes_after(0).expect("position"), (last, changes.len() as u64));
    assert_eq!(db.changes_after(changes[3].id).expect("position"), (last, (changes.len() - 4) as u64));
    assert_eq!(db.changes_after(last).expect("position"), (last, 0));
}

/// An import batch's changes are bulk; a staff edit, a copy-cataloged record (`import_record`)
/// and the import's own later edits are not, and `prompt_changes` reads exactly those.
fn import_changes_are_bulk(db: &dyn Database) {
    setup_org(db);
    let before = db.create_record(&record("Edited by hand", |_| {})).expect("record");
    let imported = db.import_batch(&sample_batch(5, "b"), OnMatch::Add).expect("import");
    let first = match &imported[0] {
        ImportOutcome::Added { id, .. } => *id,
        other => panic!("{other:?}"),
    };
    db.update_record(first, &record("Edited after the import", |_| {})).expect("edit");
    let chosen = sample_batch(1, "c").remove(0);
    let one = db.import_record(&chosen, OnMatch::Add).expect("import one");
    assert!(matches!(one, ImportOutcome::Added { .. }), "{one:?}");
    let again = db.import_record(&chosen, OnMatch::Skip).expect("import again");
    assert!(matches!(again, ImportOutcome::Unchanged { .. }), "{again:?}");

    let all = db.changes(0, 1000).expect("changes");
    let bulk: Vec<_> = all.iter().filter(|c| c.bulk).collect();
    // Five records and their 0+1+2+0+1 items.
    assert_eq!(bulk.len(), 9, "{all:?}");
    let prompt: Vec<_> = all.iter().filter(|c| !c.bulk).cloned().collect();
    let seen: Vec<(ChangeEntity, i64, ChangeKind)> = prompt.iter().map(|c| (c.entity, c.entity_id, c.kind)).collect();
    let chosen_id = match one {
        ImportOutcome::Added { id, .. } => id,
        _ => unreachable!(),
    };
    assert_eq!(
        seen,
        vec![
            (ChangeEntity::Record, before, ChangeKind::Created),
            (ChangeEntity::Record, first, ChangeKind::Updated),
            (ChangeEntity::Record, chosen_id, ChangeKind::Created),
        ]
    );
    assert_eq!(db.prompt_changes(0, 100).expect("prompt"), prompt);
    // Read after a position inside the import's changes, and with a limit.
    assert_eq!(db.prompt_changes(bulk[0].id, 1).expect("prompt"), prompt[1..2].to_vec());
    assert_eq!(db.prompt_changes(prompt[2].id, 10).expect("prompt"), vec![]);
    assert_eq!(db.prompt_changes_after(0).expect("count"), 3);
    assert_eq!(db.prompt_changes_after(bulk[0].id).expect("count"), 2);
    assert_eq!(db.prompt_changes_after(prompt[2].id).expect("count"), 0);
}

fn concurrent_writers(db: &dyn Database) {
    setup_org(db);
    let bib = db.create_record(&record("Shared", |_| {})).expect("record");
    let (threads, per_thread, batches) = (4, 40, 3);
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                for n in 0..per_thread {
                    db.create_item(bib, &item(&format!("C{t}-{n}"), if n % 2 == 0 { "MAIN" } else { "EAST" }))
                        .expect("create item");
                }
            });
        }
        for t in 0..2 {
            s.spawn(move || {
                for b in 0..batches {
                    let batch = sample_batch(30, &format!("c{t}{b}"));
                    let out = db.import_batch(&batch, OnMatch::Skip).expect("import");
                    assert!(out.iter().all(|o| matches!(o, ImportOutcome::Added { .. })), "{out:?}");
                }
            });
        }
        // Two threads import the same batch: the second finds the first's records.
        for _ in 0..2 {
            s.spawn(move || {
                let out = db.import_batch(&sample_batch(20, "same"), OnMatch::Add).expect("import");
                assert_eq!(out.len(), 20);
            });
        }
        // Readers run alongside.
        s.spawn(move || {
            for _ in 0..20 {
                db.items(&ItemFilter::default(), Page { after: 0, limit: 50 }).expect("read");
                db.count_records().expect("count");
            }
        });
    });
    let imported_items = |n: usize| sample_batch(n, "z").iter().map(|c| c.items.len()).sum::<usize>();
    let expected_items = threads * per_thread + 2 * batches * imported_items(30) + imported_items(20);
    let expected_records = 1 + 2 * batches * 30 + 20;
    assert_eq!(db.count_items().expect("count") as usize, expected_items);
    assert_eq!(db.count_records().expect("count") as usize, expected_records);

    // Every write is in the change feed once, in increasing id order.
    let changes = all_changes(db);
    assert!(changes.windows(2).all(|w| w[0].id < w[1].id));
    let created: HashSet<(ChangeEntity, i64)> =
        changes.iter().filter(|c| c.kind == ChangeKind::Created).map(|c| (c.entity, c.entity_id)).collect();
    assert_eq!(changes.len(), expected_items + expected_records);
    assert_eq!(created.len(), changes.len());
}

fn concurrent_same_barcode(db: &dyn Database) {
    setup_org(db);
    let bib = db.create_record(&record("Contested", |_| {})).expect("record");
    let results: Vec<storage::Result<i64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6).map(|_| s.spawn(move || db.create_item(bib, &item("SAME-1", "MAIN")))).collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| matches!(e, StorageError::Conflict { .. })));
    assert_eq!(db.count_items().expect("count"), 1);
}

fn import_speed(db: &dyn Database) {
    setup_org(db);
    let batch: Vec<ImportCandidate> = sample_batch(1000, "sp")
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            c.items = vec![NewItem { call_number: Some(format!("FIC {i}")), ..item(&format!("SP{i:06}"), "MAIN") }];
            c
        })
        .collect();
    let start = Instant::now();
    let out = db.import_batch(&batch, OnMatch::Skip).expect("import");
    let elapsed = start.elapsed();
    assert_eq!(out.len(), 1000);
    assert!(out.iter().all(|o| matches!(o, ImportOutcome::Added { items_added: 1, .. })));
    let rate = 1000.0 / elapsed.as_secs_f64();
    eprintln!(
        "{}: import_batch of 1,000 records (2 ISBNs, 1 OCLC number, 1 item each): {elapsed:.2?}, {rate:.0} records/s",
        db.backend()
    );
    let ids: BTreeSet<i64> = out.iter().map(outcome_id).collect();
    assert_eq!(ids.len(), 1000);
}

// ---------------------------------------------------------------------------------------------
// The shelf.

fn shelf(db: &dyn Database, query: &ShelfQuery, limit: u32) -> Vec<catalog::inventory::ShelfItem> {
    let mut out: Vec<catalog::inventory::ShelfItem> = Vec::new();
    loop {
        let page = ShelfPage { after: out.last().map(ShelfCursor::after), limit };
        let got = db.shelf_list(query, &page).expect("shelf list");
        if got.is_empty() {
            return out;
        }
        assert!(got.len() <= limit as usize);
        out.extend(got);
    }
}

fn shelf_barcodes(db: &dyn Database, query: &ShelfQuery) -> Vec<String> {
    shelf(db, query, 1000).into_iter().map(|s| s.item.item.barcode.to_string()).collect()
}

fn main_shelf(location: Option<&str>) -> ShelfQuery {
    ShelfQuery { branch: code("MAIN"), location: location.map(code), from: None, to: None, status: None }
}

/// Items with their own call numbers of every kind, and items shelved under their record's
/// Dewey or LC number, come back in the order the call-number crate puts them, page by page.
fn shelf_list_is_in_shelf_order(db: &dyn Database) {
    setup_org(db);
    let dewey = db.create_record(&record("Dewey only", |d| d.dewey_call_number = Some("599.75".into()))).expect("r");
    let both = db
        .create_record(&record("Both", |d| {
            d.dewey_call_number = Some("005.133".into());
            d.lc_call_number = Some("QA76.73.R87 K53 2018".into());
        }))
        .expect("r");
    let lc =
        db.create_record(&record("LC only", |d| d.lc_call_number = Some("PS3561.I483 S5 1987".into()))).expect("r");
    let own = [
        "813.54 KIN 2001 v.2",
        "813.54 KIN 2001 v.10",
        "FIC KING",
        "J 599.75 SMI",
        "QA76.73.R9 A1 1999",
        "QA76.73.R87 K53 2018",
        "REF 030 WOR",
        "B LINCOLN",
        "599.7",
        "*** not a call number ***",
        "813.54 KIN 2001 v.2",
    ];
    let mut expected: Vec<(callnumber::CallNumber, String)> = Vec::new();
    for (n, cn) in own.iter().enumerate() {
        let bc = format!("S{n:03}");
        let mut it = item(&bc, "MAIN");
        it.location = Some(code("ADULT-FIC"));
        it.call_number = Some(cn.to_string());
        db.create_item(dewey, &it).expect("item");
        expected.push((callnumber::CallNumber::parse(cn, callnumber::Scheme::Auto), bc));
    }
    for (bib, bc, shelved) in [(dewey, "I1", "599.75"), (both, "I2", "005.133"), (lc, "I3", "PS3561.I483 S5 1987")] {
        let mut it = item(bc, "MAIN");
        it.location = Some(code("ADULT-FIC"));
        db.create_item(bib, &it).expect("item");
        expected.push((callnumber::CallNumber::parse(shelved, callnumber::Scheme::Auto), bc.to_string()));
    }
    // Elsewhere: another location, another branch.
    let mut other = item("R1", "MAIN");
    other.location = Some(code("REF"));
    other.call_number = Some("000".into());
    db.create_item(dewey, &other).expect("item");
    let mut east = item("E1", "EAST");
    east.location = Some(code("ADULT-FIC"));
    east.call_number = Some("001".into());
    db.create_item(dewey, &east).expect("item");

    // Stable sort: copies with the same call number stay in creation (id) order.
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    let expected: Vec<String> = expected.into_iter().map(|(_, bc)| bc).collect();
    let q = main_shelf(Some("ADULT-FIC"));
    assert_eq!(shelf_barcodes(db, &q), expected);
    for limit in [1, 2, 5] {
        let paged: Vec<String> = shelf(db, &q, limit).into_iter().map(|s| s.item.item.barcode.to_string()).collect();
        assert_eq!(paged, expected, "pages of {limit}");
    }
    let entries = shelf(db, &q, 100);
    let inherited = entries.iter().find(|s| s.item.item.barcode.as_str() == "I3").expect("I3");
    assert_eq!(inherited.call_number.as_deref(), Some("PS3561.I483 S5 1987"));
    assert_eq!(inherited.item.item.call_number, None, "the item's own call number stays empty");
    assert_eq!(inherited.title, "LC only");
    assert!(entries.windows(2).all(|w| w[0].key <= w[1].key));

    // The whole branch: the reference item joins in order; the East item never does.
    let all = shelf_barcodes(db, &main_shelf(None));
    assert_eq!(all.len(), expected.len() + 1);
    assert!(all.contains(&"R1".to_string()) && !all.contains(&"E1".to_string()));

    // A range: from 599.7 up to everything that begins with 813.5.
    let range = ShelfQuery { from: Some("599.7".into()), to: Some("813.5".into()), ..main_shelf(Some("ADULT-FIC")) };
    let got = shelf_barcodes(db, &range);
    let want: Vec<&str> = vec!["S008", "I1", "S000", "S010", "S001"];
    assert_eq!(got, want);

    // A status filter.
    let mut gone = item("S099", "MAIN");
    gone.location = Some(code("ADULT-FIC"));
    gone.call_number = Some("700".into());
    gone.status = ItemStatus::CheckedOut;
    db.create_item(dewey, &gone).expect("item");
    let available = ShelfQuery { status: Some(ItemStatus::Available), ..main_shelf(Some("ADULT-FIC")) };
    assert!(!shelf_barcodes(db, &available).contains(&"S099".to_string()));
    assert!(shelf_barcodes(db, &main_shelf(Some("ADULT-FIC"))).contains(&"S099".to_string()));
}

/// Changing an item's call number, or the record call number an item is shelved under, moves
/// the item on the shelf list at once (the key is written in the same transaction).
fn call_number_changes_move_items(db: &dyn Database) {
    setup_org(db);
    let bib = db.create_record(&record("Moving", |d| d.dewey_call_number = Some("500".into()))).expect("r");
    let mut ids = Vec::new();
    for (bc, cn) in [("A", Some("100")), ("B", None), ("C", Some("900"))] {
        let mut it = item(bc, "MAIN");
        it.call_number = cn.map(str::to_string);
        ids.push((db.create_item(bib, &it).expect("item"), it));
    }
    let q = main_shelf(None);
    assert_eq!(shelf_barcodes(db, &q), ["A", "B", "C"]);
    let (a_id, mut a) = ids[0].clone();
    a.call_number = Some("950".into());
    db.update_item(a_id, &a).expect("update");
    assert_eq!(shelf_barcodes(db, &q), ["B", "C", "A"]);
    db.update_record(bib, &record("Moving", |d| d.dewey_call_number = Some("999".into()))).expect("update record");
    assert_eq!(shelf_barcodes(db, &q), ["C", "A", "B"], "B follows its record's new call number");
    // An unparsable call number is stored and shelved (after the parsed ones), never refused.
    a.call_number = Some("??".into());
    db.update_item(a_id, &a).expect("an unparsable call number is accepted");
    assert_eq!(shelf_barcodes(db, &q), ["C", "B", "A"]);
}

/// A database whose keys are missing or of another version gets them rebuilt on opening.
fn stale_sort_keys_are_rebuilt(h: &mut Harness) {
    let db = h.db();
    setup_org(db);
    let bib = db.create_record(&record("Keys", |d| d.lc_call_number = Some("QA9 .B2".into()))).expect("r");
    for (bc, cn) in [("X", Some("QA76")), ("Y", None), ("Z", Some("Q1"))] {
        let mut it = item(bc, "MAIN");
        it.call_number = cn.map(str::to_string);
        db.create_item(bib, &it).expect("item");
    }
    let wipe = "UPDATE items SET call_number_sort = NULL; DELETE FROM settings";
    match (&h.config, &h.pg_schema) {
        (StorageConfig::Sqlite(o), _) => {
            rusqlite::Connection::open(o.database_file()).expect("open").execute_batch(wipe).expect("wipe");
        }
        (StorageConfig::Postgres(_), Some((url, schema))) => {
            let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
            client.batch_execute(&format!("SET search_path TO \"{schema}\"; {wipe}")).expect("wipe");
        }
        _ => unreachable!("a PostgreSQL harness has a schema"),
    }
    h.reopen();
    assert_eq!(shelf_barcodes(h.db(), &main_shelf(None)), ["Z", "Y", "X"]);
}

fn inventory_scans_and_report(db: &dyn Database) {
    setup_org(db);
    let unknown =
        NewInventory { branch: code("NOWHERE"), location: None, call_number_from: None, call_number_to: None };
    assert!(constraint_text(db.start_inventory(&unknown)).contains("branch NOWHERE does not exist"));
    let bad_location = NewInventory {
        branch: code("MAIN"),
        location: Some(code("ATTIC")),
        call_number_from: None,
        call_number_to: None,
    };
    assert!(constraint_text(db.start_inventory(&bad_location)).contains("shelving location ATTIC does not exist"));

    let bib = db.create_record(&record("Shelf", |_| {})).expect("r");
    for n in 0..6 {
        let mut it = item(&format!("V{n}"), "MAIN");
        it.location = Some(code("ADULT-FIC"));
        it.call_number = Some(format!("{}", 100 + n * 100));
        db.create_item(bib, &it).expect("item");
    }
    let scope = NewInventory {
        branch: code("MAIN"),
        location: Some(code("ADULT-FIC")),
        call_number_from: Some("200".into()),
        call_number_to: Some("500".into()),
    };
    let inv = db.start_inventory(&scope).expect("start");
    assert_eq!((inv.scope.clone(), inv.scans), (scope.clone(), 0));
    let batch1: Vec<String> = ["V3", "  ", "V1"].iter().map(|s| s.to_string()).collect();
    assert_eq!(db.add_inventory_scans(inv.id, &batch1).expect("scan").scans, 2, "blank lines are skipped");
    let batch2: Vec<String> = ["V2", "V2", "GHOST", "V0"].iter().map(|s| s.to_string()).collect();
    assert_eq!(db.add_inventory_scans(inv.id, &batch2).expect("scan").scans, 6);
    assert!(matches!(db.add_inventory_scans(inv.id + 1000, &batch2), Err(StorageError::NotFound { .. })));

    let snap = db.inventory_snapshot(inv.id).expect("snapshot");
    assert_eq!(snap.scans, ["V3", "V1", "V2", "V2", "GHOST", "V0"]);
    let in_scope: Vec<&str> = snap.in_scope.iter().map(|s| s.item.item.barcode.as_str()).collect();
    assert_eq!(in_scope, ["V1", "V2", "V3", "V4"]);
    assert!(snap.scanned_items["V1"].last_seen_at.is_some(), "a scanned item is last seen now");
    assert!(!snap.scanned_items.contains_key("GHOST"));
    let not_scanned = db.item_by_barcode(&barcode("V4")).expect("get").expect("V4");
    let v4 = shelf(db, &main_shelf(None), 100).into_iter().find(|s| s.item.id == not_scanned.id).expect("V4");
    assert_eq!(v4.last_seen_at, None);

    let (_, report) = storage::inventory_report(db, inv.id).expect("report");
    let missing: Vec<&str> = report.missing.iter().map(|m| m.barcode.as_str()).collect();
    assert_eq!(missing, ["V4"]);
    let misplaced: Vec<&str> = report.misplaced.iter().map(|m| m.item.barcode.as_str()).collect();
    assert_eq!(misplaced, ["V3"]);
    let wrong_place: Vec<&str> = report.wrong_place.iter().map(|m| m.item.barcode.as_str()).collect();
    assert_eq!(wrong_place, ["V0"], "100 is below the range");
    assert_eq!(report.unknown, ["GHOST"]);
    assert_eq!(report.duplicates.len(), 1);
    assert_eq!(db.inventory(inv.id).expect("get").expect("present").scans, 6);

    let found = db.shelf_items(&[barcode("V2"), barcode("GHOST"), barcode("V0")]).expect("shelf items");
    let got: Vec<Option<(&str, &str, Option<&str>)>> = found
        .iter()
        .map(|f| f.as_ref().map(|s| (s.item.item.barcode.as_str(), s.title.as_str(), s.call_number.as_deref())))
        .collect();
    assert_eq!(got, [Some(("V2", "Shelf", Some("300"))), None, Some(("V0", "Shelf", Some("100")))]);
}

// ---------------------------------------------------------------------------------------------
// Circulation.

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&chrono::Utc)
}

fn register(db: &dyn Database, card: &str) {
    db.upsert_patron(&Patron {
        card_number: card.into(),
        surname: "Reader".into(),
        first_name: card.into(),
        category: code("ADULT"),
        home_branch: code("MAIN"),
        expiry_date: "2030-01-01".into(),
        email: None,
    })
    .expect("patron");
}

fn lend(branch: &str, due: &str) -> storage::loans::LoanWrite {
    storage::loans::LoanWrite {
        checkout_branch: code(branch),
        due_at: at(due),
        override_entry: None,
        holds: Vec::new(),
    }
}

/// The contexts each decision reads, and the writes: loans, counts kept per item type, the
/// item's status and holding branch, the overdue charge and the balance, a renewal.
fn checkout_renew_and_check_in(db: &dyn Database) {
    setup_org(db);
    register(db, "P1");
    let bib = db.create_record(&record("Lent", |_| {})).expect("r");
    for bc in ["L1", "L2"] {
        db.create_item(bib, &item(bc, "MAIN")).expect("item");
    }
    let now = at("2026-11-02T15:00:00Z");
    let mut seen = Vec::new();
    let loan = db
        .checkout("P1", &barcode("L1"), now, &mut |c| {
            seen.push(c.clone());
            Some(lend("EAST", "2026-11-16T23:59:00Z"))
        })
        .expect("checkout")
        .expect("a loan");
    assert_eq!((loan.checked_out_at, loan.due_at, loan.renewals), (now, at("2026-11-16T23:59:00Z"), 0));
    let c = &seen[0];
    assert_eq!((c.loans_total, c.loans_of_item_type, c.overdue_loans, c.loanable), (0, 0, 0, true));
    assert_eq!((c.patron.card_number.as_str(), c.patron.balance), ("P1", Money::ZERO));
    assert!(c.open_loan.is_none());
    let lent = db.item_by_barcode(&barcode("L1")).expect("get").expect("L1");
    assert_eq!((lent.item.status, lent.item.holding_branch.as_str()), (ItemStatus::CheckedOut, "EAST"));

    // The same copy again: the decision sees it on loan to this patron, and writes nothing.
    let mut again = None;
    let none = db
        .checkout("P1", &barcode("L1"), now, &mut |c| {
            again = c.open_loan.clone();
            None
        })
        .expect("checkout");
    assert!(none.is_none());
    assert_eq!(again.map(|l| l.id), Some(loan.id));

    // A second copy: counts come from the kept totals; the first loan is overdue later.
    let later = at("2026-11-20T10:00:00Z");
    let mut counts = (0, 0, 0);
    db.checkout("P1", &barcode("L2"), later, &mut |c| {
        counts = (c.loans_total, c.loans_of_item_type, c.overdue_loans);
        Some(lend("MAIN", "2026-12-04T23:59:00Z"))
    })
    .expect("checkout");
    assert_eq!(counts, (1, 1, 1));
    let account = db.patron_account("P1").expect("account").expect("P1");
    assert_eq!(db.open_loans(account.id).expect("loans").len(), 2);

    let renewed = db
        .renew(&barcode("L2"), later, &mut |c| {
            assert_eq!(c.loan.renewals, 0);
            Some(storage::loans::RenewalWrite { due_at: at("2026-12-18T23:59:00Z"), override_entry: None })
        })
        .expect("renew")
        .expect("renewed");
    assert_eq!((renewed.renewals, renewed.due_at), (1, at("2026-12-18T23:59:00Z")));
    assert!(matches!(db.renew(&barcode("NOPE"), later, &mut |_| None), Err(StorageError::NotFound { .. })));

    // Check-in with an overdue charge: the loan closes, the charge is posted once.
    let mut charged_before = None;
    let wrote = db
        .check_in(&barcode("L1"), later, &mut |c| {
            charged_before = Some(c.already_charged);
            assert_eq!(c.loan.as_ref().map(|(l, p)| (l.id, p.card_number.as_str())), Some((loan.id, "P1")));
            Some(storage::loans::CheckinWrite {
                return_branch: code("MAIN"),
                returned_at: later,
                overdue_charge: Money::from_minor(150),
                status: ItemStatus::Available,
                holding_branch: code("MAIN"),
                holds: Vec::new(),
                transit: None,
                found: None,
            })
        })
        .expect("check in");
    assert!(wrote);
    assert_eq!(charged_before, Some(Money::ZERO));
    let account = db.patron_account("P1").expect("account").expect("P1");
    assert_eq!(account.balance, Money::from_minor(150));
    let open: Vec<i64> = db.open_loans(account.id).expect("loans").iter().map(|l| l.item_id).collect();
    assert_eq!(open.len(), 1);
    let back = db.item_by_barcode(&barcode("L1")).expect("get").expect("L1");
    assert_eq!((back.item.status, back.item.holding_branch.as_str()), (ItemStatus::Available, "MAIN"));
    // Checked in again: no loan to close.
    let mut had_loan = true;
    db.check_in(&barcode("L1"), later, &mut |c| {
        had_loan = c.loan.is_some();
        None
    })
    .expect("check in");
    assert!(!had_loan);
    let mut total = 99;
    db.checkout("P1", &barcode("L1"), later, &mut |c| {
        total = c.loans_total;
        None
    })
    .expect("checkout");
    assert_eq!(total, 1, "the returned loan left the count");
    assert!(matches!(db.checkout("NOBODY", &barcode("L1"), later, &mut |_| None), Err(StorageError::NotFound { .. })));
}

/// Eight desks check out one copy at the same moment, each for its own patron: exactly one wins,
/// and the copy has exactly one open loan.
fn two_desks_one_copy(db: &dyn Database) {
    setup_org(db);
    let bib = db.create_record(&record("Wanted", |_| {})).expect("r");
    db.create_item(bib, &item("HOT", "MAIN")).expect("item");
    for n in 0..8 {
        register(db, &format!("D{n}"));
    }
    let now = at("2026-11-02T15:00:00Z");
    let wins = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|n| {
                s.spawn(move || {
                    db.checkout(&format!("D{n}"), &barcode("HOT"), now, &mut |c| {
                        c.open_loan.is_none().then(|| lend("MAIN", "2026-11-16T23:59:00Z"))
                    })
                    .expect("checkout")
                    .is_some()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("desk")).filter(|won| *won).count()
    });
    assert_eq!(wins, 1);
    let holders: usize = (0..8)
        .map(|n| {
            let account = db.patron_account(&format!("D{n}")).expect("account").expect("patron");
            db.open_loans(account.id).expect("loans").len()
        })
        .sum();
    assert_eq!(holders, 1);
}
