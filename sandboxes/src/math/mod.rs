//! Math helpers that WebAssembly lacks (`log`, `exp`, `pow`, `tanh`, ...), written once in
//! [`lang`] and shared by the compiler (as wasm functions) and the interpreter (evaluated), so
//! that compiled rewards and the reference interpreter agree bit for bit.

mod emit;
mod eval;
mod exp;
mod lang;
mod log;
mod pow;
mod tanh;

use std::sync::OnceLock;

pub(crate) use emit::{emit, emit_inline};

/// A helper function; its discriminant is its position among the module's helpers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Helper {
    Log,
    Log1p,
    Exp,
    Expm1,
    Pow,
    Tanh,
    Sigmoid,
    Scalbn,
}

impl Helper {
    /// Every helper, in index order.
    pub(crate) const ALL: [Helper; 8] = [
        Helper::Log,
        Helper::Log1p,
        Helper::Exp,
        Helper::Expm1,
        Helper::Pow,
        Helper::Tanh,
        Helper::Sigmoid,
        Helper::Scalbn,
    ];

    /// The helper's name in the wasm name section.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Helper::Log => "log",
            Helper::Log1p => "log1p",
            Helper::Exp => "exp",
            Helper::Expm1 => "expm1",
            Helper::Pow => "pow",
            Helper::Tanh => "tanh",
            Helper::Sigmoid => "sigmoid",
            Helper::Scalbn => "scalbn",
        }
    }

    /// The helper's definition.
    pub(crate) fn func(self) -> &'static lang::Func {
        static FUNCS: OnceLock<Vec<lang::Func>> = OnceLock::new();
        let funcs = FUNCS.get_or_init(|| {
            Helper::ALL
                .iter()
                .map(|h| match h {
                    Helper::Log => log::log(),
                    Helper::Log1p => log::log1p(),
                    Helper::Exp => exp::exp(),
                    Helper::Expm1 => exp::expm1(),
                    Helper::Pow => pow::pow(),
                    Helper::Tanh => tanh::tanh(),
                    Helper::Sigmoid => tanh::sigmoid(),
                    Helper::Scalbn => exp::scalbn(),
                })
                .collect()
        });
        &funcs[self as usize]
    }

    /// Whether the helper takes `(f64, i64)` rather than only `f64`s.
    pub(crate) fn takes_int(self) -> bool {
        self == Helper::Scalbn
    }

    /// Number of parameters.
    pub(crate) fn arity(self) -> usize {
        match self {
            Helper::Pow | Helper::Scalbn => 2,
            _ => 1,
        }
    }
}

/// Natural logarithm, as compiled rewards compute it.
pub fn log(x: f64) -> f64 {
    eval::call1(Helper::Log, x)
}

/// `log(1 + x)`, as compiled rewards compute it.
pub fn log1p(x: f64) -> f64 {
    eval::call1(Helper::Log1p, x)
}

/// `e^x`, as compiled rewards compute it.
pub fn exp(x: f64) -> f64 {
    eval::call1(Helper::Exp, x)
}

/// `e^x - 1`, as compiled rewards compute it (used by `tanh`).
pub fn expm1(x: f64) -> f64 {
    eval::call1(Helper::Expm1, x)
}

/// `x^y`, as compiled rewards compute it.
pub fn pow(x: f64, y: f64) -> f64 {
    eval::call(Helper::Pow, &[x.to_bits(), y.to_bits()])
}

/// Hyperbolic tangent, as compiled rewards compute it.
pub fn tanh(x: f64) -> f64 {
    eval::call1(Helper::Tanh, x)
}

/// `1 / (1 + e^-x)`, as compiled rewards compute it.
pub fn sigmoid(x: f64) -> f64 {
    eval::call1(Helper::Sigmoid, x)
}

/// `min` with WebAssembly's `f64.min` semantics: NaN if either operand is NaN, `-0 < +0`.
pub fn fmin(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        // Equal but possibly +0 and -0: the one with the sign bit wins.
        f64::from_bits(a.to_bits() | b.to_bits())
    } else if a < b {
        a
    } else {
        b
    }
}

/// `max` with WebAssembly's `f64.max` semantics: NaN if either operand is NaN, `-0 < +0`.
pub fn fmax(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        f64::from_bits(a.to_bits() & b.to_bits())
    } else if a > b {
        a
    } else {
        b
    }
}
