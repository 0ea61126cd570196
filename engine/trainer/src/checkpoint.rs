//! Checkpoints: a folder per saved epoch holding the weights and optimizer state as safetensors,
//! the model's `.evo` source, the run's state and config, and the latest metrics as JSON.
//!
//! ```text
//! DIR/epoch-0003/weights.safetensors    current weights
//!                best.safetensors       weights of the best validation epoch (early stopping)
//!                optimizer.safetensors  moments / accumulators and the step counter
//!                model.evo              the model block, canonical form
//!                state.json             epoch counter, best epoch, history, config
//!                metrics.json           latest validation metrics with their protocol
//! ```
//!
//! A folder is written under a temporary name and renamed, so `latest` never sees half of one.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use dsl::shape::ModelDef;
use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};

use crate::data::{Interactions, ITEM, USER};
use crate::features::FeatureTensors;
use crate::graph::{Graph, EDGE_TENSORS};
use crate::metrics::RankingMetrics;
use crate::model::Model;
use crate::train::{TrainConfig, TrainError, TrainState, Trained, Trainer};

/// How many epoch folders to keep (older ones are removed).
const KEEP: usize = 3;

/// `state.json`.
#[derive(Serialize, Deserialize)]
struct SavedState {
    state: TrainState,
    config: TrainConfig,
}

fn err(what: impl std::fmt::Display) -> TrainError {
    TrainError::Checkpoint(what.to_string())
}

/// Writes named tensors (moved to the CPU) as one safetensors file.
fn write_tensors(path: &Path, tensors: &[(String, Tensor)]) -> Result<(), TrainError> {
    let cpu: Vec<(String, Tensor)> =
        tensors.iter().map(|(n, t)| (n.clone(), t.detach().to_device(Device::Cpu).contiguous())).collect();
    Tensor::write_safetensors(&cpu, path).map_err(|e| err(format!("{}: {e}", path.display())))
}

/// Reads a safetensors file into a name → tensor map.
fn read_tensors(path: &Path) -> Result<BTreeMap<String, Tensor>, TrainError> {
    Ok(Tensor::read_safetensors(path).map_err(|e| err(format!("{}: {e}", path.display())))?.into_iter().collect())
}

/// Copies saved tensors into `params` by name; every parameter must be present with its shape.
fn load_into(params: &[(String, Tensor)], saved: &BTreeMap<String, Tensor>, file: &Path) -> Result<(), TrainError> {
    for (name, p) in params {
        let src = saved.get(name).ok_or_else(|| err(format!("{}: no tensor `{name}`", file.display())))?;
        if src.size() != p.size() {
            return Err(err(format!(
                "{}: `{name}` has shape {:?}, the model wants {:?}",
                file.display(),
                src.size(),
                p.size()
            )));
        }
        tch::no_grad(|| p.shallow_clone().copy_(src));
    }
    Ok(())
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), TrainError> {
    let text = serde_json::to_string_pretty(value).map_err(err)?;
    fs::write(path, text).map_err(|e| err(format!("{}: {e}", path.display())))
}

/// Saves the trainer's current epoch under `dir` and prunes old epochs; returns the new folder.
pub fn save(trainer: &Trainer, dir: &Path) -> Result<PathBuf, TrainError> {
    let name = format!("epoch-{:04}", trainer.state.epoch);
    let tmp = dir.join(format!(".{name}.tmp"));
    let dest = dir.join(&name);
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).map_err(|e| err(format!("{}: {e}", tmp.display())))?;
    write_tensors(&tmp.join("weights.safetensors"), &trainer.model.saved_tensors())?;
    if let Some(best) = &trainer.best_weights {
        let mut named: Vec<(String, Tensor)> =
            trainer.model.params().iter().zip(best).map(|((n, _), t)| (n.clone(), t.shallow_clone())).collect();
        named.extend(trainer.model.graph_edges());
        named.extend(trainer.model.features().saved());
        write_tensors(&tmp.join("best.safetensors"), &named)?;
    }
    write_tensors(&tmp.join("optimizer.safetensors"), &trainer.opt.state_tensors())?;
    fs::write(tmp.join("model.evo"), &trainer.model.def().source).map_err(err)?;
    write_json(&tmp.join("state.json"), &SavedState { state: trainer.state.clone(), config: trainer.cfg.clone() })?;
    write_json(&tmp.join("metrics.json"), &trainer.last_valid)?;
    let _ = fs::remove_dir_all(&dest);
    fs::rename(&tmp, &dest).map_err(|e| err(format!("{}: {e}", dest.display())))?;
    let all = epochs(dir)?;
    for (_, old) in all.iter().take(all.len().saturating_sub(KEEP)) {
        let _ = fs::remove_dir_all(old);
    }
    Ok(dest)
}

