//! The gate in front of the compiler and the interpreter: a reward tree is compiled only after
//! every node was found to carry the type the language's rules give it.
//!
//! The dsl's checker produces these trees, so on its output this pass never fails; it exists
//! because the tree's fields are public and a hand-built or generated one may be wrong. It
//! infers nothing and converts nothing: it verifies, so an ill-typed tree is an [`IrError`],
//! never a panic or a miscompiled module.

use dsl::reward::{RExpr, RExprKind, ROp, RType, RewardFn};

use crate::ir_error::IrError;

/// Deepest expression nesting accepted; keeps every recursive pass far from stack exhaustion.
/// Above what the dsl's checker can produce (its trees are at most [`dsl::MAX_EXPR_DEPTH`]
/// deep, and a conversion to float may wrap each level), so only hand-built trees meet it.
pub(crate) const MAX_DEPTH: usize = 2 * dsl::MAX_EXPR_DEPTH + 8;

/// What the compiler needs besides the tree: the type of each `let` slot.
#[derive(Debug, Clone)]
pub(crate) struct Slots(pub Vec<RType>);

/// Verifies `reward` is well formed and well typed.
pub fn check(reward: &RewardFn) -> Result<(), IrError> {
    checked(reward).map(|_| ())
}

/// [`check`], keeping the slot types.
pub(crate) fn checked(reward: &RewardFn) -> Result<Slots, IrError> {
    let mut seen = std::collections::HashSet::new();
    for field in &reward.fields {
        let problem = if !is_identifier(&field.name) {
            Some("not an identifier")
        } else if !seen.insert(field.name.as_str()) {
            Some("declared twice")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(IrError::FieldName { reward: reward.name.clone(), name: field.name.clone(), problem });
        }
    }
    let mut checker = Checker { reward, slots: vec![None; reward.locals], bound: vec![false; reward.locals] };
    checker.expr(&reward.body, 0)?;
    checker.expect("the reward's result", RType::Float, &reward.body)?;
    Ok(Slots(checker.slots.into_iter().map(|t| t.unwrap_or(RType::Float)).collect()))
}

/// Field names travel through the ABI schema string, so they must be plain identifiers.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

struct Checker<'a> {
    reward: &'a RewardFn,
    /// Each slot's type, once its `let` was seen (a slot is bound by one `let` only).
    slots: Vec<Option<RType>>,
    /// Whether a slot's `let` encloses the node being checked.
    bound: Vec<bool>,
}

