//! The syntax tree of one `.evo` file, exactly as written. Every node carries its [`Span`].
//! Names are unresolved here; `check` turns a set of modules into a [`crate::Program`].

use crate::span::{FileId, Span};

/// One parsed source file.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    pub file: FileId,
    pub items: Vec<Item>,
    /// Comments with their spans, kept for the formatter.
    pub comments: Vec<Span>,
}

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A top-level declaration.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Use(UseDecl),
    Param(ParamDecl),
    Dataset(DatasetDecl),
    Let(LetDecl),
    Model(ModelDecl),
    Reward(RewardDecl),
    Optimizer(OptimizerDecl),
    Persona(PersonaDecl),
    Step(StepDecl),
    Output(OutputDecl),
}

impl Item {
    /// The whole declaration's span.
    pub fn span(&self) -> Span {
        match self {
            Item::Use(d) => d.span,
            Item::Param(d) => d.span,
            Item::Dataset(d) => d.span,
            Item::Let(d) => d.span,
            Item::Model(d) => d.span,
            Item::Reward(d) => d.span,
            Item::Optimizer(d) => d.span,
            Item::Persona(d) => d.span,
            Item::Step(d) => d.span,
            Item::Output(d) => d.span,
        }
    }

    /// The keyword that declares it: `use`, `param`, `dataset`, `let`, `model`, ...
    pub fn keyword(&self) -> &'static str {
        match self {
            Item::Use(_) => "use",
            Item::Param(_) => "param",
            Item::Dataset(_) => "dataset",
            Item::Let(_) => "let",
            Item::Model(_) => "model",
            Item::Reward(_) => "reward",
            Item::Optimizer(_) => "optimizer",
            Item::Persona(_) => "persona",
            Item::Step(_) => "step",
            Item::Output(_) => "output",
        }
    }

    /// The name this item defines, if it defines one (`use` does not).
    pub fn name(&self) -> Option<&Ident> {
        match self {
            Item::Use(_) => None,
            Item::Param(d) => Some(&d.name),
            Item::Dataset(d) => Some(&d.name),
            Item::Let(d) => Some(&d.name),
            Item::Model(d) => Some(&d.name),
            Item::Reward(d) => Some(&d.name),
            Item::Optimizer(d) => Some(&d.name),
            Item::Persona(d) => Some(&d.name),
            Item::Step(d) => Some(&d.name),
            Item::Output(d) => Some(&d.name),
        }
    }
}

/// `use std::data::{a, b}`, `use std::models::mf as m`, `use "./common.evo"`.
#[derive(Clone, Debug, PartialEq)]
pub struct UseDecl {
    pub target: UseTarget,
    /// `None` imports the last path segment (std) or every item (files).
    pub names: Option<Vec<UseName>>,
    /// `as` alias for a single imported item.
    pub alias: Option<Ident>,
    pub span: Span,
}

/// What a `use` points at.
#[derive(Clone, Debug, PartialEq)]
pub enum UseTarget {
    /// `std::data` or `std::models::mf`.
    Path(Vec<Ident>),
    /// `"./common.evo"`, relative to the importing file.
    File { path: String, span: Span },
}

/// One name in a `use` list.
#[derive(Clone, Debug, PartialEq)]
pub struct UseName {
    pub name: Ident,
    pub alias: Option<Ident>,
}

/// `param budget: int = 24`.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub default: Expr,
    pub span: Span,
}

/// A type as written: `int`, `list<float>`.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub name: Ident,
    pub arg: Option<Box<TypeExpr>>,
    pub span: Span,
}

/// `dataset ratings = "path.csv" { user: id = "userId" }` or `dataset d = step(...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetDecl {
    pub name: Ident,
    pub source: Expr,
    pub schema: Option<Vec<Column>>,
    pub span: Span,
}

/// One column of a dataset schema: `user: id = "userId"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: Ident,
    pub ty: Ident,
    /// The column's name in the source, when it differs.
    pub from: Option<(String, Span)>,
    pub span: Span,
}

/// `let split = random_split(ratings, seed: 7) with { retries: 2 }`.
#[derive(Clone, Debug, PartialEq)]
pub struct LetDecl {
    pub name: Ident,
    pub value: Expr,
    /// The record after `with`.
    pub options: Option<Expr>,
    pub span: Span,
}

/// `output best = top(fast, k: 1)`.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputDecl {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `model name { input ...; x = op(...) }`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDecl {
    pub name: Ident,
    pub stmts: Vec<ModelStmt>,
    pub span: Span,
}

