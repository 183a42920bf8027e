//! SRU diagnostics (`info:srw/diagnostic/1/N`): the general, query (CQL), record, sort,
//! stylesheet and scan conditions, with
//! the standard descriptions from the SRU diagnostics list. The parser and the validator report
//! through these so the SRU server can answer every bad request with the right number.

use std::fmt;

/// The namespace every standard SRU diagnostic URI starts with.
pub const DIAGNOSTIC_NAMESPACE: &str = "info:srw/diagnostic/1/";

macro_rules! diagnostic_kinds {
    ($($(#[$meta:meta])* $variant:ident = $number:literal, $message:literal;)*) => {
        /// One condition of the SRU diagnostics list. Deprecated numbers (11, 17, 25, 45) are
        /// left out: a server must not send them any more.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum DiagnosticKind {
            $($(#[$meta])* $variant,)*
        }

        impl DiagnosticKind {
            /// Every kind, in number order.
            pub const ALL: &'static [DiagnosticKind] = &[$(DiagnosticKind::$variant,)*];

            /// The number `N` in `info:srw/diagnostic/1/N`.
            pub fn number(self) -> u16 {
                match self { $(DiagnosticKind::$variant => $number,)* }
            }

            /// The standard description, as the SRU diagnostics list words it.
            pub fn message(self) -> &'static str {
                match self { $(DiagnosticKind::$variant => $message,)* }
            }

            /// The kind with this number, if it is one this crate knows.
            pub fn from_number(number: u16) -> Option<DiagnosticKind> {
                match number { $($number => Some(DiagnosticKind::$variant),)* _ => None }
            }
        }
    };
}

diagnostic_kinds! {
    GeneralSystemError = 1, "General system error";
    SystemTemporarilyUnavailable = 2, "System temporarily unavailable";
    AuthenticationError = 3, "Authentication error";
    UnsupportedOperation = 4, "Unsupported operation";
    UnsupportedVersion = 5, "Unsupported version";
    UnsupportedParameterValue = 6, "Unsupported parameter value";
    MandatoryParameterNotSupplied = 7, "Mandatory parameter not supplied";
    UnsupportedParameter = 8, "Unsupported parameter";
    /// Details: free text saying what was wrong and where.
    QuerySyntaxError = 10, "Query syntax error";
    /// Details: the maximum supported.
    TooManyCharactersInQuery = 12, "Too many characters in query";
    /// Details: character offset to the error.
    InvalidParentheses = 13, "Invalid or unsupported use of parentheses";
    /// Details: character offset to the error.
    InvalidQuotes = 14, "Invalid or unsupported use of quotes";
    /// Details: URI or short name of the context set.
    UnsupportedContextSet = 15, "Unsupported context set";
    /// Details: name of the index.
    UnsupportedIndex = 16, "Unsupported index";
    /// Details: space-separated index names.
    UnsupportedCombinationOfIndexes = 18, "Unsupported combination of indexes";
    /// Details: the relation.
    UnsupportedRelation = 19, "Unsupported relation";
    /// Details: the modifier.
    UnsupportedRelationModifier = 20, "Unsupported relation modifier";
    /// Details: slash-separated relation modifiers.
    UnsupportedCombinationOfRelationModifiers = 21, "Unsupported combination of relation modifers";
    /// Details: space-separated index and relation.
    UnsupportedCombinationOfRelationAndIndex = 22, "Unsupported combination of relation and index";
    /// Details: length of the longest term.
    TooManyCharactersInTerm = 23, "Too many characters in term";
    /// Details: space-separated relation and term.
    UnsupportedCombinationOfRelationAndTerm = 24, "Unsupported combination of relation and term";
    /// Details: the character incorrectly escaped.
    NonSpecialCharacterEscaped = 26, "Non special character escaped in term";
    EmptyTermUnsupported = 27, "Empty term unsupported";
    MaskingCharacterNotSupported = 28, "Masking character not supported";
    /// Details: minimum word length.
    MaskedWordsTooShort = 29, "Masked words too short";
    /// Details: maximum supported.
    TooManyMaskingCharacters = 30, "Too many masking characters in term";
    AnchoringCharacterNotSupported = 31, "Anchoring character not supported";
    /// Details: the term.
    AnchoringCharacterInUnsupportedPosition = 32, "Anchoring character in unsupported position";
    ProximityAndMaskingNotSupported = 33,
        "Combination of proximity/adjacency and masking characters not supported";
    ProximityAndAnchoringNotSupported = 34,
        "Combination of proximity/adjacency and anchoring characters not supported";
    TermContainsOnlyStopwords = 35, "Term contains only stopwords";
    TermInInvalidFormat = 36, "Term in invalid format for index or relation";
    /// Details: the boolean operator.
    UnsupportedBooleanOperator = 37, "Unsupported boolean operator";
    /// Details: maximum number supported.
    TooManyBooleanOperators = 38, "Too many boolean operators in query";
    ProximityNotSupported = 39, "Proximity not supported";
    /// Details: the relation.
    UnsupportedProximityRelation = 40, "Unsupported proximity relation";
    /// Details: the distance.
    UnsupportedProximityDistance = 41, "Unsupported proximity distance";
    /// Details: the unit.
    UnsupportedProximityUnit = 42, "Unsupported proximity unit";
    /// Details: the ordering.
    UnsupportedProximityOrdering = 43, "Unsupported proximity ordering";
    UnsupportedCombinationOfProximityModifiers = 44, "Unsupported combination of proximity modifiers";
    /// Details: the modifier.
    UnsupportedBooleanModifier = 46, "Unsupported boolean modifier";
    CannotProcessQuery = 47, "Cannot process query; reason unknown";
    /// Details: the feature.
    QueryFeatureUnsupported = 48, "Query feature unsupported";
    MaskingCharacterInUnsupportedPosition = 49, "Masking character in unsupported position";
    ResultSetsNotSupported = 50, "Result sets not supported";
    /// Details: the maximum number of records the server sends in one response.
    TooManyRecordsRequested = 60, "Result set not created: too many matching records";
    FirstRecordPositionOutOfRange = 61, "First record position out of range";
    RecordTemporarilyUnavailable = 64, "Record temporarily unavailable";
    /// Details: the schema's URI or short name.
    UnknownSchemaForRetrieval = 66, "Unknown schema for retrieval";
    /// Details: the packing.
    UnsupportedRecordPacking = 71, "Unsupported record packing";
    SortNotSupported = 80, "Sort not supported";
    UnsupportedSortSequence = 82, "Unsupported sort sequence";
    /// Details: maximum number supported.
    TooManyRecordsToSort = 83, "Too many records to sort";
    /// Details: maximum number supported.
    TooManySortKeys = 84, "Too many sort keys to sort";
    CannotSortIncompatibleFormats = 86, "Cannot sort: incompatible record formats";
    UnsupportedSchemaForSort = 87, "Unsupported schema for sort";
    UnsupportedPathForSort = 88, "Unsupported path for sort";
    PathUnsupportedForSchema = 89, "Path unsupported for schema";
    /// Details: the direction.
    UnsupportedSortDirection = 90, "Unsupported direction";
    /// Details: the case value.
    UnsupportedSortCase = 91, "Unsupported case";
    /// Details: the missing-value action.
    UnsupportedMissingValueAction = 92, "Unsupported missing value action";
    SortEndedDueToMissingValue = 93, "Sort ended due to missing value";
    StylesheetsNotSupported = 110, "Stylesheets not supported";
    /// Details: the URL of a supported stylesheet.
    UnsupportedStylesheet = 111, "Unsupported stylesheet";
    /// Details: the response position asked for.
    ResponsePositionOutOfRange = 120, "Response position out of range";
    /// Details: the maximum number of terms the server lists.
    TooManyTermsRequested = 121, "Too many terms requested";
}

/// A diagnostic to send back: which condition, and the details the list asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub kind: DiagnosticKind,
    /// What the SRU list says goes in `<details>` for this kind (an index name, a character
    /// offset, ...); `None` when there is nothing useful to add.
    pub details: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with details (what the SRU list asks for, or a sentence when it asks for
    /// nothing in particular).
    pub fn new(kind: DiagnosticKind, details: impl Into<String>) -> Diagnostic {
        Diagnostic { kind, details: Some(details.into()) }
    }

    /// A diagnostic without details.
    pub fn bare(kind: DiagnosticKind) -> Diagnostic {
        Diagnostic { kind, details: None }
    }

    pub fn number(&self) -> u16 {
        self.kind.number()
    }

    /// `info:srw/diagnostic/1/N`.
    pub fn uri(&self) -> String {
        format!("{DIAGNOSTIC_NAMESPACE}{}", self.kind.number())
    }

    pub fn message(&self) -> &'static str {
        self.kind.message()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.kind.message(), self.uri())?;
        if let Some(details) = &self.details {
            write!(f, ": {details}")?;
        }
        Ok(())
    }
}
