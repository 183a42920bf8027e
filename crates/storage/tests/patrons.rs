//! The patrons store on every backend: registration with duplicate keys and issued cards,
//! updates and renewal, blocks as checkout sees them, card replacement, reading history and
//! the anonymising of returned loans.

mod common;

use catalog::{Barcode, BibDerived, Branch, Code, ItemStatus, ItemType, Money, NewItem};
use chrono::{DateTime, NaiveDate, Utc};
use storage::loans::{CheckinWrite, LoanWrite};
use storage::patrons::{
    BlockKind, CardChoice, CardStatus, HistoryChoice, NewBlock, NoticePreference, PatronDetails, PatronQuery,
    ReadingHistory, Registration,
};
use storage::{Database, NewRecord, Page, Patron, StorageError};

suite! {
    db: [
        register_find_and_update,
        duplicates_are_found_by_either_key,
        issued_cards_skip_numbers_in_use,
        blocks_reach_the_checkout_context,
        replaced_card_stops_working_and_the_loans_follow,
        renewal_writes_what_the_decision_says,
        history_only_when_kept_and_anonymising_twice_changes_nothing,
        opac_sessions_expire_when_idle_move_on_use_and_end,
        found_by_email_or_phone_with_dependants_and_their_own_notices,
        found_by_name_start_in_name_order_and_by_the_last_digits_of_a_phone,
    ],
    harness: [],
}

fn code(s: &str) -> Code {
    Code::parse(s).expect("code")
}

fn barcode(s: &str) -> Barcode {
    Barcode::parse(s).expect("barcode")
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc)
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn setup(db: &dyn Database) {
    for (c, n) in [("MAIN", "Main Library"), ("EAST", "East Branch")] {
        db.upsert_branch(&Branch { code: code(c), name: n.into() }).expect("branch");
    }
    db.upsert_item_type(&ItemType { code: code("BK"), name: "Book".into(), loanable: true }).expect("type");
}

fn details(surname: &str, first: &str, birth: Option<&str>, email: Option<&str>) -> PatronDetails {
    let birth = birth.map(day);
    PatronDetails {
        surname: surname.into(),
        first_name: first.into(),
        category: code("ADULT"),
        home_branch: code("MAIN"),
        expiry_date: day("2029-06-30"),
        birth_date: birth,
        email: email.map(str::to_string),
        phone: None,
        address: None,
        guarantor: None,
        notice_preference: NoticePreference::Email,
        reading_history: HistoryChoice::Default,
        // The keys as circulation::registration makes them (storage only compares them).
        name_key: birth.map(|b| format!("{}|{}|{b}", surname.to_lowercase(), first.to_lowercase())),
        email_key: email.map(str::to_lowercase),
    }
}

fn registered(r: Registration) -> storage::patrons::PatronRecord {
    match r {
        Registration::Registered(p) => *p,
        Registration::Duplicates(d) => panic!("duplicates: {d:?}"),
    }
}

fn register(db: &dyn Database, card: &str, d: &PatronDetails) -> storage::patrons::PatronRecord {
    registered(db.register_patron(d, CardChoice::Given(card), false, at("2026-03-01T10:00:00Z")).expect("register"))
}

fn lend(due: &str) -> LoanWrite {
    LoanWrite { checkout_branch: code("MAIN"), due_at: at(due), override_entry: None, holds: Vec::new() }
}

fn give_back(at_: &str) -> CheckinWrite {
    CheckinWrite {
        return_branch: code("MAIN"),
        returned_at: at(at_),
        overdue_charge: Money::ZERO,
        status: ItemStatus::Available,
        holding_branch: code("MAIN"),
        holds: Vec::new(),
        transit: None,
        found: None,
    }
}

fn book(db: &dyn Database, title: &str, bc: &str) {
    let derived = BibDerived { title: title.to_string(), ..BibDerived::default() };
    let mut marc = b"00000nam a2200000 a 4500".to_vec();
    marc.extend(title.as_bytes());
    marc.push(0x1d);
    let bib = db.create_record(&NewRecord { marc, derived, row: None }).expect("record");
    let item = NewItem {
        barcode: barcode(bc),
        home_branch: code("MAIN"),
        holding_branch: code("MAIN"),
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
    };
    db.create_item(bib, &item).expect("item");
}

