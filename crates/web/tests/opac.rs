//! The OPAC through the real server, as a browser without JavaScript uses it: plain GETs and
//! form POSTs, redirects followed by hand and cookies kept by hand, so every Set-Cookie and
//! Location is checked. Over the Koha sample (real records with items) and patrons with PINs:
//! search with facets, sorts and stable paging, "did you mean", the record page's copies, log-in,
//! my account (loans, renewals, holds, fines, history, preferences), placing a hold, and that one
//! patron can neither see nor act on another's loans and holds, and that patron and staff
//! sessions never stand in for each other.

#![allow(clippy::unwrap_used)]

mod common;
use common::*;

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;
use storage::{ItemFilter, Page};

/// The server with the Koha sample imported and indexed.
async fn library() -> App {
    let app = spawn_app().await;
    app.import_koha_sample(true).await;
    app.wait_for_index().await;
    app
}

/// A browser: no JavaScript, cookies kept by hand, redirects not followed (so each is checked).
struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: HashMap<String, String>,
}

struct Page_ {
    status: StatusCode,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

impl Browser {
    fn new(app: &App) -> Browser {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { base: app.base.clone(), client, cookies: HashMap::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn take(&mut self, r: reqwest::Response) -> Page_ {
        let status = r.status();
        let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_string());
        let set_cookies: Vec<String> =
            r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
        for c in &set_cookies {
            let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        Page_ { status, location, set_cookies, body: r.text().await.unwrap() }
    }

    async fn get(&mut self, path: &str) -> Page_ {
        let r = self.client.get(format!("{}{path}", self.base)).header("cookie", self.cookie_header()).send().await;
        self.take(r.unwrap()).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page_ {
        let r =
            self.client.post(format!("{}{path}", self.base)).header("cookie", self.cookie_header()).form(form).send();
        self.take(r.await.unwrap()).await
    }

    /// POSTs and follows the one 303 to the page that shows what happened.
    async fn act(&mut self, path: &str, form: &[(&str, &str)]) -> Page_ {
        let done = self.post(path, form).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{path}: {}", done.body);
        let to = done.location.unwrap();
        self.get(&to).await
    }

    async fn log_in(&mut self, card: &str, pin: &str) {
        let r = self.post("/login", &[("card", card), ("password", pin), ("next", "/account")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location.as_deref(), Some("/account"));
    }
}

// A small scraper: enough for the classes and ids of the OPAC's HTML contract.

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

/// The value of `attr` in each tag that contains `marker` (e.g. `class="title"`).
fn attrs(html: &str, marker: &str, attr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in html.match_indices(marker) {
        let start = if marker.starts_with('<') { i } else { html[..i].rfind('<').unwrap() };
        let end = i + html[i..].find('>').unwrap();
        let tag = &html[start..end];
        if let Some(j) = tag.find(&format!(" {attr}=\"")) {
            let v = &tag[j + attr.len() + 3..];
            out.push(unescape(&v[..v.find('"').unwrap()]));
        }
    }
    out
}

/// The text inside each element whose opening tag contains `marker`, tags stripped.
fn texts(html: &str, marker: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in html.match_indices(marker) {
        let open = if marker.starts_with('<') { i } else { html[..i].rfind('<').unwrap() };
        let name: String = html[open + 1..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let content_start = i + html[i..].find('>').unwrap() + 1;
        let close = format!("</{name}>");
        // Nested elements of the same name do not occur in what the tests read.
        let content_end = content_start + html[content_start..].find(&close).unwrap();
        let mut text = String::new();
        let mut in_tag = false;
        for c in html[content_start..content_end].chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        out.push(unescape(text.trim()));
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

fn h1(html: &str) -> String {
    assert_eq!(count(html, "<h1"), 1, "one h1 per page");
    texts(html, "<h1").remove(0)
}

/// The number an `<h1>` like "23 results for ..." starts with.
fn result_count(html: &str) -> usize {
    let h = h1(html);
    if h.starts_with("No results") {
        return 0;
    }
    h.split_whitespace().next().unwrap().parse().unwrap_or_else(|_| panic!("no count in {h:?}"))
}

fn record_ids(html: &str) -> Vec<i64> {
    attrs(html, "class=\"title\"", "href").iter().map(|h| h.trim_start_matches("/records/").parse().unwrap()).collect()
}

async fn json_of(r: reqwest::Response, status: StatusCode) -> Value {
    let got = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

/// A patron with a PIN; the card number.
async fn patron(app: &App, surname: &str, pin: &str) -> String {
    let p = app
        .post(
            "/api/v1/patrons",
            &json!({"surname": surname, "first_name": "Pat", "category": "ADULT", "home_branch": "MPL"}),
        )
        .await;
    let card = json_of(p, StatusCode::CREATED).await["card_number"].as_str().unwrap().to_string();
    let r = app.put(&format!("/api/v1/patrons/{card}/password"), &json!({"password": pin})).await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    card
}

/// Records with at least `copies` loanable books on the shelf, and their barcodes.
async fn shelved(app: &App, copies: usize) -> Vec<(i64, Vec<String>)> {
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let items = db.items(&ItemFilter::default(), Page { after: 0, limit: 5000 }).unwrap();
        let mut by_record: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
        for i in items {
            if i.item.status == catalog::ItemStatus::Available && i.item.item_type.as_str() == "BK" {
                by_record.entry(i.bib_id).or_default().push(i.item.barcode.as_str().to_string());
            }
        }
        by_record.into_iter().filter(|(_, b)| b.len() >= copies).collect()
    })
    .await
    .unwrap()
}

async fn loans_of(app: &App, card: &str) -> Vec<Value> {
    let body = json_of(app.get(&format!("/api/v1/patrons/{card}/loans")).await, StatusCode::OK).await;
    body["loans"].as_array().unwrap().clone()
}

async fn holds_of(app: &App, card: &str) -> Vec<Value> {
    let body = json_of(app.get(&format!("/api/v1/patrons/{card}/holds")).await, StatusCode::OK).await;
    body["holds"].as_array().unwrap().clone()
}

/// A checkout `days_ago`, through the desk as the API calls it (a loan renewed the day it was
/// made would not move its due date).
async fn borrowed(app: &App, card: &str, barcode: &str, days_ago: i64) {
    let db = app.db.clone();
    let (card, barcode) = (card.to_string(), catalog::Barcode::parse(barcode).unwrap());
    tokio::task::spawn_blocking(move || {
        let desk = desk::Desk::new(desk::CirculationSettings::default().build().unwrap());
        let then = chrono::Utc::now() - chrono::Duration::days(days_ago);
        desk.checkout(&*db, &card, &barcode, &catalog::Code::parse("MPL").unwrap(), then, None).unwrap();
    })
    .await
    .unwrap();
}

async fn check_out(app: &App, card: &str, barcode: &str) {
    let r = app.post("/api/v1/checkouts", &json!({"card_number": card, "barcode": barcode, "branch": "MPL"})).await;
    json_of(r, StatusCode::CREATED).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_pages_facets_sorts_paging_and_did_you_mean() {
    let app = library().await;
    let mut b = Browser::new(&app);

    // The home page carries the search form of the contract.
    let home = b.get("/").await;
    assert!(home.body.contains("<form role=\"search\" action=\"/search\" method=\"get\""));
    assert!(
        home.body.contains("<label for=\"q\">") && home.body.contains("<input id=\"q\" name=\"q\" type=\"search\"")
    );

    let all = b.get("/search?q=programming").await;
    assert_eq!(all.status, StatusCode::OK);
    let total = result_count(&all.body);
    assert!(total > 1, "{}", h1(&all.body));
    assert_eq!(count(&all.body, "<li class=\"result\">"), total.min(20));
    assert!(all.body.contains("<nav aria-label=\"Refine results\""));
    assert!(all.body.contains("<section class=\"facet\" data-facet=\"format\"><h2>Format</h2>"));
    // Each result says where its copies are.
    let availability = texts(&all.body, "class=\"availability");
    assert_eq!(availability.len(), total.min(20));
    assert!(availability.iter().all(|a| a.starts_with("Available at ")
        || a == "All copies checked out"
        || a == "No copies"
        || a == "No copy on the shelf just now"));

    // A facet value narrows the count to exactly what it said, and can be removed again.
    let facet_links = attrs(&all.body, "class=\"facet-value\"", "href");
    let counts = texts(&all.body, "class=\"count\"");
    let (i, narrower) = counts
        .iter()
        .enumerate()
        .map(|(i, c)| (i, c.trim_matches(|c| c == '(' || c == ')').parse::<usize>().unwrap()))
        .find(|(_, n)| *n < total)
        .expect("a facet value that narrows the results");
    let narrowed = b.get(&facet_links[i]).await;
    assert_eq!(result_count(&narrowed.body), narrower, "{}", facet_links[i]);
    assert!(facet_links[i].starts_with("/search?q=programming&"), "{}", facet_links[i]);
    let removes = attrs(&narrowed.body, "class=\"remove-filter\"", "href");
    assert_eq!(removes, vec!["/search?q=programming".to_string()]);
    assert_eq!(result_count(&b.get(&removes[0]).await.body), total);

    // Sorted by title, the titles come in order; the sort select offers the five orders.
    let sorted = b.get("/search?q=programming&sort=title").await;
    for option in ["relevance", "title", "author", "date", "call_number"] {
        assert!(sorted.body.contains(&format!("<option value=\"{option}\"")), "{option}");
    }
    // (The index sorts by the folded words, past a leading article.)
    let keys: Vec<String> = texts(&sorted.body, "class=\"title\"")
        .iter()
        .map(|t| search::analysis::sort_form(t.trim_start_matches("The ").trim_start_matches("A ")))
        .collect();
    assert!(keys.len() > 1);
    let mut in_order = keys.clone();
    in_order.sort();
    assert_eq!(keys, in_order);

    // Paging: pages do not overlap, the same URL gives the same page, and the links say so.
    let everything = b.get("/search?q=&sort=title").await;
    let n = result_count(&everything.body);
    assert!(n > 40, "{n}");
    let page1 = record_ids(&everything.body);
    let next = attrs(&everything.body, "rel=\"next\"", "href");
    assert_eq!(next, vec!["/search?q=&sort=title&page=2".to_string()]);
    let page2 = b.get(&next[0]).await;
    let page2_ids = record_ids(&page2.body);
    assert_eq!(page2_ids.len(), 20);
    assert!(page1.iter().all(|id| !page2_ids.contains(id)));
    assert_eq!(record_ids(&b.get(&next[0]).await.body), page2_ids, "the same URL, the same page");
    assert_eq!(attrs(&page2.body, "rel=\"prev\"", "href"), vec!["/search?q=&sort=title".to_string()]);
    assert!(page2.body.contains("<nav aria-label=\"Pages\""));

    // An unreadable query still finds, with a notice; odd parameters are not an error page.
    let odd = b.get("/search?q=perl+(best+practices&sort=sideways&page=x").await;
    assert_eq!(odd.status, StatusCode::OK);
    assert!(result_count(&odd.body) > 0);
    assert_eq!(texts(&odd.body, "class=\"notice\" role=\"status\"").len(), 1);

    // Did you mean: a misspelt surname and a misspelt title word, corrected from the index's
    // own words, and only when the correction finds something.
    let typo = b.get("/search?q=kernigan").await;
    assert_eq!(result_count(&typo.body), 0);
    assert_eq!(attrs(&typo.body, "class=\"did-you-mean\"", "class").len(), 1, "{}", typo.body);
    let offered = attrs(&typo.body[typo.body.find("class=\"did-you-mean\"").unwrap()..], "href=\"/search", "href");
    assert_eq!(offered[0], "/search?q=kernighan");
    assert!(result_count(&b.get(&offered[0]).await.body) > 0);
    let two = b.get("/search?q=programing+langauge").await;
    assert_eq!(result_count(&two.body), 0);
    assert!(two.body.contains("Did you mean <a href=\"/search?q=programming%20language\">programming language</a>?"));
    // Nothing near enough: no suggestion.
    let none = b.get("/search?q=qqqqzzzzxxxx").await;
    assert_eq!(result_count(&none.body), 0);
    assert!(!none.body.contains("did-you-mean"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_account_renew_holds_and_privacy() {
    let app = library().await;
    let ann = patron(&app, "Ashford", "4321").await;
    let bob = patron(&app, "Bellamy", "8765").await;
    let records = shelved(&app, 2).await;
    assert!(records.len() >= 4, "{records:?}");
    let (lent, lent_barcodes) = records[0].clone();
    let (wanted, _) = records[1].clone();
    let (_, bobs_barcodes) = records[2].clone();
    let (_, other_barcodes) = records[3].clone();
    borrowed(&app, &ann, &lent_barcodes[0], 10).await;
    borrowed(&app, &ann, &other_barcodes[0], 9).await;
    check_out(&app, &bob, &bobs_barcodes[0]).await;

    let mut a = Browser::new(&app);
    // Not signed in: my account sends to the log-in, which comes back.
    let anon = a.get("/account").await;
    assert_eq!((anon.status, anon.location.as_deref()), (StatusCode::SEE_OTHER, Some("/login?next=%2Faccount")));
    let form = a.get("/login?next=/records/5").await;
    for part in [
        "<form method=\"post\" action=\"/login\"",
        "<label for=\"card\">Library card number</label>",
        "<input id=\"card\" name=\"card\" autocomplete=\"username\"",
        "<label for=\"password\">PIN or password</label>",
        "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\"",
        "<input type=\"hidden\" name=\"next\" value=\"/records/5\">",
        "<button type=\"submit\">Log in</button>",
    ] {
        assert!(form.body.contains(part), "{part}");
    }
    // Another site is never where a log-in goes next.
    let evil = a.get("/login?next=//evil.example/").await;
    assert!(evil.body.contains("name=\"next\" value=\"/account\""));

    // A wrong PIN and an unknown card get the same answer, and no cookie.
    let wrong = a.post("/login", &[("card", &ann), ("password", "0000"), ("next", "/account")]).await;
    let unknown = a.post("/login", &[("card", "29999999999999"), ("password", "4321"), ("next", "/account")]).await;
    for r in [&wrong, &unknown] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.set_cookies.is_empty());
        assert_eq!(
            texts(&r.body, "class=\"error\" role=\"alert\""),
            texts(&wrong.body, "class=\"error\" role=\"alert\"")
        );
    }
    assert!(!wrong.body.contains("PIN is wrong") && !unknown.body.contains("unknown"));

    // The right PIN: a session cookie that scripts cannot read, then back where the patron was.
    let ok = a.post("/login", &[("card", &ann), ("password", "4321"), ("next", "/records/5")]).await;
    assert_eq!((ok.status, ok.location.as_deref()), (StatusCode::SEE_OTHER, Some("/records/5")));
    let cookie = ok.set_cookies.iter().find(|c| c.starts_with("shelfmark_patron=smk_")).expect("session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");

    // My account: the loan, no holds yet, no charges, history not kept.
    let account = a.get("/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert_eq!(h1(&account.body), "My account");
    for id in ["loans", "holds", "fines", "history", "preferences"] {
        assert!(account.body.contains(&format!("<section id=\"{id}\"")), "{id}");
    }
    assert_eq!(count(&account.body, "<tr class=\"loan\">"), 2);
    assert!(account.body.contains(&lent_barcodes[0]));
    assert!(!account.body.contains(&bobs_barcodes[0]), "Bob's loan is not on Ann's page");
    assert_eq!(count(&account.body, "<tr class=\"hold\">"), 0);
    assert!(account.body.contains("Your reading history is not kept"));
    assert!(account.body.contains("<form method=\"post\" action=\"/logout\"><button type=\"submit\">Log out</button>"));

    // Renew: done once, and the same form sent again does nothing more.
    let renewals = |loans: Vec<Value>, id: i64| loans.iter().find(|l| l["id"] == id).unwrap()["renewals"].clone();
    let ann_loans = loans_of(&app, &ann).await;
    let loan_id = ann_loans.iter().map(|l| l["id"].as_i64().unwrap()).min().unwrap();
    let other_loan = ann_loans.iter().map(|l| l["id"].as_i64().unwrap()).max().unwrap();
    let renew_path = format!("/account/loans/{loan_id}/renew");
    assert!(account.body.contains(&format!("action=\"{renew_path}\"")));
    let renewed = a.act(&renew_path, &[("renewals", "0")]).await;
    let flash = texts(&renewed.body, "class=\"message\" role=\"status\"");
    assert!(flash.len() == 1 && flash[0].starts_with("Renewed "), "{flash:?} {}", renewed.body);
    assert_eq!(renewals(loans_of(&app, &ann).await, loan_id), 1);
    let again = a.act(&renew_path, &[("renewals", "0")]).await;
    assert!(texts(&again.body, "class=\"message\"")[0].contains("already renewed"));
    assert_eq!(renewals(loans_of(&app, &ann).await, loan_id), 1, "a double submit renews once");
    // The flash is shown once.
    assert!(!a.get("/account").await.body.contains("class=\"message"));
    // Renew all tries what the page showed: the other loan is renewed, the one renewed today
    // is refused with the desk's reason, and both are reported.
    let page = a.get("/account").await;
    let mut shown = attrs(&page.body, "name=\"loan\"", "value");
    shown.sort();
    assert_eq!(shown, vec![format!("{loan_id}:1"), format!("{other_loan}:0")]);
    let all = a.act("/account/loans/renew", &[("loan", &shown[0]), ("loan", &shown[1])]).await;
    let told = texts(&all.body, "class=\"message error\" role=\"alert\"");
    assert!(told[0].contains("Renewed ") && told[0].contains("Could not renew "), "{told:?}");
    assert_eq!(renewals(loans_of(&app, &ann).await, other_loan), 1);
    assert_eq!(renewals(loans_of(&app, &ann).await, loan_id), 1);

    // Place a hold from the record page (the patron's home branch preselected).
    let record = a.get(&format!("/records/{wanted}")).await;
    assert!(record
        .body
        .contains(&format!("<form class=\"place-hold\" method=\"post\" action=\"/records/{wanted}/hold\"")));
    assert!(record.body.contains("<label for=\"pickup\">Pickup branch</label><select id=\"pickup\" name=\"pickup\">"));
    assert!(record.body.contains("<option value=\"MPL\" selected>"));
    assert!(record.body.contains("<table class=\"copies\">"));
    let placed = a.act(&format!("/records/{wanted}/hold"), &[("pickup", "MPL")]).await;
    assert_eq!(placed.location, None);
    let flash = texts(&placed.body, "class=\"message\" role=\"status\"");
    assert!(flash[0].starts_with("Hold placed on ") && flash[0].ends_with("for pickup at MPL"), "{flash:?}");
    assert_eq!(count(&placed.body, "<tr class=\"hold\">"), 1);
    assert_eq!(texts(&placed.body, "class=\"position\""), vec!["1st in line".to_string()]);
    // A second hold on the same title is refused by the desk, shown on the record page.
    let twice = a.act(&format!("/records/{wanted}/hold"), &[("pickup", "MPL")]).await;
    assert_eq!(h1(&twice.body), h1(&record.body));
    assert_eq!(texts(&twice.body, "role=\"alert\"").len(), 1, "{}", twice.body);
    assert_eq!(holds_of(&app, &ann).await.len(), 1);
    // The record page counts the hold.
    assert!(a.get(&format!("/records/{wanted}")).await.body.contains("1 hold on this title."));

    // Bob places a hold of his own, behind Ann's.
    let mut bb = Browser::new(&app);
    bb.log_in(&bob, "8765").await;
    let bobs_hold_page = bb.act(&format!("/records/{wanted}/hold"), &[("pickup", "CPL")]).await;
    assert_eq!(texts(&bobs_hold_page.body, "class=\"position\""), vec!["2nd in line".to_string()]);
    let bob_hold = holds_of(&app, &bob).await[0]["id"].as_i64().unwrap();
    let bob_loan = loans_of(&app, &bob).await[0]["id"].as_i64().unwrap();

    // Ann cannot act on Bob's loan or hold by putting his ids in the URL.
    let not_mine = a.act(&format!("/account/loans/{bob_loan}/renew"), &[("renewals", "0")]).await;
    assert!(texts(&not_mine.body, "role=\"alert\"")[0].contains("not on your account"));
    assert_eq!(loans_of(&app, &bob).await[0]["renewals"], 0);
    for action in ["cancel", "suspend", "resume"] {
        let r = a.act(&format!("/account/holds/{bob_hold}/{action}"), &[]).await;
        assert!(texts(&r.body, "role=\"alert\"")[0].contains("not on your account"), "{action}");
    }
    assert_eq!(holds_of(&app, &bob).await[0]["status"], "waiting");
    assert!(!a.get("/account").await.body.contains(&bobs_barcodes[0]));

    // Suspend, resume and cancel Ann's hold; cancelling twice is refused.
    let ann_hold = holds_of(&app, &ann).await[0]["id"].as_i64().unwrap();
    let suspended = a.act(&format!("/account/holds/{ann_hold}/suspend"), &[("until", "2099-01-31")]).await;
    assert!(texts(&suspended.body, "class=\"position\"")[0].starts_with("Suspended until 2099-01-31"));
    assert_eq!(holds_of(&app, &ann).await[0]["status"], "suspended");
    let resumed = a.act(&format!("/account/holds/{ann_hold}/resume"), &[]).await;
    assert!(texts(&resumed.body, "class=\"message\" role=\"status\"")[0].contains("active again"));
    let cancelled = a.act(&format!("/account/holds/{ann_hold}/cancel"), &[]).await;
    assert!(texts(&cancelled.body, "class=\"message\" role=\"status\"")[0].starts_with("Cancelled your hold"));
    assert_eq!(count(&cancelled.body, "<tr class=\"hold\">"), 0);
    let twice = a.act(&format!("/account/holds/{ann_hold}/cancel"), &[]).await;
    assert_eq!(texts(&twice.body, "role=\"alert\"").len(), 1);
    // Bob moved up.
    assert_eq!(texts(&bb.get("/account").await.body, "class=\"position\""), vec!["1st in line".to_string()]);

    // Fines: a charge shows with the exact balance.
    let r = app
        .post(
            &format!("/api/v1/patrons/{ann}/charges"),
            &json!({"kind": "damage", "amount": "3.45", "note": "Coffee stain"}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let fines = a.get("/account").await;
    assert_eq!(count(&fines.body, "<tr class=\"charge\">"), 1);
    assert!(texts(&fines.body, "class=\"balance\"")[0].contains("3.45"));

    // History: kept only after the patron chooses it.
    let saved = a.act("/account/preferences", &[("notice", "print"), ("history", "keep")]).await;
    assert!(texts(&saved.body, "class=\"message\" role=\"status\"")[0].contains("saved"));
    assert!(saved.body.contains("id=\"history-keep\" name=\"history\" value=\"keep\" checked"));
    assert!(saved.body.contains("id=\"notice-print\" name=\"notice\" value=\"print\" checked"));
    let r = app.post("/api/v1/checkins", &json!({"barcode": lent_barcodes[0], "branch": "MPL"})).await;
    json_of(r, StatusCode::OK).await;
    let history = a.get("/account").await;
    assert_eq!(count(&history.body, "<tr class=\"loan\">"), 1);
    assert_eq!(count(&history.body, "<tr class=\"history-entry\">"), 1);
    // Bob never chose it: his page says it is not kept.
    assert!(bb.get("/account").await.body.contains("Your reading history is not kept"));

    // A blocked card still opens the account, but the desk refuses a hold and says why.
    let r = app
        .post(
            &format!("/api/v1/patrons/{bob}/blocks"),
            &json!({"kind": "manual", "reason": "Rowdy in the reading room"}),
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let blocked = bb.get("/account").await;
    assert_eq!(blocked.status, StatusCode::OK);
    assert_eq!(texts(&blocked.body, "class=\"notice\" role=\"status\"").len(), 1);
    let refused = bb.act(&format!("/records/{lent}/hold"), &[("pickup", "MPL")]).await;
    let alert = texts(&refused.body, "role=\"alert\"");
    assert!(alert.len() == 1 && alert[0].starts_with("Could not place a hold"), "{alert:?}");
    assert_eq!(holds_of(&app, &bob).await.iter().filter(|h| h["status"] == "waiting").count(), 1);

    // Log out: the session is gone on the server, not only in the browser.
    let old = a.cookies.get("shelfmark_patron").unwrap().clone();
    let out = a.act("/logout", &[]).await;
    assert!(out.body.contains("You are logged out."));
    assert!(!a.cookies.contains_key("shelfmark_patron"));
    a.cookies.insert("shelfmark_patron".into(), old);
    assert_eq!(a.get("/account").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patron_and_staff_sessions_never_stand_in_for_each_other_on_sqlite() {
    sessions_apart(&spawn_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patron_and_staff_sessions_never_stand_in_for_each_other_on_postgresql() {
    if let Some(app) = spawn_app_on_postgres("opac_sessions").await {
        sessions_apart(&app).await;
    }
}

/// A patron's log-in opens no staff route and a staff log-in opens no patron account; the
/// patron's session works on the backend under test and ends at log-out.
async fn sessions_apart(app: &App) {
    app.organisation().await;
    let p = app
        .post(
            "/api/v1/patrons",
            &json!({"surname": "Cole", "first_name": "Cy", "category": "ADULT", "home_branch": "CEN"}),
        )
        .await;
    let card = json_of(p, StatusCode::CREATED).await["card_number"].as_str().unwrap().to_string();
    let r = app.put(&format!("/api/v1/patrons/{card}/password"), &json!({"password": "2468"})).await;
    assert!(r.status().is_success());
    let mut b = Browser::new(app);
    b.log_in(&card, "2468").await;
    assert!(b.get("/account").await.body.contains("<h1>My account</h1>"));
    let patron_token = b.cookies["shelfmark_patron"].clone();

    // A patron's token opens no staff route, as a cookie of either name or as a bearer token.
    let staff_url = app.url("/api/v1/patrons");
    for (header, value) in [
        ("cookie", format!("shelfmark_patron={patron_token}")),
        ("cookie", format!("shelfmark_session={patron_token}")),
        ("authorization", format!("Bearer {patron_token}")),
    ] {
        let r = app.client.get(&staff_url).header(header, value).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{header}");
    }
    // A staff session opens no patron account, under either cookie name.
    for name in ["shelfmark_session", "shelfmark_patron"] {
        let mut staff = Browser::new(app);
        staff.cookies.insert(name.to_string(), app.admin_token.clone());
        let r = staff.get("/account").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}");
        assert!(r.location.unwrap().starts_with("/login"));
    }
    // And the record page offers a staff member no patron's hold form.
    let id = app.record("Fahrenheit 451", 1953).await;
    let mut staff = Browser::new(app);
    staff.cookies.insert("shelfmark_session".into(), app.admin_token.clone());
    let page = staff.get(&format!("/records/{id}")).await;
    assert!(page.body.contains(&format!(
        "<a class=\"login-to-hold\" href=\"/login?next=/records/{id}\">Log in to place a hold</a>"
    )));
    assert!(b.get(&format!("/records/{id}")).await.body.contains("class=\"place-hold\""));
    b.act("/logout", &[]).await;
    assert_eq!(b.get("/account").await.status, StatusCode::SEE_OTHER);
}
