//! Holds over HTTP: placing (with refusals and their codes), a record's queue and a patron's
//! holds, the check-in answer naming the hold and where the copy goes, the hold filled at
//! checkout, staff changes (move, suspend, resume, not-needed-after), cancelling, the pull list.

mod common;
use common::*;

use reqwest::StatusCode;
use serde_json::{json, Value};

const A: &str = "21234000000017";
const B: &str = "21234000000025";

async fn ok(r: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status);
    r.json().await.expect("json")
}

async fn copy(app: &App, bib: i64, barcode: &str, home: &str, call: &str) {
    let mut item = item_json(barcode);
    item["home_branch"] = json!(home);
    item["call_number"] = json!(call);
    let r = app.post(&format!("/api/v1/records/{bib}/items"), &item).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_travels_to_its_pickup_branch_and_is_filled() {
    let app = spawn_app().await;
    app.organisation().await;
    app.patrons(&[A, B]).await;
    let bib = app.record("The Dispossessed", 1974).await;
    copy(&app, bib, "31234000000011", "CEN", "FIC LEGUIN").await;
    let out =
        app.post("/api/v1/checkouts", &json!({"card_number": A, "barcode": "31234000000011", "branch": "CEN"})).await;
    assert_eq!(out.status(), StatusCode::CREATED);

    // B asks for it at OAK.
    let placed = ok(
        app.post("/api/v1/holds", &json!({"card_number": B, "record_id": bib, "pickup_branch": "OAK"})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!((placed["status"].as_str(), placed["position"].as_i64()), (Some("waiting"), Some(1)), "{placed}");
    assert_eq!(placed["card_number"], B);
    let id = placed["id"].as_i64().expect("id");
    let again = app.post("/api/v1/holds", &json!({"card_number": B, "record_id": bib, "pickup_branch": "OAK"})).await;
    let body = assert_error(again, StatusCode::CONFLICT, "hold_refused", None).await;
    assert_eq!(body["error"]["refusals"][0]["code"], "hold_already_placed", "{body}");
    let queue = ok(app.get(&format!("/api/v1/records/{bib}/holds")).await, StatusCode::OK).await;
    assert_eq!(queue["holds"].as_array().map(Vec::len), Some(1), "{queue}");

    // A may not renew: B is waiting.
    let renew = app.post("/api/v1/renewals", &json!({"barcode": "31234000000011"})).await;
    let body = assert_error(renew, StatusCode::CONFLICT, "renewal_refused", None).await;
    let codes: Vec<&str> =
        body["error"]["refusals"].as_array().expect("refusals").iter().filter_map(|r| r["code"].as_str()).collect();
    assert!(codes.contains(&"renewal_on_hold"), "{body}");

    // Back at CEN: in transit to OAK for B. Received at OAK: on the hold shelf for B.
    let back =
        ok(app.post("/api/v1/checkins", &json!({"barcode": "31234000000011", "branch": "CEN"})).await, StatusCode::OK)
            .await;
    assert_eq!(
        (back["routing"]["to"].as_str(), back["routing"]["branch"].as_str()),
        (Some("transit"), Some("OAK")),
        "{back}"
    );
    assert_eq!(back["routing"]["hold"]["card_number"], B, "{back}");
    assert_eq!(back["status"], "in_transit");
    let there =
        ok(app.post("/api/v1/checkins", &json!({"barcode": "31234000000011", "branch": "OAK"})).await, StatusCode::OK)
            .await;
    assert_eq!(there["routing"]["to"], "hold_shelf", "{there}");
    assert_eq!(there["routing"]["hold"]["id"], id, "{there}");
    assert!(there["routing"]["pickup_by"]["utc"].as_str().is_some(), "{there}");
    assert_eq!(there["status"], "on_hold_shelf");
    let mine = ok(app.get(&format!("/api/v1/patrons/{B}/holds")).await, StatusCode::OK).await;
    assert_eq!(mine["holds"][0]["status"], "on_shelf", "{mine}");
    assert_eq!(mine["holds"][0]["pickup_by"], there["routing"]["pickup_by"], "{mine}");

    // A may not take it; B may, which fills the hold.
    let taken =
        app.post("/api/v1/checkouts", &json!({"card_number": A, "barcode": "31234000000011", "branch": "OAK"})).await;
    let body = assert_error(taken, StatusCode::CONFLICT, "checkout_refused", None).await;
    assert_eq!(body["error"]["refusals"][0]["code"], "item_on_hold_for_other", "{body}");
    let out =
        app.post("/api/v1/checkouts", &json!({"card_number": B, "barcode": "31234000000011", "branch": "OAK"})).await;
    assert_eq!(out.status(), StatusCode::CREATED);
    let mine = ok(app.get(&format!("/api/v1/patrons/{B}/holds")).await, StatusCode::OK).await;
    assert_eq!(mine["holds"][0]["status"], "filled", "{mine}");
    let queue = ok(app.get(&format!("/api/v1/records/{bib}/holds")).await, StatusCode::OK).await;
    assert_eq!(queue["holds"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_change_and_cancel_holds_and_read_the_pull_list() {
    let app = spawn_app().await;
    app.organisation().await;
    app.patrons(&[A, B]).await;
    let bib = app.record("Always Coming Home", 1985).await;
    copy(&app, bib, "31234000000029", "CEN", "FIC LEGUIN").await;
    let other = app.record("A Wizard of Earthsea", 1968).await;
    copy(&app, other, "31234000000037", "CEN", "FIC LEGUIN W").await;
    let place = |card: &'static str, bib: i64| {
        let app = &app;
        async move {
            let r = app
                .post("/api/v1/holds", &json!({"card_number": card, "record_id": bib, "pickup_branch": "CEN"}))
                .await;
            ok(r, StatusCode::CREATED).await["id"].as_i64().expect("id")
        }
    };
    let a = place(A, bib).await;
    let b = place(B, bib).await;

    // Staff move B first; suspend and resume; set and clear not-needed-after.
    let moved = ok(app.patch(&format!("/api/v1/holds/{b}"), &json!({"position": 1})).await, StatusCode::OK).await;
    assert_eq!(moved["position"], 1, "{moved}");
    let queue = ok(app.get(&format!("/api/v1/records/{bib}/holds")).await, StatusCode::OK).await;
    let ids: Vec<i64> = queue["holds"].as_array().expect("holds").iter().filter_map(|h| h["id"].as_i64()).collect();
    assert_eq!(ids, vec![b, a]);
    let s = ok(
        app.patch(&format!("/api/v1/holds/{b}"), &json!({"suspended": true, "suspended_until": "2099-01-01"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!((s["status"].as_str(), s["suspended_until"].as_str()), (Some("suspended"), Some("2099-01-01")), "{s}");

    // The pull list at CEN: each title's copy, in shelf order; B is away so A's hold is named.
    let list = ok(app.get("/api/v1/branches/CEN/pull-list").await, StatusCode::OK).await;
    assert_eq!(list["copies"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list["copies"][0]["hold_id"], a, "{list}");
    assert_eq!(list["copies"][0]["call_number"], "FIC LEGUIN", "{list}");
    assert_eq!(list["copies"][0]["title"], "Always Coming Home", "{list}");
    let w = place(B, other).await;
    let list = ok(app.get("/api/v1/branches/CEN/pull-list").await, StatusCode::OK).await;
    let order: Vec<&str> =
        list["copies"].as_array().expect("copies").iter().filter_map(|c| c["barcode"].as_str()).collect();
    assert_eq!(order, vec!["31234000000029", "31234000000037"], "{list}");
    assert_eq!(list["copies"][1]["hold_id"], w);
    assert_error(app.get("/api/v1/branches/NOPE/pull-list").await, StatusCode::NOT_FOUND, "branch_not_found", None)
        .await;

    let r = ok(app.patch(&format!("/api/v1/holds/{b}"), &json!({"suspended": false})).await, StatusCode::OK).await;
    assert_eq!(r["status"], "waiting");
    let again = app.patch(&format!("/api/v1/holds/{b}"), &json!({"suspended": false})).await;
    assert_error(again, StatusCode::CONFLICT, "hold_wrong_state", None).await;
    let n =
        ok(app.patch(&format!("/api/v1/holds/{a}"), &json!({"not_needed_after": "2099-06-30"})).await, StatusCode::OK)
            .await;
    assert_eq!(n["not_needed_after"], "2099-06-30");
    let n =
        ok(app.patch(&format!("/api/v1/holds/{a}"), &json!({"not_needed_after": null})).await, StatusCode::OK).await;
    assert_eq!(n["not_needed_after"], Value::Null);

    // Bad requests name the field at fault.
    let bad = app.patch(&format!("/api/v1/holds/{a}"), &json!({"not_needed_after": "soon"})).await;
    assert_error(bad, StatusCode::BAD_REQUEST, "invalid_date", Some("not_needed_after")).await;
    let bad = app.patch(&format!("/api/v1/holds/{a}"), &json!({"position": 0})).await;
    assert_error(bad, StatusCode::BAD_REQUEST, "invalid_type", Some("position")).await;
    let bad = app.patch(&format!("/api/v1/holds/{a}"), &json!({"colour": "red"})).await;
    assert_error(bad, StatusCode::BAD_REQUEST, "unknown_field", Some("colour")).await;
    let bad = app.post("/api/v1/holds", &json!({"card_number": A, "pickup_branch": "CEN"})).await;
    assert_error(bad, StatusCode::BAD_REQUEST, "missing_field", Some("record_id")).await;
    let bad = app.post("/api/v1/holds", &json!({"card_number": A, "record_id": 999999, "pickup_branch": "CEN"})).await;
    assert_error(bad, StatusCode::BAD_REQUEST, "unknown_record", Some("record_id")).await;
    let bad = app.post("/api/v1/holds", &json!({"card_number": "999", "record_id": bib, "pickup_branch": "CEN"})).await;
    assert_error(bad, StatusCode::NOT_FOUND, "unknown_card", Some("card_number")).await;
    let bad =
        app.post("/api/v1/holds", &json!({"card_number": A, "barcode": "31234000000037", "pickup_branch": "XX"})).await;
    assert_error(bad, StatusCode::BAD_REQUEST, "unknown_branch", Some("pickup_branch")).await;

    // Cancelled: gone from the queue, kept in the patron's list; twice is refused.
    let c = ok(app.delete(&format!("/api/v1/holds/{a}")).await, StatusCode::OK).await;
    assert_eq!(c["status"], "cancelled");
    assert!(c["finished_at"]["utc"].as_str().is_some(), "{c}");
    assert_error(app.delete(&format!("/api/v1/holds/{a}")).await, StatusCode::CONFLICT, "hold_wrong_state", None).await;
    assert_error(app.delete("/api/v1/holds/999999").await, StatusCode::NOT_FOUND, "hold_not_found", None).await;
    let queue = ok(app.get(&format!("/api/v1/records/{bib}/holds")).await, StatusCode::OK).await;
    assert_eq!(queue["holds"].as_array().map(Vec::len), Some(1), "{queue}");
    let mine = ok(app.get(&format!("/api/v1/patrons/{A}/holds")).await, StatusCode::OK).await;
    assert_eq!(mine["holds"][0]["status"], "cancelled", "{mine}");
    assert_error(app.get("/api/v1/records/999999/holds").await, StatusCode::NOT_FOUND, "record_not_found", None).await;
}

/// An emergency closure over HTTP: it needs Configure, moves the due date it falls on, and
/// says what went wrong with a code (a past day, an unknown branch, a day already closed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emergency_closure_moves_a_due_date() {
    let app = spawn_app().await;
    app.organisation().await;
    app.patrons(&[A]).await;
    let bib = app.record("The Lathe of Heaven", 1971).await;
    copy(&app, bib, "31234000000011", "CEN", "FIC LEGUIN").await;
    let out = ok(
        app.post("/api/v1/checkouts", &json!({"card_number": A, "barcode": "31234000000011", "branch": "CEN"})).await,
        StatusCode::CREATED,
    )
    .await;
    let due_day = out["loan"]["due"]["local"].as_str().expect("due")[..10].to_string();
    let closure = json!({"day": due_day, "reason": "burst pipe", "branches": ["CEN"]});

    let clerk = app.staff("desk1", &["clerk"], &[]).await;
    app.act_as(Some(&clerk));
    assert_error(app.post("/api/v1/closures", &closure).await, StatusCode::FORBIDDEN, "forbidden", None).await;
    app.act_as_admin();
    let past = json!({"day": "2020-01-06", "reason": "storm", "branches": "all"});
    assert_error(app.post("/api/v1/closures", &past).await, StatusCode::BAD_REQUEST, "invalid_closure", Some("day"))
        .await;
    let nowhere = json!({"day": due_day, "reason": "storm", "branches": ["NOWHERE"]});
    assert_error(
        app.post("/api/v1/closures", &nowhere).await,
        StatusCode::BAD_REQUEST,
        "unknown_branch",
        Some("branches"),
    )
    .await;

    let declared = ok(app.post("/api/v1/closures", &closure).await, StatusCode::CREATED).await;
    assert_eq!(
        (declared["loans_moved"].as_i64(), declared["holds_extended"].as_i64()),
        (Some(1), Some(0)),
        "{declared}"
    );
    assert_eq!(declared["closures"][0]["declared_by"], "admin");
    let loans = ok(app.get(&format!("/api/v1/patrons/{A}/loans")).await, StatusCode::OK).await;
    let moved = loans["loans"][0]["due"]["local"].as_str().expect("due");
    assert!(moved[..10] > *due_day, "the due date moves past the closed day: {moved} after {due_day}");
    assert_error(app.post("/api/v1/closures", &closure).await, StatusCode::CONFLICT, "already_closed", Some("day"))
        .await;

    app.act_as(Some(&clerk));
    let list = ok(app.get("/api/v1/closures").await, StatusCode::OK).await;
    assert_eq!(list["closures"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list["closures"][0]["day"], due_day.as_str());
}

/// A blocked patron's hold is refused; staff with the Override permission place it with their
/// reason, and the override log says who, which refusal and why. A clerk cannot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_refused_for_a_block_is_placed_by_override_and_logged() {
    let app = spawn_app().await;
    app.organisation().await;
    app.patrons(&[A]).await;
    let bib = app.record("Always Coming Home", 1985).await;
    copy(&app, bib, "31234000000011", "CEN", "FIC LEGUIN").await;
    let block = json!({"kind": "manual", "reason": "unreturned laptop"});
    ok(app.post(&format!("/api/v1/patrons/{A}/blocks"), &block).await, StatusCode::CREATED).await;
    let hold = json!({"card_number": A, "record_id": bib, "pickup_branch": "CEN"});
    let body = assert_error(app.post("/api/v1/holds", &hold).await, StatusCode::CONFLICT, "hold_refused", None).await;
    assert_eq!(body["error"]["refusals"][0]["code"], "patron_blocked", "{body}");

    let mut with_reason = hold.clone();
    with_reason["override"] = json!({"reason": "laptop returned, block not yet lifted"});
    let clerk = app.staff("desk1", &["clerk"], &[]).await;
    app.act_as(Some(&clerk));
    assert_error(app.post("/api/v1/holds", &with_reason).await, StatusCode::FORBIDDEN, "forbidden", Some("override"))
        .await;
    app.act_as_admin();
    let placed = ok(app.post("/api/v1/holds", &with_reason).await, StatusCode::CREATED).await;
    assert_eq!(placed["status"], "waiting");

    let log = ok(app.get("/api/v1/overrides").await, StatusCode::OK).await;
    let overrides = log["overrides"].as_array().expect("overrides");
    assert_eq!(overrides.len(), 1, "{log}");
    assert_eq!(
        (&overrides[0]["staff"], &overrides[0]["action"], &overrides[0]["overridden"][0], &overrides[0]["card_number"]),
        (&json!("admin"), &json!("hold"), &json!("patron_blocked"), &json!(A))
    );
    assert_eq!(overrides[0]["reason"], "laptop returned, block not yet lifted");
}