fn register_find_and_update(db: &dyn Database) {
    setup(db);
    let parent = register(db, "21234000000019", &details("Lopez", "Ana", Some("1980-02-03"), Some("ana@example.org")));
    assert_eq!(parent.card_number, "21234000000019");
    assert_eq!(parent.registered_at, at("2026-03-01T10:00:00Z"));
    assert_eq!(parent.details, details("Lopez", "Ana", Some("1980-02-03"), Some("ana@example.org")));
    assert_eq!(parent.balance, Money::ZERO);

    let mut child = details("Lopez", "Maria", Some("2016-04-02"), None);
    child.category = code("CHILD");
    child.guarantor = Some("21234000000019".into());
    child.notice_preference = NoticePreference::Print;
    child.reading_history = HistoryChoice::Keep;
    child.phone = Some("555-0100".into());
    child.address = Some("4 Elm St".into());
    let maria = register(db, "21234000000027", &child);
    assert_eq!(maria.details, child);

    // Unknown guarantor, unknown branch, a card in use: refused, nothing written.
    let mut orphan = details("Smith", "Tom", None, None);
    orphan.guarantor = Some("29999999999999".into());
    let e = db.register_patron(&orphan, CardChoice::Given("21234000000035"), false, at("2026-03-01T10:00:00Z"));
    assert!(matches!(e, Err(StorageError::NotFound { what: "guarantor card", .. })), "{e:?}");
    let mut nowhere = details("Smith", "Tom", None, None);
    nowhere.home_branch = code("NOPE");
    let e = db.register_patron(&nowhere, CardChoice::Given("21234000000035"), false, at("2026-03-01T10:00:00Z"));
    assert!(matches!(e, Err(StorageError::Constraint(_))), "{e:?}");
    let e = db.register_patron(
        &details("Smith", "Tom", None, None),
        CardChoice::Given("21234000000019"),
        false,
        at("2026-03-01T10:00:00Z"),
    );
    assert!(matches!(e, Err(StorageError::Conflict { what: "card number", .. })), "{e:?}");
    assert!(db.patron_record("21234000000035").expect("read").is_none());

    // The older path still works alongside.
    db.upsert_patron(&Patron {
        card_number: "L-1".into(),
        surname: "Legacy".into(),
        first_name: "Lee".into(),
        category: code("ADULT"),
        home_branch: code("MAIN"),
        expiry_date: "2030-01-01".into(),
        email: None,
    })
    .expect("upsert");
    assert_eq!(db.patrons(Page::default()).expect("list").len(), 3);
    let legacy = db.patron_record("L-1").expect("read").expect("L-1");
    assert_eq!(
        (legacy.details.reading_history, legacy.details.notice_preference),
        (HistoryChoice::Default, NoticePreference::Email)
    );

    // Finding: by card, by the start of the name (any case), keyset paged.
    let find = |card: Option<&str>, name: Option<&str>, page: Page| {
        db.find_patrons(
            &PatronQuery { card: card.map(Into::into), name_prefix: name.map(Into::into), ..PatronQuery::default() },
            page,
        )
        .expect("find")
        .into_iter()
        .map(|p| p.card_number)
        .collect::<Vec<_>>()
    };
    assert_eq!(find(Some("21234000000027"), None, Page::default()), ["21234000000027"]);
    assert_eq!(find(None, Some("LOP"), Page::default()), ["21234000000019", "21234000000027"]);
    assert_eq!(find(None, Some("lopez m"), Page::default()), ["21234000000027"]);
    assert_eq!(find(None, None, Page { after: 0, limit: 2 }), ["21234000000019", "21234000000027"]);
    assert_eq!(find(None, None, Page { after: maria.id, limit: 2 }), ["L-1"]);
    assert!(find(None, Some("smith"), Page::default()).is_empty());

    // Update: everything but the card and the expiry; a patron cannot guarantee themselves.
    let mut moved = maria.details.clone();
    moved.address = Some("9 Oak Ave".into());
    moved.home_branch = code("EAST");
    moved.expiry_date = day("2040-01-01");
    let updated = db.update_patron("21234000000027", &moved, at("2026-04-01T10:00:00Z")).expect("update");
    assert_eq!(updated.details.address.as_deref(), Some("9 Oak Ave"));
    assert_eq!(updated.details.home_branch, code("EAST"));
    assert_eq!(updated.details.expiry_date, maria.details.expiry_date);
    moved.guarantor = Some("21234000000027".into());
    assert!(matches!(
        db.update_patron("21234000000027", &moved, at("2026-04-01T10:00:00Z")),
        Err(StorageError::Constraint(_))
    ));
    assert!(matches!(
        db.update_patron("20000000000000", &moved, at("2026-04-01T10:00:00Z")),
        Err(StorageError::NotFound { what: "patron card", .. })
    ));
}

