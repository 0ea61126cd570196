//! Errors as data: a kind with typed fields, a span, secondary labels and help.
//! Rendering lives in `render.rs`, and nowhere else.

use crate::span::Span;

/// Something wrong with a program, located in its source.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub kind: ErrorKind,
    pub span: Span,
    /// Other places worth showing, each with a short note.
    pub labels: Vec<(Span, String)>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic of `kind` at `span`, without labels or help.
    pub fn new(kind: ErrorKind, span: Span) -> Self {
        Diagnostic { kind, span, labels: Vec::new(), help: None }
    }

    /// Adds a secondary label.
    pub fn label(mut self, span: Span, note: impl Into<String>) -> Self {
        self.labels.push((span, note.into()));
        self
    }

    /// Sets the help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the help line when there is one.
    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// The stable code, e.g. `E0201`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The one-line message.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}

/// Every mistake the front end can report. Codes are stable: never renumber, only add.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ErrorKind {
    // -- syntax
    Syntax { expected: String, found: String },
    UnterminatedString,
    UnclosedDelimiter { open: char },
    TooDeep { limit: usize },
    ExprTooDeep { limit: usize },
    UnexpectedCloser { close: char },
    InvalidLiteral { text: String, reason: String },
    InvalidEscape { escape: String },
    // -- names and modules
    UnknownName { name: String, what: &'static str },
    UnknownModule { path: String },
    ImportCycle { cycle: String },
    UnknownImport { module: String, name: String },
    Duplicate { name: String },
    ModuleNotFound { path: String, reason: String },
    UnsetVariable { name: String, path: String },
    // -- types and arguments
    TypeMismatch { expected: String, found: String },
    UnknownArgument { callee: String, arg: String },
    MissingArgument { callee: String, arg: String },
    TooManyArguments { callee: String, max: usize, found: usize },
    DuplicateArgument { arg: String },
    PositionalAfterNamed,
    NotCallable { name: String, what: &'static str },
    UnknownType { name: String },
    OutOfRange { what: String, value: String, range: String },
    NotAllowedHere { what: String, context: &'static str },
    UnknownMetric { name: String },
    UnknownOption { option: String },
    UnknownRecordField { field: String, record: String },
    BadOverride { name: String, reason: String },
    UnknownParam { name: String },
    NotOneOf { what: String, value: String, choices: &'static [&'static str] },
    // -- model shapes
    ShapeMismatch { op: String, left: String, right: String },
    ExpectedIds { op: String, found: String },
    UnknownLayer { name: String },
    ModelOutput { shape: String },
    UnknownInputKind { kind: String },
    NoInputs { model: String },
    LayerArity { op: String, expected: String, found: usize },
    ExpectedTensor { op: String, found: String },
    InputNotSupplied { model: String, input: String },
    PropagateOperand { found: String },
    PropagatePair { why: String },
    FeatureType { input: String, kind: String, column: String, ty: String, dataset: String },
    FeatureKey { arg: String, key: String },
    // -- rewards
    UnknownField { field: String, dataset: String },
    RewardTypeError { op: String, left: String, right: String },
    UnknownFunction { name: String },
    FunctionArity { name: String, expected: usize, found: usize },
    ReturnType { declared: String, found: String },
    ConditionNotBool { found: String },
    BranchMismatch { then: String, otherwise: String },
    NotTheEvent { name: String, event: String },
    UnsupportedReturnType { declared: String },
    // -- data flow
    DataflowCycle { cycle: String },
    // -- personas
    UnknownPersonaField { field: String },
    MissingPersonaField { field: String },
    UnknownTool { tool: String },
    BadScope { value: String },
    TemplateError { reason: String },
    FileNotFound { path: String, reason: String },
    // -- datasets
    UnknownColumnType { ty: String },
    DuplicateColumn { column: String },
    NotADataset { found: String },
    DataFileNotFound { path: String },
}

impl ErrorKind {
    /// The stable code of this kind.
    pub fn code(&self) -> &'static str {
        use ErrorKind::*;
        match self {
            Syntax { .. } => "E0101",
            UnterminatedString => "E0102",
            UnclosedDelimiter { .. } => "E0103",
            TooDeep { .. } | ExprTooDeep { .. } => "E0107",
            UnexpectedCloser { .. } => "E0104",
            InvalidLiteral { .. } => "E0105",
            InvalidEscape { .. } => "E0106",
            UnknownName { .. } => "E0201",
            UnknownModule { .. } => "E0202",
            ImportCycle { .. } => "E0203",
            UnknownImport { .. } => "E0204",
            Duplicate { .. } => "E0205",
            ModuleNotFound { .. } => "E0206",
            UnsetVariable { .. } => "E0207",
            TypeMismatch { .. } => "E0301",
            UnknownArgument { .. } => "E0302",
            MissingArgument { .. } => "E0303",
            TooManyArguments { .. } => "E0304",
            DuplicateArgument { .. } => "E0305",
            PositionalAfterNamed => "E0306",
            NotCallable { .. } => "E0307",
            UnknownType { .. } => "E0308",
            OutOfRange { .. } => "E0309",
            NotAllowedHere { .. } => "E0310",
            UnknownMetric { .. } => "E0311",
            UnknownOption { .. } => "E0312",
            UnknownRecordField { .. } => "E0313",
            BadOverride { .. } => "E0314",
            UnknownParam { .. } => "E0315",
            NotOneOf { .. } => "E0316",
            ShapeMismatch { .. } => "E0401",
            ExpectedIds { .. } => "E0402",
            UnknownLayer { .. } => "E0403",
            ModelOutput { .. } => "E0404",
            UnknownInputKind { .. } => "E0405",
            NoInputs { .. } => "E0406",
            LayerArity { .. } => "E0407",
            ExpectedTensor { .. } => "E0408",
            InputNotSupplied { .. } => "E0409",
            PropagateOperand { .. } => "E0410",
            PropagatePair { .. } => "E0411",
            FeatureType { .. } => "E0412",
            FeatureKey { .. } => "E0413",
            UnknownField { .. } => "E0501",
            RewardTypeError { .. } => "E0502",
            UnknownFunction { .. } => "E0503",
            FunctionArity { .. } => "E0504",
            ReturnType { .. } => "E0505",
            ConditionNotBool { .. } => "E0506",
            BranchMismatch { .. } => "E0507",
            NotTheEvent { .. } => "E0508",
            UnsupportedReturnType { .. } => "E0509",
            DataflowCycle { .. } => "E0601",
            UnknownPersonaField { .. } => "E0701",
            MissingPersonaField { .. } => "E0702",
            UnknownTool { .. } => "E0703",
            BadScope { .. } => "E0704",
            TemplateError { .. } => "E0705",
            FileNotFound { .. } => "E0706",
            UnknownColumnType { .. } => "E0801",
            DuplicateColumn { .. } => "E0802",
            NotADataset { .. } => "E0803",
            DataFileNotFound { .. } => "E0804",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use ErrorKind::*;
        match self {
            Syntax { expected, found } => write!(f, "expected {expected}, found {found}"),
            UnterminatedString => write!(f, "unterminated string"),
            UnclosedDelimiter { open } => write!(f, "unclosed `{open}`"),
            TooDeep { limit } => write!(f, "brackets nested deeper than {limit} levels"),
            ExprTooDeep { limit } => write!(f, "an expression nested deeper than {limit} levels"),
            UnexpectedCloser { close } => write!(f, "unexpected `{close}` with nothing to close"),
            InvalidLiteral { text, reason } => write!(f, "invalid literal `{text}`: {reason}"),
            InvalidEscape { escape } => write!(f, "unknown escape `{escape}` in string"),
            UnknownName { name, what } => write!(f, "unknown {what} `{name}`"),
            UnknownModule { path } => write!(f, "unknown module `{path}`"),
            ImportCycle { cycle } => write!(f, "import cycle: {cycle}"),
            UnknownImport { module, name } => write!(f, "module `{module}` has no `{name}`"),
            Duplicate { name } => write!(f, "`{name}` is defined more than once"),
            ModuleNotFound { path, reason } => write!(f, "cannot read module `{path}`: {reason}"),
            UnsetVariable { name, path } => write!(f, "`{name}` is not set, so the path `{path}` has no value"),
            TypeMismatch { expected, found } => write!(f, "expected {expected}, found {found}"),
            UnknownArgument { callee, arg } => write!(f, "`{callee}` has no argument `{arg}`"),
            MissingArgument { callee, arg } => {
                write!(f, "`{callee}` needs the argument `{arg}`")
            }
            TooManyArguments { callee, max, found } => write!(
                f,
                "`{callee}` takes at most {max} positional argument{}, found {found}",
                if *max == 1 { "" } else { "s" }
            ),
            DuplicateArgument { arg } => write!(f, "argument `{arg}` is given more than once"),
            PositionalAfterNamed => write!(f, "positional argument after a named one"),
            NotCallable { name, what } => write!(f, "`{name}` is a {what}, not a step or function"),
            UnknownType { name } => write!(f, "unknown type `{name}`"),
            OutOfRange { what, value, range } => {
                write!(f, "{what} is {value}, outside {range}")
            }
            NotAllowedHere { what, context } => write!(f, "{what} is not allowed in {context}"),
            UnknownMetric { name } => write!(f, "unknown metric `{name}`"),
            UnknownOption { option } => write!(f, "unknown step option `{option}`"),
            UnknownRecordField { field, record } => {
                write!(f, "unknown field `{field}` in {record}")
            }
            BadOverride { name, reason } => write!(f, "cannot set `{name}`: {reason}"),
            UnknownParam { name } => write!(f, "no param named `{name}`"),
            NotOneOf { what, value, choices } => {
                let choices: Vec<String> = choices.iter().map(|c| format!("\"{c}\"")).collect();
                write!(f, "{what} is \"{value}\", not one of {}", choices.join(", "))
            }
            ShapeMismatch { op, left, right } => {
                write!(f, "shape mismatch in `{op}`: {left} vs {right}")
            }
            ExpectedIds { op, found } => {
                write!(f, "`{op}` takes ids (an `id` or `categorical` input), found {found}")
            }
            UnknownLayer { name } => write!(f, "unknown layer or operation `{name}`"),
            ModelOutput { shape } => {
                write!(f, "a model must end in a score of shape [1], this one ends in {shape}")
            }
            UnknownInputKind { kind } => write!(f, "unknown input kind `{kind}`"),
            NoInputs { model } => write!(f, "model `{model}` declares no inputs"),
            LayerArity { op, expected, found } => {
                write!(f, "`{op}` takes {expected}, found {found} argument(s)")
            }
            ExpectedTensor { op, found } => write!(f, "`{op}` takes a tensor, found {found}"),
            InputNotSupplied { model, input } => {
                write!(f, "model `{model}` needs the input `{input}`, which no data supplies")
            }
            PropagateOperand { found } => {
                write!(f, "`propagate` takes an embedding of `user` or `item` (the training graph's two sides), found {found}")
            }
            PropagatePair { why } => write!(f, "`propagate` mixes one user table with one item table: {why}"),
            FeatureKey { arg, key } => {
                write!(f, "the `{arg}:` table of `with_features` needs an `{key}` id column to join on")
            }
            FeatureType { input, kind, column, ty, dataset } => {
                write!(f, "the input `{input}: {kind}` cannot read column `{column}` of `{dataset}`: its type is {ty}")
            }
            UnknownField { field, dataset } => {
                write!(f, "event field `{field}` is not a column of `{dataset}`")
            }
            // A unary operator or a one-argument function has no right-hand side.
            RewardTypeError { op, left, right } if right.is_empty() => write!(f, "cannot apply `{op}` to {left}"),
            RewardTypeError { op, left, right } => {
                write!(f, "cannot apply `{op}` to {left} and {right}")
            }
            UnknownFunction { name } => write!(f, "unknown function `{name}`"),
            FunctionArity { name, expected, found } => {
                write!(f, "`{name}` takes {expected} argument(s), found {found}")
            }
            ReturnType { declared, found } => {
                write!(f, "reward is declared to return {declared}, but its body is {found}")
            }
            ConditionNotBool { found } => write!(f, "condition must be bool, found {found}"),
            BranchMismatch { then, otherwise } => {
                write!(f, "`if` branches differ: {then} and {otherwise}")
            }
            NotTheEvent { name, event } => {
                write!(f, "`{name}` has no fields; only the event `{event}` does")
            }
            UnsupportedReturnType { declared } => {
                write!(f, "a reward returns float, not {declared}")
            }
            DataflowCycle { cycle } => write!(f, "data-flow cycle: {cycle}"),
            UnknownPersonaField { field } => write!(f, "unknown persona field `{field}`"),
            MissingPersonaField { field } => write!(f, "persona needs the field `{field}`"),
            UnknownTool { tool } => write!(f, "unknown tool `{tool}`"),
            BadScope { value } => {
                write!(f, "a persona edits `model`, `optimizer` or `reward` blocks, not `{value}`")
            }
            TemplateError { reason } => write!(f, "prompt template does not parse: {reason}"),
            FileNotFound { path, reason } => write!(f, "cannot read `{path}`: {reason}"),
            UnknownColumnType { ty } => write!(f, "unknown column type `{ty}`"),
            DuplicateColumn { column } => write!(f, "column `{column}` is declared twice"),
            NotADataset { found } => {
                write!(f, "a dataset comes from a file path or a step that returns one, found {found}")
            }
            DataFileNotFound { path } => write!(f, "no data file at `{path}`"),
        }
    }
}
