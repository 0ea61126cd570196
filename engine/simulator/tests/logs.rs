//! The logged interactions: reproducible from the seed, shaped like `SIM_LOG_SCHEMA`, and a trap
//! for engagement: clickbait draws clicks and watch time.

use simulator::{collect_logs, Impression, World};

fn world() -> World {
    World::new(400, 120, 11).unwrap()
}

#[test]
fn the_same_seed_gives_the_same_logs() {
    let (a, b) = (collect_logs(&world(), 3, 5), collect_logs(&world(), 3, 5));
    assert!(a.len() > 1000, "only {} rows", a.len());
    assert_eq!(a, b);
}

#[test]
fn another_seed_gives_other_logs() {
    assert_ne!(collect_logs(&world(), 3, 5), collect_logs(&world(), 3, 6));
    // Another world seed changes the world, hence the logs, even with the same log seed.
    assert_ne!(collect_logs(&world(), 3, 5), collect_logs(&World::new(400, 120, 12).unwrap(), 3, 5));
}

#[test]
fn rows_are_well_formed() {
    let w = world();
    let rows = collect_logs(&w, 4, 1);
    let slate = w.params().slate_size as u32;
    for r in &rows {
        assert!((r.user as usize) < w.users() && (r.item as usize) < w.items());
        assert!(r.day < 4 && r.position < slate);
        assert_eq!(r.time.div_euclid(86_400) - simulator::EPOCH / 86_400, i64::from(r.day), "{r:?}");
        if !r.click {
            assert!(r.watch_seconds == 0.0 && !r.like && !r.share && r.survey.is_none(), "{r:?}");
        }
        if let Some(s) = r.survey {
            assert!((1.0..=5.0).contains(&s) && s.fract() == 0.0);
        }
    }
    // Rows come in (day, user) order, and each user's rows of a day in time order.
    assert!(rows.windows(2).all(|p| (p[0].day, p[0].user, p[0].time) <= (p[1].day, p[1].user, p[1].time)));
    // Surveys are sparse but present.
    let surveys = rows.iter().filter(|r| r.survey.is_some()).count();
    assert!(surveys > 0 && surveys * 50 < rows.len(), "{surveys} surveys in {} rows", rows.len());
    // Every day has visitors, and not every user visits every day.
    for day in 0..4 {
        let users: std::collections::HashSet<u32> = rows.iter().filter(|r| r.day == day).map(|r| r.user).collect();
        assert!(users.len() > 40 && users.len() < w.users(), "day {day}: {} users", users.len());
    }
}

/// Click-through rate and watch seconds per click of the items whose clickbait is above or below `cut`.
fn engagement(rows: &[Impression], w: &World, bait: bool, cut: f32) -> (f64, f64) {
    let pick: Vec<&Impression> = rows.iter().filter(|r| (w.clickbait()[r.item as usize] > cut) == bait).collect();
    let clicks = pick.iter().filter(|r| r.click).count() as f64;
    let watch: f64 = pick.iter().map(|r| f64::from(r.watch_seconds)).sum();
    (clicks / pick.len() as f64, watch / clicks)
}

#[test]
fn clickbait_draws_more_clicks_and_longer_watches() {
    let w = World::new(2000, 200, 3).unwrap();
    let rows = collect_logs(&w, 2, 3);
    let (bait_ctr, bait_watch) = engagement(&rows, &w, true, 0.5);
    let (honest_ctr, honest_watch) = engagement(&rows, &w, false, 0.5);
    assert!(bait_ctr > 1.3 * honest_ctr, "ctr {bait_ctr} vs {honest_ctr}");
    assert!(bait_watch > 1.2 * honest_watch, "watch {bait_watch} vs {honest_watch}");
}
