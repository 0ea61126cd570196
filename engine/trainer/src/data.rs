//! Interactions in memory: raw ids remapped to `0..n`, the train/valid/test splits, per-user item
//! sets (to exclude seen items when ranking), side features, and seeded negative sampling.
//!
//! Everything here lives on the host (plain vectors) so one `Interactions` can be shared by
//! several trainings on several devices and threads; the trainer makes device tensors from it.

use std::collections::{BTreeMap, HashMap};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// The model input that receives user ids.
pub const USER: &str = dsl::builtins::TRAINING_INPUTS[0];
/// The model input that receives item ids.
pub const ITEM: &str = dsl::builtins::TRAINING_INPUTS[1];

/// One interaction as the engine feeds it, with raw (data) ids.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    /// The raw user id.
    pub user: i64,
    /// The raw item id.
    pub item: i64,
    /// The target: 1 for an implicit positive, a rating for explicit data, 0/1 for clicks.
    pub label: f32,
    /// The example's weight in the loss.
    pub weight: f32,
}

impl Row {
    /// An implicit positive (label 1, weight 1).
    pub fn implicit(user: i64, item: i64) -> Row {
        Row { user, item, label: 1.0, weight: 1.0 }
    }
}

/// Which split of the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// What the model trains on.
    Train,
    /// What early stopping and model selection look at.
    Valid,
    /// What is reported.
    Test,
}

impl Split {
    /// The split's name as written in reports.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test => "test",
        }
    }
}

/// Why interactions could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// There is nothing to train on.
    #[error("the training split is empty")]
    EmptyTrain,
    /// A feature has the wrong length or owner.
    #[error("feature `{name}`: {why}")]
    Feature {
        /// The feature's name.
        name: String,
        /// What is wrong with it.
        why: String,
    },
}

/// Raw ids ↔ dense internal ids `0..n`, in order of first appearance.
#[derive(Clone, Debug, Default)]
pub struct IdMap {
    raw: Vec<i64>,
    index: HashMap<i64, i64>,
}

impl IdMap {
    /// The internal id of `raw`, adding it if new.
    pub fn intern(&mut self, raw: i64) -> i64 {
        let next = self.raw.len() as i64;
        *self.index.entry(raw).or_insert_with(|| {
            self.raw.push(raw);
            next
        })
    }

    /// The internal id of `raw`, if known.
    pub fn get(&self, raw: i64) -> Option<i64> {
        self.index.get(&raw).copied()
    }

    /// The raw id of internal id `id`.
    pub fn raw(&self, id: i64) -> i64 {
        self.raw[id as usize]
    }

    /// How many ids.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether there are no ids.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

/// One split in internal ids, column by column.
#[derive(Clone, Debug, Default)]
pub struct Part {
    /// Internal user id of each row.
    pub users: Vec<i64>,
    /// Internal item id of each row.
    pub items: Vec<i64>,
    /// Target of each row.
    pub labels: Vec<f32>,
    /// Loss weight of each row.
    pub weights: Vec<f32>,
    /// Sorted, de-duplicated items of each user in this split (indexed by internal user id).
    pub by_user: Vec<Vec<i64>>,
}

impl Part {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether the split has no rows.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Users with at least one item in this split.
    pub fn users_with_items(&self) -> usize {
        self.by_user.iter().filter(|v| !v.is_empty()).count()
    }
}

/// A side feature: one row per user or per item (by internal id).
#[derive(Clone, Debug, PartialEq)]
pub enum FeatureColumn {
    /// Category codes `0..n`.
    Categorical(Vec<i64>),
    /// `width` floats per row, row-major.
    Dense {
        /// Floats per row.
        width: usize,
        /// The values, `rows * width` of them.
        values: Vec<f32>,
    },
}

/// Whose feature it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// One row per user.
    User,
    /// One row per item.
    Item,
}

