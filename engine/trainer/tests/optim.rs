//! Optimizer updates against PyTorch's formulas on a hand-worked quadratic, and LR schedules.

use tch::{Device, Kind, Tensor};
use trainer::optim::{Optimizer, OptimizerConfig, OptimizerKind};
use trainer::schedule::Schedule;

/// Two steps on f(p) = sum(p²) (gradient 2p) from p = [1, -2]; returns p after each step.
fn run(kind: OptimizerKind, lr: f64, wd: f64) -> Vec<Vec<f64>> {
    let p = Tensor::from_slice(&[1.0f64, -2.0]).set_requires_grad(true);
    let mut opt = Optimizer::new(OptimizerConfig { kind, lr, weight_decay: wd }, &[("p".into(), p.shallow_clone())]);
    let mut out = Vec::new();
    for _ in 0..2 {
        opt.zero_grad();
        (&p * &p).sum(Kind::Double).backward();
        opt.step(lr);
        out.push(Vec::<f64>::try_from(&p.detach()).unwrap());
    }
    out
}

/// The same two steps computed by hand with PyTorch's update rules, coordinate by coordinate.
fn reference(kind: OptimizerKind, lr: f64, wd: f64) -> Vec<Vec<f64>> {
    let mut p = [1.0f64, -2.0];
    let mut s = [[0.0f64; 3]; 2];
    let mut out = Vec::new();
    for t in 1..=2 {
        for k in 0..2 {
            let mut g = 2.0 * p[k];
            match kind {
                OptimizerKind::Sgd { momentum, nesterov } => {
                    g += wd * p[k];
                    s[k][0] = if t == 1 { g } else { momentum * s[k][0] + g };
                    let d = if nesterov { g + momentum * s[k][0] } else { s[k][0] };
                    p[k] -= lr * d;
                }
                OptimizerKind::Adam { beta1, beta2, eps } | OptimizerKind::AdamW { beta1, beta2, eps } => {
                    if matches!(kind, OptimizerKind::AdamW { .. }) {
                        p[k] *= 1.0 - lr * wd;
                    } else {
                        g += wd * p[k];
                    }
                    s[k][0] = beta1 * s[k][0] + (1.0 - beta1) * g;
                    s[k][1] = beta2 * s[k][1] + (1.0 - beta2) * g * g;
                    let mh = s[k][0] / (1.0 - beta1.powi(t));
                    let denom = (s[k][1] / (1.0 - beta2.powi(t))).sqrt() + eps;
                    p[k] -= lr * mh / denom;
                }
                OptimizerKind::Adagrad { eps, initial_accumulator } => {
                    g += wd * p[k];
                    if t == 1 {
                        s[k][0] = initial_accumulator;
                    }
                    s[k][0] += g * g;
                    p[k] -= lr * g / (s[k][0].sqrt() + eps);
                }
                OptimizerKind::RmsProp { alpha, eps, momentum, centered } => {
                    g += wd * p[k];
                    s[k][0] = alpha * s[k][0] + (1.0 - alpha) * g * g;
                    let mut avg = s[k][0];
                    if centered {
                        s[k][2] = alpha * s[k][2] + (1.0 - alpha) * g;
                        avg -= s[k][2] * s[k][2];
                    }
                    let denom = avg.sqrt() + eps;
                    if momentum != 0.0 {
                        s[k][1] = momentum * s[k][1] + g / denom;
                        p[k] -= lr * s[k][1];
                    } else {
                        p[k] -= lr * g / denom;
                    }
                }
            }
        }
        out.push(p.to_vec());
    }
    out
}

#[test]
fn every_optimizer_matches_pytorchs_update_rule() {
    let kinds = [
        OptimizerKind::Sgd { momentum: 0.0, nesterov: false },
        OptimizerKind::Sgd { momentum: 0.9, nesterov: false },
        OptimizerKind::Sgd { momentum: 0.9, nesterov: true },
        OptimizerKind::default_for("adam").unwrap(),
        OptimizerKind::default_for("adamw").unwrap(),
        OptimizerKind::Adagrad { eps: 1e-10, initial_accumulator: 0.1 },
        OptimizerKind::default_for("rmsprop").unwrap(),
        OptimizerKind::RmsProp { alpha: 0.9, eps: 1e-8, momentum: 0.5, centered: true },
    ];
    for kind in kinds {
        for wd in [0.0, 0.1] {
            let (got, want) = (run(kind, 0.05, wd), reference(kind, 0.05, wd));
            for (g, w) in got.iter().flatten().zip(want.iter().flatten()) {
                assert!((g - w).abs() < 1e-9, "{kind:?} wd {wd}: {got:?} vs {want:?}");
            }
            // Each rule moves p towards the minimum at 0.
            assert!(got[1][0].abs() < 1.0 && got[1][1].abs() < 2.0, "{kind:?}: {got:?}");
        }
    }
}

#[test]
fn clipping_bounds_the_global_gradient_norm() {
    let a = Tensor::from_slice(&[3.0f32]).set_requires_grad(true);
    let b = Tensor::from_slice(&[4.0f32]).set_requires_grad(true);
    let kind = OptimizerKind::Sgd { momentum: 0.0, nesterov: false };
    let mut opt = Optimizer::new(
        OptimizerConfig { kind, lr: 1.0, weight_decay: 0.0 },
        &[("a".into(), a.shallow_clone()), ("b".into(), b.shallow_clone())],
    );
    opt.zero_grad();
    // Gradients (3, 4): norm 5, clipped to 1 -> (0.6, 0.8).
    (&a * 3.0 + &b * 4.0).sum(Kind::Float).backward();
    opt.clip_grad_norm(1.0);
    assert!((a.grad().double_value(&[0]) - 0.6).abs() < 1e-5);
    assert!((b.grad().double_value(&[0]) - 0.8).abs() < 1e-5);
    opt.step(1.0);
    assert!((a.double_value(&[0]) - 2.4).abs() < 1e-5);
    // A small gradient is left alone.
    opt.zero_grad();
    (&a * 0.1).sum(Kind::Float).backward();
    opt.clip_grad_norm(1.0);
    assert!((a.grad().double_value(&[0]) - 0.1).abs() < 1e-6);
    let _ = Device::Cpu;
}

#[test]
fn schedules_warm_up_linearly_and_decay_by_cosine() {
    let c = Schedule::Constant { warmup_steps: 4 };
    assert_eq!([0, 1, 3, 4, 100].map(|s| c.factor(s, 10)), [0.25, 0.5, 1.0, 1.0, 1.0]);
    let cos = Schedule::Cosine { warmup_steps: 0, min_factor: 0.1 };
    assert!((cos.factor(0, 100) - 1.0).abs() < 1e-12);
    assert!((cos.factor(50, 100) - 0.55).abs() < 1e-12);
    assert!((cos.factor(100, 100) - 0.1).abs() < 1e-12);
    let wc = Schedule::Cosine { warmup_steps: 10, min_factor: 0.0 };
    assert!((wc.factor(4, 110) - 0.5).abs() < 1e-12);
    assert!((wc.factor(60, 110) - 0.5).abs() < 1e-12);
}
