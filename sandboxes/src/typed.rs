//! Type checking: [`RewardIr`] to a typed tree in which every promotion is explicit and every
//! local is a numbered slot. The compiler and the interpreter both consume this tree, so they
//! cannot disagree about typing decisions.

use crate::ir::{BinaryOp, Builtin, Expr, RewardIr, Type, UnaryOp};
use crate::ir_error::IrError;

/// Deepest expression nesting accepted; keeps every recursive pass far from stack exhaustion.
pub(crate) const MAX_DEPTH: usize = 200;

/// A checked reward.
#[derive(Debug, Clone)]
pub(crate) struct TypedReward {
    /// Types of the `let` slots, indexed by slot.
    pub slots: Vec<Type>,
    /// The body, of type `float` or `int`.
    pub body: TExpr,
}

/// A typed expression.
#[derive(Debug, Clone)]
pub(crate) struct TExpr {
    pub ty: Type,
    pub kind: TKind,
}

/// Arithmetic; operands have the node's type, except `Div` whose operands are always `float`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// Comparisons; both operands share one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
pub(crate) enum TKind {
    Float(f64),
    Int(i64),
    Bool(bool),
    /// `default` is already of the field's type.
    Field {
        index: u32,
        default: Option<Box<TExpr>>,
    },
    Local(u32),
    Let {
        slot: u32,
        value: Box<TExpr>,
        body: Box<TExpr>,
    },
    /// `int` to `float`, round to nearest even.
    ToFloat(Box<TExpr>),
    Neg(Box<TExpr>),
    Not(Box<TExpr>),
    Arith(Arith, Box<TExpr>, Box<TExpr>),
    Compare(Cmp, Box<TExpr>, Box<TExpr>),
    And(Box<TExpr>, Box<TExpr>),
    Or(Box<TExpr>, Box<TExpr>),
    If(Box<TExpr>, Box<TExpr>, Box<TExpr>),
    /// Arguments already promoted; the node's type picks the `int` or `float` variant.
    Call(Builtin, Vec<TExpr>),
}

/// Checks `ir` and produces its typed form.
pub(crate) fn lower(ir: &RewardIr) -> Result<TypedReward, IrError> {
    let mut seen = std::collections::HashSet::new();
    for field in &ir.fields {
        let problem = if !is_identifier(&field.name) {
            Some("not an identifier")
        } else if !seen.insert(field.name.as_str()) {
            Some("declared twice")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(IrError::FieldName { reward: ir.name.clone(), name: field.name.clone(), problem });
        }
    }
    let mut checker = Checker { ir, scope: Vec::new(), slots: Vec::new() };
    let body = checker.expr(&ir.body, 0)?;
    let body = match body.ty {
        Type::Float | Type::Int => body,
        Type::Bool => return Err(checker.type_error("the reward's result", "float or int", &body)),
    };
    Ok(TypedReward { slots: checker.slots, body })
}

/// Field names travel through the ABI schema string, so they must be plain identifiers.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

struct Checker<'a> {
    ir: &'a RewardIr,
    /// Names in scope, innermost last, with their slots.
    scope: Vec<(&'a str, u32)>,
    slots: Vec<Type>,
}

fn node(ty: Type, kind: TKind) -> TExpr {
    TExpr { ty, kind }
}

fn to_float(e: TExpr) -> TExpr {
    match e.ty {
        Type::Int => node(Type::Float, TKind::ToFloat(Box::new(e))),
        _ => e,
    }
}

impl<'a> Checker<'a> {
    fn type_error(&self, context: impl Into<String>, expected: &'static str, e: &TExpr) -> IrError {
        IrError::Type { reward: self.ir.name.clone(), context: context.into(), expected, found: e.ty }
    }

    fn numeric(&self, context: &str, e: TExpr) -> Result<TExpr, IrError> {
        if e.ty.is_numeric() {
            Ok(e)
        } else {
            Err(self.type_error(context, "int or float", &e))
        }
    }

    fn boolean(&self, context: &str, e: TExpr) -> Result<TExpr, IrError> {
        if e.ty == Type::Bool {
            Ok(e)
        } else {
            Err(self.type_error(context, "bool", &e))
        }
    }

