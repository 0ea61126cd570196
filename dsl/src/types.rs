//! Types and resolved values of the workflow language (models and rewards have their own, in
//! `shape.rs` and `reward.rs`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The type of a workflow-level value.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Int,
    Float,
    Bool,
    Str,
    Duration,
    Percent,
    Metric,
    List(Box<Type>),
    /// A record with known fields; an empty list accepts any record.
    Record(Vec<(&'static str, Type)>),
    Dataset,
    Split,
    Model,
    Reward,
    Optimizer,
    Persona,
    Guardrail,
    /// The name of an online metric (`return_rate`), written bare.
    OnlineMetric,
    Env,
    Trained,
    Metrics,
    Experiments,
    Candidates,
    Decisions,
    Table,
    Any,
    /// The type of something already reported as wrong; accepted everywhere to avoid cascades.
    Error,
}

impl Type {
    /// Whether a value of type `found` may stand where `self` is expected.
    pub fn accepts(&self, found: &Type) -> bool {
        match (self, found) {
            (Type::Any | Type::Error, _) | (_, Type::Error) => true,
            (Type::Float, Type::Int) => true,
            (Type::List(a), Type::List(b)) => **b == Type::Any || a.accepts(b),
            (Type::Record(_), Type::Record(_)) => true,
            (a, b) => a == b,
        }
    }

    /// Parses a type name as users write it in `param` and `step` declarations.
    pub fn from_name(name: &str, arg: Option<Type>) -> Option<Type> {
        Some(match (name, arg) {
            ("list", Some(t)) => Type::List(Box::new(t)),
            ("list", None) => Type::List(Box::new(Type::Any)),
            (_, Some(_)) => return None,
            ("int", _) => Type::Int,
            ("float", _) => Type::Float,
            ("bool", _) => Type::Bool,
            ("str", _) => Type::Str,
            ("duration", _) => Type::Duration,
            ("percent", _) => Type::Percent,
            ("metric", _) => Type::Metric,
            ("dataset", _) => Type::Dataset,
            ("split", _) => Type::Split,
            ("model", _) => Type::Model,
            ("reward", _) => Type::Reward,
            ("optimizer", _) => Type::Optimizer,
            ("persona", _) => Type::Persona,
            ("env", _) => Type::Env,
            ("trained", _) => Type::Trained,
            ("metrics", _) => Type::Metrics,
            ("experiments", _) => Type::Experiments,
            ("candidates", _) => Type::Candidates,
            ("decisions", _) => Type::Decisions,
            ("table", _) => Type::Table,
            ("any", _) => Type::Any,
            _ => return None,
        })
    }

    /// Names accepted by [`Type::from_name`], for "did you mean".
    pub const NAMES: &'static [&'static str] = &[
        "int",
        "float",
        "bool",
        "str",
        "duration",
        "percent",
        "metric",
        "list",
        "dataset",
        "split",
        "model",
        "reward",
        "optimizer",
        "persona",
        "env",
        "trained",
        "metrics",
        "experiments",
        "candidates",
        "decisions",
        "table",
        "any",
    ];

    /// Types a `param` may have: the ones a command line can spell.
    pub fn is_param_type(&self) -> bool {
        match self {
            Type::Int | Type::Float | Type::Bool | Type::Str | Type::Duration | Type::Percent | Type::Metric => true,
            Type::List(t) => t.is_param_type(),
            _ => false,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Type::Int => "int",
            Type::Float => "float",
            Type::Bool => "bool",
            Type::Str => "str",
            Type::Duration => "duration",
            Type::Percent => "percent",
            Type::Metric => "metric",
            Type::List(t) => return write!(f, "list<{t}>"),
            Type::Record(_) => "record",
            Type::Dataset => "dataset",
            Type::Split => "split",
            Type::Model => "model",
            Type::Reward => "reward",
            Type::Optimizer => "optimizer",
            Type::Persona => "persona",
            Type::Guardrail => "guardrail",
            Type::OnlineMetric => "online metric",
            Type::Env => "env",
            Type::Trained => "trained",
            Type::Metrics => "metrics",
            Type::Experiments => "experiments",
            Type::Candidates => "candidates",
            Type::Decisions => "decisions",
            Type::Table => "table",
            Type::Any => "any",
            Type::Error => "{error}",
        };
        f.write_str(name)
    }
}

/// A resolved value: what a step receives as an argument. No unresolved names remain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    /// Milliseconds.
    Duration(u64),
    /// Percent points: `-1%` is `-1.0`.
    Percent(f64),
    Metric {
        name: String,
        k: u32,
    },
    List(Vec<Value>),
    Record(BTreeMap<String, Value>),
    /// The output of another plan node, by node id.
    Node(String),
    /// A checked block of the program, by qualified name.
    Model(String),
    Reward(String),
    Optimizer(String),
    Persona(String),
    /// A value built by a constructor such as `adam(lr: 1e-3)` or `wasm("r.wasm")`.
    Object {
        ctor: String,
        args: BTreeMap<String, Value>,
    },
    Guardrail {
        metric: String,
        op: String,
        bound: Box<Value>,
    },
    OnlineMetric(String),
    /// A composite step's parameter, before a call site binds it.
    Input(String),
    /// An optional argument left out: the step decides.
    Unset,
    /// Stands for something already reported as wrong.
    Invalid,
}

impl Value {
    /// Every plan node this value refers to, in order.
    pub fn node_refs<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Value::Node(id) => out.push(id),
            Value::List(items) => items.iter().for_each(|v| v.node_refs(out)),
            Value::Record(fields) => fields.values().for_each(|v| v.node_refs(out)),
            Value::Object { args, .. } => args.values().for_each(|v| v.node_refs(out)),
            Value::Guardrail { bound, .. } => bound.node_refs(out),
            _ => {}
        }
    }

    /// Numeric value, for range checks.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(v) => Some(*v as f64),
            Value::Float(v) | Value::Percent(v) => Some(*v),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v:?}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Duration(ms) => write!(f, "{}", crate::fmt::duration(*ms)),
            Value::Percent(p) => write!(f, "{p}%"),
            Value::Metric { name, k } => write!(f, "{name}@{k}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Record(fields) => {
                f.write_str("{ ")?;
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str(" }")
            }
            Value::Node(id) => write!(f, "<{id}>"),
            Value::Model(n) | Value::Reward(n) | Value::Optimizer(n) | Value::Persona(n) => f.write_str(n),
            Value::Object { ctor, args } => {
                write!(f, "{ctor}(")?;
                for (i, (k, v)) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str(")")
            }
            Value::Guardrail { metric, op, bound } => write!(f, "{metric} {op} {bound}"),
            Value::OnlineMetric(m) => f.write_str(m),
            Value::Input(n) => write!(f, "${n}"),
            Value::Unset => f.write_str("none"),
            Value::Invalid => f.write_str("{invalid}"),
        }
    }
}
