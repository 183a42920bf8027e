//! Standard identifiers: ISBN (10 and 13, with checksums), ISSN, LCCN.
