//! The same seed gives identical metrics and weights on CPU; another seed does not.

mod common;

use common::{clustered_split, quick_config, stdlib};
use tch::Device;
use trainer::metrics::{evaluate, Ranking};
use trainer::model::FeatureTensors;
use trainer::{train, Split};

#[test]
fn same_seed_same_metrics() {
    let data = clustered_split(80, 160, 4, 16, true, 2);
    let mut cfg = quick_config();
    cfg.epochs = 3;
    cfg.eval_every = 1;
    cfg.sampler = trainer::data::SamplerKind::Popularity;
    let run = |seed: u64| {
        let mut c = cfg.clone();
        c.seed = seed;
        // Dropout exercises torch's RNG too.
        let def = common::inline(
            "input user: id, item: id\n u = dropout(embed(user, 16), 0.2)\n s = dot(u, embed(item, 16))",
        );
        let t = train(&def, &data, &c, Device::Cpu).unwrap();
        let m =
            evaluate(&t.model, &data, &FeatureTensors::empty(), Split::Test, Ranking::Full, &[5, 10], "none").unwrap();
        let weights: Vec<Vec<f32>> =
            t.model.params().iter().map(|(_, p)| Vec::<f32>::try_from(&p.detach().reshape([-1])).unwrap()).collect();
        (m.values, t.report.state.history.iter().map(|e| e.loss).collect::<Vec<_>>(), weights)
    };
    let (a, b) = (run(1), run(1));
    assert_eq!(a.0, b.0, "metrics");
    assert_eq!(a.1, b.1, "loss history");
    assert_eq!(a.2, b.2, "weights");
    let c = run(2);
    assert_ne!(a.2, c.2, "another seed gives other weights");
    let _ = stdlib;
}
