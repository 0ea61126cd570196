//! Reward operators over the result's additive terms: add a term over one of the dataset's
//! columns, drop a term, or reweight one.

use dsl::ast::{BinaryOp, ExprKind, Item, RewardBody};
use dsl::program::Schema;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::optimizer_ops::round3;

/// Every reward operator's label.
pub(crate) const OPERATORS: &[&str] = &["reward_add", "reward_drop", "reward_up", "reward_down"];

/// The structural ones, preferred for innovation.
pub(crate) const STRUCTURAL: &[&str] = &["reward_add", "reward_drop"];

/// One additive term: `coef * body`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Term {
    pub coef: f64,
    pub body: String,
}

/// A reward as its header, `let`s and additive terms.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Reward {
    /// `reward NAME(e: logs) -> float ` with the name cut out: `(e: logs) -> float `.
    pub signature: String,
    pub event: String,
    pub lets: Vec<String>,
    pub terms: Vec<Term>,
}

impl Reward {
    /// The reward declared by `source` (one `.evo` reward block); `None` for external rewards.
    pub fn parse(source: &str) -> Option<Reward> {
        let module = dsl::parse::parse(dsl::FileId(0), source).ok()?;
        let Some(Item::Reward(decl)) = module.items.first() else { return None };
        let RewardBody::Function { event, body, .. } = &decl.body else { return None };
        let text = |s: dsl::Span| source[s.start as usize..s.end as usize].to_string();
        let mut terms = Vec::new();
        split_terms(&body.result, source, &mut terms);
        Some(Reward {
            signature: source[decl.name.span.end as usize..body.span.start as usize].to_string(),
            event: event.name.clone(),
            lets: body.lets.iter().map(|l| text(l.span)).collect(),
            terms,
        })
    }

    /// `reward NAME... { lets; terms }`.
    pub fn emit(&self, name: &str) -> String {
        let mut out = format!("reward {name}{}{{\n", self.signature);
        for l in &self.lets {
            out.push_str(&format!("  {l}\n"));
        }
        let terms: Vec<String> = self
            .terms
            .iter()
            .map(|t| if t.coef == 1.0 { t.body.clone() } else { format!("{:?} * {}", t.coef, t.body) })
            .collect();
        out.push_str(&format!("  {}\n}}", terms.join(" + ")));
        out
    }
}

/// Splits `a + b + c` into terms, reading a leading number as the coefficient.
fn split_terms(e: &dsl::ast::Expr, source: &str, out: &mut Vec<Term>) {
    let text = |e: &dsl::ast::Expr| source[e.span.start as usize..e.span.end as usize].to_string();
    match &e.kind {
        ExprKind::Binary { op: BinaryOp::Add, left, right, .. } => {
            split_terms(left, source, out);
            split_terms(right, source, out);
        }
        ExprKind::Binary { op: BinaryOp::Mul, left, right, .. } => {
            let coef = match left.kind {
                ExprKind::Float(v) => Some(v),
                ExprKind::Int(v) => Some(v as f64),
                _ => None,
            };
            match coef {
                Some(coef) => out.push(Term { coef, body: operand(right, text(right)) }),
                None => out.push(Term { coef: 1.0, body: operand(e, text(e)) }),
            }
        }
        _ => out.push(Term { coef: 1.0, body: operand(e, text(e)) }),
    }
}

/// Text that can stand as the right operand of `*`: parenthesised unless it is atomic.
fn operand(e: &dsl::ast::Expr, text: String) -> String {
    match e.kind {
        ExprKind::Binary { op: BinaryOp::Mul | BinaryOp::Coalesce, .. } => text,
        ExprKind::Binary { .. } | ExprKind::Unary { .. } | ExprKind::If { .. } => format!("({text})"),
        _ => text,
    }
}

/// Applies `op` at `strength` (0..1) given the dataset's columns; the new reward and what was done.
pub(crate) fn apply(
    op: &str,
    r: &Reward,
    schema: Option<&Schema>,
    strength: f64,
    rng: &mut ChaCha8Rng,
) -> Option<(Reward, String)> {
    let mut r = r.clone();
    let what = match op {
        "reward_add" => {
            let ev = r.event.clone();
            let used = |c: &str| {
                let field = format!("{ev}.{c}");
                r.lets.iter().any(|l| l.contains(&field)) || r.terms.iter().any(|t| t.body.contains(&field))
            };
            let candidates: Vec<(String, String)> = schema?
                .columns
                .iter()
                .filter(|c| !used(&c.name))
                .filter_map(|c| {
                    let body = match c.ty.as_str() {
                        "bool" => format!("(if {ev}.{} {{ 1.0 }} else {{ 0.0 }})", c.name),
                        "float" => format!("log1p(max({ev}.{} ?? 0.0, 0.0))", c.name),
                        "int" => format!("log1p(max({ev}.{} ?? 0, 0))", c.name),
                        _ => return None,
                    };
                    Some((c.name.clone(), body))
                })
                .collect();
            let (column, body) = candidates.choose(rng)?.clone();
            let coef = round3(0.1 + 0.9 * strength);
            r.terms.push(Term { coef, body });
            format!("a term {coef} × {column}")
        }
        "reward_drop" => {
            if r.terms.len() < 2 {
                return None;
            }
            let i = (0..r.terms.len()).collect::<Vec<_>>().choose(rng).copied()?;
            let t = r.terms.remove(i);
            format!("without the term {}", t.body)
        }
        "reward_up" | "reward_down" => {
            let i = (0..r.terms.len()).collect::<Vec<_>>().choose(rng).copied()?;
            let f = 1.0 + 3.0 * strength;
            let f = if op == "reward_up" { f } else { 1.0 / f };
            let t = &mut r.terms[i];
            t.coef = round3(t.coef * f);
            format!("the term {} weighted ×{}", t.body, round3(f))
        }
        _ => return None,
    };
    Some((r, what))
}
