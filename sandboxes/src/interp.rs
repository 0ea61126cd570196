//! The reference interpreter: the reward semantics in plain Rust, row by row. Tests compare
//! compiled rewards against it; it is not the hot path. Math helpers come from
//! [`crate::math`], the same definitions the compiler emits, so results agree bit for bit.

use dsl::reward::{Builtin, RExpr, RExprKind, ROp, RType as Type, RewardFn};

use crate::check::{self, Slots};
use crate::columns::{Column, ColumnData, ColumnError, Columns};
use crate::ir_error::IrError;
use crate::math;

/// A runtime value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A `float`.
    Float(f64),
    /// An `int`.
    Int(i64),
    /// A `bool`.
    Bool(bool),
}

impl Value {
    fn f(self) -> f64 {
        match self {
            Value::Float(v) => v,
            Value::Int(v) => v as f64,
            Value::Bool(v) => f64::from(u8::from(v)),
        }
    }
    fn i(self) -> i64 {
        match self {
            Value::Int(v) => v,
            Value::Float(v) => v as i64,
            Value::Bool(v) => i64::from(v),
        }
    }
    fn b(self) -> bool {
        match self {
            Value::Bool(v) => v,
            Value::Int(v) => v != 0,
            Value::Float(v) => v != 0.0,
        }
    }
}

/// A checked reward ready to evaluate.
#[derive(Debug, Clone)]
pub struct Interpreter {
    reward: RewardFn,
    slots: Slots,
}

impl Interpreter {
    /// Checks `reward` (see [`check::check`]).
    pub fn new(reward: &RewardFn) -> Result<Self, IrError> {
        Ok(Interpreter { slots: check::checked(reward)?, reward: reward.clone() })
    }

    /// The reward of one event; `row[i]` is field `i`'s value, `None` when null.
    pub fn eval_row(&self, row: &[Option<Value>]) -> f64 {
        let mut slots = vec![Value::Int(0); self.slots.0.len()];
        let read = |i: usize| row.get(i).copied().flatten();
        finish(eval(&self.reward.body, &read, &mut slots))
    }

    /// Rewards for every row of `columns`, bound to the fields by name.
    pub fn run(&self, columns: &Columns<'_>) -> Result<Vec<f64>, ColumnError> {
        let (rows, bound) = columns.bind(&self.reward.fields)?;
        let mut slots = vec![Value::Int(0); self.slots.0.len()];
        let out = (0..rows)
            .map(|r| {
                let read = |i: usize| cell(bound[i], r);
                finish(eval(&self.reward.body, &read, &mut slots))
            })
            .collect();
        Ok(out)
    }
}

fn cell(col: &Column<'_>, r: usize) -> Option<Value> {
    if col.nulls.is_some_and(|n| n[r]) {
        return None;
    }
    Some(match col.data {
        ColumnData::Float(v) => Value::Float(v[r]),
        ColumnData::Int(v) => Value::Int(v[r]),
        ColumnData::Bool(v) => Value::Bool(v[r]),
    })
}

/// The reward as returned: `int` converted, NaN canonical.
fn finish(v: Value) -> f64 {
    let x = v.f();
    if x.is_nan() {
        f64::NAN
    } else {
        x
    }
}

fn zero(ty: Type) -> Value {
    match ty {
        Type::Float => Value::Float(0.0),
        Type::Int => Value::Int(0),
        Type::Bool => Value::Bool(false),
    }
}

