//! A checked reward tree to a WebAssembly module speaking the batch ABI (see [`crate::abi`]).
//!
//! Pure: bytes in memory, no I/O. The module has no imports, one memory, the math helpers of
//! [`crate::math`], and a batch entry that loops over rows so one call scores a whole chunk.

use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, DataSection, ExportKind, ExportSection, Function, FunctionSection,
    GlobalSection, GlobalType, IndirectNameMap, InstructionSink, MemArg, MemArgTarget, MemorySection, MemoryType,
    Module, NameMap, NameSection, TypeSection, ValType,
};

use dsl::reward::{Builtin, RExpr, RExprKind, RField, ROp, RType as Type, RewardFn};

use crate::abi;
use crate::check::{self, Slots};
use crate::ir_error::IrError;
use crate::math::{self, Helper};

/// Where the schema string lives; address 0 stays unused so a null pointer is never valid.
const SCHEMA_OFFSET: u32 = 16;
const PAGE: u32 = 65536;

// Type indices.
const T_VOID_I32: u32 = 0;
const T_I32_I32: u32 = 1;
const T_I32I32_I32: u32 = 2;
const T_F_F: u32 = 3;
const T_FF_F: u32 = 4;
const T_FI_F: u32 = 5;

// Function indices.
const F_ABI_VERSION: u32 = 0;
const F_SCHEMA: u32 = 1;
const F_ALLOC: u32 = 2;
const F_REWARD: u32 = 3;
const F_HELPERS: u32 = 4;

const G_HEAP: u32 = 0;

fn helper_index(h: Helper) -> u32 {
    F_HELPERS + h as u32
}

/// Compiles a reward tree to a WebAssembly binary, after [`check::check`] accepted it.
pub fn compile(reward: &RewardFn) -> Result<Vec<u8>, IrError> {
    let slots = check::checked(reward)?;
    let schema = abi::schema_string(&reward.fields);
    let heap_base = (SCHEMA_OFFSET + schema.len() as u32 + 1).next_multiple_of(16);

    let mut types = TypeSection::new();
    types.ty().function([], [ValType::I32]);
    types.ty().function([ValType::I32], [ValType::I32]);
    types.ty().function([ValType::I32, ValType::I32], [ValType::I32]);
    types.ty().function([ValType::F64], [ValType::F64]);
    types.ty().function([ValType::F64, ValType::F64], [ValType::F64]);
    types.ty().function([ValType::F64, ValType::I64], [ValType::F64]);

    let mut functions = FunctionSection::new();
    functions.function(T_VOID_I32);
    functions.function(T_VOID_I32);
    functions.function(T_I32_I32);
    functions.function(T_I32I32_I32);
    for h in Helper::ALL {
        functions.function(match (h.arity(), h.takes_int()) {
            (1, _) => T_F_F,
            (_, false) => T_FF_F,
            (_, true) => T_FI_F,
        });
    }

    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: u64::from(heap_base.div_ceil(PAGE)),
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });

    let mut globals = GlobalSection::new();
    globals.global(
        GlobalType { val_type: ValType::I32, mutable: true, shared: false },
        &ConstExpr::i32_const(heap_base as i32),
    );

    let mut exports = ExportSection::new();
    exports.export(abi::MEMORY_EXPORT, ExportKind::Memory, 0);
    exports.export(abi::ABI_VERSION_EXPORT, ExportKind::Func, F_ABI_VERSION);
    exports.export(abi::SCHEMA_EXPORT, ExportKind::Func, F_SCHEMA);
    exports.export(abi::ALLOC_EXPORT, ExportKind::Func, F_ALLOC);
    exports.export(abi::REWARD_EXPORT, ExportKind::Func, F_REWARD);

    let mut code = CodeSection::new();
    code.function(&const_i32(abi::ABI_VERSION));
    code.function(&const_i32(SCHEMA_OFFSET as i32));
    code.function(&alloc_function());
    code.function(&RewardCodegen::new(reward, &slots).function());
    for h in Helper::ALL {
        code.function(&math::emit(h, &helper_index));
    }

    let mut data = DataSection::new();
    let mut bytes = schema.into_bytes();
    bytes.push(0);
    data.active(0, &ConstExpr::i32_const(SCHEMA_OFFSET as i32), bytes);

    let mut names = NameMap::new();
    names.append(F_ABI_VERSION, abi::ABI_VERSION_EXPORT);
    names.append(F_SCHEMA, abi::SCHEMA_EXPORT);
    names.append(F_ALLOC, abi::ALLOC_EXPORT);
    names.append(F_REWARD, &reward.name);
    for h in Helper::ALL {
        names.append(helper_index(h), h.name());
    }
    let mut name_section = NameSection::new();
    name_section.module(&reward.name);
    name_section.functions(&names);
    name_section.locals(&IndirectNameMap::new());

    let mut module = Module::new();
    module
        .section(&types)
        .section(&functions)
        .section(&memories)
        .section(&globals)
        .section(&exports)
        .section(&code)
        .section(&data)
        .section(&name_section);
    Ok(module.finish())
}

