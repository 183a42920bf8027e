use super::SqliteDatabase;
use crate::patrons::PatronStore;

impl PatronStore for SqliteDatabase {}