/// A statement in a model block.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelStmt {
    Input { inputs: Vec<InputDecl>, span: Span },
    Assign { name: Ident, value: Expr, span: Span },
}

impl ModelStmt {
    /// The statement's span.
    pub fn span(&self) -> Span {
        match self {
            ModelStmt::Input { span, .. } | ModelStmt::Assign { span, .. } => *span,
        }
    }
}

/// `user: id`, `age: dense(4)`, `genre: categorical(20)`.
#[derive(Clone, Debug, PartialEq)]
pub struct InputDecl {
    pub name: Ident,
    pub kind: Ident,
    pub size: Option<Expr>,
    pub span: Span,
}

/// `reward r(e: logs) -> float { ... }` or `reward r = wasm("r.wasm")`.
#[derive(Clone, Debug, PartialEq)]
pub struct RewardDecl {
    pub name: Ident,
    pub body: RewardBody,
    pub span: Span,
}

/// The two ways to define a reward.
#[derive(Clone, Debug, PartialEq)]
pub enum RewardBody {
    External(Expr),
    Function { event: Ident, dataset: Option<Ident>, ret: TypeExpr, body: Block },
}

/// `{ let a = ...; result }`: reward bodies, `if` branches, composite steps.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub lets: Vec<LocalLet>,
    pub result: Box<Expr>,
    pub span: Span,
}

/// `let name = value` inside a block.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalLet {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `optimizer fast = adam(lr: 1e-3)`.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerDecl {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `persona name { edits: model, tools: [...], prompt: "..." }`.
#[derive(Clone, Debug, PartialEq)]
pub struct PersonaDecl {
    pub name: Ident,
    pub fields: Vec<Field>,
    pub span: Span,
}

/// `key: value` in a persona.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// A composite step: `step prepare(path: str, seed: int = 7) -> split { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct StepDecl {
    pub name: Ident,
    pub params: Vec<StepParam>,
    pub ret: Option<TypeExpr>,
    pub body: Block,
    pub span: Span,
}

/// One parameter of a composite step.
#[derive(Clone, Debug, PartialEq)]
pub struct StepParam {
    pub name: Ident,
    pub ty: TypeExpr,
    pub default: Option<Expr>,
    pub span: Span,
}

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// The forms an expression takes. Which forms a context accepts is the checker's business.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str {
        value: String,
        long: bool,
    },
    /// Milliseconds.
    Duration(u64),
    /// `-1%` is `Unary(Neg, Percent(1.0))`; the value is in percent points.
    Percent(f64),
    Metric {
        name: String,
        k: u32,
    },
    /// `name` or `std::sim::satisfaction`.
    Path(Vec<Ident>),
    Call {
        callee: Vec<Ident>,
        args: Vec<Arg>,
    },
    List(Vec<Expr>),
    Record(Vec<(Ident, Expr)>),
    Field {
        base: Box<Expr>,
        field: Ident,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        op_span: Span,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    If {
        cond: Box<Expr>,
        then: Block,
        otherwise: Else,
    },
    Paren(Box<Expr>),
    /// A literal that could not be read; its diagnostic was already reported.
    Invalid,
}

/// The `else` of an `if`.
#[derive(Clone, Debug, PartialEq)]
pub enum Else {
    Block(Block),
    If(Box<Expr>),
}

/// A call argument, positional or `name: value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

/// `-x`, `!x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
}

/// Binary operators, loosest binding first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Coalesce,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Or => "||",
            And => "&&",
            Eq => "==",
            Ne => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Rem => "%",
            Coalesce => "??",
        }
    }

    /// Binding strength; higher binds tighter.
    pub fn precedence(self) -> u8 {
        use BinaryOp::*;
        match self {
            Or => 1,
            And => 2,
            Eq | Ne | Lt | Le | Gt | Ge => 3,
            Add | Sub => 4,
            Mul | Div | Rem => 5,
            Coalesce => 6,
        }
    }

    /// Whether this is a comparison.
    pub fn is_comparison(self) -> bool {
        self.precedence() == 3
    }
}

impl Expr {
    /// The path if this expression is a bare (possibly qualified) name.
    pub fn as_path(&self) -> Option<&[Ident]> {
        match &self.kind {
            ExprKind::Path(p) => Some(p),
            _ => None,
        }
    }
}

/// Joins path segments with `::`.
pub fn path_string(path: &[Ident]) -> String {
    path.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join("::")
}