fn eval(e: &RExpr, read: &dyn Fn(usize) -> Option<Value>, slots: &mut [Value]) -> Value {
    let mut ev = |x: &RExpr| eval(x, read, slots);
    match &e.kind {
        RExprKind::Float(v) => Value::Float(*v),
        RExprKind::Int(v) => Value::Int(*v),
        RExprKind::Bool(v) => Value::Bool(*v),
        RExprKind::Field { index, default } => match read(*index) {
            Some(v) => v,
            None => match default {
                Some(d) => ev(d),
                None => zero(e.ty),
            },
        },
        RExprKind::Local(slot) => slots[*slot],
        RExprKind::Let { slot, value, body } => {
            let v = eval(value, read, slots);
            slots[*slot] = v;
            eval(body, read, slots)
        }
        RExprKind::ToFloat(a) => Value::Float(ev(a).i() as f64),
        RExprKind::Neg(a) => match e.ty {
            Type::Int => Value::Int(ev(a).i().wrapping_neg()),
            _ => Value::Float(-ev(a).f()),
        },
        RExprKind::Not(a) => Value::Bool(!ev(a).b()),
        RExprKind::Binary { op, left, right } => {
            // Both operands share one type; operands have no effects, so evaluating both
            // sides of `&&` and `||` is exact.
            let ty = left.ty;
            let (a, b) = (ev(left), ev(right));
            match op {
                ROp::Add | ROp::Sub | ROp::Mul | ROp::Rem if ty == Type::Int => {
                    let (a, b) = (a.i(), b.i());
                    Value::Int(match op {
                        ROp::Add => a.wrapping_add(b),
                        ROp::Sub => a.wrapping_sub(b),
                        ROp::Mul => a.wrapping_mul(b),
                        // x % 0 = 0 and MIN % -1 = 0: both are where `checked_rem` gives up.
                        _ => a.checked_rem(b).unwrap_or(0),
                    })
                }
                ROp::Add => Value::Float(a.f() + b.f()),
                ROp::Sub => Value::Float(a.f() - b.f()),
                ROp::Mul => Value::Float(a.f() * b.f()),
                ROp::Div | ROp::Rem => Value::Float(a.f() / b.f()),
                ROp::And => Value::Bool(a.b() && b.b()),
                ROp::Or => Value::Bool(a.b() || b.b()),
                ROp::Eq | ROp::Ne | ROp::Lt | ROp::Le | ROp::Gt | ROp::Ge => {
                    let ord = match ty {
                        Type::Float => a.f().partial_cmp(&b.f()),
                        Type::Int => Some(a.i().cmp(&b.i())),
                        Type::Bool => Some(a.b().cmp(&b.b())),
                    };
                    use std::cmp::Ordering::*;
                    // `None` (a NaN operand) makes every comparison false except `!=`.
                    Value::Bool(match op {
                        ROp::Eq => ord == Some(Equal),
                        ROp::Ne => ord != Some(Equal),
                        ROp::Lt => ord == Some(Less),
                        ROp::Le => matches!(ord, Some(Less | Equal)),
                        ROp::Gt => ord == Some(Greater),
                        _ => matches!(ord, Some(Greater | Equal)),
                    })
                }
            }
        }
        RExprKind::If { cond, then, otherwise } => {
            if ev(cond).b() {
                ev(then)
            } else {
                ev(otherwise)
            }
        }
        RExprKind::Call { f, args } => {
            let args: Vec<Value> = args.iter().map(&mut ev).collect();
            Value::Float(call(*f, &args))
        }
    }
}

/// A builtin: its arguments and result are floats.
fn call(func: Builtin, a: &[Value]) -> f64 {
    let x = a[0].f();
    match func {
        Builtin::Log => math::log(x),
        Builtin::Log1p => math::log1p(x),
        Builtin::Exp => math::exp(x),
        Builtin::Sqrt => x.sqrt(),
        Builtin::Abs => x.abs(),
        Builtin::Min => math::fmin(x, a[1].f()),
        Builtin::Max => math::fmax(x, a[1].f()),
        Builtin::Clamp => math::fmin(math::fmax(x, a[1].f()), a[2].f()),
        Builtin::Pow => math::pow(x, a[1].f()),
        Builtin::Sigmoid => math::sigmoid(x),
        Builtin::Tanh => math::tanh(x),
        Builtin::Floor => x.floor(),
        Builtin::Ceil => x.ceil(),
    }
}
