//! Side features in the trainer: a multi-hot item attribute lets a model rank items it never saw
//! in training (which ids alone cannot), and a model keeps its features in its checkpoint, so it
//! loads and scores the same without the data it was trained on.

mod common;

use common::{inline, quick_config, trained_and_saved};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use tch::{Device, Kind, Tensor};
use trainer::checkpoint::load_model;
use trainer::data::{FeatureValue, Owner, Row, Split};
use trainer::metrics::Ranking;
use trainer::model::FeatureTensors;
use trainer::{evaluate, train, Interactions};

const CLUSTERS: i64 = 4;
const WARM: i64 = 80;
const COLD: i64 = 40;

/// User u likes cluster u % 4, item i is of cluster i % 4. Training and validation see only the
/// first 80 items; each user's test rows are 3 items of its cluster among the 40 never trained on.
fn cold_start(seed: u64) -> Interactions {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut train, mut valid, mut test) = (Vec::new(), Vec::new(), Vec::new());
    for u in 0..60 {
        let mut warm: Vec<i64> = (0..WARM).filter(|i| i % CLUSTERS == u % CLUSTERS).collect();
        warm.shuffle(&mut rng);
        let mut cold: Vec<i64> = (WARM..WARM + COLD).filter(|i| i % CLUSTERS == u % CLUSTERS).collect();
        cold.shuffle(&mut rng);
        train.extend(warm[..12].iter().map(|&i| Row::implicit(u, i)));
        valid.extend(warm[12..14].iter().map(|&i| Row::implicit(u, i)));
        test.extend(cold[..3].iter().map(|&i| Row::implicit(u, i)));
    }
    let mut data = Interactions::new(&train, &valid, &test).unwrap();
    let genre: Vec<(i64, FeatureValue)> = (0..WARM + COLD)
        .map(|i| {
            let mut x = vec![0.0; CLUSTERS as usize];
            x[(i % CLUSTERS) as usize] = 1.0;
            (i, FeatureValue::Vector(x))
        })
        .collect();
    data.add_feature(Owner::Item, "genre", &genre).unwrap();
    let shelf: Vec<(i64, FeatureValue)> = (0..WARM + COLD).map(|i| (i, FeatureValue::Category(1 + i % 2))).collect();
    data.add_feature(Owner::Item, "shelf", &shelf).unwrap();
    data
}

const IDS_ONLY: &str = "  input user: id, item: id
  score = dot(embed(user, 16), embed(item, 16))";

const WITH_GENRE: &str = "  input user: id, item: id, genre: multi_hot(4), shelf: id
  i = embed(item, 16) + dense(genre, 16) + embed(shelf, 16)
  score = dot(embed(user, 16), i)";

fn test_ndcg(body: &str, data: &Interactions) -> f64 {
    let def = inline(body);
    let mut cfg = quick_config();
    cfg.epochs = 20;
    let trained = train(&def, data, &cfg, Device::Cpu).unwrap();
    let m = evaluate(&trained.model, data, trained.model.features(), Split::Test, Ranking::Full, &[10], "").unwrap();
    m.get("ndcg@10").unwrap()
}

#[test]
fn a_genre_ranks_items_never_trained_on() {
    for seed in [1, 2] {
        let data = cold_start(seed);
        let (ids, genre) = (test_ndcg(IDS_ONLY, &data), test_ndcg(WITH_GENRE, &data));
        // Ids alone know nothing of the cold items (their rows never trained): about chance, with
        // 3 relevant among the 40 cold and ~66 untouched warm items. The genre puts a user's
        // cluster first: measured 0.186 against 0.025 on seed 1.
        eprintln!("seed {seed}: with the genre {genre:.3}, ids only {ids:.3}");
        assert!(genre > 0.1 && genre > 3.0 * ids, "seed {seed}: with the genre {genre:.3}, ids only {ids:.3}");
    }
}

#[test]
fn a_saved_model_keeps_its_features_and_scores_the_same() {
    let data = cold_start(3);
    let def = inline(WITH_GENRE);
    let (trained, dir) = trained_and_saved(&def, &data, "features");
    // Loaded with the id counts only, as `evaluate` and the online scorer do: the features and
    // the `shelf` table's size come from the checkpoint.
    let ids = std::collections::BTreeMap::from([
        ("user".to_string(), data.n_users() as i64),
        ("item".to_string(), data.n_items() as i64),
    ]);
    let loaded = load_model(&dir, &def, &ids, Device::Cpu).unwrap();
    assert!(!loaded.features().is_empty());
    let users = Tensor::arange(data.n_users() as i64, (Kind::Int64, Device::Cpu));
    let items = Tensor::arange(data.n_items() as i64, (Kind::Int64, Device::Cpu));
    let (a, b) = tch::no_grad(|| {
        (
            trained.model.score_matrix(&users, &items, trained.model.features()).unwrap(),
            loaded.score_matrix(&users, &items, loaded.features()).unwrap(),
        )
    });
    assert!(a.allclose(&b, 1e-6, 1e-7, false), "scores differ after loading");
    // Without them the model cannot score at all: the features are needed, not decoration.
    let none = FeatureTensors::empty();
    assert!(tch::no_grad(|| loaded.score_matrix(&users, &items, &none)).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
