use super::SqliteDatabase;
use crate::ledger::LedgerStore;

impl LedgerStore for SqliteDatabase {}
