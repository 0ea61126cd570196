//! Evaluates helper functions in plain Rust, with the same IEEE operations wasm performs.

use super::lang::{FBin, FCmp, FUn, Func, IBin, ICmp, Op, Stmt};
use super::Helper;

enum Flow {
    Next,
    Return(u64),
}

/// Calls a one-argument float helper.
pub(crate) fn call1(h: Helper, x: f64) -> f64 {
    call(h, &[x.to_bits()])
}

/// Calls helper `h` with raw arguments (floats as bits) and returns the float result.
pub(crate) fn call(h: Helper, args: &[u64]) -> f64 {
    f64::from_bits(run(h.func(), args))
}

fn run(f: &Func, args: &[u64]) -> u64 {
    let mut locals = vec![0u64; f.locals.len()];
    locals[..args.len()].copy_from_slice(args);
    match block(&f.body, &mut locals) {
        Flow::Return(v) => v,
        Flow::Next => locals[f.result as usize],
    }
}

fn block(stmts: &[Stmt], l: &mut [u64]) -> Flow {
    for s in stmts {
        match s {
            Stmt::Set(dst, op) => l[*dst as usize] = op_value(op, l),
            Stmt::If(c, then, otherwise) => {
                let taken = if l[*c as usize] != 0 { then } else { otherwise };
                if let Flow::Return(v) = block(taken, l) {
                    return Flow::Return(v);
                }
            }
            Stmt::Return(v) => return Flow::Return(l[*v as usize]),
        }
    }
    Flow::Next
}

fn op_value(op: &Op, l: &[u64]) -> u64 {
    let f = |i: &u32| f64::from_bits(l[*i as usize]);
    let i = |x: &u32| l[*x as usize] as i64;
    match op {
        Op::FConst(v) => v.to_bits(),
        Op::IConst(v) => *v as u64,
        Op::Copy(src) => l[*src as usize],
        Op::FBin(o, a, b) => {
            let (a, b) = (f(a), f(b));
            match o {
                FBin::Add => a + b,
                FBin::Sub => a - b,
                FBin::Mul => a * b,
                FBin::Div => a / b,
            }
            .to_bits()
        }
        Op::FUn(o, a) => match o {
            FUn::Neg => (-f(a)).to_bits(),
            FUn::Abs => f(a).abs().to_bits(),
            FUn::Sqrt => f(a).sqrt().to_bits(),
        },
        Op::IBin(o, a, b) => {
            let (a, b) = (i(a), i(b));
            // Shift counts are taken modulo 64, as wasm's `i64.shl`/`shr` do.
            let sh = (b & 63) as u32;
            (match o {
                IBin::Add => a.wrapping_add(b),
                IBin::Sub => a.wrapping_sub(b),
                IBin::And => a & b,
                IBin::Or => a | b,
                IBin::Xor => a ^ b,
                IBin::Shl => a << sh,
                IBin::ShrS => a >> sh,
                IBin::ShrU => ((a as u64) >> sh) as i64,
            }) as u64
        }
        Op::FCmp(o, a, b) => {
            let (a, b) = (f(a), f(b));
            u64::from(match o {
                FCmp::Eq => a == b,
                FCmp::Ne => a != b,
                FCmp::Lt => a < b,
                FCmp::Le => a <= b,
                FCmp::Gt => a > b,
            })
        }
        Op::ICmp(o, a, b) => {
            let (a, b) = (i(a), i(b));
            u64::from(match o {
                ICmp::Eq => a == b,
                ICmp::Ne => a != b,
                ICmp::Lt => a < b,
                ICmp::Le => a <= b,
                ICmp::Gt => a > b,
                ICmp::Ge => a >= b,
            })
        }
        Op::BAnd(a, b) => l[*a as usize] & l[*b as usize],
        Op::BOr(a, b) => l[*a as usize] | l[*b as usize],
        Op::Bits(a) | Op::FromBits(a) => l[*a as usize],
        Op::IToF(a) => (i(a) as f64).to_bits(),
        // `as` saturates and maps NaN to 0, exactly like `i64.trunc_sat_f64_s`.
        Op::FToI(a) => (f(a) as i64) as u64,
        Op::Call(h, args) => {
            let args: Vec<u64> = args.iter().map(|a| l[*a as usize]).collect();
            run(h.func(), &args)
        }
    }
}
