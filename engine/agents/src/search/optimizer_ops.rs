//! Optimizer operators: type, learning rate up or down, schedule, weight decay, clipping.

use std::collections::BTreeMap;

use dsl::types::Value;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Every optimizer operator's label.
pub(crate) const OPERATORS: &[&str] = &["optimizer_type", "lr_up", "lr_down", "schedule", "weight_decay", "clip"];

/// The structural ones, preferred for innovation.
pub(crate) const STRUCTURAL: &[&str] = &["optimizer_type", "schedule"];

/// The optimizer constructors with their default learning rates, as the language defines them
/// (`dsl::builtins`), in its order.
fn types() -> Vec<(&'static str, f64)> {
    dsl::builtins::all()
        .iter()
        .filter(|s| s.module == dsl::builtins::PRELUDE && s.returns == dsl::types::Type::Optimizer)
        .filter_map(|s| Some((s.name, s.param("lr")?.default.as_ref()?.as_f64()?)))
        .collect()
}

/// An optimizer constructor call.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Opt {
    pub ctor: String,
    pub args: BTreeMap<String, Value>,
}

impl Opt {
    /// The optimizer a checked value builds; `None` for anything else.
    pub fn from_value(value: &Value) -> Option<Opt> {
        match value {
            Value::Object { ctor, args } => Some(Opt { ctor: ctor.clone(), args: args.clone() }),
            _ => None,
        }
    }

    fn float(&self, key: &str) -> f64 {
        self.args.get(key).and_then(Value::as_f64).unwrap_or_else(|| {
            if key == "lr" {
                default_lr(&self.ctor)
            } else {
                0.0
            }
        })
    }

    fn set(&mut self, key: &str, v: f64) {
        self.args.insert(key.into(), Value::Float(round3(v)));
    }

    /// `optimizer NAME = ctor(arg: value, ...)`, leaving out arguments at their zero defaults.
    pub fn emit(&self, name: &str) -> String {
        let args: Vec<String> = self
            .args
            .iter()
            .filter(|(k, v)| match v {
                Value::Float(x) => *x != 0.0 || k.as_str() == "lr",
                Value::Int(x) => *x != 0,
                Value::Str(s) => !(k.as_str() == "schedule" && s == "constant"),
                _ => true,
            })
            .map(|(k, v)| match v {
                Value::Str(s) => format!("{k}: {s:?}"),
                Value::Float(x) => format!("{k}: {x:?}"),
                other => format!("{k}: {other}"),
            })
            .collect();
        format!("optimizer {name} = {}({})", self.ctor, args.join(", "))
    }
}

fn default_lr(ctor: &str) -> f64 {
    types().into_iter().find(|(c, _)| *c == ctor).map_or(1e-3, |(_, lr)| lr)
}

/// Three significant digits, so proposals read `0.032`, not `0.032000000000000001`.
pub(crate) fn round3(v: f64) -> f64 {
    format!("{v:.2e}").parse().unwrap_or(v)
}

/// Applies `op` at `strength` (0..1]; the new optimizer and what was done.
pub(crate) fn apply(op: &str, o: &Opt, strength: f64, rng: &mut ChaCha8Rng) -> Option<(Opt, String)> {
    let mut o = o.clone();
    let what = match op {
        "optimizer_type" => {
            let others: Vec<(&str, f64)> = types().into_iter().filter(|(c, _)| *c != o.ctor).collect();
            let &(new, lr) = others.choose(rng)?;
            // Keep the rate's position relative to each type's usual rate.
            let ratio = o.float("lr") / default_lr(&o.ctor);
            let old = std::mem::replace(&mut o.ctor, new.to_string());
            if new != "sgd" {
                o.args.remove("momentum");
            } else if !o.args.contains_key("momentum") {
                o.set("momentum", 0.9);
            }
            o.set("lr", (lr * ratio).clamp(1e-6, 10.0));
            format!("{new} in place of {old}")
        }
        "lr_up" | "lr_down" => {
            let f = 1.0 + 9.0 * strength;
            let f = if op == "lr_up" { f } else { 1.0 / f };
            let old = o.float("lr");
            o.set("lr", (old * f).clamp(1e-6, 10.0));
            format!("learning rate ×{} ({old:?} → {:?})", round3(f), o.float("lr"))
        }
        "schedule" => {
            let cosine = matches!(o.args.get("schedule"), Some(Value::Str(s)) if s == "cosine");
            let schedule = if cosine { "constant" } else { "cosine" };
            o.args.insert("schedule".into(), Value::Str(schedule.into()));
            let warmup = [0, 100, 200, 500][((strength * 4.0) as usize).min(3)];
            o.args.insert("warmup".into(), Value::Int(warmup));
            format!("{schedule} schedule, warm-up {warmup} steps")
        }
        "weight_decay" => {
            let old = o.float("weight_decay");
            let new = if old == 0.0 {
                10f64.powf(-6.0 + 3.0 * strength)
            } else if rng.gen_bool(0.2) {
                0.0
            } else {
                old * 10f64.powf(if rng.gen_bool(0.5) { strength } else { -strength })
            };
            o.set("weight_decay", new);
            format!("weight decay {old:?} → {:?}", o.float("weight_decay"))
        }
        "clip" => {
            let old = o.float("clip");
            let new = if old == 0.0 {
                0.5 + 4.5 * (1.0 - strength)
            } else if rng.gen_bool(0.3) {
                0.0
            } else {
                old * 0.5
            };
            o.set("clip", new);
            format!("gradient clipping {old:?} → {:?}", o.float("clip"))
        }
        _ => return None,
    };
    Some((o, what))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_search_knows_every_optimizer_of_the_language_with_its_default_rate() {
        let types = super::types();
        assert_eq!(types, [("sgd", 0.01), ("adam", 1e-3), ("adamw", 1e-3), ("adagrad", 0.1), ("rmsprop", 1e-3)]);
        assert_eq!(super::default_lr("adagrad"), 0.1);
    }
}
