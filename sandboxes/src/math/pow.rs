//! `pow`: a port of fdlibm's `e_pow.c` (Sun Microsystems, freely redistributable): `x^y`
//! "nearly rounded" (below 1 ulp in practice), and exact for integer powers whose result is
//! representable. Words of the C original live sign- or zero-extended in `i64`s.

use super::lang::{call, define, fc, ic, ret, var_f, var_i, when, when_else, Func, Ty, F, I};
use super::Helper;

const DP_H1: f64 = 5.849_624_872_207_641_601_56e-01; // 3FE2B803 40000000
const DP_L1: f64 = 1.350_039_202_129_748_971_28e-08; // 3E4CFDEB 43CFD006
const TWO53: f64 = 9_007_199_254_740_992.0;
const HUGE: f64 = 1.0e300;
const TINY: f64 = 1.0e-300;
const L1: f64 = 5.999_999_999_999_946_487_25e-01; // 3FE33333 33333303
const L2: f64 = 4.285_714_285_785_501_842_52e-01; // 3FDB6DB6 DB6FABFF
const L3: f64 = 3.333_333_298_183_774_329_18e-01; // 3FD55555 518F264D
const L4: f64 = 2.727_281_238_085_340_064_89e-01; // 3FD17460 A91D4101
const L5: f64 = 2.306_607_457_755_617_540_67e-01; // 3FCD864A 93C9DB65
const L6: f64 = 2.069_750_178_003_384_177_84e-01; // 3FCA7E28 4A454EEF
const P1: f64 = 1.666_666_666_666_660_190_37e-01; // 3FC55555 5555553E
const P2: f64 = -2.777_777_777_701_559_338_42e-03; // BF66C16C 16BEBD93
const P3: f64 = 6.613_756_321_437_934_361_17e-05; // 3F11566A AF25DE2C
const P4: f64 = -1.653_390_220_546_525_153_90e-06; // BEBBBD41 C5D26BF1
const P5: f64 = 4.138_136_797_057_238_460_39e-08; // 3E663769 72BEA4D0
const LG2: f64 = 6.931_471_805_599_452_862_27e-01; // 3FE62E42 FEFA39EF
const LG2_H: f64 = 6.931_471_824_645_996_093_75e-01; // 3FE62E43 00000000
const LG2_L: f64 = -1.904_654_299_957_768_045_25e-09; // BE205C61 0CA86C39
const OVT: f64 = 8.008_566_259_537_294_437_2e-17; // -(1024-log2(ovfl+.5ulp))
const CP: f64 = 9.617_966_939_259_755_543_29e-01; // 3FEEC709 DC3A03FD = 2/(3 ln2)
const CP_H: f64 = 9.617_967_009_544_372_558_59e-01; // 3FEEC709 E0000000
const CP_L: f64 = -7.028_461_650_952_758_265_16e-09; // BE3E2FE0 145B01F5
const IVLN2: f64 = 1.442_695_040_888_963_387_00; // 3FF71547 652B82FE
const IVLN2_H: f64 = 1.442_695_021_629_333_496_09; // 3FF71547 60000000
const IVLN2_L: f64 = 1.925_962_991_126_617_468_87e-08; // 3E54AE0B F85DDF44

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
        when(
            lx.eq(0) & (ix.eq(0x7ff0_0000) | ix.eq(0) | ix.eq(0x3ff0_0000)),
            || {
                let z = var_f(ax);
                when(hy.lt(0), || z.set(1.0 / z));
                when(hx.lt(0), || {
                    when_else(
                        ((ix - 0x3ff0_0000) | yisint).eq(0),
                        || z.set((z - z) / (z - z)),
                        || when(yisint.eq(1), || z.set(-z)),
                    );
                });
                ret(z);
            },
        );

        let s = var_f(1.0);
        when(hx.lt(0), || {
            when(yisint.eq(0), || ret((x - x) / (x - x)));
            when(yisint.eq(1), || s.set(-1.0));
        });

        let t1 = var_f(0.0);
        let t2 = var_f(0.0);
        when_else(
            iy.gt(0x41e0_0000),
            || huge_y(s, ix, iy, hy, ax, t1, t2),
            || log2_of(ax, ix, t1, t2),
        );

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
    let w = (t * t) * (0.5 - t * (0.333_333_333_333_333_333_333_3 - t * 0.25));
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
        let t = ((nn & (ic_shr(0x000f_ffff, k) ^ -1)) << 32).from_bits();
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
    when_else(
        j.shr_s(20).le(0),
        || out.set(call(Helper::Scalbn, &[z.0, n.0])),
        || out.set(z.with_high(j)),
    );
    s * out
}

/// `c >> by` for a constant `c`.
fn ic_shr(c: i64, by: I) -> I {
    ic(c).shr_s(by)
}
