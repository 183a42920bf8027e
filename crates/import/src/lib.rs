//! Import and export of MARC files.
