use super::SqliteDatabase;
use crate::holds::HoldStore;

impl HoldStore for SqliteDatabase {}
