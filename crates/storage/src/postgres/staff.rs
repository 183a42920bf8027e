use super::PostgresDatabase;
use crate::staff::StaffStore;

impl StaffStore for PostgresDatabase {}