fn const_i32(v: i32) -> Function {
    let mut f = Function::new([]);
    f.instructions().i32_const(v).end();
    f
}

fn mem(offset: u64, align: u32) -> MemArg {
    MemArg { offset, align, target: MemArgTarget::Memory(0), ordering: None }
}

/// `evo_alloc(bytes)`: a bump allocator over the heap global, growing memory as needed and
/// answering 0 when the request cannot fit in 4 GiB or the host refuses to grow memory.
fn alloc_function() -> Function {
    const BYTES: u32 = 0;
    const PTR: u32 = 1;
    const NEED: u32 = 2;
    const END: u32 = 3;
    let mut f = Function::new([(2, ValType::I32), (1, ValType::I64)]);
    let mut s = f.instructions();
    s.global_get(G_HEAP).local_set(PTR);
    s.local_get(PTR).i64_extend_i32_u().local_get(BYTES).i64_extend_i32_u().i64_add().local_set(END);
    s.local_get(END).i64_const((1i64 << 32) - 8).i64_gt_u().if_(BlockType::Empty).i32_const(0).return_().end();
    s.local_get(END).i64_const(i64::from(PAGE) - 1).i64_add().i64_const(16).i64_shr_u().i32_wrap_i64().local_set(NEED);
    s.local_get(NEED)
        .memory_size(0)
        .i32_gt_u()
        .if_(BlockType::Empty)
        .local_get(NEED)
        .memory_size(0)
        .i32_sub()
        .memory_grow(0)
        .i32_const(-1)
        .i32_eq()
        .if_(BlockType::Empty)
        .i32_const(0)
        .return_()
        .end()
        .end();
    s.local_get(END).i64_const(7).i64_add().i64_const(-8).i64_and().i32_wrap_i64().global_set(G_HEAP);
    s.local_get(PTR).end();
    f
}

fn val_type(t: Type) -> ValType {
    match t {
        Type::Float => ValType::F64,
        Type::Int => ValType::I64,
        Type::Bool => ValType::I32,
    }
}

/// Generates `evo_reward(desc, rows)` for one reward.
struct RewardCodegen<'a> {
    fields: &'a [RField],
    body: &'a RExpr,
    /// Declared local types after the two parameters.
    locals: Vec<ValType>,
    row: u32,
    out: u32,
    /// `(data, nulls)` pointer locals per field.
    columns: Vec<(u32, u32)>,
    slots: Vec<u32>,
}

const P_DESC: u32 = 0;
const P_ROWS: u32 = 1;

impl<'a> RewardCodegen<'a> {
    fn new(reward: &'a RewardFn, slots: &Slots) -> Self {
        let mut cg = RewardCodegen {
            fields: &reward.fields,
            body: &reward.body,
            locals: Vec::new(),
            row: 0,
            out: 0,
            columns: Vec::new(),
            slots: Vec::new(),
        };
        cg.row = cg.local(ValType::I32);
        cg.out = cg.local(ValType::I32);
        for _ in &reward.fields {
            let data = cg.local(ValType::I32);
            let nulls = cg.local(ValType::I32);
            cg.columns.push((data, nulls));
        }
        for ty in &slots.0 {
            let slot = cg.local(val_type(*ty));
            cg.slots.push(slot);
        }
        cg
    }

