//! `pow`: a port of fdlibm's `e_pow.c` (Sun Microsystems, freely redistributable): `x^y`
//! "nearly rounded" (below 1 ulp in practice), and exact for integer powers whose result is
//! representable. Words of the C original live sign- or zero-extended in `i64`s.

use super::lang::{call, define, fc, ic, ret, var_f, var_i, when, when_else, Func, Ty, F, I};
use super::Helper;

const DP_H1: f64 = f64::from_bits(0x3fe2b803_40000000); // 0.5849624872207642
const DP_L1: f64 = f64::from_bits(0x3e4cfdeb_43cfd006); // 1.350039202129749e-08
const TWO53: f64 = 9_007_199_254_740_992.0;
const HUGE: f64 = 1.0e300;
const TINY: f64 = 1.0e-300;
const L1: f64 = f64::from_bits(0x3fe33333_33333303); // 0.5999999999999946
const L2: f64 = f64::from_bits(0x3fdb6db6_db6fabff); // 0.4285714285785502
const L3: f64 = f64::from_bits(0x3fd55555_518f264d); // 0.33333332981837743
const L4: f64 = f64::from_bits(0x3fd17460_a91d4101); // 0.272728123808534
const L5: f64 = f64::from_bits(0x3fcd864a_93c9db65); // 0.23066074577556175
const L6: f64 = f64::from_bits(0x3fca7e28_4a454eef); // 0.20697501780033842
const P1: f64 = f64::from_bits(0x3fc55555_5555553e); // 0.16666666666666602
const P2: f64 = f64::from_bits(0xbf66c16c_16bebd93); // -0.0027777777777015593
const P3: f64 = f64::from_bits(0x3f11566a_af25de2c); // 6.613756321437934e-05
const P4: f64 = f64::from_bits(0xbebbbd41_c5d26bf1); // -1.6533902205465252e-06
const P5: f64 = f64::from_bits(0x3e663769_72bea4d0); // 4.1381367970572385e-08
const LG2: f64 = f64::from_bits(0x3fe62e42_fefa39ef); // 0.6931471805599453
const LG2_H: f64 = f64::from_bits(0x3fe62e43_00000000); // 0.6931471824645996
const LG2_L: f64 = f64::from_bits(0xbe205c61_0ca86c39); // -1.904654299957768e-09
const OVT: f64 = 8.008566259537294e-17; // -(1024-log2(ovfl+.5ulp))
const CP: f64 = f64::from_bits(0x3feec709_dc3a03fd); // 0.9617966939259756 = 2/(3 ln2)
const CP_H: f64 = f64::from_bits(0x3feec709_e0000000); // 0.9617967009544373
const CP_L: f64 = f64::from_bits(0xbe3e2fe0_145b01f5); // -7.028461650952758e-09
const IVLN2: f64 = f64::from_bits(0x3ff71547_652b82fe); // 1.4426950408889634
const IVLN2_H: f64 = f64::from_bits(0x3ff71547_60000000); // 1.4426950216293335
const IVLN2_L: f64 = f64::from_bits(0x3e54ae0b_f85ddf44); // 1.9259629911266175e-08

