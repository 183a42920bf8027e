use super::SqliteDatabase;
use crate::staff::StaffStore;

impl StaffStore for SqliteDatabase {}