    fn local(&mut self, ty: ValType) -> u32 {
        self.locals.push(ty);
        P_ROWS + self.locals.len() as u32
    }

    fn function(mut self) -> Function {
        // Temporaries are discovered while generating, but locals must be declared first:
        // record the code into a local-free scratch body, then splice it after the locals.
        let mut scratch = Function::new([]);
        {
            let mut s = scratch.instructions();
            self.prologue(&mut s);
            self.row_loop(&mut s);
            s.i32_const(0).end();
        }
        let code = scratch.into_raw_body();
        let mut f = Function::new(self.locals.iter().map(|t| (1, *t)));
        // Skip the scratch body's empty local-declaration vector (a single 0x00 byte).
        f.raw(code[1..].iter().copied());
        f
    }

    fn prologue(&mut self, s: &mut InstructionSink<'_>) {
        s.local_get(P_DESC).i32_load(mem(0, 2)).local_set(self.out);
        for (i, (data, nulls)) in self.columns.clone().into_iter().enumerate() {
            let base = 4 + 8 * i as u64;
            s.local_get(P_DESC).i32_load(mem(base, 2)).local_set(data);
            s.local_get(P_DESC).i32_load(mem(base + 4, 2)).local_set(nulls);
        }
        s.i32_const(0).local_set(self.row);
    }

    fn row_loop(&mut self, s: &mut InstructionSink<'_>) {
        let value = self.local(ValType::F64);
        s.block(BlockType::Empty).loop_(BlockType::Empty);
        s.local_get(self.row).local_get(P_ROWS).i32_ge_u().br_if(1);
        // The body is a float: the checker converted an int result.
        self.expr(s, self.body);
        // NaN rewards are canonicalised so outputs are reproducible bit for bit (stored as
        // bits: see `as_bits`).
        s.local_set(value);
        s.local_get(self.out).local_get(self.row).i32_const(3).i32_shl().i32_add();
        s.i64_const(f64::NAN.to_bits() as i64)
            .local_get(value)
            .i64_reinterpret_f64()
            .local_get(value)
            .local_get(value)
            .f64_ne()
            .select()
            .i64_store(mem(0, 3));
        s.local_get(self.row).i32_const(1).i32_add().local_set(self.row).br(0).end().end();
    }

    fn expr(&mut self, s: &mut InstructionSink<'_>, e: &RExpr) {
        match &e.kind {
            RExprKind::Float(v) => {
                s.f64_const((*v).into());
            }
            RExprKind::Int(v) => {
                s.i64_const(*v);
            }
            RExprKind::Bool(v) => {
                s.i32_const(i32::from(*v));
            }
            RExprKind::Field { index, default } => self.field(s, *index, default.as_deref()),
            RExprKind::Local(slot) => {
                s.local_get(self.slots[*slot]);
            }
            RExprKind::Let { slot, value, body } => {
                self.expr(s, value);
                s.local_set(self.slots[*slot]);
                self.expr(s, body);
            }
            RExprKind::ToFloat(a) => {
                self.expr(s, a);
                s.f64_convert_i64_s();
            }
            RExprKind::Neg(a) => match e.ty {
                Type::Int => {
                    s.i64_const(0);
                    self.expr(s, a);
                    s.i64_sub();
                }
                _ => {
                    self.expr(s, a);
                    s.f64_neg();
                }
            },
            RExprKind::Not(a) => {
                self.expr(s, a);
                s.i32_eqz();
            }
            RExprKind::Binary { op, left, right } => self.binary(s, *op, left, right),
            // Small branches without helper calls become a branch-free `select` (exact for
            // the same reason as in `field`); larger ones keep a real `if`.
            RExprKind::If { cond: c, then: t, otherwise: o } if cheap(t, 8) && cheap(o, 8) => {
                self.expr(s, t);
                as_bits(s, e.ty);
                self.expr(s, o);
                as_bits(s, e.ty);
                self.expr(s, c);
                s.select();
                from_bits(s, e.ty);
            }
            RExprKind::If { cond: c, then: t, otherwise: o } => {
                self.expr(s, c);
                s.if_(BlockType::Result(val_type(e.ty)));
                self.expr(s, t);
                s.else_();
                self.expr(s, o);
                s.end();
            }
            RExprKind::Call { f, args } => self.call(s, *f, args),
        }
    }

