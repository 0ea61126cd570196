//! The reward IR: what the engine lowers a type-checked `.evo` reward into.
//!
//! It is deliberately independent of the `dsl` crate so the sandbox can be built, tested and
//! fuzzed on its own. [`check`] is the gate: the compiler and the interpreter only ever see IR
//! that passed it, and ill-typed IR is an [`IrError`], never a panic.

use serde::{Deserialize, Serialize};

pub use crate::ir_error::IrError;

/// A static type of the reward language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Type {
    /// IEEE-754 binary64.
    Float,
    /// Two's-complement 64-bit integer.
    Int,
    /// `true` or `false`.
    Bool,
}

impl Type {
    /// The name used in diagnostics and in the ABI schema string.
    pub fn name(self) -> &'static str {
        match self {
            Type::Float => "float",
            Type::Int => "int",
            Type::Bool => "bool",
        }
    }

    /// Whether the type takes part in arithmetic (`int` or `float`).
    pub fn is_numeric(self) -> bool {
        matches!(self, Type::Float | Type::Int)
    }
}

impl std::fmt::Display for Type {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The type of an event field (the same three types as expressions).
pub type FieldType = Type;

/// One event field the reward reads, in column order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Field {
    /// Column name, e.g. `rating`.
    pub name: String,
    /// The column's type.
    pub ty: Type,
}

impl Field {
    /// A field named `name` of type `ty`.
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Field { name: name.into(), ty }
    }
}

/// A whole reward function: `reward name(e) -> float { body }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RewardIr {
    /// The reward's name, used in errors.
    pub name: String,
    /// The event fields the body may read, by index.
    pub fields: Vec<Field>,
    /// The body; it must have type `float` or `int` (an int result is converted).
    pub body: Expr,
}

/// A unary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnaryOp {
    /// Arithmetic negation (`-x`); wraps for `int`.
    Neg,
    /// Logical negation (`!b`).
    Not,
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`, always yields `float`.
    Div,
    /// `%`, `int` only.
    Rem,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    And,
    /// `||`
    Or,
}

/// A built-in function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Builtin {
    /// Natural logarithm.
    Log,
    /// `log(1 + x)`, accurate near zero.
    Log1p,
    /// `e^x`.
    Exp,
    /// Square root.
    Sqrt,
    /// Absolute value (`int` or `float`).
    Abs,
    /// Smaller of two values (`int` or `float`).
    Min,
    /// Larger of two values (`int` or `float`).
    Max,
    /// `clamp(x, lo, hi) = min(max(x, lo), hi)`.
    Clamp,
    /// `pow(x, y) = x^y`.
    Pow,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// Round toward negative infinity.
    Floor,
    /// Round toward positive infinity.
    Ceil,
}

impl Builtin {
    /// Every builtin, for generators and docs.
    pub const ALL: [Builtin; 13] = [
        Builtin::Log,
        Builtin::Log1p,
        Builtin::Exp,
        Builtin::Sqrt,
        Builtin::Abs,
        Builtin::Min,
        Builtin::Max,
        Builtin::Clamp,
        Builtin::Pow,
        Builtin::Sigmoid,
        Builtin::Tanh,
        Builtin::Floor,
        Builtin::Ceil,
    ];

    /// The name as written in `.evo` source.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Log => "log",
            Builtin::Log1p => "log1p",
            Builtin::Exp => "exp",
            Builtin::Sqrt => "sqrt",
            Builtin::Abs => "abs",
            Builtin::Min => "min",
            Builtin::Max => "max",
            Builtin::Clamp => "clamp",
            Builtin::Pow => "pow",
            Builtin::Sigmoid => "sigmoid",
            Builtin::Tanh => "tanh",
            Builtin::Floor => "floor",
            Builtin::Ceil => "ceil",
        }
    }

    /// How many arguments the builtin takes.
    pub fn arity(self) -> usize {
        match self {
            Builtin::Min | Builtin::Max | Builtin::Pow => 2,
            Builtin::Clamp => 3,
            _ => 1,
        }
    }

    /// Whether the builtin keeps `int` arguments `int` (otherwise they become `float`).
    pub fn preserves_int(self) -> bool {
        matches!(self, Builtin::Abs | Builtin::Min | Builtin::Max | Builtin::Clamp)
    }
}

/// An expression of the reward body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    /// A `float` constant.
    Float(f64),
    /// An `int` constant.
    Int(i64),
    /// A `bool` constant.
    Bool(bool),
    /// `e.<field>` (optionally `e.<field> ?? default`); `index` points into [`RewardIr::fields`].
    Field {
        /// Index into the reward's fields.
        index: u32,
        /// Value used when the event's field is null; without it a null reads as zero/false.
        default: Option<Box<Expr>>,
    },
    /// A `let`-bound local, by name (innermost binding wins).
    Local(String),
    /// `let name = value` in scope for `body`.
    Let {
        /// The local's name.
        name: String,
        /// Its value.
        value: Box<Expr>,
        /// The expression in which it is visible.
        body: Box<Expr>,
    },
    /// A unary operation.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// Its operand.
        arg: Box<Expr>,
    },
    /// A binary operation.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `if cond { then } else { otherwise }`.
    If {
        /// A `bool` condition.
        cond: Box<Expr>,
        /// Value when `cond` holds.
        then: Box<Expr>,
        /// Value otherwise.
        otherwise: Box<Expr>,
    },
    /// A builtin call.
    Call {
        /// The function.
        func: Builtin,
        /// Its arguments.
        args: Vec<Expr>,
    },
}

impl Expr {
    /// `e.<index>` with no default.
    pub fn field(index: u32) -> Expr {
        Expr::Field { index, default: None }
    }

    /// `e.<index> ?? default`.
    pub fn field_or(index: u32, default: Expr) -> Expr {
        Expr::Field { index, default: Some(Box::new(default)) }
    }

    /// A reference to local `name`.
    pub fn local(name: impl Into<String>) -> Expr {
        Expr::Local(name.into())
    }

    /// `let name = value; body`.
    pub fn let_in(name: impl Into<String>, value: Expr, body: Expr) -> Expr {
        Expr::Let { name: name.into(), value: Box::new(value), body: Box::new(body) }
    }

    /// `op arg`.
    pub fn unary(op: UnaryOp, arg: Expr) -> Expr {
        Expr::Unary { op, arg: Box::new(arg) }
    }

    /// `lhs op rhs`.
    pub fn binary(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
        Expr::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) }
    }

    /// `if cond { then } else { otherwise }`.
    pub fn if_else(cond: Expr, then: Expr, otherwise: Expr) -> Expr {
        Expr::If { cond: Box::new(cond), then: Box::new(then), otherwise: Box::new(otherwise) }
    }

    /// `func(args...)`.
    pub fn call(func: Builtin, args: Vec<Expr>) -> Expr {
        Expr::Call { func, args }
    }
}

/// Type-checks `ir` and returns the static type of its body (`float` or `int`).
pub fn check(ir: &RewardIr) -> Result<Type, IrError> {
    crate::typed::lower(ir).map(|typed| typed.body.ty)
}
