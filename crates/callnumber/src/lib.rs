//! Call numbers (filled in by the call-number work).