fn duplicates_are_found_by_either_key(db: &dyn Database) {
    setup(db);
    register(db, "C1", &details("Lopez", "Ana", Some("1980-02-03"), Some("ana@example.org")));
    let now = at("2026-03-02T10:00:00Z");
    // Same name and birth date, other email.
    let same_name = details("Lopez", "Ana", Some("1980-02-03"), Some("other@example.org"));
    match db.register_patron(&same_name, CardChoice::Given("C2"), false, now).expect("register") {
        Registration::Duplicates(d) => {
            assert_eq!(d.len(), 1);
            assert_eq!(
                (d[0].card_number.as_str(), d[0].surname.as_str(), d[0].first_name.as_str()),
                ("C1", "Lopez", "Ana")
            );
        }
        other => panic!("{other:?}"),
    }
    // Same email, other person.
    let same_email = details("Lopez", "Bea", Some("1982-01-01"), Some("ANA@example.org"));
    assert!(matches!(
        db.register_patron(&same_email, CardChoice::Given("C2"), false, now).expect("register"),
        Registration::Duplicates(_)
    ));
    assert!(db.patron_record("C2").expect("read").is_none(), "a refused duplicate writes nothing");
    // Staff confirm it is someone else: registered.
    let p = registered(db.register_patron(&same_email, CardChoice::Given("C2"), true, now).expect("register"));
    assert_eq!(p.card_number, "C2");
    // No shared key: no duplicate.
    register(db, "C3", &details("Lopez", "Ana", Some("1990-02-03"), None));
}

fn issued_cards_skip_numbers_in_use(db: &dyn Database) {
    setup(db);
    let make = |n: u64| Some(format!("2999{n:04}"));
    // Someone typed in the sequence's second number by hand.
    register(db, "29990002", &details("Typed", "In", None, None));
    let now = at("2026-03-03T10:00:00Z");
    let issue = |surname: &str| {
        registered(
            db.register_patron(&details(surname, "X", None, None), CardChoice::Issue(&make), false, now)
                .expect("issue"),
        )
        .card_number
    };
    assert_eq!(issue("A"), "29990001");
    assert_eq!(issue("B"), "29990003");
    assert_eq!(issue("C"), "29990004");
    let exhausted = |_: u64| None;
    let e = db.register_patron(&details("D", "X", None, None), CardChoice::Issue(&exhausted), false, now);
    assert!(matches!(e, Err(StorageError::Other(_))), "{e:?}");
}

fn blocks_reach_the_checkout_context(db: &dyn Database) {
    setup(db);
    register(db, "B1", &details("Blocked", "Bo", None, None));
    book(db, "Dune", "I1");
    let now = at("2026-05-01T10:00:00Z");
    let block =
        NewBlock { kind: BlockKind::Manual, reason: "Damaged three books".into(), until: Some(day("2026-05-31")) };
    let placed = db.add_block("B1", &block, "alice", now).expect("block");
    assert_eq!(
        (placed.kind, placed.reason.as_str(), placed.until, placed.placed_by.as_str()),
        (BlockKind::Manual, "Damaged three books", Some(day("2026-05-31")), "alice")
    );
    assert_eq!((placed.placed_at, placed.lifted.clone()), (now, None));
    let lost = db
        .add_block("B1", &NewBlock { kind: BlockKind::AddressUnknown, reason: String::new(), until: None }, "bob", now)
        .expect("block");

    let mut seen = Vec::new();
    db.checkout("B1", &barcode("I1"), now, &mut |c| {
        seen = c.patron.blocks.clone();
        None
    })
    .expect("checkout");
    assert_eq!(seen, vec![placed.clone(), lost.clone()]);

    let later = at("2026-05-02T10:00:00Z");
    let lifted = db.lift_block("B1", placed.id, "carol", later).expect("lift");
    assert_eq!(lifted.lifted, Some((later, "carol".to_string())));
    // Lifting again changes nothing; a block of another patron or none at all is not found.
    assert_eq!(db.lift_block("B1", placed.id, "dave", at("2026-05-03T10:00:00Z")).expect("lift"), lifted);
    register(db, "B2", &details("Other", "Ollie", None, None));
    assert!(matches!(db.lift_block("B2", lost.id, "x", later), Err(StorageError::NotFound { what: "block", .. })));

    db.checkout("B1", &barcode("I1"), later, &mut |c| {
        seen = c.patron.blocks.clone();
        None
    })
    .expect("checkout");
    assert_eq!(seen, vec![lost.clone()]);
    assert_eq!(db.patron_account("B1").expect("account").expect("B1").blocks, vec![lost.clone()]);
    // The record keeps lifted blocks.
    assert_eq!(db.blocks("B1").expect("blocks"), vec![lifted, lost]);
}

