use super::SqliteDatabase;
use crate::notices::NoticeStore;

impl NoticeStore for SqliteDatabase {}
