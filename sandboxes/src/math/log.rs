//! `log` and `log1p`: ports of fdlibm's `e_log.c` and `s_log1p.c` (Sun Microsystems, freely
//! redistributable), error below 1 ulp according to their authors.

use super::lang::{define, ret, var_f, var_i, when, when_else, Func, Ty, F, I};

const LN2_HI: f64 = f64::from_bits(0x3fe62e42_fee00000); // 0.6931471803691238
const LN2_LO: f64 = f64::from_bits(0x3dea39ef_35793c76); // 1.9082149292705877e-10
const LG1: f64 = f64::from_bits(0x3fe55555_55555593); // 0.6666666666666735
const LG2: f64 = f64::from_bits(0x3fd99999_9997fa04); // 0.3999999999940942
const LG3: f64 = f64::from_bits(0x3fd24924_94229359); // 0.2857142874366239
const LG4: f64 = f64::from_bits(0x3fcc71c5_1d8e78af); // 0.22222198432149784
const LG5: f64 = f64::from_bits(0x3fc74664_96cb03de); // 0.1818357216161805
const LG6: f64 = f64::from_bits(0x3fc39a09_d078c69f); // 0.15313837699209373
const LG7: f64 = f64::from_bits(0x3fc2f112_df3e5244); // 0.14798198605116586

/// Splits the reduced argument `1 + f` (in `[sqrt(2)/2, sqrt(2)]`) and returns the shared
/// polynomial pieces `(hfsq, s * (hfsq + R))`.
fn kernel(f: F) -> (F, F) {
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    (hfsq, s * (hfsq + r))
}

/// Rebuilds a double from the reduced high word `hx` (exponent of 1) and the low word of `lo`.
fn reduce(hx: I, lo: I) -> (I, F) {
    let hx = hx + (0x3ff0_0000 - 0x3fe6_a09e);
    let k = hx.shr_u(20) - 0x3ff;
    let hx = (hx & 0x000f_ffff) + 0x3fe6_a09e;
    let x = ((hx << 32) | (lo & 0xffff_ffff)).reinterpret();
    (k, x)
}

/// Natural logarithm.
pub(crate) fn log() -> Func {
    define(&[Ty::F], |p| {
        let x = F(p[0]);
        let ui = x.bits();
        let hx0 = ui.shr_u(32);
        let k = var_i(0);
        let hx = var_i(hx0);
        let lo = var_i(ui);
        when_else(
            hx0.lt(0x0010_0000) | hx0.shr_u(31).ne(0),
            || {
                // log(+-0) = -inf, log(<0) = NaN, else a subnormal: scale it up.
                when((ui << 1).eq(0), || ret(-1.0 / (x * x)));
                when(hx0.shr_u(31).ne(0), || ret(f64::NAN));
                k.set(-54);
                let scaled = (x * f64::from_bits(0x4350_0000_0000_0000)).bits();
                hx.set(scaled.shr_u(32));
                lo.set(scaled);
            },
            || {
                when(hx0.ge(0x7ff0_0000), || ret(x));
                when(hx0.eq(0x3ff0_0000) & (ui << 32).eq(0), || ret(0.0));
            },
        );
        let (dk, xr) = reduce(hx, lo);
        let dk = (k + dk).to_f();
        let f = xr - 1.0;
        let (hfsq, shr) = kernel(f);
        shr + dk * LN2_LO - hfsq + f + dk * LN2_HI
    })
}

/// `log(1 + x)`.
pub(crate) fn log1p() -> Func {
    define(&[Ty::F], |p| {
        let x = F(p[0]);
        let hx = x.bits().shr_u(32);
        let k = var_i(1);
        let c = var_f(0.0);
        let f = var_f(0.0);
        when_else(
            hx.lt(0x3fda_827a) | hx.shr_u(31).ne(0),
            || {
                // 1 + x < sqrt(2)
                when(hx.ge(0xbff0_0000), || {
                    when(x.eq(-1.0), || ret(x / 0.0));
                    ret(f64::NAN);
                });
                // |x| < 2^-53
                when(((hx << 1) & 0xffff_ffff).lt(0x3ca0_0000 << 1), || ret(x));
                when(hx.le(0xbfd2_bec4), || {
                    k.set(0);
                    f.set(x);
                });
            },
            || when(hx.ge(0x7ff0_0000), || ret(x)),
        );
        when(k.ne(0), || {
            let u = 1.0 + x;
            let ui = u.bits();
            let (kk, ur) = reduce(ui.shr_u(32), ui);
            k.set(kk);
            // Correction term ~ log(1+x) - log(u), dropped where c/u would underflow.
            when_else(
                kk.lt(54),
                || {
                    let cc = var_f(0.0);
                    when_else(kk.ge(2), || cc.set(1.0 - (u - x)), || cc.set(x - (u - 1.0)));
                    c.set(cc / u);
                },
                || c.set(0.0),
            );
            f.set(ur - 1.0);
        });
        let (hfsq, shr) = kernel(f);
        let dk = k.to_f();
        shr + (dk * LN2_LO + c) - hfsq + f + dk * LN2_HI
    })
}
