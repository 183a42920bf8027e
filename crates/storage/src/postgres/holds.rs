use super::PostgresDatabase;
use crate::holds::HoldStore;

impl HoldStore for PostgresDatabase {}
