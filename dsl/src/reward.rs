//! Checked rewards: a small typed expression tree over event fields. The sandbox compiles it to
//! WebAssembly; its reference interpreter runs the same tree.

use serde::Serialize;

use crate::span::Span;

/// The scalar types of the reward language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RType {
    Int,
    Float,
    Bool,
}

impl RType {
    /// The reward type a dataset column type reads as.
    pub fn of_column(ty: &str) -> RType {
        match ty {
            "bool" => RType::Bool,
            "int" | "id" | "time" => RType::Int,
            _ => RType::Float,
        }
    }

    /// Whether it is a number (int or float).
    pub fn is_numeric(self) -> bool {
        self != RType::Bool
    }
}

impl std::fmt::Display for RType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RType::Int => "int",
            RType::Float => "float",
            RType::Bool => "bool",
        })
    }
}

/// A built-in math function of the reward language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Builtin {
    Log,
    Log1p,
    Exp,
    Sqrt,
    Abs,
    Min,
    Max,
    Clamp,
    Pow,
    Sigmoid,
    Tanh,
    Floor,
    Ceil,
}

impl Builtin {
    /// Every builtin with its name and arity.
    pub const ALL: &'static [(&'static str, Builtin, usize)] = &[
        ("log", Builtin::Log, 1),
        ("log1p", Builtin::Log1p, 1),
        ("exp", Builtin::Exp, 1),
        ("sqrt", Builtin::Sqrt, 1),
        ("abs", Builtin::Abs, 1),
        ("min", Builtin::Min, 2),
        ("max", Builtin::Max, 2),
        ("clamp", Builtin::Clamp, 3),
        ("pow", Builtin::Pow, 2),
        ("sigmoid", Builtin::Sigmoid, 1),
        ("tanh", Builtin::Tanh, 1),
        ("floor", Builtin::Floor, 1),
        ("ceil", Builtin::Ceil, 1),
    ];

    /// The builtin called `name`, with its arity.
    pub fn lookup(name: &str) -> Option<(Builtin, usize)> {
        Self::ALL.iter().find(|(n, ..)| *n == name).map(|(_, b, a)| (*b, *a))
    }
}

/// Operators, after type checking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ROp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

/// A typed reward expression.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RExpr {
    pub kind: RExprKind,
    pub ty: RType,
    #[serde(skip)]
    pub span: Span,
}

/// The forms of a reward expression. Int operands of float operations arrive wrapped in `ToFloat`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RExprKind {
    Float(f64),
    Int(i64),
    Bool(bool),
    /// Event field by index into [`RewardDef::fields`]; `default` replaces a missing value.
    Field {
        index: usize,
        default: Option<Box<RExpr>>,
    },
    /// A `let` in scope, by slot.
    Local(usize),
    /// `let` slot = value; then body.
    Let {
        slot: usize,
        value: Box<RExpr>,
        body: Box<RExpr>,
    },
    Neg(Box<RExpr>),
    Not(Box<RExpr>),
    ToFloat(Box<RExpr>),
    Binary {
        op: ROp,
        left: Box<RExpr>,
        right: Box<RExpr>,
    },
    If {
        cond: Box<RExpr>,
        then: Box<RExpr>,
        otherwise: Box<RExpr>,
    },
    Call {
        f: Builtin,
        args: Vec<RExpr>,
    },
}

/// An event field a reward reads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RField {
    pub name: String,
    pub ty: RType,
}

/// A checked reward.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardDef {
    /// Written in `.evo`.
    Function {
        name: String,
        /// The dataset whose schema the fields were checked against, if one was named.
        dataset: Option<String>,
        fields: Vec<RField>,
        /// Number of `let` slots.
        locals: usize,
        body: RExpr,
        source: String,
    },
    /// A `.wasm` / `.wat` module with the reward ABI, path relative to the defining file.
    External { name: String, path: String, source: String },
}

impl RewardDef {
    /// The block in canonical form.
    pub fn source(&self) -> &str {
        match self {
            RewardDef::Function { source, .. } | RewardDef::External { source, .. } => source,
        }
    }
}