    /// Brings numeric operands to one type: `int` if all are `int`, else `float`.
    fn unify(&self, context: &str, args: Vec<TExpr>) -> Result<(Type, Vec<TExpr>), IrError> {
        let args = args.into_iter().map(|a| self.numeric(context, a)).collect::<Result<Vec<_>, _>>()?;
        if args.iter().all(|a| a.ty == Type::Int) {
            Ok((Type::Int, args))
        } else {
            Ok((Type::Float, args.into_iter().map(to_float).collect()))
        }
    }

    /// [`Self::unify`] for exactly two operands.
    fn unify2(&self, context: &str, a: TExpr, b: TExpr) -> Result<(Type, TExpr, TExpr), IrError> {
        let a = self.numeric(context, a)?;
        let b = self.numeric(context, b)?;
        if a.ty == Type::Int && b.ty == Type::Int {
            Ok((Type::Int, a, b))
        } else {
            Ok((Type::Float, to_float(a), to_float(b)))
        }
    }

    fn expr(&mut self, e: &'a Expr, depth: usize) -> Result<TExpr, IrError> {
        if depth > MAX_DEPTH {
            return Err(IrError::TooDeep { reward: self.ir.name.clone(), limit: MAX_DEPTH });
        }
        let d = depth + 1;
        Ok(match e {
            Expr::Float(v) => node(Type::Float, TKind::Float(*v)),
            Expr::Int(v) => node(Type::Int, TKind::Int(*v)),
            Expr::Bool(v) => node(Type::Bool, TKind::Bool(*v)),
            Expr::Field { index, default } => {
                let field = self.ir.fields.get(*index as usize).ok_or_else(|| IrError::FieldIndex {
                    reward: self.ir.name.clone(),
                    index: *index,
                    count: self.ir.fields.len(),
                })?;
                let default = match default {
                    None => None,
                    Some(def) => {
                        let def = self.expr(def, d)?;
                        let def = match (field.ty, def.ty) {
                            (want, got) if want == got => def,
                            (Type::Float, Type::Int) => to_float(def),
                            _ => {
                                let context = format!("the `??` default of field `{}`", field.name);
                                return Err(self.type_error(context, field.ty.name(), &def));
                            }
                        };
                        Some(Box::new(def))
                    }
                };
                node(field.ty, TKind::Field { index: *index, default })
            }
            Expr::Local(name) => {
                let slot = self
                    .scope
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, s)| *s)
                    .ok_or_else(|| IrError::UnboundLocal { reward: self.ir.name.clone(), name: name.clone() })?;
                node(self.slots[slot as usize], TKind::Local(slot))
            }
            Expr::Let { name, value, body } => {
                let value = self.expr(value, d)?;
                let slot = self.slots.len() as u32;
                self.slots.push(value.ty);
                self.scope.push((name, slot));
                let body = self.expr(body, d);
                self.scope.pop();
                let body = body?;
                let ty = body.ty;
                let kind = TKind::Let { slot, value: Box::new(value), body: Box::new(body) };
                node(ty, kind)
            }
            Expr::Unary { op, arg } => {
                let arg = self.expr(arg, d)?;
                match op {
                    UnaryOp::Neg => {
                        let arg = self.numeric("unary `-`", arg)?;
                        node(arg.ty, TKind::Neg(Box::new(arg)))
                    }
                    UnaryOp::Not => {
                        let arg = self.boolean("`!`", arg)?;
                        node(Type::Bool, TKind::Not(Box::new(arg)))
                    }
                }
            }
            Expr::Binary { op, lhs, rhs } => {
                let lhs = self.expr(lhs, d)?;
                let rhs = self.expr(rhs, d)?;
                self.binary(*op, lhs, rhs)?
            }
            Expr::If { cond, then, otherwise } => {
                let cond = self.expr(cond, d)?;
                let cond = self.boolean("the condition of `if`", cond)?;
                let then = self.expr(then, d)?;
                let otherwise = self.expr(otherwise, d)?;
                let (ty, then, otherwise) = if then.ty == otherwise.ty {
                    (then.ty, then, otherwise)
                } else {
                    self.unify2("a branch of `if`", then, otherwise)?
                };
                node(ty, TKind::If(Box::new(cond), Box::new(then), Box::new(otherwise)))
            }
            Expr::Call { func, args } => {
                if args.len() != func.arity() {
                    return Err(IrError::Arity {
                        reward: self.ir.name.clone(),
                        func: func.name(),
                        expected: func.arity(),
                        found: args.len(),
                    });
                }
                let args = args.iter().map(|a| self.expr(a, d)).collect::<Result<Vec<_>, _>>()?;
                let context = format!("`{}`", func.name());
                let (ty, args) = self.unify(&context, args)?;
                if ty == Type::Int && !func.preserves_int() {
                    let args = args.into_iter().map(to_float).collect();
                    node(Type::Float, TKind::Call(*func, args))
                } else {
                    node(ty, TKind::Call(*func, args))
                }
            }
        })
    }

    fn binary(&self, op: BinaryOp, lhs: TExpr, rhs: TExpr) -> Result<TExpr, IrError> {
        let name = op_name(op);
        let arith =
            |a: Arith, ty: Type, lhs: TExpr, rhs: TExpr| node(ty, TKind::Arith(a, Box::new(lhs), Box::new(rhs)));
        let compare =
            |c: Cmp, lhs: TExpr, rhs: TExpr| node(Type::Bool, TKind::Compare(c, Box::new(lhs), Box::new(rhs)));
        Ok(match op {
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul => {
                let (ty, lhs, rhs) = self.unify2(name, lhs, rhs)?;
                let a = match op {
                    BinaryOp::Add => Arith::Add,
                    BinaryOp::Sub => Arith::Sub,
                    _ => Arith::Mul,
                };
                arith(a, ty, lhs, rhs)
            }
            BinaryOp::Div => {
                let (_, lhs, rhs) = self.unify2(name, lhs, rhs)?;
                arith(Arith::Div, Type::Float, to_float(lhs), to_float(rhs))
            }
            BinaryOp::Rem => {
                for side in [&lhs, &rhs] {
                    if side.ty != Type::Int {
                        return Err(self.type_error(name, "int", side));
                    }
                }
                arith(Arith::Rem, Type::Int, lhs, rhs)
            }
            BinaryOp::Eq | BinaryOp::Ne => {
                let c = if op == BinaryOp::Eq { Cmp::Eq } else { Cmp::Ne };
                if lhs.ty == Type::Bool || rhs.ty == Type::Bool {
                    let lhs = self.boolean(name, lhs)?;
                    let rhs = self.boolean(name, rhs)?;
                    compare(c, lhs, rhs)
                } else {
                    let (_, lhs, rhs) = self.unify2(name, lhs, rhs)?;
                    compare(c, lhs, rhs)
                }
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                let c = match op {
                    BinaryOp::Lt => Cmp::Lt,
                    BinaryOp::Le => Cmp::Le,
                    BinaryOp::Gt => Cmp::Gt,
                    _ => Cmp::Ge,
                };
                let (_, lhs, rhs) = self.unify2(name, lhs, rhs)?;
                compare(c, lhs, rhs)
            }
            BinaryOp::And | BinaryOp::Or => {
                let lhs = self.boolean(name, lhs)?;
                let rhs = self.boolean(name, rhs)?;
                let kind = if op == BinaryOp::And {
                    TKind::And(Box::new(lhs), Box::new(rhs))
                } else {
                    TKind::Or(Box::new(lhs), Box::new(rhs))
                };
                node(Type::Bool, kind)
            }
        })
    }
}

fn op_name(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "`+`",
        BinaryOp::Sub => "`-`",
        BinaryOp::Mul => "`*`",
        BinaryOp::Div => "`/`",
        BinaryOp::Rem => "`%`",
        BinaryOp::Eq => "`==`",
        BinaryOp::Ne => "`!=`",
        BinaryOp::Lt => "`<`",
        BinaryOp::Le => "`<=`",
        BinaryOp::Gt => "`>`",
        BinaryOp::Ge => "`>=`",
        BinaryOp::And => "`&&`",
        BinaryOp::Or => "`||`",
    }
}
