//! One user's day: sessions of slates, the response to each impression, satisfaction updates,
//! and whether and when the user comes back. Shared by the logs and by experiments; only where
//! slates come from differs (a [`SlateSource`]).

use rand_chacha::ChaCha8Rng;

use crate::population::{return_probability, NEVER};
use crate::rng::{bernoulli, geometric, normal, sigmoid};
use crate::{Population, World};

/// Seconds of 2026-01-01T00:00:00Z: day 0 of every simulation.
pub const EPOCH: i64 = 1_767_225_600;

/// One shown item and what the user did with it: a row of the logs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Impression {
    /// User id.
    pub user: u32,
    /// Item id.
    pub item: u32,
    /// Unix seconds.
    pub time: i64,
    /// Day from 0.
    pub day: u32,
    /// Position in the slate, from 0.
    pub position: u32,
    /// Clicked.
    pub click: bool,
    /// Seconds watched (0 without a click).
    pub watch_seconds: f32,
    /// Liked.
    pub like: bool,
    /// Shared.
    pub share: bool,
    /// An answer 1–5 to "were you satisfied with this?", rarely given.
    pub survey: Option<f32>,
}

/// What a day's visit added up to.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct VisitTotals {
    pub sessions: u32,
    pub slates: u32,
    pub clicks: u32,
    pub likes: u32,
    pub shares: u32,
    pub watch: f32,
    pub survey_sum: f32,
    pub survey_n: u32,
    /// Satisfaction at the end of the visit.
    pub satisfaction: f32,
    /// Left for good after it.
    pub left: bool,
}

/// Where slates come from.
pub(crate) trait SlateSource {
    /// Fills `out` with the next slate for the user in `slot`.
    fn fill(&mut self, slot: usize, cursor: &mut u32, rng: &mut ChaCha8Rng, out: &mut Vec<u32>);
}

/// Simulates the visit of the user in `slot` on `day` and schedules the next one.
pub(crate) fn visit(
    world: &World,
    pop: &mut Population,
    slot: usize,
    day: u32,
    rng: &mut ChaCha8Rng,
    source: &mut impl SlateSource,
    sink: &mut impl FnMut(&Impression),
) -> VisitTotals {
    let p = world.params();
    let dim = world.dim();
    let user = pop.users[slot];
    if pop.last_visit[slot] != NEVER {
        let away = day.saturating_sub(pop.last_visit[slot]) as i32;
        pop.exposure[slot] *= p.daily_decay.powi(away);
    }
    let (quality, clickbait) = (world.quality(), world.clickbait());
    let mut totals = VisitTotals::default();
    let mut slate = Vec::with_capacity(p.slate_size);
    let midnight = EPOCH + i64::from(day) * 86_400;
    let mut time = midnight + 8 * 3600 + (rand::Rng::gen::<f64>(rng) * 12.0 * 3600.0) as i64;
    loop {
        for t in 0..p.max_slates {
            slate.clear();
            source.fill(slot, &mut pop.cursor[slot], rng, &mut slate);
            let mut clicks = 0;
            let mut slate_watch = 0.0;
            for (k, &item) in slate.iter().enumerate() {
                let i = item as usize;
                let interest = &mut pop.interest[slot * dim..(slot + 1) * dim];
                let emb = world.embedding(i);
                let r: f32 = interest.iter().zip(emb).map(|(a, b)| a * b).sum();
                let (q, c) = (quality[i], clickbait[i]);
                let logit = p.click_bias + p.click_relevance * r + p.click_clickbait * c
                    - p.click_position * (1.0 + k as f32).ln();
                let mut imp = Impression {
                    user,
                    item,
                    // A long evening stays on its day: `day` and `time` never disagree.
                    time: time.min(midnight + 86_399),
                    day,
                    position: k as u32,
                    click: bernoulli(rng, sigmoid(logit)),
                    watch_seconds: 0.0,
                    like: false,
                    share: false,
                    survey: None,
                };
                if imp.click {
                    let log_watch = p.watch_relevance * r + p.watch_clickbait * c + p.watch_noise * normal(rng);
                    imp.watch_seconds = (p.watch_base * log_watch.exp()).min(p.watch_cap);
                    imp.like = bernoulli(
                        rng,
                        sigmoid(p.like_bias + p.like_relevance * r + p.like_quality * q + p.like_clickbait * c),
                    );
                    imp.share = bernoulli(rng, sigmoid(p.share_bias + p.share_relevance * r + p.share_quality * q));
                    if bernoulli(rng, p.survey_rate) {
                        let answer = 3.0 + p.survey_quality * q - p.survey_clickbait * (c - p.clickbait_neutral)
                            + p.survey_relevance * r
                            + p.survey_noise * normal(rng);
                        imp.survey = Some(answer.round().clamp(1.0, 5.0));
                    }
                    // RecSim LTS: exposure is a smoothed sum of what consumption did to the user.
                    pop.exposure[slot] =
                        p.memory * pop.exposure[slot] + q - p.clickbait_cost * (c - p.clickbait_neutral);
                    // RecSim interest evolution: interests drift towards what was consumed.
                    for (a, b) in interest.iter_mut().zip(emb) {
                        *a += p.interest_drift * (b - *a);
                    }
                    clicks += 1;
                    slate_watch += imp.watch_seconds;
                    totals.clicks += 1;
                    totals.likes += u32::from(imp.like);
                    totals.shares += u32::from(imp.share);
                    totals.watch += imp.watch_seconds;
                    if let Some(s) = imp.survey {
                        totals.survey_sum += s;
                        totals.survey_n += 1;
                    }
                }
                sink(&imp);
            }
            totals.slates += 1;
            time += 20 + slate_watch as i64;
            let s = pop.satisfaction(world, slot);
            let go_on = p.continue_bias + p.continue_satisfaction * (2.0 * s - 1.0) + p.continue_clicks * clicks as f32;
            if t + 1 == p.max_slates || !bernoulli(rng, sigmoid(go_on)) {
                break;
            }
        }
        totals.sessions += 1;
        let s = pop.satisfaction(world, slot);
        if totals.sessions >= p.max_sessions || !bernoulli(rng, p.another_session * s) {
            break;
        }
        time += 3600;
    }
    let s = pop.satisfaction(world, slot);
    totals.satisfaction = s;
    pop.last_visit[slot] = day;
    // KuaiSim: unhappy users may leave for good; the rest come back after a gap set by satisfaction.
    if bernoulli(rng, p.leave_max * (1.0 - s) * (1.0 - s)) {
        totals.left = true;
        pop.next_visit[slot] = NEVER;
    } else {
        pop.next_visit[slot] = day + geometric(rng, return_probability(world, pop.users[slot] as usize, s));
    }
    totals
}