/// All interactions of a run, with shared id maps over the three splits.
#[derive(Clone, Debug)]
pub struct Interactions {
    /// User id map (built over all splits, so every test user has an embedding row).
    pub users: IdMap,
    /// Item id map (built over all splits: items seen only in test are still ranked).
    pub items: IdMap,
    /// Training rows.
    pub train: Part,
    /// Validation rows.
    pub valid: Part,
    /// Test rows.
    pub test: Part,
    /// Side features per user, by model input name.
    pub user_features: BTreeMap<String, FeatureColumn>,
    /// Side features per item, by model input name.
    pub item_features: BTreeMap<String, FeatureColumn>,
}

impl Interactions {
    /// Builds the id maps and splits. Ids are numbered in order of appearance: train, valid, test.
    pub fn new(train: &[Row], valid: &[Row], test: &[Row]) -> Result<Interactions, DataError> {
        if train.is_empty() {
            return Err(DataError::EmptyTrain);
        }
        let (mut users, mut items) = (IdMap::default(), IdMap::default());
        let mut ids = |rows: &[Row]| -> Vec<(i64, i64)> {
            rows.iter().map(|r| (users.intern(r.user), items.intern(r.item))).collect()
        };
        let (tr, va, te) = (ids(train), ids(valid), ids(test));
        let nu = users.len();
        Ok(Interactions {
            train: part(train, &tr, nu),
            valid: part(valid, &va, nu),
            test: part(test, &te, nu),
            users,
            items,
            user_features: BTreeMap::new(),
            item_features: BTreeMap::new(),
        })
    }

    /// Number of distinct users.
    pub fn n_users(&self) -> usize {
        self.users.len()
    }

    /// Number of distinct items.
    pub fn n_items(&self) -> usize {
        self.items.len()
    }

    /// Embedding table sizes by id input name, for [`crate::model::Model::new`]: users, items,
    /// and each categorical side feature's largest code + 1 (code 0 is "none").
    pub fn vocab(&self) -> BTreeMap<String, i64> {
        let mut out =
            BTreeMap::from([(USER.to_string(), self.n_users() as i64), (ITEM.to_string(), self.n_items() as i64)]);
        for (name, column) in self.user_features.iter().chain(&self.item_features) {
            if let FeatureColumn::Categorical(codes) = column {
                out.insert(name.clone(), codes.iter().copied().max().unwrap_or(0) + 1);
            }
        }
        out
    }

    /// One split.
    pub fn part(&self, split: Split) -> &Part {
        match split {
            Split::Train => &self.train,
            Split::Valid => &self.valid,
            Split::Test => &self.test,
        }
    }

    /// Adds a side feature given by raw id; owners absent from `values` get zeros.
    pub fn add_feature(&mut self, owner: Owner, name: &str, values: &[(i64, FeatureValue)]) -> Result<(), DataError> {
        let (map, rows) = match owner {
            Owner::User => (&self.users, self.users.len()),
            Owner::Item => (&self.items, self.items.len()),
        };
        let err = |why: String| DataError::Feature { name: name.to_string(), why };
        let column = match values.first().map(|(_, v)| v) {
            None => return Err(err("no values".into())),
            Some(FeatureValue::Category(_)) => {
                let mut codes = vec![0i64; rows];
                for (raw, v) in values {
                    let FeatureValue::Category(c) = v else { return Err(err("mixes categories and vectors".into())) };
                    if let Some(id) = map.get(*raw) {
                        codes[id as usize] = *c;
                    }
                }
                FeatureColumn::Categorical(codes)
            }
            Some(FeatureValue::Vector(first)) => {
                let width = first.len();
                let mut out = vec![0f32; rows * width];
                for (raw, v) in values {
                    let FeatureValue::Vector(x) = v else { return Err(err("mixes categories and vectors".into())) };
                    if x.len() != width {
                        return Err(err(format!("rows have widths {width} and {}", x.len())));
                    }
                    if let Some(id) = map.get(*raw) {
                        out[id as usize * width..(id as usize + 1) * width].copy_from_slice(x);
                    }
                }
                FeatureColumn::Dense { width, values: out }
            }
        };
        match owner {
            Owner::User => self.user_features.insert(name.to_string(), column),
            Owner::Item => self.item_features.insert(name.to_string(), column),
        };
        Ok(())
    }

