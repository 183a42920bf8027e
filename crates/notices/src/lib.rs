//! Notices to patrons: the templates the library edits ([`template`]: defaults, checking,
//! rendering, all pure), delivery by SMTP ([`smtp`]) and the printable batch for patrons
//! without email ([`print`]).
//!
//! Which notice is due is the `circulation` crate's decision; finding the loans, recording what
//! was sent and running once a day is the `jobs` crate's.

pub mod print;
pub mod smtp;
pub mod template;

pub use print::{print_batch, PrintNotice};
pub use smtp::{DeliveryError, Mailer, SmtpSecurity, SmtpSettings};
pub use template::{
    check, default_template, parse_kind, render, NoticeContext, NoticeItem, Rendered, Template, TemplateError, KINDS,
    PLACEHOLDERS,
};