/// `x^y`.
pub(crate) fn pow() -> Func {
    define(&[Ty::F, Ty::F], |p| {
        let (x, y) = (F(p[0]), F(p[1]));
        let hx = x.bits().shr_s(32);
        let lx = x.bits() & 0xffff_ffff;
        let hy = y.bits().shr_s(32);
        let ly = y.bits() & 0xffff_ffff;
        let ix = hx & 0x7fff_ffff;
        let iy = hy & 0x7fff_ffff;

        // x^0 = 1 and 1^y = 1, even for NaN.
        when((iy | ly).eq(0), || ret(1.0));
        when(hx.eq(0x3ff0_0000) & lx.eq(0), || ret(1.0));
        let x_nan = ix.gt(0x7ff0_0000) | (ix.eq(0x7ff0_0000) & lx.ne(0));
        let y_nan = iy.gt(0x7ff0_0000) | (iy.eq(0x7ff0_0000) & ly.ne(0));
        when(x_nan | y_nan, || ret(x + y));

        // yisint: 0 = not an integer, 1 = odd integer, 2 = even integer (only needed for x < 0).
        let yisint = var_i(0);
        when(hx.lt(0), || {
            when_else(
                iy.ge(0x4340_0000),
                || yisint.set(2),
                || {
                    when(iy.ge(0x3ff0_0000), || {
                        let k = iy.shr_s(20) - 0x3ff;
                        when_else(
                            k.gt(20),
                            || {
                                let j = ly.shr_u(52 - k);
                                when((j << (52 - k)).eq(ly), || yisint.set(2 - (j & 1)));
                            },
                            || {
                                when(ly.eq(0), || {
                                    let j = iy.shr_s(20 - k);
                                    when((j << (20 - k)).eq(iy), || yisint.set(2 - (j & 1)));
                                });
                            },
                        );
                    });
                },
            );
        });

        // Special values of y.
        when(ly.eq(0), || {
            when(iy.eq(0x7ff0_0000), || {
                // y = +-inf
                when(((ix - 0x3ff0_0000) | lx).eq(0), || ret(1.0));
                when(ix.ge(0x3ff0_0000), || {
                    when_else(hy.ge(0), || ret(y), || ret(0.0));
                });
                when_else(hy.ge(0), || ret(0.0), || ret(-y));
            });
            when(iy.eq(0x3ff0_0000), || {
                when_else(hy.ge(0), || ret(x), || ret(1.0 / x));
            });
            when(hy.eq(0x4000_0000), || ret(x * x));
            when(hy.eq(0x3fe0_0000) & hx.ge(0), || ret(x.sqrt()));
        });

        // Special values of x: +-0, +-inf, +-1.
        let ax = x.abs();
        when(lx.eq(0) & (ix.eq(0x7ff0_0000) | ix.eq(0) | ix.eq(0x3ff0_0000)), || {
            let z = var_f(ax);
            when(hy.lt(0), || z.set(1.0 / z));
            when(hx.lt(0), || {
                when_else(((ix - 0x3ff0_0000) | yisint).eq(0), || z.set(f64::NAN), || when(yisint.eq(1), || z.set(-z)));
            });
            ret(z);
        });

        let s = var_f(1.0);
        when(hx.lt(0), || {
            when(yisint.eq(0), || ret(f64::NAN));
            when(yisint.eq(1), || s.set(-1.0));
        });

        let t1 = var_f(0.0);
        let t2 = var_f(0.0);
        when_else(iy.gt(0x41e0_0000), || huge_y(s, ix, iy, hy, ax, t1, t2), || log2_of(ax, ix, t1, t2));

        // (y1 + y2) * (t1 + t2) = p_h + p_l
        let y1 = y.low_cleared();
        let p_l = (y - y1) * t1 + y * t2;
        let p_h = var_f(y1 * t1);
        let z = p_l + p_h;
        let j = z.bits().shr_s(32);
        let i = z.bits().low_i32();
        when_else(
            j.ge(0x4090_0000),
            || {
                // z >= 1024
                when(((j - 0x4090_0000) | i).ne(0), || ret(s * HUGE * HUGE));
                when((p_l + OVT).gt(z - p_h), || ret(s * HUGE * HUGE));
            },
            || {
                when((j & 0x7fff_ffff).ge(0x4090_cc00), || {
                    // z <= -1075
                    let neg_1075 = i64::from(0xc090_cc00_u32 as i32);
                    when(((j - neg_1075) | i).ne(0), || ret(s * TINY * TINY));
                    when(p_l.le(z - p_h), || ret(s * TINY * TINY));
                });
            },
        );
        exp2_of(s, j, p_l, p_h)
    })
}

/// `|y| > 2^31`: the result over- or underflows unless `x` is within 2^-20 of 1, where a
/// short series for `log2(x)` suffices.
fn huge_y(s: F, ix: I, iy: I, hy: I, ax: F, t1: F, t2: F) {
    when(iy.gt(0x43f0_0000), || {
        when(ix.le(0x3fef_ffff), || {
            when_else(hy.lt(0), || ret(HUGE * HUGE), || ret(TINY * TINY));
        });
        when(ix.ge(0x3ff0_0000), || {
            when_else(hy.gt(0), || ret(HUGE * HUGE), || ret(TINY * TINY));
        });
    });
    when(ix.lt(0x3fef_ffff), || {
        when_else(hy.lt(0), || ret(s * HUGE * HUGE), || ret(s * TINY * TINY));
    });
    when(ix.gt(0x3ff0_0000), || {
        when_else(hy.gt(0), || ret(s * HUGE * HUGE), || ret(s * TINY * TINY));
    });
    let t = ax - 1.0;
    let w = (t * t) * (0.5 - t * (0.3333333333333333 - t * 0.25));
    let u = IVLN2_H * t;
    let v = t * IVLN2_L - w * IVLN2;
    t1.set((u + v).low_cleared());
    t2.set(v - (t1 - u));
}