fn replaced_card_stops_working_and_the_loans_follow(db: &dyn Database) {
    setup(db);
    let p = register(db, "OLD1", &details("Card", "Carl", None, None));
    book(db, "Emma", "I1");
    book(db, "Ivanhoe", "I2");
    let now = at("2026-06-01T10:00:00Z");
    db.checkout("OLD1", &barcode("I1"), now, &mut |_| Some(lend("2026-06-15T23:59:00Z"))).expect("checkout");

    let later = at("2026-06-02T10:00:00Z");
    let new = db.replace_card("OLD1", CardChoice::Given("NEW1"), "alice", Some("lost"), later).expect("replace");
    assert_eq!((new.id, new.card_number.as_str()), (p.id, "NEW1"));
    assert_eq!(db.card_status("OLD1").expect("status"), CardStatus::Replaced { patron: p.id, replaced_at: later });
    assert_eq!(db.card_status("NEW1").expect("status"), CardStatus::Current(p.id));
    assert_eq!(db.card_status("NONE").expect("status"), CardStatus::Unknown);
    assert!(matches!(
        db.checkout("OLD1", &barcode("I2"), later, &mut |_| Some(lend("2026-06-16T23:59:00Z"))),
        Err(StorageError::NotFound { what: "patron card", .. })
    ));
    assert!(db.patron_account("OLD1").expect("account").is_none());
    // The new card sees the loan made on the old one.
    let account = db.patron_account("NEW1").expect("account").expect("NEW1");
    assert_eq!(db.open_loans(account.id).expect("loans").len(), 1);
    db.checkout("NEW1", &barcode("I2"), later, &mut |c| {
        assert_eq!(c.loans_total, 1);
        Some(lend("2026-06-16T23:59:00Z"))
    })
    .expect("checkout");

    // The old number is never issued again, to anyone.
    let e = db.register_patron(&details("New", "Nina", None, None), CardChoice::Given("OLD1"), false, later);
    assert!(matches!(e, Err(StorageError::Conflict { what: "replaced card number", .. })), "{e:?}");
    let e = db.replace_card("NEW1", CardChoice::Given("OLD1"), "alice", None, later);
    assert!(matches!(e, Err(StorageError::Conflict { what: "replaced card number", .. })), "{e:?}");
    let cards = db.replaced_cards("NEW1").expect("cards");
    assert_eq!(cards.len(), 1);
    assert_eq!(
        (cards[0].card_number.as_str(), cards[0].replaced_by.as_str(), cards[0].reason.as_deref()),
        ("OLD1", "alice", Some("lost"))
    );
}

fn renewal_writes_what_the_decision_says(db: &dyn Database) {
    setup(db);
    register(db, "R1", &details("Renew", "Rae", None, None));
    let now = at("2026-06-01T10:00:00Z");
    let mut saw = None;
    let none = db
        .renew_card("R1", now, &mut |p| {
            saw = Some(p.details.expiry_date);
            None
        })
        .expect("renew");
    assert!(none.is_none());
    assert_eq!(saw, Some(day("2029-06-30")));
    let renewed = db.renew_card("R1", now, &mut |_| Some(day("2032-06-30"))).expect("renew").expect("renewed");
    assert_eq!(renewed.details.expiry_date, day("2032-06-30"));
    assert_eq!(db.patron_account("R1").expect("a").expect("R1").expiry_date, day("2032-06-30"));
    assert!(matches!(db.renew_card("R9", now, &mut |_| None), Err(StorageError::NotFound { .. })));
}

