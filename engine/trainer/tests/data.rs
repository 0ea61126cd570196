//! Id remapping, RecBole-style splits and seeded negative sampling.

use trainer::data::{
    split_by_user, split_random, FeatureValue, Interactions, NegativeSampler, Owner, Row, SamplerKind,
};

fn rows() -> Vec<Row> {
    let mut out = Vec::new();
    for u in 0..20i64 {
        for k in 0..(10 + u) {
            out.push(Row::implicit(100 + u, 5000 + (u * 3 + k * 7) % 60));
        }
    }
    out
}

#[test]
fn per_user_split_follows_recbole_counts_and_covers_every_row() {
    let all = rows();
    let (tr, va, te) = split_by_user(&all, [0.8, 0.1, 0.1], 1);
    assert_eq!(tr.len() + va.len() + te.len(), all.len());
    for u in 0..20i64 {
        let n = (10 + u) as usize;
        let count = |v: &[Row]| v.iter().filter(|r| r.user == 100 + u).count();
        // floor(0.1 n) rows each to valid and test.
        assert_eq!(count(&va), n / 10, "user {u}");
        assert_eq!(count(&te), n / 10, "user {u}");
        assert_eq!(count(&tr), n - 2 * (n / 10));
    }
    // Same seed, same split; other seed, other split.
    assert_eq!(split_by_user(&all, [0.8, 0.1, 0.1], 1).1, va);
    assert_ne!(split_by_user(&all, [0.8, 0.1, 0.1], 2).1, va);
    // Small groups still give valid and test one row each while train keeps more than one.
    let few: Vec<Row> = (0..4).map(|i| Row::implicit(1, i)).collect();
    let (tr, va, te) = split_by_user(&few, [0.8, 0.1, 0.1], 0);
    assert_eq!((tr.len(), va.len(), te.len()), (2, 1, 1));
    let (tr, va, te) = split_random(&all, [0.8, 0.1, 0.1], 3);
    assert_eq!(tr.len() + va.len() + te.len(), all.len());
    assert_eq!(va.len(), all.len() / 10);
}

#[test]
fn ids_are_remapped_densely_and_shared_across_splits() {
    let train = vec![Row::implicit(42, 7), Row::implicit(-3, 7), Row::implicit(42, 900)];
    let test = vec![Row::implicit(-3, 123_456)];
    let data = Interactions::new(&train, &[], &test).unwrap();
    assert_eq!((data.n_users(), data.n_items()), (2, 3));
    assert_eq!(data.users.get(42), Some(0));
    assert_eq!(data.users.get(-3), Some(1));
    assert_eq!(data.items.raw(2), 123_456);
    assert_eq!(data.train.by_user[0], vec![0, 1]);
    assert_eq!(data.test.by_user[1], vec![2]);
    assert!(Interactions::new(&[], &[], &test).is_err());
}

#[test]
fn negatives_avoid_training_items_and_follow_the_chosen_distribution() {
    let all = rows();
    let data = Interactions::new(&all, &[], &[]).unwrap();
    let users: Vec<i64> = data.train.users.clone();
    for kind in [SamplerKind::Uniform, SamplerKind::Popularity] {
        let sampler = NegativeSampler::new(kind, &data);
        let mut rng = trainer::data::epoch_rng(9, 0);
        let negs = sampler.sample(&users, 3, &data.train.by_user, &mut rng);
        assert_eq!(negs.len(), users.len() * 3);
        for (k, &item) in negs.iter().enumerate() {
            let u = users[k / 3] as usize;
            assert!(data.train.by_user[u].binary_search(&item).is_err(), "{kind:?}: user {u} got its own item");
            assert!((0..data.n_items() as i64).contains(&item));
        }
        let again = sampler.sample(&users, 3, &data.train.by_user, &mut trainer::data::epoch_rng(9, 0));
        assert_eq!(negs, again, "{kind:?}: seeded");
        let q: f64 = sampler.log_q().iter().map(|&l| (l as f64).exp()).sum();
        assert!((q - 1.0).abs() < 1e-4, "{kind:?}: q sums to {q}");
    }
    // Popularity sampling draws the most popular item more often than the least popular.
    let counts = data.item_counts();
    let (hot, cold) = (
        (0..counts.len()).max_by_key(|&i| counts[i]).unwrap() as i64,
        (0..counts.len()).min_by_key(|&i| counts[i]).unwrap() as i64,
    );
    let pop = NegativeSampler::new(SamplerKind::Popularity, &data);
    let none = vec![vec![]; data.n_users()];
    let draws = pop.sample(&vec![0; 20_000], 1, &none, &mut trainer::data::epoch_rng(1, 1));
    let freq = |i: i64| draws.iter().filter(|&&d| d == i).count();
    assert!(freq(hot) > 2 * freq(cold), "hot {} cold {}", freq(hot), freq(cold));
}

#[test]
fn side_features_are_stored_by_internal_id() {
    let mut data = Interactions::new(&[Row::implicit(1, 10), Row::implicit(2, 20)], &[], &[]).unwrap();
    data.add_feature(Owner::Item, "genre", &[(20, FeatureValue::Category(3)), (999, FeatureValue::Category(1))])
        .unwrap();
    assert_eq!(data.item_features["genre"], trainer::data::FeatureColumn::Categorical(vec![0, 3]));
    let err = data.add_feature(
        Owner::User,
        "x",
        &[(1, FeatureValue::Vector(vec![1.0])), (2, FeatureValue::Vector(vec![1.0, 2.0]))],
    );
    assert!(err.is_err());
}