/// `log2(ax) = t1 + t2` in extra precision, `t1` with its low word cleared.
fn log2_of(ax: F, ix: I, t1: F, t2: F) {
    let n = var_i(0);
    let axv = var_f(ax);
    let ixv = var_i(ix);
    when(ix.lt(0x0010_0000), || {
        // Subnormal: scale up.
        axv.set(ax * TWO53);
        n.set(-53);
        ixv.set(axv.bits().shr_s(32));
    });
    n.set(n + (ixv.shr_s(20) - 0x3ff));
    let j = ixv & 0x000f_ffff;
    ixv.set(j | 0x3ff0_0000);
    let k = var_i(0);
    // |x| < sqrt(3/2): k = 0; |x| < sqrt(3): k = 1; else halve it.
    when(j.gt(0x3988e), || {
        when_else(
            j.lt(0xbb67a),
            || k.set(1),
            || {
                n.set(n + 1);
                ixv.set(ixv - 0x0010_0000);
            },
        );
    });
    let ax = axv.with_high(ixv);
    let kf = k.to_f();
    // bp[k] = 1 or 1.5, dp_h[k] and dp_l[k] = 0 or a constant: exact as products with k.
    let bp = 1.0 + 0.5 * kf;
    let dp_h = kf * DP_H1;
    let dp_l = kf * DP_L1;

    // ss = s_h + s_l = (x - bp) / (x + bp)
    let u = ax - bp;
    let v = 1.0 / (ax + bp);
    let ss = u * v;
    let s_h = ss.low_cleared();
    let t_h = fc(0.0).with_high(((ixv.shr_s(1) | 0x2000_0000) + 0x0008_0000) + (k << 18));
    let t_l = ax - (t_h - bp);
    let s_l = v * ((u - s_h * t_h) - s_h * t_l);
    // log(ax)
    let s2 = ss * ss;
    let r = s2 * s2 * (L1 + s2 * (L2 + s2 * (L3 + s2 * (L4 + s2 * (L5 + s2 * L6)))));
    let r = r + s_l * (s_h + ss);
    let s2 = s_h * s_h;
    let t_h = (3.0 + s2 + r).low_cleared();
    let t_l = r - ((t_h - 3.0) - s2);
    let u = s_h * t_h;
    let v = s_l * t_h + t_l * ss;
    // 2/(3 log2) * (ss + ...)
    let p_h = (u + v).low_cleared();
    let p_l = v - (p_h - u);
    let z_h = CP_H * p_h;
    let z_l = CP_L * p_h + p_l * CP + dp_l;
    let t = n.to_f();
    t1.set((((z_h + z_l) + dp_h) + t).low_cleared());
    t2.set(z_l - (((t1 - t) - dp_h) - z_h));
}

/// `s * 2^(p_h + p_l)` where `j` is the high word of `p_h + p_l`.
fn exp2_of(s: F, j: I, p_l: F, p_h: F) -> F {
    let i = j & 0x7fff_ffff;
    let n = var_i(0);
    when(i.gt(0x3fe0_0000), || {
        // |z| > 0.5: n = [z + 0.5]
        let k = i.shr_s(20) - 0x3ff;
        let nn = j + ic_shr(0x0010_0000, k + 1);
        let k = (nn & 0x7fff_ffff).shr_s(20) - 0x3ff;
        let t = ((nn & (ic_shr(0x000f_ffff, k) ^ -1)) << 32).reinterpret();
        n.set(((nn & 0x000f_ffff) | 0x0010_0000).shr_s(20 - k));
        when(j.lt(0), || n.set(0 - n));
        p_h.set(p_h - t);
    });
    let t = (p_l + p_h).low_cleared();
    let u = t * LG2_H;
    let v = (p_l - (t - p_h)) * LG2 + t * LG2_L;
    let z = u + v;
    let w = v - (z - u);
    let t = z * z;
    let t1 = z - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    let r = (z * t1) / (t1 - 2.0) - (w + z * w);
    let z = 1.0 - (r - z);
    let j = z.bits().shr_s(32) + (n << 20);
    let out = var_f(0.0);
    when_else(j.shr_s(20).le(0), || out.set(call(Helper::Scalbn, &[z.0, n.0])), || out.set(z.with_high(j)));
    s * out
}

/// `c >> by` for a constant `c`.
fn ic_shr(c: i64, by: I) -> I {
    ic(c).shr_s(by)
}