fn history_only_when_kept_and_anonymising_twice_changes_nothing(db: &dyn Database) {
    setup(db);
    let mut keeper = details("Keeper", "Kim", None, None);
    keeper.reading_history = HistoryChoice::Keep;
    let kim = register(db, "K1", &keeper);
    let dan = register(db, "D1", &details("Default", "Dan", None, None));
    book(db, "Middlemarch", "I1");
    book(db, "Persuasion", "I2");
    book(db, "Walden", "I3");
    let t0 = at("2026-07-01T10:00:00Z");
    db.checkout("K1", &barcode("I1"), t0, &mut |_| Some(lend("2026-07-15T23:59:00Z"))).expect("checkout");
    db.checkout("D1", &barcode("I2"), t0, &mut |_| Some(lend("2026-07-15T23:59:00Z"))).expect("checkout");
    db.checkout("D1", &barcode("I3"), t0, &mut |_| Some(lend("2026-07-15T23:59:00Z"))).expect("checkout");
    let t1 = at("2026-07-05T10:00:00Z");
    assert!(db.check_in(&barcode("I1"), t1, &mut |_| Some(give_back("2026-07-05T10:00:00Z"))).expect("check in"));
    // Dan's book comes back with a charge (as if late): the ledger entry names the loan.
    let charged = CheckinWrite { overdue_charge: Money::from_minor(50), ..give_back("2026-07-05T10:00:00Z") };
    assert!(db.check_in(&barcode("I2"), t1, &mut |_| Some(charged.clone())).expect("check in"));
    let loan_of_charge = |db: &dyn Database| db.account("D1").expect("account").expect("dan").rows[0].loan_id;
    assert!(loan_of_charge(db).is_some());

    match db.reading_history("K1", Page::default()).expect("history") {
        ReadingHistory::Kept(h) => {
            assert_eq!(h.len(), 1);
            assert_eq!((h[0].barcode.as_str(), h[0].title.as_str(), h[0].returned_at), ("I1", "Middlemarch", t1));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(db.reading_history("D1", Page::default()).expect("history"), ReadingHistory::NotKept);

    // Loans returned before the cut-off only.
    let day_after = at("2026-07-06T02:00:00Z");
    assert_eq!(db.anonymise_returned_loans(at("2026-07-05T09:00:00Z"), day_after).expect("job"), 0);
    assert_eq!(db.anonymise_returned_loans(day_after, day_after).expect("job"), 1);
    assert_eq!(db.anonymise_returned_loans(day_after, day_after).expect("job"), 0, "a second run changes nothing");
    // The charge stays on Dan's account, unlinked from the loan that is no longer his.
    let account = db.account("D1").expect("account").expect("dan");
    assert_eq!((account.patron.balance, loan_of_charge(db)), (Money::from_minor(50), None));
    // Dan's open loan is still his; Kim keeps her history; the anonymous patron is no one's card.
    assert_eq!(db.open_loans(dan.id).expect("loans").len(), 1);
    assert!(matches!(db.reading_history("K1", Page::default()).expect("h"), ReadingHistory::Kept(h) if h.len() == 1));
    assert_eq!(db.open_loans(kim.id).expect("loans").len(), 0);
    assert!(db.patron_record("").expect("read").is_none());
    assert_eq!(db.find_patrons(&PatronQuery::default(), Page::default()).expect("find").len(), 2);
    // The loan itself is still there for statistics, with its item and branch.
    let item = db.item_by_barcode(&barcode("I2")).expect("item").expect("I2");
    assert_eq!(item.item.status, ItemStatus::Available);

    // Dan returns the other book and changes his mind later: only what was still his is shown.
    assert!(db.check_in(&barcode("I3"), t1, &mut |_| Some(give_back("2026-07-05T10:00:00Z"))).expect("check in"));
    let mut d = dan.details.clone();
    d.reading_history = HistoryChoice::Keep;
    db.update_patron("D1", &d, day_after).expect("update");
    match db.reading_history("D1", Page::default()).expect("history") {
        ReadingHistory::Kept(h) => assert_eq!(h.iter().map(|e| e.barcode.as_str()).collect::<Vec<_>>(), ["I3"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(db.anonymise_returned_loans(day_after, day_after).expect("job"), 0);
}

fn opac_sessions_expire_when_idle_move_on_use_and_end(db: &dyn Database) {
    setup(db);
    let ann = register(db, "S1", &details("Session", "Ann", None, None));
    register(db, "S2", &details("Session", "Bob", None, None));
    let t0 = at("2026-05-01T10:00:00Z");
    let idle = chrono::Duration::minutes(30);
    db.create_patron_session("S1", "hash-a", t0 + idle, t0).expect("session");
    db.create_patron_session("S2", "hash-b", t0 + idle, t0).expect("session");
    let unknown = db.create_patron_session("NOPE", "hash-c", t0 + idle, t0);
    assert!(matches!(unknown, Err(StorageError::NotFound { what: "patron card", .. })), "{unknown:?}");

    // Each token names its own patron, and only its SHA-256 (here a stand-in) finds it.
    let s = db.patron_session("hash-a", t0, t0 + idle).expect("read").expect("live");
    assert_eq!((s.patron_id, s.card_number.as_str()), (ann.id, "S1"));
    assert_eq!(db.patron_session("hash-b", t0, t0 + idle).expect("read").expect("live").card_number, "S2");
    assert_eq!(db.patron_session("hash-x", t0, t0 + idle).expect("read"), None);

    // A use 20 minutes in moves the expiry to 30 minutes after that use...
    let t1 = t0 + chrono::Duration::minutes(20);
    let s = db.patron_session("hash-a", t1, t1 + idle).expect("read").expect("live");
    assert_eq!(s.expires_at, t1 + idle);
    // ...so at 40 minutes Ann is still signed in while Bob, idle since t0, is not.
    let t2 = t0 + chrono::Duration::minutes(40);
    assert!(db.patron_session("hash-a", t2, t2 + idle).expect("read").is_some());
    assert_eq!(db.patron_session("hash-b", t2, t2 + idle).expect("read"), None);
    // An expired session cannot be brought back by using it.
    assert_eq!(db.patron_session("hash-b", t2, t2 + idle).expect("read"), None);

    // Log-out ends the session once.
    assert!(db.end_patron_session("hash-a").expect("end"));
    assert!(!db.end_patron_session("hash-a").expect("end again"));
    assert_eq!(db.patron_session("hash-a", t2, t2 + idle).expect("read"), None);
}

/// The staff client's patron screens: one search box finds by email (any case) or phone, a
/// guarantor's record lists the dependants, and each patron's notices are theirs alone.
fn found_by_email_or_phone_with_dependants_and_their_own_notices(db: &dyn Database) {
    setup(db);
    let parent = PatronDetails {
        phone: Some("555-0100".into()),
        ..details("Okafor", "Grace", Some("1984-09-12"), Some("grace@example.org"))
    };
    let parent = register(db, "21234000000019", &parent);
    let other = register(db, "21234000000027", &details("Lopez", "Ana", None, Some("ana@example.org")));
    let child = PatronDetails {
        guarantor: Some(parent.card_number.clone()),
        ..details("Okafor", "Tobi", Some("2017-03-02"), None)
    };
    let child = register(db, "21234000000035", &child);
    let cards = |q: PatronQuery| {
        db.find_patrons(&q, Page::default()).expect("find").into_iter().map(|p| p.card_number).collect::<Vec<_>>()
    };
    assert_eq!(
        cards(PatronQuery { email: Some(" GRACE@Example.org ".into()), ..PatronQuery::default() }),
        [parent.card_number.as_str()]
    );
    assert_eq!(
        cards(PatronQuery { phone: Some("555-0100".into()), ..PatronQuery::default() }),
        [parent.card_number.as_str()]
    );
    assert!(cards(PatronQuery { phone: Some("555-0199".into()), ..PatronQuery::default() }).is_empty());
    // Conditions together narrow: this email is not this name.
    let both = PatronQuery {
        email: Some("ana@example.org".into()),
        name_prefix: Some("okafor".into()),
        ..PatronQuery::default()
    };
    assert!(cards(both).is_empty());

    let dependants = db.dependants(&parent.card_number, 10).expect("dependants");
    assert_eq!(dependants.iter().map(|p| p.card_number.as_str()).collect::<Vec<_>>(), [child.card_number.as_str()]);
    assert!(db.dependants(&other.card_number, 10).expect("none").is_empty());
    assert!(matches!(db.dependants("29999999999999", 10), Err(StorageError::NotFound { .. })));

    let notice = |patron: &storage::patrons::PatronRecord, n: u32| {
        let key = storage::notices::NoticeKey {
            patron_id: patron.id,
            kind: "overdue".into(),
            subject: format!("loan:{n}"),
            occasion: "2026-03-10T21:00:00Z".into(),
        };
        db.record_notice(&[key], at("2026-03-11T06:00:00Z"), &mut |_| {
            Some(storage::notices::NewNotice {
                patron_id: patron.id,
                kind: "overdue".into(),
                channel: "print".into(),
                recipient: None,
                subject: format!("Overdue {n}"),
                body: "Please bring it back.".into(),
                day: day("2026-03-11"),
            })
        })
        .expect("notice")
        .expect("stored")
    };
    let first = notice(&parent, 1);
    notice(&other, 2);
    let last = notice(&parent, 3);
    let mine = db.patron_notices(parent.id, Page { after: 0, limit: 10 }).expect("notices");
    assert_eq!(mine.iter().map(|n| n.id).collect::<Vec<_>>(), [last, first], "newest first, only theirs");
    let older = db.patron_notices(parent.id, Page { after: last, limit: 10 }).expect("older");
    assert_eq!(older.iter().map(|n| n.subject.as_str()).collect::<Vec<_>>(), ["Overdue 1"]);
    assert!(db.patron_notices(child.id, Page::default()).expect("none").is_empty());
}

/// The staff search by name matches the start of "surname first name" with case, accents and
/// punctuation ignored, pages in name order, and follows a rename; by phone it matches the
/// last digits however the number was written.
fn found_by_name_start_in_name_order_and_by_the_last_digits_of_a_phone(db: &dyn Database) {
    setup(db);
    let card = |n: u32| format!("2123400000{n:04}");
    let people = [
        ("Pérez-Luna", "José", Some("+1 (555) 123-4567")),
        ("Perez", "Ana", Some("555.987.6543")),
        ("PEREZ", "Zoe", None),
        ("Peretti", "Marco", None),
        ("Smith", "Perez", Some("4567")),
    ];
    for (n, (surname, first, phone)) in people.iter().enumerate() {
        let d = PatronDetails { phone: phone.map(str::to_string), ..details(surname, first, None, None) };
        register(db, &card(n as u32), &d);
    }
    // The anonymous patron and a patron from the legacy upsert path are searchable too.
    db.upsert_patron(&Patron {
        card_number: card(9),
        surname: "Pérez".into(),
        first_name: "Bea".into(),
        category: code("ADULT"),
        home_branch: code("MAIN"),
        expiry_date: "2030-01-01".into(),
        email: None,
    })
    .expect("upsert");
    let names = |prefix: &str, page: Page| {
        db.find_patrons(&PatronQuery { name_prefix: Some(prefix.into()), ..PatronQuery::default() }, page)
            .expect("find")
            .into_iter()
            .map(|p| (p.id, format!("{} {}", p.details.surname, p.details.first_name)))
            .collect::<Vec<_>>()
    };
    let all = names("perez", Page::default());
    assert_eq!(
        all.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(),
        ["Perez Ana", "Pérez Bea", "Pérez-Luna José", "PEREZ Zoe"],
        "name order, accents and case ignored; Peretti and Smith Perez do not start so"
    );
    assert_eq!(names("PEREZ-LUNA, j", Page::default()).len(), 1);
    assert_eq!(names("Pérez Z", Page::default()).iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(), ["PEREZ Zoe"]);
    // Paged in the same order: after the second, the rest ("perez luna" sorts before "perez zoe").
    let second = Page { after: all[1].0, limit: 2 };
    assert_eq!(names("perez", second), all[2..4].to_vec());
    assert_eq!(names("perez", Page { after: 0, limit: 2 }), all[..2].to_vec());

    // A rename is found under the new name only.
    let jose = db.patron_record(&card(0)).expect("read").expect("José");
    let renamed = PatronDetails { surname: "Luna".into(), ..jose.details.clone() };
    db.update_patron(&card(0), &renamed, at("2026-03-02T10:00:00Z")).expect("rename");
    assert_eq!(names("perez-luna", Page::default()), []);
    assert_eq!(names("luna jo", Page::default()).len(), 1);

    let phones = |typed: &str| {
        let mut cards = db
            .find_patrons(&PatronQuery { phone: Some(typed.into()), ..PatronQuery::default() }, Page::default())
            .expect("find")
            .into_iter()
            .map(|p| p.card_number)
            .collect::<Vec<_>>();
        cards.sort();
        cards
    };
    assert_eq!(phones("555-123-4567"), [card(0)]);
    assert_eq!(phones("(555) 987 6543"), [card(1)]);
    assert_eq!(phones("5559876543"), [card(1)]);
    assert_eq!(phones("4567"), [card(0), card(4)], "the last four digits find both numbers ending so");
    assert!(phones("555-123-4568").is_empty());
}
