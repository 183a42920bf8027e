use super::PostgresDatabase;
use crate::patrons::PatronStore;

impl PatronStore for PostgresDatabase {}
