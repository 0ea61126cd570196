//! Checked rewards: a small typed expression tree over event fields. The sandbox compiles it to
//! WebAssembly; its reference interpreter runs the same tree.

use serde::Serialize;

use crate::ast::BinaryOp;
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

impl RType {
    /// The name used in diagnostics and in the sandbox ABI's schema string.
    pub fn name(self) -> &'static str {
        match self {
            RType::Int => "int",
            RType::Float => "float",
            RType::Bool => "bool",
        }
    }
}

impl std::fmt::Display for RType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
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
    /// Every builtin.
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

    /// How many arguments it takes (every argument and the result are floats).
    pub fn arity(self) -> usize {
        match self {
            Builtin::Min | Builtin::Max | Builtin::Pow => 2,
            Builtin::Clamp => 3,
            _ => 1,
        }
    }

    /// The builtin called `name`.
    pub fn lookup(name: &str) -> Option<Builtin> {
        Self::ALL.into_iter().find(|b| b.name() == name)
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

impl ROp {
    /// Every operator.
    pub const ALL: [ROp; 13] = [
        ROp::Add,
        ROp::Sub,
        ROp::Mul,
        ROp::Div,
        ROp::Rem,
        ROp::Eq,
        ROp::Ne,
        ROp::Lt,
        ROp::Le,
        ROp::Gt,
        ROp::Ge,
        ROp::And,
        ROp::Or,
    ];

    /// The source operator it was checked from.
    pub fn syntax(self) -> BinaryOp {
        match self {
            ROp::Add => BinaryOp::Add,
            ROp::Sub => BinaryOp::Sub,
            ROp::Mul => BinaryOp::Mul,
            ROp::Div => BinaryOp::Div,
            ROp::Rem => BinaryOp::Rem,
            ROp::Eq => BinaryOp::Eq,
            ROp::Ne => BinaryOp::Ne,
            ROp::Lt => BinaryOp::Lt,
            ROp::Le => BinaryOp::Le,
            ROp::Gt => BinaryOp::Gt,
            ROp::Ge => BinaryOp::Ge,
            ROp::And => BinaryOp::And,
            ROp::Or => BinaryOp::Or,
        }
    }

    /// The reward operator for a source operator (`??` has none: it is part of a field read).
    pub fn from_syntax(op: BinaryOp) -> Option<ROp> {
        Self::ALL.into_iter().find(|r| r.syntax() == op)
    }

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        self.syntax().symbol()
    }
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

impl RField {
    /// A field named `name` of type `ty`.
    pub fn new(name: impl Into<String>, ty: RType) -> Self {
        RField { name: name.into(), ty }
    }
}

/// A reward written in `.evo`, checked: what the sandbox compiles and its interpreter runs.
///
/// The tree is fully typed: every node carries its type, every int that meets a float is
/// converted by an explicit `ToFloat`, and every `let` has its own slot.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RewardFn {
    pub name: String,
    /// The event fields the body reads, by index, in the order the ABI passes them.
    pub fields: Vec<RField>,
    /// Number of `let` slots.
    pub locals: usize,
    /// The body; a float.
    pub body: RExpr,
}

/// A checked reward.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardDef {
    /// Written in `.evo`.
    Function {
        /// The dataset whose schema the fields were checked against, if one was named.
        dataset: Option<String>,
        function: RewardFn,
        source: String,
    },
    /// A `.wasm` / `.wat` module with the reward ABI, path relative to the defining file.
    External { name: String, path: String, source: String },
}

impl RewardDef {
    /// The reward's qualified name.
    pub fn name(&self) -> &str {
        match self {
            RewardDef::Function { function, .. } => &function.name,
            RewardDef::External { name, .. } => name,
        }
    }

    /// The block in canonical form.
    pub fn source(&self) -> &str {
        match self {
            RewardDef::Function { source, .. } | RewardDef::External { source, .. } => source,
        }
    }
}