impl Checker<'_> {
    fn error(&self, context: impl Into<String>, expected: &'static str, found: RType) -> IrError {
        IrError::Type { reward: self.reward.name.clone(), context: context.into(), expected, found }
    }

    fn expect(&self, context: impl Into<String>, want: RType, e: &RExpr) -> Result<(), IrError> {
        if e.ty == want {
            Ok(())
        } else {
            Err(self.error(context, want.name(), e.ty))
        }
    }

    /// `node` has the type `ty` the rules gave it.
    fn result(&self, context: &str, node: &RExpr, ty: RType) -> Result<(), IrError> {
        self.expect(format!("the result of {context}"), ty, node)
    }

    fn expr(&mut self, e: &RExpr, depth: usize) -> Result<(), IrError> {
        if depth > MAX_DEPTH {
            return Err(IrError::TooDeep { reward: self.reward.name.clone(), limit: MAX_DEPTH });
        }
        let d = depth + 1;
        match &e.kind {
            RExprKind::Float(_) => self.result("a float constant", e, RType::Float),
            RExprKind::Int(_) => self.result("an int constant", e, RType::Int),
            RExprKind::Bool(_) => self.result("a bool constant", e, RType::Bool),
            RExprKind::Field { index, default } => {
                let field = self.reward.fields.get(*index).ok_or_else(|| IrError::FieldIndex {
                    reward: self.reward.name.clone(),
                    index: *index,
                    count: self.reward.fields.len(),
                })?;
                if let Some(default) = default {
                    self.expr(default, d)?;
                    self.expect(format!("the `??` default of field `{}`", field.name), field.ty, default)?;
                }
                self.result(&format!("field `{}`", field.name), e, field.ty)
            }
            RExprKind::Local(slot) => {
                let ty = match self.bound.get(*slot) {
                    Some(true) => self.slots[*slot].unwrap_or(RType::Float),
                    _ => return Err(IrError::UnboundLocal { reward: self.reward.name.clone(), slot: *slot }),
                };
                self.result(&format!("local #{slot}"), e, ty)
            }
            RExprKind::Let { slot, value, body } => {
                self.expr(value, d)?;
                match self.slots.get(*slot) {
                    Some(None) => self.slots[*slot] = Some(value.ty),
                    _ => return Err(IrError::Slot { reward: self.reward.name.clone(), slot: *slot }),
                }
                self.bound[*slot] = true;
                let body_ok = self.expr(body, d);
                self.bound[*slot] = false;
                body_ok?;
                self.result("a `let`", e, body.ty)
            }
            RExprKind::Neg(a) => {
                self.expr(a, d)?;
                if !a.ty.is_numeric() {
                    return Err(self.error("unary `-`", "int or float", a.ty));
                }
                self.result("unary `-`", e, a.ty)
            }
            RExprKind::Not(a) => {
                self.expr(a, d)?;
                self.expect("`!`", RType::Bool, a)?;
                self.result("`!`", e, RType::Bool)
            }
            RExprKind::ToFloat(a) => {
                self.expr(a, d)?;
                self.expect("a conversion to float", RType::Int, a)?;
                self.result("a conversion to float", e, RType::Float)
            }
            RExprKind::Binary { op, left, right } => {
                self.expr(left, d)?;
                self.expr(right, d)?;
                self.binary(e, *op, left, right)
            }
            RExprKind::If { cond, then, otherwise } => {
                self.expr(cond, d)?;
                self.expect("the condition of `if`", RType::Bool, cond)?;
                self.expr(then, d)?;
                self.expr(otherwise, d)?;
                self.expect("the `else` branch", then.ty, otherwise)?;
                self.result("`if`", e, then.ty)
            }
            RExprKind::Call { f, args } => {
                if args.len() != f.arity() {
                    return Err(IrError::Arity {
                        reward: self.reward.name.clone(),
                        func: f.name(),
                        expected: f.arity(),
                        found: args.len(),
                    });
                }
                let context = format!("`{}`", f.name());
                for a in args {
                    self.expr(a, d)?;
                    self.expect(&context, RType::Float, a)?;
                }
                self.result(&context, e, RType::Float)
            }
        }
    }

    fn binary(&self, e: &RExpr, op: ROp, left: &RExpr, right: &RExpr) -> Result<(), IrError> {
        let name = format!("`{}`", op.symbol());
        let (lt, rt) = (left.ty, right.ty);
        // Both sides share one type: the checker converted an int that met a float.
        self.expect(&name, lt, right)?;
        let result = match op {
            ROp::Add | ROp::Sub | ROp::Mul if lt.is_numeric() => lt,
            ROp::Div if lt == RType::Float => RType::Float,
            ROp::Rem if lt == RType::Int => RType::Int,
            ROp::Eq | ROp::Ne => RType::Bool,
            ROp::Lt | ROp::Le | ROp::Gt | ROp::Ge if lt.is_numeric() => RType::Bool,
            ROp::And | ROp::Or if lt == RType::Bool => RType::Bool,
            _ => {
                let expected = match op {
                    ROp::Div => "float",
                    ROp::Rem => "int",
                    ROp::And | ROp::Or => "bool",
                    _ => "int or float",
                };
                return Err(self.error(name, expected, rt));
            }
        };
        self.result(&name, e, result)
    }
}
