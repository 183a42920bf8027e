use super::PostgresDatabase;
use crate::notices::NoticeStore;

impl NoticeStore for PostgresDatabase {}