    /// Reads field `index` of the current row, or its default (else zero) when null.
    ///
    /// Branch-free: both the value and the default are computed and `select` picks one.
    /// That is exact because reward expressions cannot trap or have effects, and every load
    /// is in bounds: a missing null mask reads from address `row`, below the host's region.
    fn field(&mut self, s: &mut InstructionSink<'_>, index: usize, default: Option<&RExpr>) {
        let ty = self.fields[index].ty;
        let (data, nulls) = self.columns[index];
        match default {
            Some(d) => self.expr(s, d),
            None => {
                match ty {
                    Type::Float => s.f64_const(0.0.into()),
                    Type::Int => s.i64_const(0),
                    Type::Bool => s.i32_const(0),
                };
            }
        }
        as_bits(s, ty);
        let shift = match ty {
            Type::Bool => 0,
            _ => 3,
        };
        s.local_get(data).local_get(self.row).i32_const(shift).i32_shl().i32_add();
        match ty {
            Type::Float => s.f64_load(mem(0, 3)),
            Type::Int => s.i64_load(mem(0, 3)),
            // Any non-zero byte is true.
            Type::Bool => s.i32_load8_u(mem(0, 0)).i32_const(0).i32_ne(),
        };
        as_bits(s, ty);
        // null = nulls != 0 && mask[row] != 0, as an i32 condition for `select`.
        s.local_get(nulls)
            .local_get(self.row)
            .i32_add()
            .i32_load8_u(mem(0, 0))
            .i32_const(0)
            .local_get(nulls)
            .select()
            .select();
        from_bits(s, ty);
    }

    fn binary(&mut self, s: &mut InstructionSink<'_>, op: ROp, a: &RExpr, b: &RExpr) {
        // Both operands share one type (the checker converted an int that met a float).
        let ty = a.ty;
        self.expr(s, a);
        if op == ROp::Rem {
            // x % 0 = 0: divide by 1 instead, which yields 0 and cannot trap. (MIN % -1 is
            // already 0 and does not trap for `rem_s`.)
            let t = self.local(ValType::I64);
            self.expr(s, b);
            s.local_set(t).i64_const(1).local_get(t).local_get(t).i64_eqz().select().i64_rem_s();
            return;
        }
        // Operands have no side effects and cannot trap, so eager `&&` and `||` are exact.
        self.expr(s, b);
        match (ty, op) {
            (Type::Int, ROp::Add) => s.i64_add(),
            (Type::Int, ROp::Sub) => s.i64_sub(),
            (Type::Int, ROp::Mul) => s.i64_mul(),
            (Type::Float, ROp::Add) => s.f64_add(),
            (Type::Float, ROp::Sub) => s.f64_sub(),
            (Type::Float, ROp::Mul) => s.f64_mul(),
            (_, ROp::Div) => s.f64_div(),
            (_, ROp::And) => s.i32_and(),
            (_, ROp::Or) => s.i32_or(),
            (Type::Float, ROp::Eq) => s.f64_eq(),
            (Type::Float, ROp::Ne) => s.f64_ne(),
            (Type::Float, ROp::Lt) => s.f64_lt(),
            (Type::Float, ROp::Le) => s.f64_le(),
            (Type::Float, ROp::Gt) => s.f64_gt(),
            (Type::Float, _) => s.f64_ge(),
            (Type::Int, ROp::Eq) => s.i64_eq(),
            (Type::Int, ROp::Ne) => s.i64_ne(),
            (Type::Int, ROp::Lt) => s.i64_lt_s(),
            (Type::Int, ROp::Le) => s.i64_le_s(),
            (Type::Int, ROp::Gt) => s.i64_gt_s(),
            (Type::Int, _) => s.i64_ge_s(),
            (Type::Bool, ROp::Ne) => s.i32_ne(),
            (Type::Bool, _) => s.i32_eq(),
        };
    }

