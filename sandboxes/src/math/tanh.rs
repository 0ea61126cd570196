//! `tanh` (a port of musl's `tanh.c`, error up to 2 ulp per its authors) and `sigmoid`
//! (`1 / (1 + exp(-x))`, error within about 2 ulp).

use super::lang::{call, define, ret, var_f, when, when_else, Func, Ty, F};
use super::Helper;

/// Hyperbolic tangent.
pub(crate) fn tanh() -> Func {
    define(&[Ty::F], |p| {
        let x = F(p[0]);
        let ui = x.bits();
        let sign = ui.shr_u(63);
        let ua = ui & i64::MAX;
        let xa = ua.reinterpret();
        let w = ua.shr_u(32);
        let t = var_f(xa);
        let expm1 = |v: F| call(Helper::Expm1, &[v.0]);
        when_else(
            w.gt(0x3fe1_93ea),
            || {
                // |x| > log(3)/2 or NaN; past 20 the result rounds to 1 (NaN stays NaN).
                when_else(
                    w.gt(0x4034_0000),
                    || t.set(1.0 - 0.0 / xa),
                    || {
                        let e = expm1(2.0 * xa);
                        t.set(1.0 - 2.0 / (e + 2.0));
                    },
                );
            },
            || {
                when_else(
                    w.gt(0x3fd0_58ae),
                    || {
                        let e = expm1(2.0 * xa);
                        t.set(e / (e + 2.0));
                    },
                    || {
                        // Subnormal |x| keeps t = |x|.
                        when(w.ge(0x0010_0000), || {
                            let e = expm1(-2.0 * xa);
                            t.set(-e / (e + 2.0));
                        });
                    },
                );
            },
        );
        when(sign.ne(0), || ret(-t));
        t
    })
}

/// The logistic function.
pub(crate) fn sigmoid() -> Func {
    define(&[Ty::F], |p| {
        let x = F(p[0]);
        let e = call(Helper::Exp, &[(-x).0]);
        1.0 / (1.0 + e)
    })
}
