//! Event columns handed to a reward: typed slices plus optional null masks, bound to the
//! reward's fields by name.

use dsl::reward::{RField as Field, RType as Type};

/// The values of one column.
#[derive(Debug, Clone, Copy)]
pub enum ColumnData<'a> {
    /// `float` values.
    Float(&'a [f64]),
    /// `int` values.
    Int(&'a [i64]),
    /// `bool` values.
    Bool(&'a [bool]),
}

impl ColumnData<'_> {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Float(v) => v.len(),
            ColumnData::Int(v) => v.len(),
            ColumnData::Bool(v) => v.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The column's type.
    pub fn ty(&self) -> Type {
        match self {
            ColumnData::Float(_) => Type::Float,
            ColumnData::Int(_) => Type::Int,
            ColumnData::Bool(_) => Type::Bool,
        }
    }
}

impl<'a> From<&'a [f64]> for ColumnData<'a> {
    fn from(v: &'a [f64]) -> Self {
        ColumnData::Float(v)
    }
}

impl<'a> From<&'a [i64]> for ColumnData<'a> {
    fn from(v: &'a [i64]) -> Self {
        ColumnData::Int(v)
    }
}

impl<'a> From<&'a [bool]> for ColumnData<'a> {
    fn from(v: &'a [bool]) -> Self {
        ColumnData::Bool(v)
    }
}

/// One named column; `nulls[i] == true` marks row `i` as missing.
#[derive(Debug, Clone)]
pub struct Column<'a> {
    /// The field name it feeds.
    pub name: String,
    /// Its values (ignored where null).
    pub data: ColumnData<'a>,
    /// Per-row null flags; `None` means no nulls.
    pub nulls: Option<&'a [bool]>,
}

/// A batch of events as columns. Borrowed, so scoring never copies the whole input.
#[derive(Debug, Clone, Default)]
pub struct Columns<'a> {
    columns: Vec<Column<'a>>,
}

/// Why columns do not fit a reward's fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ColumnError {
    /// The reward reads a field no column provides.
    #[error("no column `{0}`")]
    Missing(String),
    /// The column's type differs from the field's.
    #[error("column `{name}` is {found}, the reward reads it as {expected}")]
    Type {
        /// The column.
        name: String,
        /// The field's type.
        expected: Type,
        /// The column's type.
        found: Type,
    },
    /// Columns (or a null mask) disagree on the number of rows.
    #[error("column `{name}` has {found} rows (or null flags), expected {expected}")]
    Length {
        /// The column.
        name: String,
        /// Rows of the first column.
        expected: usize,
        /// Rows of this one.
        found: usize,
    },
    /// Rows do not fit the 32-bit addresses of the ABI.
    #[error("{0} rows is more than a reward can score")]
    TooManyRows(usize),
}

impl<'a> Columns<'a> {
    /// No columns yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a column without nulls.
    pub fn with(self, name: impl Into<String>, data: impl Into<ColumnData<'a>>) -> Self {
        self.push(name.into(), data.into(), None)
    }

    /// Adds a column with a null mask (`true` = null).
    pub fn with_nulls(self, name: impl Into<String>, data: impl Into<ColumnData<'a>>, nulls: &'a [bool]) -> Self {
        self.push(name.into(), data.into(), Some(nulls))
    }

    fn push(mut self, name: String, data: ColumnData<'a>, nulls: Option<&'a [bool]>) -> Self {
        self.columns.push(Column { name, data, nulls });
        self
    }

    /// All columns, in insertion order.
    pub fn columns(&self) -> &[Column<'a>] {
        &self.columns
    }

    /// Picks the column for each field (by name, type-checked) and the common row count.
    pub fn bind(&self, fields: &[Field]) -> Result<(usize, Vec<&Column<'a>>), ColumnError> {
        let mut rows = None;
        let mut bound = Vec::with_capacity(fields.len());
        for field in fields {
            let col = self
                .columns
                .iter()
                .find(|c| c.name == field.name)
                .ok_or_else(|| ColumnError::Missing(field.name.clone()))?;
            if col.data.ty() != field.ty {
                return Err(ColumnError::Type { name: col.name.clone(), expected: field.ty, found: col.data.ty() });
            }
            let expected = *rows.get_or_insert(col.data.len());
            for found in [Some(col.data.len()), col.nulls.map(<[bool]>::len)].into_iter().flatten() {
                if found != expected {
                    return Err(ColumnError::Length { name: col.name.clone(), expected, found });
                }
            }
            bound.push(col);
        }
        // A reward without fields scores as many rows as the longest column given.
        let rows = rows.unwrap_or_else(|| self.columns.iter().map(|c| c.data.len()).max().unwrap_or(0));
        if rows > i32::MAX as usize {
            return Err(ColumnError::TooManyRows(rows));
        }
        Ok((rows, bound))
    }
}
