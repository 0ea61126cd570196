//! Optimizers written on tensors: SGD (momentum, Nesterov), Adam, AdamW, Adagrad and RMSprop,
//! with PyTorch's update rules and defaults.
//!
//! Why not tch's `nn::Optimizer`: it has no Adagrad, and its state (moments) lives inside a C++
//! object that cannot be saved, so a resumed run would restart Adam's moments. Here every state
//! tensor is ours: checkpoints save it and resume is exact.

use serde::{Deserialize, Serialize};
use tch::Tensor;

/// Which update rule, with its hyper-parameters (PyTorch's defaults via [`OptimizerKind::default_for`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "name")]
pub enum OptimizerKind {
    /// Stochastic gradient descent with optional (Nesterov) momentum.
    Sgd {
        /// Momentum factor (0 = plain SGD).
        momentum: f64,
        /// Nesterov momentum.
        nesterov: bool,
    },
    /// Adam (L2 weight decay added to the gradient).
    Adam {
        /// First-moment decay.
        beta1: f64,
        /// Second-moment decay.
        beta2: f64,
        /// Denominator term.
        eps: f64,
    },
    /// AdamW (decoupled weight decay).
    AdamW {
        /// First-moment decay.
        beta1: f64,
        /// Second-moment decay.
        beta2: f64,
        /// Denominator term.
        eps: f64,
    },
    /// Adagrad.
    Adagrad {
        /// Denominator term.
        eps: f64,
        /// Starting value of the squared-gradient sum.
        initial_accumulator: f64,
    },
    /// RMSprop.
    RmsProp {
        /// Squared-gradient decay.
        alpha: f64,
        /// Denominator term.
        eps: f64,
        /// Momentum factor.
        momentum: f64,
        /// Subtract the squared mean gradient from the denominator.
        centered: bool,
    },
}

impl OptimizerKind {
    /// The optimizer called `name` (`sgd`, `adam`, `adamw`, `adagrad`, `rmsprop`) with PyTorch's
    /// defaults (SGD gets momentum 0.9, the common choice for recommenders).
    pub fn default_for(name: &str) -> Option<OptimizerKind> {
        Some(match name {
            "sgd" => OptimizerKind::Sgd { momentum: 0.9, nesterov: false },
            "adam" => OptimizerKind::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 },
            "adamw" => OptimizerKind::AdamW { beta1: 0.9, beta2: 0.999, eps: 1e-8 },
            "adagrad" => OptimizerKind::Adagrad { eps: 1e-10, initial_accumulator: 0.0 },
            "rmsprop" => OptimizerKind::RmsProp { alpha: 0.99, eps: 1e-8, momentum: 0.0, centered: false },
            _ => return None,
        })
    }

    /// How many state tensors each parameter needs.
    fn slots(&self) -> usize {
        match self {
            OptimizerKind::Sgd { momentum, .. } => usize::from(*momentum != 0.0),
            OptimizerKind::Adam { .. } | OptimizerKind::AdamW { .. } => 2,
            OptimizerKind::Adagrad { .. } => 1,
            OptimizerKind::RmsProp { momentum, centered, .. } => {
                1 + usize::from(*momentum != 0.0) + usize::from(*centered)
            }
        }
    }
}

/// An optimizer's full configuration.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    /// The update rule.
    pub kind: OptimizerKind,
    /// Base learning rate (schedules scale it).
    pub lr: f64,
    /// Weight decay: L2 added to the gradient, except AdamW where it is decoupled.
    pub weight_decay: f64,
}

/// Optimizer state over a fixed list of parameters.
pub struct Optimizer {
    config: OptimizerConfig,
    params: Vec<(String, Tensor)>,
    /// `slots` state tensors per parameter, created at the first step.
    state: Vec<Vec<Tensor>>,
    /// Updates applied so far (for bias correction).
    steps: i64,
}

impl Optimizer {
    /// An optimizer over `params` (name, tensor).
    pub fn new(config: OptimizerConfig, params: &[(String, Tensor)]) -> Optimizer {
        let params: Vec<(String, Tensor)> = params.iter().map(|(n, t)| (n.clone(), t.shallow_clone())).collect();
        let state = params
            .iter()
            .map(|(_, p)| {
                let init = match config.kind {
                    OptimizerKind::Adagrad { initial_accumulator, .. } => initial_accumulator,
                    _ => 0.0,
                };
                (0..config.kind.slots()).map(|_| p.zeros_like().detach().fill_(init)).collect()
            })
            .collect();
        Optimizer { config, params, state, steps: 0 }
    }

    /// The configuration.
    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// Updates applied so far.
    pub fn steps(&self) -> i64 {
        self.steps
    }

