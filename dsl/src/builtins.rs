//! Typed signatures of the built-in steps and value constructors implemented in Rust.
//! The checker uses them for arity, names, types, defaults and ranges; the engine binds each
//! step name to its implementation.

use std::sync::OnceLock;

use crate::types::{Type, Value};

/// Whether a callable becomes a node of the plan or just builds a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// Runs as a node of the plan (`load_interactions`, `train`, `offline`).
    Step,
    /// Builds a value in place (`adam(lr: 1e-3)`, `wasm("r.wasm")`).
    Value,
}

/// One parameter of a built-in.
#[derive(Clone, Debug)]
pub struct ParamSig {
    pub name: &'static str,
    pub ty: Type,
    /// `None` means the argument is required.
    pub default: Option<Value>,
    /// Inclusive lower and exclusive-or-inclusive upper bound for numbers.
    pub range: Option<Range>,
    /// The only strings it accepts, when it is a closed set.
    pub choices: Option<&'static [&'static str]>,
}

/// A numeric range a parameter must lie in.
#[derive(Clone, Copy, Debug)]
pub struct Range {
    pub min: f64,
    pub max: f64,
    pub max_inclusive: bool,
}

impl Range {
    /// Whether `v` lies in the range.
    pub fn contains(&self, v: f64) -> bool {
        v >= self.min && if self.max_inclusive { v <= self.max } else { v < self.max }
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let close = if self.max_inclusive { ']' } else { ')' };
        if self.max == f64::INFINITY {
            write!(f, "[{}, ∞)", self.min)
        } else {
            write!(f, "[{}, {}{close}", self.min, self.max)
        }
    }
}

/// The signature of a built-in step or constructor.
#[derive(Clone, Debug)]
pub struct Signature {
    /// The module it lives in: `std::data`, or `prelude` for names usable without `use`.
    pub module: &'static str,
    pub name: &'static str,
    pub kind: CallKind,
    pub params: Vec<ParamSig>,
    pub returns: Type,
    /// Columns of the dataset it returns, when the step knows them.
    pub schema: Option<Vec<(&'static str, &'static str)>>,
    /// Whether the dataset it returns has the columns of its `data` argument (a filter).
    pub keeps_schema: bool,
    pub doc: &'static str,
}

impl Signature {
    /// `std::data::load_interactions`.
    pub fn qualified(&self) -> String {
        if self.module == PRELUDE {
            self.name.to_string()
        } else {
            format!("{}::{}", self.module, self.name)
        }
    }

    /// The parameter named `name`.
    pub fn param(&self, name: &str) -> Option<&ParamSig> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// The pseudo-module of names visible everywhere.
pub const PRELUDE: &str = "prelude";

/// Column types a dataset schema may use.
pub const COLUMN_TYPES: &[&str] = &["id", "int", "float", "bool", "str", "time"];

/// The training losses: `bpr`, `bce`, `softmax` (sampled softmax; `sampled_softmax` is the same)
/// and `mse`.
pub const LOSSES: &[&str] = &["bpr", "bce", "softmax", "sampled_softmax", "mse"];

/// Negatives per positive when an optimizer's `negatives:` is 0: one pair for BPR and BCE, none
/// for MSE, and for the sampled softmax enough to approximate the full one over a catalogue of
/// thousands of items (64).
pub fn usual_negatives(loss: &str) -> usize {
    match loss {
        "mse" => 0,
        "softmax" | "sampled_softmax" => 64,
        _ => 1,
    }
}

/// Tools an agent persona may be given.
pub const TOOLS: &[&str] = &["compute_loss", "compute_eval", "run_sql_query", "read_journal"];

/// Every built-in, in a stable order.
pub fn all() -> &'static [Signature] {
    static ALL: OnceLock<Vec<Signature>> = OnceLock::new();
    ALL.get_or_init(build)
}

/// Looks a built-in up by module and name.
pub fn lookup(module: &str, name: &str) -> Option<&'static Signature> {
    all().iter().find(|s| s.module == module && s.name == name)
}

/// Whether any built-in lives in `module`.
pub fn has_module(module: &str) -> bool {
    all().iter().any(|s| s.module == module)
}

struct Builder(Signature);

fn sig(module: &'static str, name: &'static str, kind: CallKind, returns: Type, doc: &'static str) -> Builder {
    Builder(Signature { module, name, kind, params: Vec::new(), returns, schema: None, keeps_schema: false, doc })
}

