//! Metric functions against hand-computed cases.

use tch::Tensor;
use trainer::metrics::{auc, logloss, ranking_from_scores};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn ranking_metrics_on_a_tiny_score_matrix() {
    // Two users, six items. Scores descending: user 0 ranks items 5,4,3,2,1,0; user 1 ranks 0..5.
    let scores = Tensor::from_slice(&[0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]).view([2, 6]);
    // User 0 has seen item 5 (excluded), so its list is 4,3,2,...; positives {3, 0}.
    // User 1 has seen nothing; positives {2}.
    let excluded = vec![vec![5], vec![]];
    let positives = vec![vec![0, 3], vec![2]];
    let (users, m) = ranking_from_scores(&scores, &excluded, &positives, &[1, 2, 3]).unwrap();
    assert_eq!(users, 2);
    let l2 = |r: f64| 1.0 / (r + 1.0).log2(); // discount of rank r (1-based)
                                              // User 0 top-3: [4, 3, 2] -> hit at rank 2. User 1 top-3: [0, 1, 2] -> hit at rank 3.
    assert!(close(m["hitrate@1"], 0.0));
    assert!(close(m["hitrate@2"], 0.5));
    assert!(close(m["hitrate@3"], 1.0));
    assert!(close(m["recall@2"], (0.5 + 0.0) / 2.0));
    assert!(close(m["recall@3"], (0.5 + 1.0) / 2.0));
    assert!(close(m["precision@3"], (1.0 / 3.0 + 1.0 / 3.0) / 2.0));
    assert!(close(m["mrr@3"], (0.5 + 1.0 / 3.0) / 2.0));
    assert!(close(m["mrr@1"], 0.0));
    // NDCG@3: user 0 dcg = 1/log2(3), idcg = 1 + 1/log2(3); user 1 dcg = 1/log2(4), idcg = 1.
    let u0 = l2(2.0) / (l2(1.0) + l2(2.0));
    let u1 = l2(3.0);
    assert!(close(m["ndcg@3"], (u0 + u1) / 2.0), "{} vs {}", m["ndcg@3"], (u0 + u1) / 2.0);
    // MAP@3: user 0 hits at rank 2 (precision 1/2) of min(2 positives, 3) = 2 -> 1/4; user 1 hits
    // at rank 3 (precision 1/3) of min(1, 3) = 1 -> 1/3. At 2 user 1 has no hit; at 1 neither has.
    assert!(close(m["map@3"], (0.25 + 1.0 / 3.0) / 2.0), "{}", m["map@3"]);
    assert!(close(m["map@2"], 0.125), "{}", m["map@2"]);
    assert!(close(m["map@1"], 0.0));
}

#[test]
fn map_averages_precision_at_each_hit() {
    // One user, five items ranked 4,3,2,1,0; positives {4, 2, 0} at ranks 1, 3 and 5.
    let scores = Tensor::from_slice(&[0.0f32, 1.0, 2.0, 3.0, 4.0]).view([1, 5]);
    let (_, m) = ranking_from_scores(&scores, &[vec![]], &[vec![0, 2, 4]], &[1, 3, 5]).unwrap();
    assert!(close(m["map@1"], 1.0));
    // Hits at 1 and 3: (1/1 + 2/3) over min(3 positives, 3).
    assert!(close(m["map@3"], (1.0 + 2.0 / 3.0) / 3.0), "{}", m["map@3"]);
    // Hits at 1, 3 and 5: (1 + 2/3 + 3/5) / 3.
    assert!(close(m["map@5"], (1.0 + 2.0 / 3.0 + 3.0 / 5.0) / 3.0), "{}", m["map@5"]);
}

#[test]
fn every_metric_the_language_accepts_is_computed_at_every_cutoff() {
    let scores = Tensor::from_slice(&[0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0]).view([1, 6]);
    let ks = [1, 5, 10, 20];
    let (_, m) = ranking_from_scores(&scores, &[vec![]], &[vec![1, 5]], &ks).unwrap();
    for metric in dsl::metrics::RankingMetric::ALL {
        for k in ks {
            let key = dsl::metrics::MetricAt::new(metric, k as u32).to_string();
            assert!(m.contains_key(&key), "{key} missing from {:?}", m.keys());
        }
    }
    assert_eq!(m.len(), dsl::metrics::RankingMetric::ALL.len() * ks.len());
}

#[test]
fn users_without_positives_do_not_count_and_perfect_rankings_score_one() {
    let scores = Tensor::from_slice(&[3.0f32, 2.0, 1.0, 9.0, 8.0, 7.0]).view([2, 3]);
    let (users, m) = ranking_from_scores(&scores, &[vec![], vec![]], &[vec![0, 1], vec![]], &[2]).unwrap();
    assert_eq!(users, 1);
    for name in ["recall@2", "ndcg@2", "hitrate@2", "mrr@2", "precision@2", "map@2"] {
        assert!(close(m[name], 1.0), "{name} = {}", m[name]);
    }
    // Excluding the best item promotes the rest; the excluded item can never be a hit.
    let (_, m) = ranking_from_scores(&scores, &[vec![0], vec![]], &[vec![0], vec![]], &[2]).unwrap();
    assert!(close(m["hitrate@2"], 0.0));
}

#[test]
fn auc_counts_ordered_pairs_and_ties_as_half() {
    // Positives 0.9, 0.4; negatives 0.5, 0.1: 3 of 4 pairs ordered.
    assert!(close(auc(&[0.9, 0.5, 0.4, 0.1], &[1.0, 0.0, 1.0, 0.0]).unwrap(), 0.75));
    assert!(close(auc(&[0.5, 0.5], &[1.0, 0.0]).unwrap(), 0.5));
    assert!(close(auc(&[1.0, 2.0, 3.0], &[0.0, 0.0, 1.0]).unwrap(), 1.0));
    assert_eq!(auc(&[1.0, 2.0], &[1.0, 1.0]), None);
}

#[test]
fn logloss_matches_the_formula() {
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    let expected = -((sig(2.0)).ln() + (1.0 - sig(-1.0)).ln() + (1.0 - sig(0.0)).ln()) / 3.0;
    assert!(close(logloss(&[2.0, -1.0, 0.0], &[1.0, 0.0, 0.0]), expected));
    // Stable for huge logits.
    assert!(logloss(&[1000.0], &[0.0]).is_finite());
    assert!(close(logloss(&[1000.0], &[1.0]), 0.0));
}
