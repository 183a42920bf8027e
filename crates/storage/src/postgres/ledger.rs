use super::PostgresDatabase;
use crate::ledger::LedgerStore;

impl LedgerStore for PostgresDatabase {}
