//! `exp`, `expm1` and `scalbn`: ports of fdlibm's `e_exp.c`, `s_expm1.c` and musl's `scalbn.c`
//! (Sun Microsystems / musl, freely redistributable); `exp` and `expm1` err below 1 ulp
//! according to their authors, `scalbn` is exact.

use super::lang::{call, define, ret, var_f, var_i, when, when_else, Func, Ty, F, I};
use super::Helper;

const LN2_HI: f64 = f64::from_bits(0x3fe62e42_fee00000); // 0.6931471803691238
const LN2_LO: f64 = f64::from_bits(0x3dea39ef_35793c76); // 1.9082149292705877e-10
const INV_LN2: f64 = f64::from_bits(0x3ff71547_652b82fe); // 1.4426950408889634
const P1: f64 = f64::from_bits(0x3fc55555_5555553e); // 0.16666666666666602
const P2: f64 = f64::from_bits(0xbf66c16c_16bebd93); // -0.0027777777777015593
const P3: f64 = f64::from_bits(0x3f11566a_af25de2c); // 6.613756321437934e-05
const P4: f64 = f64::from_bits(0xbebbbd41_c5d26bf1); // -1.6533902205465252e-06
const P5: f64 = f64::from_bits(0x3e663769_72bea4d0); // 4.1381367970572385e-08
const Q1: f64 = f64::from_bits(0xbfa11111_111110f4); // -0.03333333333333313
const Q2: f64 = f64::from_bits(0x3f5a01a0_19fe5585); // 0.0015873015872548146
const Q3: f64 = f64::from_bits(0xbf14ce19_9eaadbb7); // -7.93650757867488e-05
const Q4: f64 = f64::from_bits(0x3ed0cfca_86e65239); // 4.008217827329362e-06
const Q5: f64 = f64::from_bits(0xbe8afdb7_6e09c32d); // -2.0109921818362437e-07
const X1P1023: f64 = f64::from_bits(0x7fe0_0000_0000_0000);
/// 2^-1022 * 2^53: one step down that keeps the value normal.
const X1P_969: f64 = f64::from_bits(0x0360_0000_0000_0000);

/// `x * 2^n` without intermediate overflow or double rounding.
pub(crate) fn scalbn() -> Func {
    define(&[Ty::F, Ty::I], |p| {
        let y = var_f(F(p[0]));
        let n = var_i(I(p[1]));
        when_else(
            n.gt(1023),
            || {
                y.set(y * X1P1023);
                n.set(n - 1023);
                when(n.gt(1023), || {
                    y.set(y * X1P1023);
                    n.set(n - 1023);
                    when(n.gt(1023), || n.set(1023));
                });
            },
            || {
                when(n.lt(-1022), || {
                    y.set(y * X1P_969);
                    n.set(n + 969);
                    when(n.lt(-1022), || {
                        y.set(y * X1P_969);
                        n.set(n + 969);
                        when(n.lt(-1022), || n.set(-1022));
                    });
                });
            },
        );
        y * ((0x3ff + n) << 52).reinterpret()
    })
}

/// `e^x`.
pub(crate) fn exp() -> Func {
    define(&[Ty::F], |p| {
        let x = F(p[0]);
        let hxs = x.bits().shr_u(32);
        let sign = hxs.shr_u(31);
        let hx = hxs & 0x7fff_ffff;
        when(hx.ge(0x4086_232b), || {
            // |x| >= 708.39: NaN, overflow, or deep underflow.
            when(x.is_nan(), || ret(x));
            when(x.gt(709.782712893384), || ret(x * X1P1023));
            when(x.lt(-745.1332191019411), || ret(0.0));
        });
        let k = var_i(0);
        let hi = var_f(x);
        let lo = var_f(0.0);
        let xr = var_f(x);
        when_else(
            hx.gt(0x3fd6_2e42),
            || {
                // |x| > 0.5 ln2: reduce to x = k ln2 + r.
                when_else(
                    hx.ge(0x3ff0_a2b2),
                    || k.set((INV_LN2 * x + (0.5 - sign.to_f())).trunc_i()),
                    || k.set(1 - sign - sign),
                );
                let kf = k.to_f();
                hi.set(x - kf * LN2_HI);
                lo.set(kf * LN2_LO);
                xr.set(hi - lo);
            },
            // |x| <= 2^-28: exp(x) rounds to 1 + x.
            || when(hx.le(0x3e30_0000), || ret(1.0 + x)),
        );
        let xx = xr * xr;
        let c = xr - xx * (P1 + xx * (P2 + xx * (P3 + xx * (P4 + xx * P5))));
        let y = 1.0 + (xr * c / (2.0 - c) - lo + hi);
        when(k.eq(0), || ret(y));
        call(Helper::Scalbn, &[y.0, k.0])
    })
}

/// `e^x - 1`, accurate near zero.
pub(crate) fn expm1() -> Func {
    define(&[Ty::F], |p| {
        let x = F(p[0]);
        let ui = x.bits();
        let hx = ui.shr_u(32) & 0x7fff_ffff;
        let sign = ui.shr_u(63);
        when(hx.ge(0x4043_687a), || {
            // |x| >= 56 ln2: NaN, -1, or overflow.
            when(x.is_nan(), || ret(x));
            when(sign.ne(0), || ret(-1.0));
            when(x.gt(709.782712893384), || ret(x * X1P1023));
        });
        let xr = var_f(x);
        let c = var_f(0.0);
        let k = var_i(0);
        when_else(
            hx.gt(0x3fd6_2e42),
            || {
                // |x| > 0.5 ln2
                let hi = var_f(0.0);
                let lo = var_f(0.0);
                when_else(
                    hx.lt(0x3ff0_a2b2),
                    || {
                        when_else(
                            sign.eq(0),
                            || {
                                hi.set(x - LN2_HI);
                                lo.set(LN2_LO);
                                k.set(1);
                            },
                            || {
                                hi.set(x + LN2_HI);
                                lo.set(-LN2_LO);
                                k.set(-1);
                            },
                        );
                    },
                    || {
                        k.set((INV_LN2 * x + (0.5 - sign.to_f())).trunc_i());
                        let t = k.to_f();
                        hi.set(x - t * LN2_HI);
                        lo.set(t * LN2_LO);
                    },
                );
                xr.set(hi - lo);
                c.set((hi - xr) - lo);
            },
            // |x| < 2^-54
            || when(hx.lt(0x3c90_0000), || ret(x)),
        );
        let hfx = 0.5 * xr;
        let hxs = xr * hfx;
        let r1 = 1.0 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
        let t = 3.0 - r1 * hfx;
        let e = hxs * ((r1 - t) / (6.0 - xr * t));
        when(k.eq(0), || ret(xr - (xr * e - hxs)));
        let e = xr * (e - c) - c - hxs;
        when(k.eq(-1), || ret(0.5 * (xr - e) - 0.5));
        when(k.eq(1), || {
            when(xr.lt(-0.25), || ret(-2.0 * (e - (xr + 0.5))));
            ret(1.0 + 2.0 * (xr - e));
        });
        let twopk = ((0x3ff + k) << 52).reinterpret();
        when(k.lt(0) | k.gt(56), || {
            let y = var_f(xr - e + 1.0);
            when_else(k.eq(1024), || y.set(y * 2.0 * X1P1023), || y.set(y * twopk));
            ret(y - 1.0);
        });
        let uf = ((0x3ff - k) << 52).reinterpret();
        let out = var_f(0.0);
        when_else(k.lt(20), || out.set((xr - e + (1.0 - uf)) * twopk), || out.set((xr - (e + uf) + 1.0) * twopk));
        out
    })
}