    /// Clears every parameter's gradient.
    pub fn zero_grad(&mut self) {
        for (_, p) in &self.params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.detach_().zero_();
            }
        }
    }

    /// Scales gradients so their global L2 norm is at most `max`; returns 1.0 where it clipped
    /// (0.0 where the norm was within `max`), a scalar on the device. Computed with no host sync
    /// (a sync per step would stall a GPU that is already launch-bound); callers sum and read
    /// it once in a while.
    pub fn clip_grad_norm(&mut self, max: f64) -> Option<Tensor> {
        tch::no_grad(|| {
            let grads: Vec<Tensor> = self.params.iter().map(|(_, p)| p.grad()).filter(Tensor::defined).collect();
            if grads.is_empty() {
                return None;
            }
            let norms: Vec<Tensor> = grads.iter().map(|g| g.norm()).collect();
            let total = Tensor::stack(&norms, 0).norm();
            let clipped = total.gt(max).to_kind(tch::Kind::Float);
            let coef = (total + 1e-6).reciprocal().g_mul_scalar(max).clamp_max(1.0);
            for mut g in grads {
                let _ = g.g_mul_(&coef);
            }
            Some(clipped)
        })
    }

    /// Applies one update with learning rate `lr` (the schedule's value for this step).
    pub fn step(&mut self, lr: f64) {
        self.steps += 1;
        let t = self.steps as f64;
        let wd = self.config.weight_decay;
        let kind = self.config.kind;
        tch::no_grad(|| {
            for ((_, p), state) in self.params.iter_mut().zip(self.state.iter_mut()) {
                let grad = p.grad();
                if !grad.defined() {
                    continue;
                }
                // L2 decay joins the gradient for every rule except AdamW.
                let g = if wd != 0.0 && !matches!(kind, OptimizerKind::AdamW { .. }) { &grad + &*p * wd } else { grad };
                match kind {
                    OptimizerKind::Sgd { momentum, nesterov } => {
                        let update = if momentum != 0.0 {
                            let buf = &mut state[0];
                            if self.steps == 1 {
                                buf.copy_(&g);
                            } else {
                                let _ = buf.g_mul_scalar_(momentum).g_add_(&g);
                            }
                            if nesterov {
                                &g + &*buf * momentum
                            } else {
                                buf.shallow_clone()
                            }
                        } else {
                            g
                        };
                        let _ = p.g_sub_(&(update * lr));
                    }
                    OptimizerKind::Adam { beta1, beta2, eps } | OptimizerKind::AdamW { beta1, beta2, eps } => {
                        if matches!(kind, OptimizerKind::AdamW { .. }) && wd != 0.0 {
                            let _ = p.g_mul_scalar_(1.0 - lr * wd);
                        }
                        let (m, rest) = state.split_at_mut(1);
                        let (m, v) = (&mut m[0], &mut rest[0]);
                        let _ = m.lerp_(&g, 1.0 - beta1);
                        let _ = v.g_mul_scalar_(beta2).addcmul_(&(&g * (1.0 - beta2)), &g);
                        let bc1 = 1.0 - beta1.powf(t);
                        let bc2 = 1.0 - beta2.powf(t);
                        let denom = v.sqrt().g_div_scalar_(bc2.sqrt()).g_add_scalar_(eps);
                        let _ = p.addcdiv_(&(&*m * (-lr / bc1)), &denom);
                    }
                    OptimizerKind::Adagrad { eps, .. } => {
                        let sum = &mut state[0];
                        let _ = sum.addcmul_(&g, &g);
                        let denom = sum.sqrt().g_add_scalar_(eps);
                        let _ = p.addcdiv_(&(&g * -lr), &denom);
                    }
                    OptimizerKind::RmsProp { alpha, eps, momentum, centered } => {
                        let _ = state[0].g_mul_scalar_(alpha).addcmul_(&(&g * (1.0 - alpha)), &g);
                        // Out of place: `avg` must not write into the squared-average state.
                        let avg = if centered {
                            let slot = state.len() - 1;
                            let _ = state[slot].lerp_(&g, 1.0 - alpha);
                            &state[0] - state[slot].square()
                        } else {
                            state[0].shallow_clone()
                        };
                        let denom = avg.sqrt().g_add_scalar_(eps);
                        if momentum != 0.0 {
                            let _ = state[1].g_mul_scalar_(momentum).addcdiv_(&g, &denom);
                            let _ = p.g_sub_(&(&state[1] * lr));
                        } else {
                            let _ = p.addcdiv_(&(&g * -lr), &denom);
                        }
                    }
                }
            }
        });
    }

    /// The state tensors, named `{param}.{slot}`, plus the step counter (for checkpoints).
    pub fn state_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![("steps".to_string(), Tensor::from_slice(&[self.steps]))];
        for ((name, _), slots) in self.params.iter().zip(&self.state) {
            for (k, s) in slots.iter().enumerate() {
                out.push((format!("{name}.{k}"), s.to_device(tch::Device::Cpu).contiguous()));
            }
        }
        out
    }

    /// Restores state saved by [`Optimizer::state_tensors`]; every slot must be present.
    pub fn load_state(&mut self, saved: &[(String, Tensor)]) -> Result<(), String> {
        let find = |name: &str| saved.iter().find(|(n, _)| n == name).map(|(_, t)| t);
        let steps = find("steps").ok_or("optimizer state has no `steps`")?;
        self.steps = steps.int64_value(&[0]);
        for ((name, _), slots) in self.params.iter().zip(self.state.iter_mut()) {
            for (k, s) in slots.iter_mut().enumerate() {
                let key = format!("{name}.{k}");
                let src = find(&key).ok_or_else(|| format!("optimizer state has no `{key}`"))?;
                if src.size() != s.size() {
                    return Err(format!("optimizer state `{key}` has shape {:?}, expected {:?}", src.size(), s.size()));
                }
                tch::no_grad(|| s.copy_(src));
            }
        }
        Ok(())
    }
}