impl Builder {
    fn req(mut self, name: &'static str, ty: Type) -> Self {
        self.0.params.push(ParamSig { name, ty, default: None, range: None, choices: None });
        self
    }

    fn opt(mut self, name: &'static str, ty: Type, default: Value) -> Self {
        self.0.params.push(ParamSig { name, ty, default: Some(default), range: None, choices: None });
        self
    }

    /// Puts a range on the last parameter added.
    fn within(mut self, min: f64, max: f64, max_inclusive: bool) -> Self {
        self.0.params.last_mut().unwrap().range = Some(Range { min, max, max_inclusive });
        self
    }

    fn at_least(self, min: f64) -> Self {
        self.within(min, f64::INFINITY, true)
    }

    /// Restricts the last parameter added, a string, to `choices`.
    fn one_of(mut self, choices: &'static [&'static str]) -> Self {
        self.0.params.last_mut().unwrap().choices = Some(choices);
        self
    }

    /// The dataset it returns has the columns of its `data` argument.
    fn keeps_schema(mut self) -> Self {
        self.0.keeps_schema = true;
        self
    }

    fn schema(mut self, cols: &[(&'static str, &'static str)]) -> Self {
        self.0.schema = Some(cols.to_vec());
        self
    }
}

fn s(v: &str) -> Value {
    Value::Str(v.to_string())
}

fn list(t: Type) -> Type {
    Type::List(Box::new(t))
}

/// The model inputs training supplies from the interactions: a user's and an item's id. Other
/// inputs are side features, read from the tables `with_features` attaches to the split.
pub const TRAINING_INPUTS: &[&str] = &["user", "item"];

/// The step that attaches side-feature tables to a split, and its two table arguments with the
/// key column each must have (`items:` rows are keyed by `item`, `users:` rows by `user`).
pub const WITH_FEATURES: &str = "std::data::with_features";
/// `(argument, key column)` of [`WITH_FEATURES`]'s tables.
pub const FEATURE_TABLES: [(&str, &str); 2] = [("items", "item"), ("users", "user")];

/// Whether a model input of `kind` can read a side-feature column of type `column` (one of
/// [`COLUMN_TYPES`]): categories and ids from whole values, a multi-hot set from a string of
/// tokens (`"Action Comedy"`), one dense float from a number.
pub fn feature_reads(kind: &crate::shape::InputKind, column: &str) -> bool {
    use crate::shape::InputKind;
    match kind {
        InputKind::Id | InputKind::Categorical(_) => matches!(column, "id" | "int" | "str" | "bool"),
        InputKind::MultiHot(_) => column == "str",
        InputKind::Dense(n) => *n == 1 && matches!(column, "int" | "float" | "bool"),
    }
}

/// The columns the simulator logs: immediate engagement, and nothing of the hidden satisfaction.
pub const SIM_LOG_SCHEMA: &[(&str, &str)] = &[
    ("user", "id"),
    ("item", "id"),
    ("time", "time"),
    ("day", "int"),
    ("position", "int"),
    ("click", "bool"),
    ("watch_seconds", "float"),
    ("like", "bool"),
    ("share", "bool"),
    ("survey", "float"),
];

