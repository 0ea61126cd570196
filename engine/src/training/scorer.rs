//! A trained candidate loaded back for serving: dense scores for raw user and item ids, what the
//! online loop feeds to the user simulator.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};
use trainer::data::{ITEM, USER};
use trainer::Model;

use super::candidate::{IdFile, IDS_FILE};
use super::TrainFailure;

/// Scores (user, item) pairs with a trained model, on the CPU.
///
/// Unknown ids (not in the training data's id maps) get a documented fallback rather than an
/// error, because a simulator may show items or users the logs never had: an unknown user is
/// scored as the *average known user* (the mean of every known user's scores for that item), and
/// an unknown item gets the lowest score of its row, so it ranks last but stays finite.
pub struct Scorer {
    model: Model,
    users: HashMap<i64, i64>,
    items: HashMap<i64, i64>,
    /// Mean score of each known item over all known users, computed on first need.
    average_user: std::sync::OnceLock<Vec<f32>>,
    dir: PathBuf,
}

impl Scorer {
    /// Loads the folder [`super::train_candidate`] (or `std::train::train`) wrote.
    pub fn load(checkpoint_dir: &Path) -> Result<Scorer, TrainFailure> {
        let read = |name: &str| {
            std::fs::read_to_string(checkpoint_dir.join(name))
                .map_err(|e| TrainFailure::BadData(format!("{}: {e}", checkpoint_dir.join(name).display())))
        };
        let source = read("model.evo")?;
        let checked = dsl::check("model.evo", &source, &crate::fs_loader::FsLoader, &[]);
        let program = checked.result.map_err(|d| {
            TrainFailure::ModelBuild(format!("{}/model.evo does not check: {:?}", checkpoint_dir.display(), d.first()))
        })?;
        let def = program.models.values().next().ok_or_else(|| {
            TrainFailure::ModelBuild(format!("{}/model.evo holds no model block", checkpoint_dir.display()))
        })?;
        let ids: IdFile = serde_json::from_str(&read(IDS_FILE)?)
            .map_err(|e| TrainFailure::BadData(format!("{}/{IDS_FILE}: {e}", checkpoint_dir.display())))?;
        let vocab = [(USER.to_string(), ids.users.len() as i64), (ITEM.to_string(), ids.items.len() as i64)].into();
        let model = trainer::checkpoint::load_model(checkpoint_dir, def, &vocab, Device::Cpu)?;
        let index = |raw: &[i64]| raw.iter().enumerate().map(|(k, &r)| (r, k as i64)).collect();
        Ok(Scorer {
            model,
            users: index(&ids.users),
            items: index(&ids.items),
            average_user: std::sync::OnceLock::new(),
            dir: checkpoint_dir.to_path_buf(),
        })
    }

    /// What [`Scorer::load`] would serve from `checkpoint_dir`, as a hash of the files it reads
    /// (the model block, the id maps, the weights): equal for two folders that rank alike.
    pub fn fingerprint(checkpoint_dir: &Path) -> std::io::Result<String> {
        let files = [
            checkpoint_dir.join("model.evo"),
            checkpoint_dir.join(IDS_FILE),
            trainer::checkpoint::served_weights(checkpoint_dir),
        ];
        let hashes = files.iter().map(|f| crate::store::hash_file(f)).collect::<std::io::Result<Vec<_>>>()?;
        Ok(hashes.join("-"))
    }

    /// The folder it was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Users and items the model knows.
    pub fn known(&self) -> (usize, usize) {
        (self.users.len(), self.items.len())
    }

    /// Scores of every `raw_users[u]` × `raw_items[i]`, dense and row-major
    /// (`out[u * raw_items.len() + i]`). See the type's docs for unknown ids.
    pub fn scores(&self, raw_users: &[i64], raw_items: &[i64]) -> Result<Vec<f32>, TrainFailure> {
        let ni = raw_items.len();
        let item_ids: Vec<Option<i64>> = raw_items.iter().map(|r| self.items.get(r).copied()).collect();
        let known_items: Vec<i64> = item_ids.iter().flatten().copied().collect();
        let known_users: Vec<i64> = raw_users.iter().filter_map(|r| self.users.get(r).copied()).collect();
        // Known users × known items in one matrix, then placed.
        let matrix = self.matrix(&known_users, &known_items)?;
        let average = if known_users.len() < raw_users.len() { Some(self.average_user()?) } else { None };
        let mut out = Vec::with_capacity(raw_users.len() * ni);
        let mut known_row = 0;
        for raw in raw_users {
            let row: Vec<f32> = match self.users.get(raw) {
                Some(_) => {
                    let r = &matrix[known_row * known_items.len()..(known_row + 1) * known_items.len()];
                    known_row += 1;
                    r.to_vec()
                }
                None => {
                    let avg = average.expect("computed when a user is unknown");
                    known_items.iter().map(|&i| avg[i as usize]).collect()
                }
            };
            let floor = row.iter().copied().fold(f32::INFINITY, f32::min);
            let floor = if floor.is_finite() { floor } else { 0.0 };
            let mut next = row.iter();
            for id in &item_ids {
                out.push(match id {
                    Some(_) => *next.next().expect("one score per known item"),
                    None => floor,
                });
            }
        }
        Ok(out)
    }

    fn matrix(&self, users: &[i64], items: &[i64]) -> Result<Vec<f32>, TrainFailure> {
        if users.is_empty() || items.is_empty() {
            return Ok(Vec::new());
        }
        let torch = |e: tch::TchError| TrainFailure::Internal(format!("libtorch: {e}"));
        let features = self.model.features();
        let t =
            tch::no_grad(|| self.model.score_matrix(&Tensor::from_slice(users), &Tensor::from_slice(items), features))
                .map_err(|e| TrainFailure::ModelBuild(e.to_string()))?;
        let flat =
            t.f_to_kind(Kind::Float).and_then(|t| t.f_contiguous()).and_then(|t| t.f_reshape([-1])).map_err(torch)?;
        Vec::<f32>::try_from(&flat).map_err(torch)
    }

    fn average_user(&self) -> Result<&Vec<f32>, TrainFailure> {
        if let Some(v) = self.average_user.get() {
            return Ok(v);
        }
        let (nu, ni) = (self.users.len(), self.items.len());
        let items: Vec<i64> = (0..ni as i64).collect();
        let mut sums = vec![0f64; ni];
        for chunk in (0..nu as i64).collect::<Vec<_>>().chunks(256) {
            let m = self.matrix(chunk, &items)?;
            for row in m.chunks(ni) {
                for (s, x) in sums.iter_mut().zip(row) {
                    *s += *x as f64;
                }
            }
        }
        let avg = sums.iter().map(|s| (s / nu.max(1) as f64) as f32).collect();
        Ok(self.average_user.get_or_init(|| avg))
    }
}
