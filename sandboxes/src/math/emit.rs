//! Lowers helper functions to WebAssembly, one wasm instruction per language operation.

use wasm_encoder::{BlockType, Function, InstructionSink, ValType};

use super::lang::{FBin, FCmp, FUn, IBin, ICmp, Op, Stmt, Ty};
use super::Helper;

fn val_type(t: Ty) -> ValType {
    match t {
        Ty::F => ValType::F64,
        Ty::I => ValType::I64,
        Ty::B => ValType::I32,
    }
}

/// The wasm body of helper `h`; `index` maps a helper to its function index in the module.
pub(crate) fn emit(h: Helper, index: &dyn Fn(Helper) -> u32) -> Function {
    let f = h.func();
    let locals = f.locals[f.params..].iter().map(|t| (1, val_type(*t)));
    let mut func = Function::new(locals);
    let mut sink = func.instructions();
    block(&mut sink, &f.body, index);
    sink.local_get(f.result);
    sink.end();
    func
}

fn block(s: &mut InstructionSink<'_>, stmts: &[Stmt], index: &dyn Fn(Helper) -> u32) {
    for stmt in stmts {
        match stmt {
            Stmt::Set(dst, op) => {
                op_value(s, op, index);
                s.local_set(*dst);
            }
            Stmt::If(c, then, otherwise) => {
                s.local_get(*c);
                s.if_(BlockType::Empty);
                block(s, then, index);
                if !otherwise.is_empty() {
                    s.else_();
                    block(s, otherwise, index);
                }
                s.end();
            }
            Stmt::Return(v) => {
                s.local_get(*v);
                s.return_();
            }
        }
    }
}

fn op_value(s: &mut InstructionSink<'_>, op: &Op, index: &dyn Fn(Helper) -> u32) {
    match op {
        Op::FConst(v) => {
            s.f64_const((*v).into());
        }
        Op::IConst(v) => {
            s.i64_const(*v);
        }
        Op::Copy(a) => {
            s.local_get(*a);
        }
        Op::FBin(o, a, b) => {
            s.local_get(*a).local_get(*b);
            match o {
                FBin::Add => s.f64_add(),
                FBin::Sub => s.f64_sub(),
                FBin::Mul => s.f64_mul(),
                FBin::Div => s.f64_div(),
            };
        }
        Op::FUn(o, a) => {
            s.local_get(*a);
            match o {
                FUn::Neg => s.f64_neg(),
                FUn::Abs => s.f64_abs(),
                FUn::Sqrt => s.f64_sqrt(),
            };
        }
        Op::IBin(o, a, b) => {
            s.local_get(*a).local_get(*b);
            match o {
                IBin::Add => s.i64_add(),
                IBin::Sub => s.i64_sub(),
                IBin::And => s.i64_and(),
                IBin::Or => s.i64_or(),
                IBin::Xor => s.i64_xor(),
                IBin::Shl => s.i64_shl(),
                IBin::ShrS => s.i64_shr_s(),
                IBin::ShrU => s.i64_shr_u(),
            };
        }
        Op::FCmp(o, a, b) => {
            s.local_get(*a).local_get(*b);
            match o {
                FCmp::Eq => s.f64_eq(),
                FCmp::Ne => s.f64_ne(),
                FCmp::Lt => s.f64_lt(),
                FCmp::Le => s.f64_le(),
                FCmp::Gt => s.f64_gt(),
            };
        }
        Op::ICmp(o, a, b) => {
            s.local_get(*a).local_get(*b);
            match o {
                ICmp::Eq => s.i64_eq(),
                ICmp::Ne => s.i64_ne(),
                ICmp::Lt => s.i64_lt_s(),
                ICmp::Le => s.i64_le_s(),
                ICmp::Gt => s.i64_gt_s(),
                ICmp::Ge => s.i64_ge_s(),
            };
        }
        Op::BAnd(a, b) => {
            s.local_get(*a).local_get(*b).i32_and();
        }
        Op::BOr(a, b) => {
            s.local_get(*a).local_get(*b).i32_or();
        }
        Op::Bits(a) => {
            s.local_get(*a).i64_reinterpret_f64();
        }
        Op::FromBits(a) => {
            s.local_get(*a).f64_reinterpret_i64();
        }
        Op::IToF(a) => {
            s.local_get(*a).f64_convert_i64_s();
        }
        Op::FToI(a) => {
            s.local_get(*a).i64_trunc_sat_f64_s();
        }
        Op::Call(h, args) => {
            for a in args {
                s.local_get(*a);
            }
            s.call(index(*h));
        }
    }
}
