//! The reference interpreter: the reward semantics in plain Rust, row by row. Tests compare
//! compiled rewards against it; it is not the hot path. Math helpers come from
//! [`crate::math`], the same definitions the compiler emits, so results agree bit for bit.

use crate::columns::{Column, ColumnData, ColumnError, Columns};
use crate::ir::{Builtin, Field, RewardIr, Type};
use crate::ir_error::IrError;
use crate::math;
use crate::typed::{self, Arith, Cmp, TExpr, TKind, TypedReward};

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
    fields: Vec<Field>,
    typed: TypedReward,
}

impl Interpreter {
    /// Type-checks `ir`.
    pub fn new(ir: &RewardIr) -> Result<Self, IrError> {
        Ok(Interpreter { fields: ir.fields.clone(), typed: typed::lower(ir)? })
    }

    /// The reward of one event; `row[i]` is field `i`'s value, `None` when null.
    pub fn eval_row(&self, row: &[Option<Value>]) -> f64 {
        let mut slots = vec![Value::Int(0); self.typed.slots.len()];
        let read = |i: u32| row.get(i as usize).copied().flatten();
        finish(eval(&self.typed.body, &read, &mut slots))
    }

    /// Rewards for every row of `columns`, bound to the fields by name.
    pub fn run(&self, columns: &Columns<'_>) -> Result<Vec<f64>, ColumnError> {
        let (rows, bound) = columns.bind(&self.fields)?;
        let mut slots = vec![Value::Int(0); self.typed.slots.len()];
        let out = (0..rows)
            .map(|r| {
                let read = |i: u32| cell(bound[i as usize], r);
                finish(eval(&self.typed.body, &read, &mut slots))
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

fn eval(e: &TExpr, read: &dyn Fn(u32) -> Option<Value>, slots: &mut [Value]) -> Value {
    let mut ev = |x: &TExpr| eval(x, read, slots);
    match &e.kind {
        TKind::Float(v) => Value::Float(*v),
        TKind::Int(v) => Value::Int(*v),
        TKind::Bool(v) => Value::Bool(*v),
        TKind::Field { index, default } => match read(*index) {
            Some(v) => v,
            None => match default {
                Some(d) => ev(d),
                None => zero(e.ty),
            },
        },
        TKind::Local(slot) => slots[*slot as usize],
        TKind::Let { slot, value, body } => {
            let v = eval(value, read, slots);
            slots[*slot as usize] = v;
            eval(body, read, slots)
        }
        TKind::ToFloat(a) => Value::Float(ev(a).i() as f64),
        TKind::Neg(a) => match e.ty {
            Type::Int => Value::Int(ev(a).i().wrapping_neg()),
            _ => Value::Float(-ev(a).f()),
        },
        TKind::Not(a) => Value::Bool(!ev(a).b()),
        TKind::Arith(op, a, b) => {
            let (a, b) = (ev(a), ev(b));
            match e.ty {
                Type::Int => {
                    let (a, b) = (a.i(), b.i());
                    Value::Int(match op {
                        Arith::Add => a.wrapping_add(b),
                        Arith::Sub => a.wrapping_sub(b),
                        Arith::Mul => a.wrapping_mul(b),
                        // x % 0 = 0 and MIN % -1 = 0: both are where `checked_rem` gives up.
                        _ => a.checked_rem(b).unwrap_or(0),
                    })
                }
                _ => {
                    let (a, b) = (a.f(), b.f());
                    Value::Float(match op {
                        Arith::Add => a + b,
                        Arith::Sub => a - b,
                        Arith::Mul => a * b,
                        _ => a / b,
                    })
                }
            }
        }
        TKind::Compare(op, a, b) => {
            let ty = a.ty;
            let (a, b) = (ev(a), ev(b));
            let ord = match ty {
                Type::Float => a.f().partial_cmp(&b.f()),
                Type::Int => Some(a.i().cmp(&b.i())),
                Type::Bool => Some(a.b().cmp(&b.b())),
            };
            use std::cmp::Ordering::*;
            // `None` (a NaN operand) makes every comparison false except `!=`.
            Value::Bool(match op {
                Cmp::Eq => ord == Some(Equal),
                Cmp::Ne => ord != Some(Equal),
                Cmp::Lt => ord == Some(Less),
                Cmp::Le => matches!(ord, Some(Less | Equal)),
                Cmp::Gt => ord == Some(Greater),
                Cmp::Ge => matches!(ord, Some(Greater | Equal)),
            })
        }
        TKind::And(a, b) => {
            let a = ev(a).b();
            let b = ev(b).b();
            Value::Bool(a && b)
        }
        TKind::Or(a, b) => {
            let a = ev(a).b();
            let b = ev(b).b();
            Value::Bool(a || b)
        }
        TKind::If(c, t, o) => {
            if ev(c).b() {
                ev(t)
            } else {
                ev(o)
            }
        }
        TKind::Call(func, args) => {
            let args: Vec<Value> = args.iter().map(&mut ev).collect();
            match e.ty {
                Type::Int => Value::Int(int_call(*func, &args)),
                _ => Value::Float(float_call(*func, &args)),
            }
        }
    }
}

fn int_call(func: Builtin, a: &[Value]) -> i64 {
    let x = a[0].i();
    match func {
        Builtin::Abs => x.wrapping_abs(),
        Builtin::Min => x.min(a[1].i()),
        Builtin::Max => x.max(a[1].i()),
        _ => x.max(a[1].i()).min(a[2].i()),
    }
}

fn float_call(func: Builtin, a: &[Value]) -> f64 {
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