    /// Items to exclude when ranking for `split`: train items for valid; train and valid for test.
    pub fn excluded(&self, split: Split) -> Vec<Split> {
        match split {
            Split::Train => vec![],
            Split::Valid => vec![Split::Train],
            Split::Test => vec![Split::Train, Split::Valid],
        }
    }

    /// Training interactions per item (for popularity sampling and baselines).
    pub fn item_counts(&self) -> Vec<u64> {
        let mut counts = vec![0u64; self.n_items()];
        for &i in &self.train.items {
            counts[i as usize] += 1;
        }
        counts
    }
}

/// One value of a side feature.
#[derive(Clone, Debug, PartialEq)]
pub enum FeatureValue {
    /// A category code.
    Category(i64),
    /// A float vector.
    Vector(Vec<f32>),
}

fn part(rows: &[Row], ids: &[(i64, i64)], n_users: usize) -> Part {
    let mut by_user = vec![Vec::new(); n_users];
    for &(u, i) in ids {
        by_user[u as usize].push(i);
    }
    for items in &mut by_user {
        items.sort_unstable();
        items.dedup();
    }
    Part {
        users: ids.iter().map(|p| p.0).collect(),
        items: ids.iter().map(|p| p.1).collect(),
        labels: rows.iter().map(|r| r.label).collect(),
        weights: rows.iter().map(|r| r.weight).collect(),
        by_user,
    }
}

/// RecBole's `RS` split with `group_by: user`: each user's rows are shuffled and cut by `ratios`
/// (valid and test get `floor(ratio * n)` rows, one each when that rounds to zero and the user
/// has more than one row left for training); returns (train, valid, test).
pub fn split_by_user(rows: &[Row], ratios: [f64; 3], seed: u64) -> (Vec<Row>, Vec<Row>, Vec<Row>) {
    let mut groups: BTreeMap<i64, Vec<Row>> = BTreeMap::new();
    for r in rows {
        groups.entry(r.user).or_default().push(*r);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut train, mut valid, mut test) = (Vec::new(), Vec::new(), Vec::new());
    for (_, mut group) in groups {
        group.shuffle(&mut rng);
        let n = group.len();
        let [_, nv, nt] = split_counts(n, ratios);
        let nt0 = n - nv - nt;
        train.extend_from_slice(&group[..nt0]);
        valid.extend_from_slice(&group[nt0..nt0 + nv]);
        test.extend_from_slice(&group[nt0 + nv..]);
    }
    (train, valid, test)
}

/// A global random split (no grouping): every row goes to train/valid/test by `ratios`.
pub fn split_random(rows: &[Row], ratios: [f64; 3], seed: u64) -> (Vec<Row>, Vec<Row>, Vec<Row>) {
    let mut all = rows.to_vec();
    all.shuffle(&mut StdRng::seed_from_u64(seed));
    let [nt, nv, _] = split_counts(all.len(), ratios);
    let test = all.split_off(nt + nv);
    let valid = all.split_off(nt);
    (all, valid, test)
}

/// Row counts per split, as RecBole's `_calcu_split_ids` computes them.
fn split_counts(n: usize, ratios: [f64; 3]) -> [usize; 3] {
    let total: f64 = ratios.iter().sum();
    let r = ratios.map(|x| x / total);
    let mut cnt = [0usize, (r[1] * n as f64) as usize, (r[2] * n as f64) as usize];
    cnt[0] = n - cnt[1] - cnt[2];
    // Small groups: give each non-empty ratio at least one row while training keeps more than one.
    for i in [2usize, 1] {
        if cnt[0] <= 1 {
            break;
        }
        let want = r[i] * n as f64;
        if 0.0 < want && want < 1.0 {
            cnt[i] += 1;
            cnt[0] -= 1;
        }
    }
    cnt
}

/// How negatives are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SamplerKind {
    /// Every item equally likely.
    Uniform,
    /// Items in proportion to their training count (plus one, so unseen items stay possible).
    Popularity,
}

/// Draws negatives for training rows, rejecting the user's own training items.
#[derive(Clone, Debug)]
pub struct NegativeSampler {
    kind: SamplerKind,
    n_items: usize,
    /// Cumulative distribution over items (popularity only).
    cdf: Vec<f64>,
    /// log q(item): the sampling log-probability, for the sampled-softmax correction.
    log_q: Vec<f32>,
}