/// Epoch folders under `dir`, oldest first.
fn epochs(dir: &Path) -> Result<Vec<(usize, PathBuf)>, TrainError> {
    let Ok(entries) = fs::read_dir(dir) else { return Ok(Vec::new()) };
    let mut out: Vec<(usize, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix("epoch-").and_then(|n| n.parse().ok()).map(|n| (n, e.path()))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// The newest checkpoint folder under `dir`, if any.
pub fn latest(dir: &Path) -> Result<Option<PathBuf>, TrainError> {
    Ok(epochs(dir)?.pop().map(|(_, p)| p))
}

/// Continues the run saved under `dir`: rebuilds the trainer with `cfg` (which may extend the
/// epoch budget), loads the newest checkpoint's weights, optimizer state, best weights and
/// progress. The model's source must match the saved `model.evo`.
pub fn resume<'d>(
    dir: &Path,
    def: &ModelDef,
    data: &'d Interactions,
    cfg: TrainConfig,
    device: Device,
) -> Result<Trainer<'d>, TrainError> {
    let ckpt = latest(dir)?.ok_or_else(|| err(format!("no checkpoint under {}", dir.display())))?;
    let source = fs::read_to_string(ckpt.join("model.evo")).map_err(|e| err(format!("{}: {e}", ckpt.display())))?;
    if source != def.source {
        return Err(err(format!("{} holds a different model than `{}`", ckpt.display(), def.name)));
    }
    let saved: SavedState = serde_json::from_str(
        &fs::read_to_string(ckpt.join("state.json")).map_err(|e| err(format!("{}: {e}", ckpt.display())))?,
    )
    .map_err(err)?;
    let mut trainer = Trainer::new(def, data, cfg, device)?;
    let weights = ckpt.join("weights.safetensors");
    load_into(trainer.model.params(), &read_tensors(&weights)?, &weights)?;
    let opt_file = ckpt.join("optimizer.safetensors");
    let opt_state: Vec<(String, Tensor)> =
        read_tensors(&opt_file)?.into_iter().map(|(n, t)| (n, t.to_device(device))).collect();
    trainer.opt.load_state(&opt_state).map_err(|e| err(format!("{}: {e}", opt_file.display())))?;
    let best_file = ckpt.join("best.safetensors");
    if best_file.exists() {
        let best = read_tensors(&best_file)?;
        let mut copies = Vec::new();
        for (name, p) in trainer.model.params() {
            let t = best.get(name).ok_or_else(|| err(format!("{}: no tensor `{name}`", best_file.display())))?;
            copies.push(t.to_device(p.device()));
        }
        trainer.best_weights = Some(copies);
    }
    let metrics: Option<RankingMetrics> =
        fs::read_to_string(ckpt.join("metrics.json")).ok().and_then(|t| serde_json::from_str(&t).ok()).flatten();
    trainer.last_valid = metrics;
    trainer.state = saved.state;
    Ok(trainer)
}

/// Saves a finished model: its kept weights, source and report (`weights.safetensors`,
/// `model.evo`, `metrics.json`) in `dir`.
pub fn save_trained(trained: &Trained, dir: &Path) -> Result<(), TrainError> {
    fs::create_dir_all(dir).map_err(|e| err(format!("{}: {e}", dir.display())))?;
    write_tensors(&dir.join("weights.safetensors"), &trained.model.saved_tensors())?;
    fs::write(dir.join("model.evo"), &trained.model.def().source).map_err(err)?;
    write_json(&dir.join("metrics.json"), &trained.report)
}

/// Loads a model's weights from a folder written by [`save`] (best weights when present) or
/// [`save_trained`].
pub fn load_model(
    folder: &Path,
    def: &ModelDef,
    vocab: &BTreeMap<String, i64>,
    device: Device,
) -> Result<Model, TrainError> {
    let file = served_weights(folder);
    let saved = read_tensors(&file)?;
    let features = FeatureTensors::from_saved(&saved, device);
    let mut vocab = vocab.clone();
    for (name, rows) in features.vocab() {
        vocab.entry(name).or_insert(rows);
    }
    let mut model = Model::new(def, &vocab, device, 0)?;
    model.set_features(&features);
    load_into(model.params(), &saved, &file)?;
    if model.needs_graph() {
        let edge = |name: &str| {
            saved.get(name).ok_or_else(|| err(format!("{}: no tensor `{name}`: the model propagates over the training graph, and its edges were not saved", file.display())))
        };
        let (users, items) = (edge(EDGE_TENSORS[0])?, edge(EDGE_TENSORS[1])?);
        let (n_users, n_items) = (vocab.get(USER).copied().unwrap_or(0), vocab.get(ITEM).copied().unwrap_or(0));
        model.set_graph(
            Graph::new(users, items, n_users, n_items, device).map_err(|e| err(format!("{}: {e}", file.display())))?,
        );
    }
    Ok(model)
}

/// The weights file [`load_model`] reads from `folder`: the best epoch's when present.
pub fn served_weights(folder: &Path) -> std::path::PathBuf {
    let best = folder.join("best.safetensors");
    if best.exists() {
        best
    } else {
        folder.join("weights.safetensors")
    }
}
