//! Losses against hand-computed values.

use tch::{Kind, Tensor};
use trainer::loss::Loss;

fn v(t: Tensor) -> f64 {
    t.double_value(&[])
}

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn losses_match_their_formulas() {
    // Two rows: positive then two negatives.
    let scores = Tensor::from_slice(&[2.0f32, 1.0, -1.0, 0.0, 0.5, 0.0]).view([2, 3]);
    let labels = Tensor::from_slice(&[1.0f32, 1.0]);
    let bpr = -((sig(1.0).ln() + sig(3.0).ln()) / 2.0 + (sig(-0.5).ln() + sig(0.0).ln()) / 2.0) / 2.0;
    assert!((v(Loss::Bpr.compute(&scores, &labels, None, None).unwrap()) - bpr).abs() < 1e-6);

    let bce_row = |p: f64, n: &[f64]| (-(sig(p).ln()) - n.iter().map(|x| (1.0 - sig(*x)).ln()).sum::<f64>()) / 3.0;
    let bce = (bce_row(2.0, &[1.0, -1.0]) + bce_row(0.0, &[0.5, 0.0])) / 2.0;
    assert!((v(Loss::Bce.compute(&scores, &labels, None, None).unwrap()) - bce).abs() < 1e-6);

    let ce = |s: [f64; 3]| -(s[0] - s.iter().map(|x| x.exp()).sum::<f64>().ln());
    let softmax = (ce([2.0, 1.0, -1.0]) + ce([0.0, 0.5, 0.0])) / 2.0;
    assert!((v(Loss::SampledSoftmax.compute(&scores, &labels, None, None).unwrap()) - softmax).abs() < 1e-6);
    // logQ correction: subtracting a constant changes nothing; a per-item one does.
    let q = Tensor::full([2, 3], -3.0, (Kind::Float, tch::Device::Cpu));
    assert!((v(Loss::SampledSoftmax.compute(&scores, &labels, None, Some(&q)).unwrap()) - softmax).abs() < 1e-6);

    // Pointwise: MSE and BCE on labels, with weights.
    let s1 = Tensor::from_slice(&[3.0f32, 1.0]).view([2, 1]);
    let ratings = Tensor::from_slice(&[4.0f32, 1.0]);
    assert!((v(Loss::Mse.compute(&s1, &ratings, None, None).unwrap()) - 0.5).abs() < 1e-6);
    let w = Tensor::from_slice(&[3.0f32, 1.0]);
    assert!((v(Loss::Mse.compute(&s1, &ratings, Some(&w), None).unwrap()) - 0.75).abs() < 1e-6);
    let clicks = Tensor::from_slice(&[1.0f32, 0.0]);
    let bce1 = (-(sig(3.0).ln()) - (1.0 - sig(1.0)).ln()) / 2.0;
    assert!((v(Loss::Bce.compute(&s1, &clicks, None, None).unwrap()) - bce1).abs() < 1e-6);
}
