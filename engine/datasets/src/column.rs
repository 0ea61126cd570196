//! The declared schema of a table: column names, their types, and where each comes from.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The type a column is read as; each maps to one DuckDB type in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// An identifier: BIGINT when every value is an integer, VARCHAR otherwise.
    Id,
    /// A whole number: BIGINT.
    Int,
    /// A finite real number: DOUBLE.
    Float,
    /// A truth value (`true/false`, `t/f`, `1/0`, `yes/no`): BOOLEAN.
    Bool,
    /// Text: VARCHAR.
    Str,
    /// A moment, stored as whole seconds since the Unix epoch (UTC): BIGINT.
    Time,
}

impl ColumnType {
    /// Every type, in the order the `.evo` docs list them.
    pub const ALL: [ColumnType; 6] = [Self::Id, Self::Int, Self::Float, Self::Bool, Self::Str, Self::Time];

    /// The name used in `.evo` sources and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Int => "int",
            Self::Float => "float",
            Self::Bool => "bool",
            Self::Str => "str",
            Self::Time => "time",
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ColumnType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| Error::UnknownType { given: s.to_owned() })
    }
}

/// One column to read: the output `name`, its type, and the input column it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Name in the output file.
    pub name: String,
    /// Type to cast the values to.
    pub ty: ColumnType,
    /// Name in the input file; `None` means the same as `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Column {
    /// A column read from the input column of the same name.
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Self { name: name.into(), ty, source: None }
    }

    /// The same column, read from the input column `source` instead.
    pub fn from_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The input column name this column is read from.
    pub fn source_name(&self) -> &str {
        self.source.as_deref().unwrap_or(&self.name)
    }
}
