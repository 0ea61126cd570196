//! The simulator's constants, one place, with the values documented in the crate's README.
//! Serialisable so an environment file records exactly what a world ran with.

use serde::{Deserialize, Serialize};

/// Coefficients of the user response model. See README.md for the equations they enter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Params {
    /// Items per slate.
    pub slate_size: usize,
    /// Most slates in one session.
    pub max_slates: u32,
    /// Most sessions in one day.
    pub max_sessions: u32,
    /// Click logit: intercept `a0`.
    pub click_bias: f32,
    /// Click logit: weight `a_r` of relevance.
    pub click_relevance: f32,
    /// Click logit: weight `a_c` of clickbait.
    pub click_clickbait: f32,
    /// Click logit: penalty `a_p` per `ln(1 + position)`.
    pub click_position: f32,
    /// Median watch seconds `W0` of a clicked, neutral item.
    pub watch_base: f32,
    /// Log-watch weight `w_r` of relevance.
    pub watch_relevance: f32,
    /// Log-watch weight `w_c` of clickbait.
    pub watch_clickbait: f32,
    /// Log-watch noise `σ_w`.
    pub watch_noise: f32,
    /// Cap on one item's watch seconds.
    pub watch_cap: f32,
    /// Like logit: intercept.
    pub like_bias: f32,
    /// Like logit: weight of relevance.
    pub like_relevance: f32,
    /// Like logit: weight of quality.
    pub like_quality: f32,
    /// Like logit: weight of clickbait (negative: people like bait less than they click it).
    pub like_clickbait: f32,
    /// Share logit: intercept.
    pub share_bias: f32,
    /// Share logit: weight of relevance.
    pub share_relevance: f32,
    /// Share logit: weight of quality.
    pub share_quality: f32,
    /// Chance that a click is followed by a survey answer.
    pub survey_rate: f32,
    /// Survey: weight of quality.
    pub survey_quality: f32,
    /// Survey: weight of clickbait (centred), subtracted.
    pub survey_clickbait: f32,
    /// Survey: weight of relevance.
    pub survey_relevance: f32,
    /// Survey: noise.
    pub survey_noise: f32,
    /// Memory `γ` of net positive exposure per consumed item (RecSim LTS).
    pub memory: f32,
    /// Satisfaction cost `β` of clickbait per consumed item.
    pub clickbait_cost: f32,
    /// The clickbait level `c0` that costs nothing (the mean level), so an average diet is neutral.
    pub clickbait_neutral: f32,
    /// Sensitivity `τ` of satisfaction to net positive exposure.
    pub satisfaction_scale: f32,
    /// Factor `δ` by which net positive exposure fades per day away.
    pub daily_decay: f32,
    /// Continue-session logit: intercept `k0`.
    pub continue_bias: f32,
    /// Continue-session logit: weight `k_s` of `2S − 1`.
    pub continue_satisfaction: f32,
    /// Continue-session logit: weight `k_c` of clicks in the slate just seen.
    pub continue_clicks: f32,
    /// Chance of another session the same day, times satisfaction.
    pub another_session: f32,
    /// Daily return probability at satisfaction 0.
    pub return_min: f32,
    /// Daily return probability at satisfaction 1.
    pub return_max: f32,
    /// Spread `σ_a` of users' activity: the return logit of user `u` is shifted by `σ_a·a_u`,
    /// `a_u ~ N(0, 1)`, so heavy users come back most days and light users rarely, as on every
    /// real platform (and a user's past activity predicts their future activity).
    #[serde(default = "default_activity_spread")]
    pub activity_spread: f32,
    /// Chance of leaving for good after a visit, times `(1 − S)²` (KuaiSim's leave model).
    pub leave_max: f32,
    /// Step `η` of a user's interests towards a consumed item (RecSim interest evolution).
    pub interest_drift: f32,
    /// Share of the logging policy's slots filled uniformly at random rather than by popularity.
    pub explore: f32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            slate_size: 5,
            max_slates: 20,
            max_sessions: 3,
            click_bias: -1.5,
            click_relevance: 1.0,
            click_clickbait: 2.0,
            click_position: 0.3,
            watch_base: 60.0,
            watch_relevance: 0.3,
            watch_clickbait: 1.0,
            watch_noise: 0.5,
            watch_cap: 1800.0,
            like_bias: -2.0,
            like_relevance: 0.8,
            like_quality: 1.2,
            like_clickbait: -0.8,
            share_bias: -3.5,
            share_relevance: 0.8,
            share_quality: 1.0,
            survey_rate: 0.05,
            survey_quality: 1.2,
            survey_clickbait: 1.2,
            survey_relevance: 0.5,
            survey_noise: 0.5,
            memory: 0.9,
            clickbait_cost: 1.5,
            clickbait_neutral: 1.0 / 3.0,
            satisfaction_scale: 0.3,
            daily_decay: 0.9,
            continue_bias: 0.5,
            continue_satisfaction: 1.0,
            continue_clicks: 0.4,
            another_session: 0.3,
            return_min: 0.05,
            return_max: 0.9,
            activity_spread: default_activity_spread(),
            leave_max: 0.05,
            interest_drift: 0.02,
            explore: 0.3,
        }
    }
}

fn default_activity_spread() -> f32 {
    1.0
}