impl NegativeSampler {
    /// A sampler over the items of `data`.
    pub fn new(kind: SamplerKind, data: &Interactions) -> NegativeSampler {
        let n = data.n_items();
        match kind {
            SamplerKind::Uniform => {
                NegativeSampler { kind, n_items: n, cdf: Vec::new(), log_q: vec![-(n as f32).ln(); n] }
            }
            SamplerKind::Popularity => {
                let weights: Vec<f64> = data.item_counts().iter().map(|&c| c as f64 + 1.0).collect();
                let total: f64 = weights.iter().sum();
                let mut acc = 0.0;
                let cdf = weights
                    .iter()
                    .map(|w| {
                        acc += w / total;
                        acc
                    })
                    .collect();
                let log_q = weights.iter().map(|w| (w / total).ln() as f32).collect();
                NegativeSampler { kind, n_items: n, cdf, log_q }
            }
        }
    }

    /// Which distribution.
    pub fn kind(&self) -> SamplerKind {
        self.kind
    }

    /// log q(item) for every item.
    pub fn log_q(&self) -> &[f32] {
        &self.log_q
    }

    fn draw(&self, rng: &mut StdRng) -> i64 {
        match self.kind {
            SamplerKind::Uniform => rng.gen_range(0..self.n_items as i64),
            SamplerKind::Popularity => {
                let x: f64 = rng.gen();
                (self.cdf.partition_point(|&c| c < x) as i64).min(self.n_items as i64 - 1)
            }
        }
    }

    /// `per_row` negatives for each of `users` (row-major), none in the user's `seen` items.
    /// A user who has seen nearly everything may get a seen item after 100 rejected draws.
    pub fn sample(&self, users: &[i64], per_row: usize, seen: &[Vec<i64>], rng: &mut StdRng) -> Vec<i64> {
        let mut out = Vec::with_capacity(users.len() * per_row);
        for &u in users {
            let own = &seen[u as usize];
            for _ in 0..per_row {
                let mut item = self.draw(rng);
                for _ in 0..100 {
                    if own.binary_search(&item).is_err() {
                        break;
                    }
                    item = self.draw(rng);
                }
                out.push(item);
            }
        }
        out
    }
}

/// The RNG for epoch `epoch` of a run seeded `seed`: derived, so a resumed run draws the same
/// shuffles and negatives as an uninterrupted one.
pub fn epoch_rng(seed: u64, epoch: usize) -> StdRng {
    StdRng::seed_from_u64(seed ^ (epoch as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Reads a RecBole atomic `.inter` file (tab-separated, header `user_id:token item_id:token
/// rating:float ...`) as implicit rows, RecBole's protocol for ML-100K: every line is a positive
/// (label 1, weight 1) whatever its rating.
pub fn read_recbole_inter(path: &std::path::Path) -> std::io::Result<Vec<Row>> {
    let text = std::fs::read_to_string(path)?;
    let bad = |line: usize, what: &str| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}:{line}: {what}", path.display()))
    };
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines.next().map(|(_, h)| h.split('\t').collect()).unwrap_or_default();
    let col = |prefix: &str| header.iter().position(|h| h.starts_with(prefix));
    let (u, i) = (
        col("user_id:").ok_or_else(|| bad(1, "no user_id column"))?,
        col("item_id:").ok_or_else(|| bad(1, "no item_id column"))?,
    );
    let r = col("rating:");
    let mut rows = Vec::new();
    for (n, line) in lines {
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let get = |k: usize| f.get(k).ok_or_else(|| bad(n + 1, "short line"));
        let user = get(u)?.parse().map_err(|_| bad(n + 1, "user id is not an integer"))?;
        let item = get(i)?.parse().map_err(|_| bad(n + 1, "item id is not an integer"))?;
        if let Some(k) = r {
            get(k)?.parse::<f32>().map_err(|_| bad(n + 1, "rating is not a number"))?;
        }
        rows.push(Row { user, item, label: 1.0, weight: 1.0 });
    }
    Ok(rows)
}