    /// A builtin: its arguments and result are floats.
    fn call(&mut self, s: &mut InstructionSink<'_>, func: Builtin, args: &[RExpr]) {
        for a in args {
            self.expr(s, a);
        }
        match func {
            Builtin::Sqrt => s.f64_sqrt(),
            Builtin::Abs => s.f64_abs(),
            Builtin::Min => s.f64_min(),
            Builtin::Max => s.f64_max(),
            Builtin::Clamp => {
                // Stack: x lo hi -> min(max(x, lo), hi)
                let hi = self.local(ValType::F64);
                s.local_set(hi).f64_max().local_get(hi).f64_min()
            }
            Builtin::Floor => s.f64_floor(),
            Builtin::Ceil => s.f64_ceil(),
            Builtin::Log | Builtin::Log1p | Builtin::Exp | Builtin::Pow | Builtin::Sigmoid | Builtin::Tanh => &mut *s,
        };
        if let Some(h) = helper(func) {
            // Inlined: the per-event hot path then pays no call overhead. Helpers' own
            // inner calls (`exp` to `scalbn`, `tanh` to `expm1`) stay calls.
            let mut local = |ty| self.local(ty);
            math::emit_inline(s, h, &mut local, &helper_index);
        }
    }
}

/// The math helper a builtin calls; the others are single instructions.
fn helper(f: Builtin) -> Option<Helper> {
    match f {
        Builtin::Log => Some(Helper::Log),
        Builtin::Log1p => Some(Helper::Log1p),
        Builtin::Exp => Some(Helper::Exp),
        Builtin::Pow => Some(Helper::Pow),
        Builtin::Sigmoid => Some(Helper::Sigmoid),
        Builtin::Tanh => Some(Helper::Tanh),
        Builtin::Sqrt
        | Builtin::Abs
        | Builtin::Min
        | Builtin::Max
        | Builtin::Clamp
        | Builtin::Floor
        | Builtin::Ceil => None,
    }
}

/// Floats go through `select` as their bits: Cranelift lowers an integer `select` to a
/// conditional move, but a float one to a branch, which mispredicts on data-dependent
/// conditions such as `rating >= 4.0`.
fn as_bits(s: &mut InstructionSink<'_>, ty: Type) {
    if ty == Type::Float {
        s.i64_reinterpret_f64();
    }
}

/// Undoes [`as_bits`].
fn from_bits(s: &mut InstructionSink<'_>, ty: Type) {
    if ty == Type::Float {
        s.f64_reinterpret_i64();
    }
}

/// Whether `e` has at most `budget` nodes and calls no helper function.
fn cheap(e: &RExpr, budget: usize) -> bool {
    fn size(e: &RExpr, left: &mut usize) -> bool {
        if *left == 0 {
            return false;
        }
        *left -= 1;
        let kids: Vec<&RExpr> = match &e.kind {
            RExprKind::Float(_) | RExprKind::Int(_) | RExprKind::Bool(_) | RExprKind::Local(_) => vec![],
            RExprKind::Field { default, .. } => default.iter().map(|d| &**d).collect(),
            RExprKind::Let { value, body, .. } => vec![value, body],
            RExprKind::ToFloat(a) | RExprKind::Neg(a) | RExprKind::Not(a) => vec![a],
            RExprKind::Binary { left, right, .. } => vec![left, right],
            RExprKind::If { cond, then, otherwise } => vec![cond, then, otherwise],
            RExprKind::Call { f, args } => {
                if helper(*f).is_some() {
                    return false;
                }
                args.iter().collect()
            }
        };
        kids.into_iter().all(|k| size(k, left))
    }
    let mut left = budget;
    size(e, &mut left)
}
