//! Optimizer operators: type, learning rate up or down, schedule, weight decay, clipping, and
//! the loss it minimises (BPR or a sampled softmax, its negatives and temperature).

use std::collections::BTreeMap;

use dsl::types::Value;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Every optimizer operator's label.
pub(crate) const OPERATORS: &[&str] =
    &["optimizer_type", "lr_up", "lr_down", "schedule", "weight_decay", "clip", "loss", "negatives", "temperature"];

/// The structural ones, preferred for innovation.
pub(crate) const STRUCTURAL: &[&str] = &["optimizer_type", "schedule", "loss"];

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
        self.args.get(key).and_then(Value::as_f64).unwrap_or_else(|| default_of(&self.ctor, key).unwrap_or(0.0))
    }

    /// The loss it names; `None` leaves it to the step.
    fn loss(&self) -> Option<&str> {
        match self.args.get("loss") {
            Some(Value::Str(s)) => Some(s.as_str()),
            _ => None,
        }
    }

    fn set(&mut self, key: &str, v: f64) {
        self.args.insert(key.into(), Value::Float(round3(v)));
    }

    /// `optimizer NAME = ctor(arg: value, ...)`, leaving out arguments at their defaults (but
    /// always saying the learning rate).
    pub fn emit(&self, name: &str) -> String {
        let sig = dsl::builtins::lookup(dsl::builtins::PRELUDE, &self.ctor);
        let is_default = |k: &str, v: &Value| {
            let default = sig.and_then(|s| s.param(k)).and_then(|p| p.default.as_ref());
            match (v, default) {
                (Value::Unset, _) => true,
                (_, Some(d)) => v == d || v.as_f64().is_some_and(|x| d.as_f64() == Some(x)),
                _ => false,
            }
        };
        let args: Vec<String> = self
            .args
            .iter()
            .filter(|(k, v)| k.as_str() == "lr" || !is_default(k, v))
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

/// The language's default of `ctor(key:)`, as a number.
fn default_of(ctor: &str, key: &str) -> Option<f64> {
    dsl::builtins::lookup(dsl::builtins::PRELUDE, ctor)?.param(key)?.default.as_ref()?.as_f64()
}

/// Negatives a sampled softmax is given when it is proposed, by strength.
const SOFTMAX_NEGATIVES: [i64; 4] = [16, 32, 64, 128];
/// Temperatures a sampled softmax is given when it is proposed.
const TEMPERATURES: [f64; 5] = [0.05, 0.1, 0.2, 0.5, 1.0];

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
        "loss" => {
            if o.loss().is_some_and(|l| l == "softmax" || l == "sampled_softmax") {
                // Back to pairwise ranking, with a few negatives or one.
                let n = [1, 1, 4, 8][((strength * 4.0) as usize).min(3)];
                o.args.insert("loss".into(), Value::Str("bpr".into()));
                if n == 1 {
                    o.args.remove("negatives");
                } else {
                    o.args.insert("negatives".into(), Value::Int(n));
                }
                o.args.remove("temperature");
                format!("BPR with {n} negative(s) in place of the sampled softmax")
            } else {
                let n = SOFTMAX_NEGATIVES[((strength * 4.0) as usize).min(3)];
                let t = *TEMPERATURES.choose(rng)?;
                let before = o_loss_name(&o);
                o.args.insert("loss".into(), Value::Str("softmax".into()));
                o.args.insert("negatives".into(), Value::Int(n));
                o.args.insert("temperature".into(), Value::Float(t));
                format!("sampled softmax ({n} negatives, temperature {t}) in place of {before}")
            }
        }
        "negatives" => {
            let old = match o.args.get("negatives") {
                Some(Value::Int(n)) if *n > 0 => *n,
                _ => dsl::builtins::usual_negatives(o.loss().unwrap_or("bpr")).max(1) as i64,
            };
            let factor = 1 + (strength * 3.0).round() as i64;
            let new = if old == 1 || rng.gen_bool(0.5) { old * (factor + 1) } else { (old / (factor + 1)).max(1) };
            let new = new.clamp(1, 1024);
            if new == old {
                return None;
            }
            o.args.insert("negatives".into(), Value::Int(new));
            format!("negatives per positive {old} → {new}")
        }
        "temperature" => {
            // Only a softmax's temperature matters; a pairwise loss learns its own scale.
            if !o.loss().is_some_and(|l| l.contains("softmax")) {
                return None;
            }
            let old = o.float("temperature");
            let f = 1.0 + 2.0 * strength;
            let new = (if rng.gen_bool(0.5) { old * f } else { old / f }).clamp(0.01, 10.0);
            o.set("temperature", new);
            format!("temperature {old:?} → {:?}", o.float("temperature"))
        }
        _ => return None,
    };
    Some((o, what))
}

/// The loss an optimizer names, in words.
fn o_loss_name(o: &Opt) -> &'static str {
    match o.loss() {
        Some("bce") => "BCE",
        Some("mse") => "MSE",
        _ => "BPR",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_search_knows_every_optimizer_of_the_language_with_its_default_rate() {
        let types = super::types();
        assert_eq!(types, [("sgd", 0.01), ("adam", 1e-3), ("adamw", 1e-3), ("adagrad", 0.1), ("rmsprop", 1e-3)]);
        assert_eq!(super::default_lr("adagrad"), 0.1);
    }

    fn adam() -> super::Opt {
        super::Opt { ctor: "adam".into(), args: [("lr".to_string(), super::Value::Float(0.001))].into() }
    }

    fn checks(o: &super::Opt) -> dsl::Program {
        let src = o.emit("opt");
        dsl::check("t.evo", &format!("{src}\n"), &dsl::NoFiles, &[])
            .result
            .unwrap_or_else(|_| panic!("`{src}` does not check"))
    }

    #[test]
    fn the_loss_operator_switches_between_bpr_and_a_sampled_softmax_that_checks() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let (softmax, what) = super::apply("loss", &adam(), 0.6, &mut rng).unwrap();
        assert!(what.starts_with("sampled softmax (64 negatives, temperature "), "{what}");
        let emitted = softmax.emit("opt");
        assert!(emitted.contains("loss: \"softmax\", lr: 0.001, negatives: 64, temperature: "), "{emitted}");
        checks(&softmax);
        let (warmer, what) = super::apply("temperature", &softmax, 0.5, &mut rng).unwrap();
        assert!(what.starts_with("temperature "), "{what}");
        checks(&warmer);
        let (back, what) = super::apply("loss", &softmax, 0.1, &mut rng).unwrap();
        assert_eq!(what, "BPR with 1 negative(s) in place of the sampled softmax");
        // Defaults are left out: no `negatives: 1`, no temperature.
        assert_eq!(back.emit("opt"), "optimizer opt = adam(loss: \"bpr\", lr: 0.001)");
        checks(&back);
        assert!(
            super::apply("temperature", &back, 0.5, &mut rng).is_none(),
            "a pairwise loss has no temperature to tune"
        );
        let (more, what) = super::apply("negatives", &back, 0.5, &mut rng).unwrap();
        assert!(what.starts_with("negatives per positive 1 → "), "{what}");
        checks(&more);
    }
}
