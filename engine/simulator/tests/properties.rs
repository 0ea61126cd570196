//! Invariants of the synthesis and of ranking, over generated inputs.

use proptest::prelude::*;
use simulator::synthesis::relative_delta;
use simulator::{MetricRow, MetricTable, ScoreTable, Units};

proptest! {
    /// The interval is centred on the estimate, and a higher level gives a wider one.
    #[test]
    fn intervals_are_centred_and_grow_with_the_level(
        c in prop::collection::vec(1.0f64..100.0, 2..40),
        t in prop::collection::vec(1.0f64..100.0, 2..40),
    ) {
        let (c, t) = (Units::means(c), Units::means(t));
        let d90 = relative_delta("m", &c, &t, 0.90).unwrap();
        let d99 = relative_delta("m", &c, &t, 0.99).unwrap();
        prop_assert!(((d90.high - d90.relative) - (d90.relative - d90.low)).abs() < 1e-9);
        prop_assert!(d99.low <= d90.low && d90.high <= d99.high);
        prop_assert!((d90.relative - (d90.treatment / d90.control - 1.0)).abs() < 1e-12);
    }

    /// Identical arms: a zero delta, with an interval around it.
    #[test]
    fn identical_arms_give_a_zero_delta(values in prop::collection::vec(0.5f64..10.0, 2..30)) {
        let u = Units::means(values);
        let d = relative_delta("m", &u, &u, 0.95).unwrap();
        prop_assert!(d.relative.abs() < 1e-12 && d.low <= 0.0 && d.high >= 0.0);
    }

    /// What is known by a day is still known a day later.
    #[test]
    fn knowledge_only_grows(days in prop::collection::vec((0u32..10, 0usize..3), 1..30), window in 0u32..4) {
        let metrics = ["watch_time", "return_rate", "clicks"];
        let mut rows: Vec<MetricRow> = days
            .iter()
            .map(|&(day, m)| MetricRow { arm: "control".into(), day, metric: metrics[m].into(), value: 1.0, n: None })
            .collect();
        rows.sort_by(|a, b| (a.day, &a.metric).cmp(&(b.day, &b.metric)));
        rows.dedup_by(|a, b| a.day == b.day && a.metric == b.metric);
        let table = MetricTable::new(rows).unwrap();
        for as_of in 0..12 {
            let now = table.observed(as_of, window);
            let later = table.observed(as_of + 1, window);
            prop_assert!(now.rows().iter().all(|r| later.rows().contains(r)));
        }
        prop_assert_eq!(table.observed(100, window).rows().len(), table.rows().len());
    }

    /// `top(n)` is the first n of the full order, which is sorted by score.
    #[test]
    fn top_is_a_prefix_of_the_full_ranking(scores in prop::collection::vec(-5i32..5, 1..60), n in 0usize..70) {
        let items = scores.len();
        let t = ScoreTable::new(1, items, scores.iter().map(|&s| s as f32).collect()).unwrap();
        let full = t.top(0, items);
        prop_assert_eq!(&t.top(0, n)[..], &full[..n.min(items)]);
        prop_assert!(full.windows(2).all(|w| t.row(0)[w[0] as usize] >= t.row(0)[w[1] as usize]));
    }
}
