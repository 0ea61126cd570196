//! Lowers helper functions to WebAssembly, one wasm instruction per language operation:
//! either as a standalone function, or inlined at a call site (which saves the call's
//! prologue, register spills and limit checks on the hot per-event path).

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

/// How a body is being emitted.
struct Ctx<'a> {
    /// Wasm local index of each language local.
    locals: Vec<u32>,
    /// `None`: a standalone function, `Return` is `return`. `Some(d)`: inlined, `Return` is
    /// `br` to the enclosing result block, `d` labels out at the top level of the body.
    inline_depth: Option<u32>,
    index: &'a dyn Fn(Helper) -> u32,
}

/// The wasm body of helper `h`; `index` maps a helper to its function index in the module.
pub(crate) fn emit(h: Helper, index: &dyn Fn(Helper) -> u32) -> Function {
    let f = h.func();
    let locals = f.locals[f.params..].iter().map(|t| (1, val_type(*t)));
    let mut func = Function::new(locals);
    let mut sink = func.instructions();
    let ctx = Ctx { locals: (0..f.locals.len() as u32).collect(), inline_depth: None, index };
    block(&mut sink, &f.body, &ctx, 0);
    sink.local_get(f.result);
    sink.end();
    func
}

/// Emits helper `h` inline: consumes its arguments from the stack and leaves its result.
/// `local` declares a fresh local of the given type in the enclosing function.
pub(crate) fn emit_inline(
    s: &mut InstructionSink<'_>,
    h: Helper,
    local: &mut dyn FnMut(ValType) -> u32,
    index: &dyn Fn(Helper) -> u32,
) {
    let f = h.func();
    let locals: Vec<u32> = f.locals.iter().map(|t| local(val_type(*t))).collect();
    for p in (0..f.params).rev() {
        s.local_set(locals[p]);
    }
    let ctx = Ctx { locals, inline_depth: Some(0), index };
    s.block(BlockType::Result(ValType::F64));
    block(s, &f.body, &ctx, 0);
    s.local_get(ctx.locals[f.result as usize]);
    s.end();
}

fn block(s: &mut InstructionSink<'_>, stmts: &[Stmt], ctx: &Ctx<'_>, depth: u32) {
    let l = |i: &u32| ctx.locals[*i as usize];
    for stmt in stmts {
        match stmt {
            Stmt::Set(dst, op) => {
                op_value(s, op, ctx);
                s.local_set(l(dst));
            }
            Stmt::If(c, then, otherwise) => {
                s.local_get(l(c));
                s.if_(BlockType::Empty);
                block(s, then, ctx, depth + 1);
                if !otherwise.is_empty() {
                    s.else_();
                    block(s, otherwise, ctx, depth + 1);
                }
                s.end();
            }
            Stmt::Return(v) => {
                s.local_get(l(v));
                match ctx.inline_depth {
                    None => s.return_(),
                    Some(base) => s.br(base + depth),
                };
            }
        }
    }
}

fn op_value(s: &mut InstructionSink<'_>, op: &Op, ctx: &Ctx<'_>) {
    let l = |i: &u32| ctx.locals[*i as usize];
    match op {
        Op::FConst(v) => {
            s.f64_const((*v).into());
        }
        Op::IConst(v) => {
            s.i64_const(*v);
        }
        Op::Copy(a) => {
            s.local_get(l(a));
        }
        Op::FBin(o, a, b) => {
            s.local_get(l(a)).local_get(l(b));
            match o {
                FBin::Add => s.f64_add(),
                FBin::Sub => s.f64_sub(),
                FBin::Mul => s.f64_mul(),
                FBin::Div => s.f64_div(),
            };
        }
        Op::FUn(o, a) => {
            s.local_get(l(a));
            match o {
                FUn::Neg => s.f64_neg(),
                FUn::Abs => s.f64_abs(),
                FUn::Sqrt => s.f64_sqrt(),
            };
        }
        Op::IBin(o, a, b) => {
            s.local_get(l(a)).local_get(l(b));
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
            s.local_get(l(a)).local_get(l(b));
            match o {
                FCmp::Eq => s.f64_eq(),
                FCmp::Ne => s.f64_ne(),
                FCmp::Lt => s.f64_lt(),
                FCmp::Le => s.f64_le(),
                FCmp::Gt => s.f64_gt(),
            };
        }
        Op::ICmp(o, a, b) => {
            s.local_get(l(a)).local_get(l(b));
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
            s.local_get(l(a)).local_get(l(b)).i32_and();
        }
        Op::BOr(a, b) => {
            s.local_get(l(a)).local_get(l(b)).i32_or();
        }
        Op::Bits(a) => {
            s.local_get(l(a)).i64_reinterpret_f64();
        }
        Op::FromBits(a) => {
            s.local_get(l(a)).f64_reinterpret_i64();
        }
        Op::IToF(a) => {
            s.local_get(l(a)).f64_convert_i64_s();
        }
        Op::FToI(a) => {
            s.local_get(l(a)).i64_trunc_sat_f64_s();
        }
        Op::Call(h, args) => {
            for a in args {
                s.local_get(l(a));
            }
            s.call((ctx.index)(*h));
        }
    }
}
