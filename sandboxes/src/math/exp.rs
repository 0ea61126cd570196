//! `exp`, `expm1` and `scalbn`: ports of fdlibm's `e_exp.c`, `s_expm1.c` and musl's `scalbn.c`
//! (Sun Microsystems / musl, freely redistributable); `exp` and `expm1` err below 1 ulp
//! according to their authors, `scalbn` is exact.

use super::lang::{call, define, ret, var_f, var_i, when, when_else, Func, Ty, F, I};
use super::Helper;

const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01; // 3fe62e42 fee00000
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10; // 3dea39ef 35793c76
const INV_LN2: f64 = 1.442_695_040_888_963_387; // 3ff71547 652b82fe
const P1: f64 = 1.666_666_666_666_660_190_37e-01; // 3FC55555 5555553E
const P2: f64 = -2.777_777_777_701_559_338_42e-03; // BF66C16C 16BEBD93
const P3: f64 = 6.613_756_321_437_934_361_17e-05; // 3F11566A AF25DE2C
const P4: f64 = -1.653_390_220_546_525_153_90e-06; // BEBBBD41 C5D26BF1
const P5: f64 = 4.138_136_797_057_238_460_39e-08; // 3E663769 72BEA4D0
const Q1: f64 = -3.333_333_333_333_313_164_28e-02; // BFA11111 111110F4
const Q2: f64 = 1.587_301_587_254_814_601_65e-03; // 3F5A01A0 19FE5585
const Q3: f64 = -7.936_507_578_674_879_424_73e-05; // BF14CE19 9EAADBB7
const Q4: f64 = 4.008_217_827_329_362_395_52e-06; // 3ED0CFCA 86E65239
const Q5: f64 = -2.010_992_181_836_243_713_26e-07; // BE8AFDB7 6E09C32D
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
        y * ((0x3ff + n) << 52).from_bits()
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
            when(x.gt(709.782_712_893_383_973_096), || ret(x * X1P1023));
            when(x.lt(-745.133_219_101_941_108_42), || ret(0.0));
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
            when(x.gt(7.097_827_128_933_839_730_96e2), || ret(x * X1P1023));
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
        let twopk = ((0x3ff + k) << 52).from_bits();
        when(k.lt(0) | k.gt(56), || {
            let y = var_f(xr - e + 1.0);
            when_else(
                k.eq(1024),
                || y.set(y * 2.0 * X1P1023),
                || y.set(y * twopk),
            );
            ret(y - 1.0);
        });
        let uf = ((0x3ff - k) << 52).from_bits();
        let out = var_f(0.0);
        when_else(
            k.lt(20),
            || out.set((xr - e + (1.0 - uf)) * twopk),
            || out.set((xr - (e + uf) + 1.0) * twopk),
        );
        out
    })
}