fn build() -> Vec<Signature> {
    use CallKind::{Step, Value as Ctor};
    let optimizer = |name: &'static str, doc: &'static str, lr: f64| {
        sig(PRELUDE, name, Ctor, Type::Optimizer, doc)
            .opt("lr", Type::Float, Value::Float(lr))
            .within(0.0, 10.0, true)
            .opt("weight_decay", Type::Float, Value::Float(0.0))
            .at_least(0.0)
            .opt("clip", Type::Float, Value::Float(0.0))
            .at_least(0.0)
            .opt("schedule", Type::Str, s("constant"))
            .one_of(&["constant", "cosine"])
            .opt("warmup", Type::Int, Value::Int(0))
            .at_least(0.0)
            // What is minimised is part of how a model is fitted, so a candidate may change it.
            // Unset: the step's `loss:`.
            .opt("loss", Type::Str, Value::Unset)
            .one_of(LOSSES)
            .opt("negatives", Type::Int, Value::Int(0))
            .within(0.0, 4096.0, true)
            .opt("temperature", Type::Float, Value::Float(1.0))
            .within(0.001, 100.0, true)
    };
    let sample = Type::Record(vec![("users", Type::Int), ("rows", Type::Int)]);
    let baseline = Type::Record(vec![("model", Type::Model), ("optimizer", Type::Optimizer), ("reward", Type::Reward)]);
    let quota = Type::Record(vec![("explore", Type::Int), ("exploit", Type::Int), ("innovate", Type::Int)]);
    let cost = Type::Record(vec![("params", Type::Int), ("flops", Type::Int), ("train_time", Type::Duration)]);
    let confirm = Type::Record(vec![("seeds", Type::Int), ("top", Type::Int)]);
    vec![
        // -- prelude: value constructors
        optimizer("sgd", "Stochastic gradient descent", 0.01)
            .opt("momentum", Type::Float, Value::Float(0.0))
            .within(0.0, 1.0, false),
        optimizer("adam", "Adam", 1e-3),
        optimizer("adamw", "Adam with decoupled weight decay", 1e-3),
        optimizer("adagrad", "Adagrad", 0.1),
        optimizer("rmsprop", "RMSprop", 1e-3),
        sig(PRELUDE, "wasm", Ctor, Type::Reward, "An external reward: a .wasm or .wat module with the reward ABI")
            .req("path", Type::Str),
        sig(PRELUDE, "file", Ctor, Type::Str, "The text of a file, relative to the .evo file (prompt templates)")
            .req("path", Type::Str),
        // -- std::data
        sig(
            "std::data",
            "load_interactions",
            Step,
            Type::Dataset,
            "Reads a CSV or Parquet file of interactions through DuckDB",
        )
        .req("path", Type::Str)
        .opt("user", Type::Str, s("user"))
        .opt("item", Type::Str, s("item"))
        .opt("rating", Type::Str, s(""))
        .opt("time", Type::Str, s(""))
        .schema(&[("user", "id"), ("item", "id"), ("rating", "float"), ("time", "time")]),
        sig("std::data", "read_table", Step, Type::Dataset, "Reads a CSV or Parquet file with a declared schema")
            .req("path", Type::Str),
        sig("std::data", "filter_rows", Step, Type::Dataset, "Keeps the rows a condition (a reward) scores above 0")
            .req("data", Type::Dataset)
            .req("keep", Type::Reward)
            .keeps_schema(),
        sig(
            "std::data",
            "filter_min",
            Step,
            Type::Dataset,
            "Keeps users and items with at least N interactions (k-core)",
        )
        .keeps_schema()
        .req("data", Type::Dataset)
        .opt("users", Type::Int, Value::Int(0))
        .at_least(0.0)
        .opt("items", Type::Int, Value::Int(0))
        .at_least(0.0)
        .opt("min_rating", Type::Float, Value::Float(f64::NEG_INFINITY)),
        sig("std::data", "random_split", Step, Type::Split, "Random train/valid/test split by ratio")
            .req("data", Type::Dataset)
            .opt("valid", Type::Float, Value::Float(0.1))
            .within(0.0, 1.0, false)
            .opt("test", Type::Float, Value::Float(0.1))
            .within(0.0, 1.0, false)
            .opt("seed", Type::Int, Value::Int(0))
            .opt("by", Type::Str, s("row"))
            .one_of(&["row", "user"]),
        sig(
            "std::data",
            "temporal_split",
            Step,
            Type::Split,
            "Split by time: the last interactions go to valid and test",
        )
        .req("data", Type::Dataset)
        .opt("valid", Type::Float, Value::Float(0.1))
        .within(0.0, 1.0, false)
        .opt("test", Type::Float, Value::Float(0.1))
        .within(0.0, 1.0, false),
        sig(
            "std::data",
            "leave_one_out",
            Step,
            Type::Split,
            "Each user's last interaction to test, the one before to valid",
        )
        .req("data", Type::Dataset)
        .opt("seed", Type::Int, Value::Int(0)),
        sig(
            "std::data",
            "with_features",
            Step,
            Type::Split,
            "Attaches item and user attribute tables to a split: their columns feed model inputs of the same name",
        )
        .req("data", Type::Split)
        .opt("items", Type::Dataset, Value::Unset)
        .opt("users", Type::Dataset, Value::Unset),
        // -- std::sim
        sig("std::sim", "logs", Step, Type::Dataset, "Logged interactions generated by the user simulator")
            .opt("users", Type::Int, Value::Int(2000))
            .at_least(1.0)
            .opt("items", Type::Int, Value::Int(500))
            .at_least(1.0)
            .opt("days", Type::Int, Value::Int(7))
            .at_least(1.0)
            .opt("seed", Type::Int, Value::Int(0))
            .schema(SIM_LOG_SCHEMA),
        sig("std::sim", "satisfaction", Step, Type::Env, "A simulated population with hidden long-term satisfaction")
            .opt("users", Type::Int, Value::Int(5000))
            .at_least(1.0)
            .opt("items", Type::Int, Value::Int(500))
            .at_least(1.0)
            .opt("days", Type::Int, Value::Int(30))
            .at_least(1.0)
            .opt("seed", Type::Int, Value::Int(0))
            // Days after a visit within which coming back counts as a return (`return_rate`).
            .opt("return_window", Type::Int, Value::Int(1))
            .at_least(1.0),
        sig(
            "std::sim",
            "from_table",
            Step,
            Type::Env,
            "Online metrics from a team's experiment platform (arm, day, metric, value)",
        )
        .req("path", Type::Str),
        // -- std::train
        sig("std::train", "train", Step, Type::Trained, "Trains a model with libtorch")
            .req("model", Type::Model)
            .req("data", Type::Split)
            .opt("optimizer", Type::Optimizer, Value::Object { ctor: "adam".into(), args: Default::default() })
            .opt("reward", Type::Reward, Value::Unset)
            .opt("loss", Type::Str, s("bpr"))
            .one_of(LOSSES)
            .opt("epochs", Type::Int, Value::Int(100))
            .at_least(1.0)
            .opt("patience", Type::Int, Value::Int(5))
            .at_least(0.0)
            .opt("batch", Type::Int, Value::Int(1024))
            .at_least(1.0)
            .opt("negatives", Type::Str, s("uniform"))
            .opt("seed", Type::Int, Value::Int(0))
            .opt("device", Type::Str, s("auto")),
        sig("std::train", "evaluate", Step, Type::Metrics, "Full-ranking metrics of a trained model")
            .req("model", Type::Trained)
            .req("data", Type::Split)
            .opt("metrics", list(Type::Metric), Value::List(vec![Value::Metric { name: "ndcg".into(), k: 10 }])),
        sig(
            "std::train",
            "ease",
            Step,
            Type::Metrics,
            "EASE, a closed-form item-item anchor, scored on valid and test",
        )
        .req("data", Type::Split)
        .opt("l2", Type::Float, Value::Float(250.0))
        .within(1e-9, f64::INFINITY, true)
        .opt("metrics", list(Type::Metric), Value::List(vec![Value::Metric { name: "ndcg".into(), k: 10 }])),
        sig("std::train", "compute_loss", Step, Type::Metrics, "A short training run on a sample: the loss curve")
            .req("model", Type::Model)
            .req("data", Type::Split)
            .opt("optimizer", Type::Optimizer, Value::Object { ctor: "adam".into(), args: Default::default() })
            .opt("steps", Type::Int, Value::Int(50))
            .at_least(1.0)
            .opt("sample", sample, Value::Record(Default::default())),
        sig("std::train", "compute_eval", Step, Type::Metrics, "A loss-independent metric, comparable across rewards")
            .req("model", Type::Model)
            .req("data", Type::Split)
            .opt("metric", Type::Metric, Value::Metric { name: "ndcg".into(), k: 10 }),
        // -- std::rewards
        sig("std::rewards", "apply_reward", Step, Type::Dataset, "Adds a reward column computed in the wasm sandbox")
            .req("data", Type::Dataset)
            .req("reward", Type::Reward)
            .opt("column", Type::Str, s("reward")),
        // -- std::loops
        sig("std::loops", "offline", Step, Type::Experiments, "The fast loop: propose, verify, screen, train, score")
            .req("baseline", baseline.clone())
            .req("data", Type::Split)
            .opt("personas", list(Type::Persona), Value::List(vec![]))
            .opt("candidates", list(baseline), Value::List(vec![]))
            .opt("quota", quota, Value::Record(Default::default()))
            .opt("budget", Type::Int, Value::Int(20))
            .at_least(1.0)
            .opt("rounds", Type::Int, Value::Int(1))
            .at_least(1.0)
            .opt("metric", Type::Metric, Value::Metric { name: "ndcg".into(), k: 10 })
            // Held-out positives: the rows this reward scores > 0 (unset: clicks).
            .opt("judge", Type::Reward, Value::Unset)
            .opt("history", Type::Int, Value::Int(100))
            .at_least(0.0)
            .opt("warm_start", Type::Int, Value::Int(3))
            .at_least(0.0)
            // Train the best `top` candidates and the baseline on `seeds` more seeds.
            .opt("confirm", confirm, Value::Record(Default::default()))
            // "random": the random-search control (uniform operators from the baseline).
            .opt("search", Type::Str, s("agent"))
            .one_of(&["agent", "random"])
            .opt("cost", cost, Value::Record(Default::default()))
            .opt("wall_time", Type::Duration, Value::Duration(0))
            .opt("seed", Type::Int, Value::Int(0))
            .opt("epochs", Type::Int, Value::Int(100))
            .at_least(1.0)
            .opt("patience", Type::Int, Value::Int(5))
            .at_least(0.0)
            .opt("batch", Type::Int, Value::Int(1024))
            .at_least(1.0)
            .opt("loss", Type::Str, s("bpr"))
            .one_of(LOSSES)
            .opt("device", Type::Str, s("auto")),
        sig("std::loops", "top", Step, Type::Candidates, "The best K experiments by offline score")
            .req("experiments", Type::Experiments)
            .opt("k", Type::Int, Value::Int(3))
            .at_least(1.0),
        sig("std::loops", "online", Step, Type::Decisions, "The slow loop: train, A/B on the environment, decide")
            .req("candidates", Type::Candidates)
            .req("env", Type::Env)
            .req("primary", Type::OnlineMetric)
            .opt("guardrails", list(Type::Guardrail), Value::List(vec![]))
            // Unset: the environment's own length (`satisfaction(days:)`, a table's days).
            .opt("days", Type::Int, Value::Unset)
            .at_least(1.0)
            .opt("traffic", Type::Percent, Value::Percent(10.0))
            .within(0.0, 50.0, true)
            .opt("confidence", Type::Float, Value::Float(0.95))
            .within(0.5, 1.0, false)
            // The smallest relative change worth detecting: a study that could not see it ends
            // `underpowered`. Unset: no such judgement.
            .opt("min_effect", Type::Percent, Value::Unset)
            .within(0.0, 100.0, true)
            // Days before the study with every user on the control. Unset: as many as the study.
            .opt("pre_days", Type::Int, Value::Unset)
            .at_least(0.0)
            .opt("cuped", Type::Bool, Value::Bool(true))
            // Daily looks with always-valid intervals, stopping a candidate once it is decided.
            .opt("sequential", Type::Bool, Value::Bool(false)),
        // -- std::debug
        sig("std::debug", "sleep", Step, Type::Any, "Waits, then outputs `value`: for trying concurrency and timeouts")
            .req("duration", Type::Duration)
            .opt("value", Type::Int, Value::Int(0))
            .opt("after", list(Type::Any), Value::List(vec![])),
        sig("std::debug", "flaky", Step, Type::Any, "Fails its first `failures` attempts: for trying retries")
            .req("failures", Type::Int)
            .at_least(0.0)
            .opt("permanent", Type::Bool, Value::Bool(false))
            .opt("after", list(Type::Any), Value::List(vec![])),
        sig("std::debug", "fan_out", Step, Type::Any, "Adds `count` sleeping steps to the running graph")
            .req("count", Type::Int)
            .at_least(0.0)
            .req("duration", Type::Duration)
            .opt("after", list(Type::Any), Value::List(vec![])),
        sig("std::debug", "echo", Step, Type::Any, "Outputs its argument").req("value", Type::Any).opt(
            "after",
            list(Type::Any),
            Value::List(vec![]),
        ),
        // -- std::tools
        sig("std::tools", "run_sql_query", Step, Type::Table, "A read-only SQL query over the logs and the journal")
            .req("sql", Type::Str)
            .opt("max_rows", Type::Int, Value::Int(100))
            .at_least(1.0),
        sig("std::tools", "read_journal", Step, Type::Table, "The journal's top-N experiments, or one by its key")
            .opt("top", Type::Int, Value::Int(10))
            .at_least(1.0)
            .opt("key", Type::Str, s("")),
    ]
    .into_iter()
    .map(|b| b.0)
    .collect()
}
