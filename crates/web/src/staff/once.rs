//! One action per form, however often it is sent. A double-click on "Pay", a scanner that
//! sends Enter twice, or a browser that re-posts after a slow answer must not take a payment,
//! register a patron or create a record twice. Every form that changes something carries a
//! random `form_token` ([`token_field`]); the handler runs its action through [`once`], which
//! acts the first time it sees the (staff account, token) pair and answers every repeat with a
//! copy of that first answer (waiting for it while the first is still running).
//!
//! The tokens live in the server's memory for [`KEEP`]: a repeat comes within seconds, and a
//! form re-rendered after an error carries a fresh token, so correcting a field and sending
//! again is a new action.

use crate::auth::Acting;
use crate::html::Esc;
use crate::AppState;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The hidden field's name.
pub(crate) const FIELD: &str = "form_token";
/// How long a token is remembered.
const KEEP: Duration = Duration::from_secs(15 * 60);
/// How long a repeat waits for the first submission's answer.
const WAIT: Duration = Duration::from_secs(30);
/// A staff page is a few kilobytes; a label sheet a few hundred.
const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// The forms seen in the last [`KEEP`], by (staff account id, token).
#[derive(Default)]
pub(crate) struct Submissions {
    seen: Mutex<HashMap<(i64, String), Seen>>,
}

struct Seen {
    at: Instant,
    answer: watch::Receiver<Option<Arc<Answer>>>,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn response(&self) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        response
    }
}

/// `<input type="hidden" name="form_token" value="...">` with a fresh random token.
pub(crate) fn token_field() -> String {
    format!("<input type=\"hidden\" name=\"{FIELD}\" value=\"{}\">", Esc(&new_token()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 16];
    // The operating system's randomness failing is not something a form can recover from;
    // a token from the clock is still unique per form, which is all this needs.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        bytes = nanos.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `act` unless this account already sent this form: then answers with the first answer.
/// A form without a token (an old page, a script) acts every time.
pub(crate) async fn once<F, Fut>(state: &AppState, acting: &Acting, token: Option<String>, act: F) -> Response
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Response>,
{
    let Some(token) = token.filter(|t| t.len() <= 64) else {
        return act().await;
    };
    state.submissions.run((acting.account.id, token), act).await
}

impl Submissions {
    async fn run<F, Fut>(&self, key: (i64, String), act: F) -> Response
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Response>,
    {
        let first = {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            seen.retain(|_, s| now.duration_since(s.at) < KEEP);
            match seen.get(&key) {
                Some(s) => Err(s.answer.clone()),
                None => {
                    let (tx, rx) = watch::channel(None);
                    seen.insert(key, Seen { at: now, answer: rx });
                    Ok(tx)
                }
            }
        };
        match first {
            Ok(tx) => {
                let (parts, body) = act().await.into_parts();
                match axum::body::to_bytes(body, MAX_ANSWER).await {
                    Ok(body) => {
                        let answer = Arc::new(Answer { status: parts.status, headers: parts.headers, body });
                        tx.send_replace(Some(Arc::clone(&answer)));
                        answer.response()
                    }
                    Err(e) => {
                        tracing::error!("staff form answer could not be kept: {e}");
                        (StatusCode::INTERNAL_SERVER_ERROR, "The answer could not be read. Please reload the page.")
                            .into_response()
                    }
                }
            }
            Err(mut rx) => match tokio::time::timeout(WAIT, rx.wait_for(Option::is_some)).await {
                Ok(Ok(answer)) => match answer.as_ref() {
                    Some(a) => a.response(),
                    None => interrupted(),
                },
                _ => interrupted(),
            },
        }
    }
}

/// The first submission never answered (the browser went away mid-way, or it is still running
/// after [`WAIT`]): whether it took effect is for the clerk to look at, not for a second try.
fn interrupted() -> Response {
    (
        StatusCode::CONFLICT,
        "This form was already sent and its first answer did not come back. Open the page again to see whether it took effect.",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_gets_its_own_token() {
        let a = token_field();
        let b = token_field();
        assert_ne!(a, b);
        assert!(a.starts_with("<input type=\"hidden\" name=\"form_token\" value=\""));
        assert_eq!(new_token().len(), 32);
    }

    async fn body(r: Response) -> String {
        String::from_utf8(axum::body::to_bytes(r.into_body(), 1 << 20).await.expect("the body").to_vec())
            .expect("UTF-8")
    }

    #[tokio::test]
    async fn a_repeat_gets_the_first_answer_without_acting_again() {
        let submissions = Arc::new(Submissions::default());
        let acted = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let act = |n: &'static str| {
            let acted = Arc::clone(&acted);
            move || async move {
                acted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                (StatusCode::CREATED, [("x-answer", n)], format!("paid by {n}")).into_response()
            }
        };
        // Two at once (the double-click) and one afterwards (the re-post).
        let (a, b) = tokio::join!(
            submissions.run((1, "t".into()), act("first")),
            submissions.run((1, "t".into()), act("second"))
        );
        let c = submissions.run((1, "t".into()), act("third")).await;
        assert_eq!(acted.load(std::sync::atomic::Ordering::SeqCst), 1);
        for r in [a, b, c] {
            assert_eq!(r.status(), StatusCode::CREATED);
            assert_eq!(r.headers()["x-answer"], "first");
            assert_eq!(body(r).await, "paid by first");
        }
        // Another form, or the same token from another account, is another action.
        assert_eq!(body(submissions.run((1, "u".into()), act("fourth")).await).await, "paid by fourth");
        assert_eq!(body(submissions.run((2, "t".into()), act("fifth")).await).await, "paid by fifth");
        assert_eq!(acted.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_first_submission_that_never_answers_is_not_repeated() {
        let submissions = Arc::new(Submissions::default());
        let first = submissions.run((1, "t".into()), || async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        });
        // The browser gave up on the first: the future is dropped mid-way.
        assert!(tokio::time::timeout(Duration::from_millis(20), first).await.is_err());
        let repeat = submissions.run((1, "t".into()), || async { panic!("acted twice") }).await;
        assert_eq!(repeat.status(), StatusCode::CONFLICT);
    }
}
