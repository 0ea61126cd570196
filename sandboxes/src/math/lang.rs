//! A tiny three-address language in which the math helpers are written exactly once.
//!
//! WebAssembly has no `log`, `exp`, `pow` or `tanh` instructions, so compiled rewards carry
//! their own. Writing each algorithm once here and then *evaluating* it (the reference
//! interpreter, [`super::eval`]) or *lowering* it to wasm ([`super::emit`]) makes both paths
//! agree bit for bit by construction: every step is an IEEE-754 operation that Rust and wasm
//! round identically, and no step is fused or reordered.
//!
//! Algorithms are written with ordinary Rust operators on handles ([`F`], [`I`], [`B`]); each
//! operation appends a statement to the function being defined (kept in a thread-local, which
//! is what lets `a * b + 1.0` read like the C it is ported from).

use std::cell::RefCell;

use super::Helper;

/// The value types of the language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    F,
    I,
    B,
}

/// A `f64` local.
#[derive(Debug, Clone, Copy)]
pub(crate) struct F(pub(crate) u32);
/// An `i64` local (two's complement, wrapping).
#[derive(Debug, Clone, Copy)]
pub(crate) struct I(pub(crate) u32);
/// A boolean local (`0` or `1`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct B(pub(crate) u32);

#[derive(Debug, Clone, Copy)]
pub(crate) enum FBin {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum FUn {
    Neg,
    Abs,
    Sqrt,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum IBin {
    Add,
    Sub,
    And,
    Or,
    Xor,
    Shl,
    ShrS,
    ShrU,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum FCmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
}

/// Signed comparisons; every algorithm keeps its 32-bit words zero- or sign-extended in an
/// `i64` so that signed 64-bit comparison gives the C meaning.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ICmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
    FConst(f64),
    IConst(i64),
    Copy(u32),
    FBin(FBin, u32, u32),
    FUn(FUn, u32),
    IBin(IBin, u32, u32),
    FCmp(FCmp, u32, u32),
    ICmp(ICmp, u32, u32),
    BAnd(u32, u32),
    BOr(u32, u32),
    /// `f64` bits as `i64`.
    Bits(u32),
    /// `i64` bits as `f64`.
    FromBits(u32),
    /// `i64` to `f64`, round to nearest even.
    IToF(u32),
    /// `f64` to `i64`, truncating and saturating (NaN gives 0).
    FToI(u32),
    Call(Helper, Vec<u32>),
}

#[derive(Debug, Clone)]
pub(crate) enum Stmt {
    Set(u32, Op),
    If(u32, Vec<Stmt>, Vec<Stmt>),
    Return(u32),
}

/// One helper function.
#[derive(Debug, Clone)]
pub(crate) struct Func {
    /// Parameter count; they are the first locals.
    pub params: usize,
    /// Types of all locals, parameters first.
    pub locals: Vec<Ty>,
    pub body: Vec<Stmt>,
    /// The local returned when the body falls through.
    pub result: u32,
}

struct Builder {
    locals: Vec<Ty>,
    /// Statement lists being filled; the innermost `if` branch last.
    frames: Vec<Vec<Stmt>>,
}

thread_local! {
    static BUILDERS: RefCell<Vec<Builder>> = const { RefCell::new(Vec::new()) };
}

fn with<R>(f: impl FnOnce(&mut Builder) -> R) -> R {
    BUILDERS.with(|b| {
        let mut stack = b.borrow_mut();
        let builder = stack.last_mut().expect("math DSL used outside `define`: a bug in the helper definitions");
        f(builder)
    })
}

fn push(ty: Ty, op: Op) -> u32 {
    with(|b| {
        let dst = b.locals.len() as u32;
        b.locals.push(ty);
        if let Some(frame) = b.frames.last_mut() {
            frame.push(Stmt::Set(dst, op));
        }
        dst
    })
}

fn stmt(s: Stmt) {
    with(|b| {
        if let Some(frame) = b.frames.last_mut() {
            frame.push(s);
        }
    })
}

/// Defines a function of `params`; `body` gets the parameter locals and returns the result.
pub(crate) fn define(params: &[Ty], body: impl FnOnce(&[u32]) -> F) -> Func {
    BUILDERS.with(|b| b.borrow_mut().push(Builder { locals: params.to_vec(), frames: vec![Vec::new()] }));
    let args: Vec<u32> = (0..params.len() as u32).collect();
    let result = body(&args);
    let builder = BUILDERS.with(|b| b.borrow_mut().pop()).expect("builder pushed above");
    let mut frames = builder.frames;
    let func =
        Func { params: params.len(), locals: builder.locals, body: frames.pop().unwrap_or_default(), result: result.0 };
    if cfg!(debug_assertions) {
        assert_written_before_read(&func);
    }
    func
}

/// Inlined helpers keep their locals from one event to the next, so a helper must never
/// read a local before writing it on the same path. Checked statically, in debug builds.
fn assert_written_before_read(f: &Func) {
    fn reads(op: &Op) -> Vec<u32> {
        match op {
            Op::FConst(_) | Op::IConst(_) => vec![],
            Op::Copy(a) | Op::FUn(_, a) | Op::Bits(a) | Op::FromBits(a) | Op::IToF(a) | Op::FToI(a) => vec![*a],
            Op::FBin(_, a, b)
            | Op::IBin(_, a, b)
            | Op::FCmp(_, a, b)
            | Op::ICmp(_, a, b)
            | Op::BAnd(a, b)
            | Op::BOr(a, b) => vec![*a, *b],
            Op::Call(_, args) => args.clone(),
        }
    }
    /// Walks `stmts` with `written` on entry; returns what is written on every fall-through.
    fn walk(stmts: &[Stmt], mut written: Vec<bool>) -> Vec<bool> {
        for s in stmts {
            match s {
                Stmt::Set(dst, op) => {
                    for r in reads(op) {
                        assert!(written[r as usize], "helper reads local {r} before writing it");
                    }
                    written[*dst as usize] = true;
                }
                Stmt::If(c, then, otherwise) => {
                    assert!(written[*c as usize], "helper reads local {c} before writing it");
                    let a = walk(then, written.clone());
                    let b = walk(otherwise, written.clone());
                    written = a.iter().zip(&b).map(|(x, y)| *x && *y).collect();
                }
                Stmt::Return(v) => {
                    assert!(written[*v as usize], "helper returns local {v} before writing it");
                }
            }
        }
        written
    }
    let mut written = vec![false; f.locals.len()];
    written[..f.params].fill(true);
    let written = walk(&f.body, written);
    assert!(written[f.result as usize], "helper result is not always written");
}

fn block(f: impl FnOnce()) -> Vec<Stmt> {
    with(|b| b.frames.push(Vec::new()));
    f();
    with(|b| b.frames.pop().unwrap_or_default())
}

/// `if cond { then }`.
pub(crate) fn when(cond: B, then: impl FnOnce()) {
    let then = block(then);
    stmt(Stmt::If(cond.0, then, Vec::new()));
}

/// `if cond { then } else { otherwise }`.
pub(crate) fn when_else(cond: B, then: impl FnOnce(), otherwise: impl FnOnce()) {
    let then = block(then);
    let otherwise = block(otherwise);
    stmt(Stmt::If(cond.0, then, otherwise));
}

/// `return x` from the function being defined.
pub(crate) fn ret(x: impl IntoF) {
    let x = x.f();
    stmt(Stmt::Return(x.0));
}

/// Calls another helper.
pub(crate) fn call(h: Helper, args: &[u32]) -> F {
    F(push(Ty::F, Op::Call(h, args.to_vec())))
}

/// A float constant.
pub(crate) fn fc(v: f64) -> F {
    F(push(Ty::F, Op::FConst(v)))
}

/// An integer constant.
pub(crate) fn ic(v: i64) -> I {
    I(push(Ty::I, Op::IConst(v)))
}

/// A fresh mutable float variable holding `init`.
pub(crate) fn var_f(init: impl IntoF) -> F {
    let init = init.f();
    F(push(Ty::F, Op::Copy(init.0)))
}

/// A fresh mutable integer variable holding `init`.
pub(crate) fn var_i(init: impl IntoI) -> I {
    let init = init.i();
    I(push(Ty::I, Op::Copy(init.0)))
}

/// Floats or float constants.
pub(crate) trait IntoF {
    fn f(self) -> F;
}
impl IntoF for F {
    fn f(self) -> F {
        self
    }
}
impl IntoF for f64 {
    fn f(self) -> F {
        fc(self)
    }
}

/// Integers or integer constants.
pub(crate) trait IntoI {
    fn i(self) -> I;
}
impl IntoI for I {
    fn i(self) -> I {
        self
    }
}
impl IntoI for i64 {
    fn i(self) -> I {
        ic(self)
    }
}

impl F {
    /// Assigns to this variable.
    pub(crate) fn set(self, v: impl IntoF) {
        let v = v.f();
        stmt(Stmt::Set(self.0, Op::Copy(v.0)));
    }
    fn cmp(self, op: FCmp, o: impl IntoF) -> B {
        let o = o.f();
        B(push(Ty::B, Op::FCmp(op, self.0, o.0)))
    }
    pub(crate) fn eq(self, o: impl IntoF) -> B {
        self.cmp(FCmp::Eq, o)
    }
    pub(crate) fn ne(self, o: impl IntoF) -> B {
        self.cmp(FCmp::Ne, o)
    }
    pub(crate) fn lt(self, o: impl IntoF) -> B {
        self.cmp(FCmp::Lt, o)
    }
    pub(crate) fn le(self, o: impl IntoF) -> B {
        self.cmp(FCmp::Le, o)
    }
    pub(crate) fn gt(self, o: impl IntoF) -> B {
        self.cmp(FCmp::Gt, o)
    }
    pub(crate) fn is_nan(self) -> B {
        self.ne(self)
    }
    pub(crate) fn abs(self) -> F {
        F(push(Ty::F, Op::FUn(FUn::Abs, self.0)))
    }
    pub(crate) fn sqrt(self) -> F {
        F(push(Ty::F, Op::FUn(FUn::Sqrt, self.0)))
    }
    /// The raw IEEE bits.
    pub(crate) fn bits(self) -> I {
        I(push(Ty::I, Op::Bits(self.0)))
    }
    /// Truncate toward zero, saturating.
    pub(crate) fn trunc_i(self) -> I {
        I(push(Ty::I, Op::FToI(self.0)))
    }
    /// This value with its low 32 bits cleared (C's `SET_LOW_WORD(x, 0)`).
    pub(crate) fn low_cleared(self) -> F {
        (self.bits() & !0xffff_ffff_i64).reinterpret()
    }
    /// This value with its high 32 bits replaced by the low 32 bits of `hi`.
    pub(crate) fn with_high(self, hi: I) -> F {
        ((hi << 32) | (self.bits() & 0xffff_ffff)).reinterpret()
    }
}

impl I {
    /// Assigns to this variable.
    pub(crate) fn set(self, v: impl IntoI) {
        let v = v.i();
        stmt(Stmt::Set(self.0, Op::Copy(v.0)));
    }
    fn bin(self, op: IBin, o: impl IntoI) -> I {
        let o = o.i();
        I(push(Ty::I, Op::IBin(op, self.0, o.0)))
    }
    fn cmp(self, op: ICmp, o: impl IntoI) -> B {
        let o = o.i();
        B(push(Ty::B, Op::ICmp(op, self.0, o.0)))
    }
    pub(crate) fn eq(self, o: impl IntoI) -> B {
        self.cmp(ICmp::Eq, o)
    }
    pub(crate) fn ne(self, o: impl IntoI) -> B {
        self.cmp(ICmp::Ne, o)
    }
    pub(crate) fn lt(self, o: impl IntoI) -> B {
        self.cmp(ICmp::Lt, o)
    }
    pub(crate) fn le(self, o: impl IntoI) -> B {
        self.cmp(ICmp::Le, o)
    }
    pub(crate) fn gt(self, o: impl IntoI) -> B {
        self.cmp(ICmp::Gt, o)
    }
    pub(crate) fn ge(self, o: impl IntoI) -> B {
        self.cmp(ICmp::Ge, o)
    }
    /// Arithmetic shift right.
    pub(crate) fn shr_s(self, o: impl IntoI) -> I {
        self.bin(IBin::ShrS, o)
    }
    /// Logical shift right.
    pub(crate) fn shr_u(self, o: impl IntoI) -> I {
        self.bin(IBin::ShrU, o)
    }
    /// Reinterpret as `f64` bits.
    pub(crate) fn reinterpret(self) -> F {
        F(push(Ty::F, Op::FromBits(self.0)))
    }
    /// Convert to `f64`.
    pub(crate) fn to_f(self) -> F {
        F(push(Ty::F, Op::IToF(self.0)))
    }
    /// The low 32 bits, sign-extended (C's `(int32_t)x`).
    pub(crate) fn low_i32(self) -> I {
        (self << 32).shr_s(32)
    }
}

macro_rules! float_ops {
    ($($tr:ident $m:ident $op:expr;)*) => {$(
        impl<T: IntoF> std::ops::$tr<T> for F {
            type Output = F;
            fn $m(self, o: T) -> F {
                let o = o.f();
                F(push(Ty::F, Op::FBin($op, self.0, o.0)))
            }
        }
        impl std::ops::$tr<F> for f64 {
            type Output = F;
            fn $m(self, o: F) -> F {
                let s = fc(self);
                F(push(Ty::F, Op::FBin($op, s.0, o.0)))
            }
        }
    )*};
}
float_ops! {
    Add add FBin::Add;
    Sub sub FBin::Sub;
    Mul mul FBin::Mul;
    Div div FBin::Div;
}

impl std::ops::Neg for F {
    type Output = F;
    fn neg(self) -> F {
        F(push(Ty::F, Op::FUn(FUn::Neg, self.0)))
    }
}

macro_rules! int_ops {
    ($($tr:ident $m:ident $op:expr;)*) => {$(
        impl<T: IntoI> std::ops::$tr<T> for I {
            type Output = I;
            fn $m(self, o: T) -> I {
                self.bin($op, o)
            }
        }
        impl std::ops::$tr<I> for i64 {
            type Output = I;
            fn $m(self, o: I) -> I {
                ic(self).bin($op, o)
            }
        }
    )*};
}
int_ops! {
    Add add IBin::Add;
    Sub sub IBin::Sub;
    BitAnd bitand IBin::And;
    BitOr bitor IBin::Or;
    BitXor bitxor IBin::Xor;
    Shl shl IBin::Shl;
}

impl std::ops::BitAnd for B {
    type Output = B;
    fn bitand(self, o: B) -> B {
        B(push(Ty::B, Op::BAnd(self.0, o.0)))
    }
}

impl std::ops::BitOr for B {
    type Output = B;
    fn bitor(self, o: B) -> B {
        B(push(Ty::B, Op::BOr(self.0, o.0)))
    }
}
