//! Side features on the device: one row per user or item (by internal id), gathered for each
//! batch. A trained model keeps the ones it read, saved beside its weights, so a model loaded
//! elsewhere (the `evaluate` step, the online scorer) reads the same values it was trained on.

use std::collections::{BTreeMap, HashMap};

use tch::{Device, Kind, Tensor};

use crate::data::{FeatureColumn, Interactions};

/// Prefix of the saved tensors: `feature.user.age`, `feature.item.genre`.
const SAVED_PREFIX: &str = "feature";

/// Device copies of the side features, by model input name.
pub struct FeatureTensors {
    pub(crate) user: HashMap<String, Tensor>,
    pub(crate) item: HashMap<String, Tensor>,
}

impl FeatureTensors {
    /// Copies `data`'s side features to `device`.
    pub fn new(data: &Interactions, device: Device) -> FeatureTensors {
        let convert = |m: &BTreeMap<String, FeatureColumn>| {
            m.iter()
                .map(|(k, c)| {
                    let t = match c {
                        FeatureColumn::Categorical(codes) => Tensor::from_slice(codes),
                        FeatureColumn::Dense { width, values } => Tensor::from_slice(values).view([-1, *width as i64]),
                    };
                    (k.clone(), t.to_device(device))
                })
                .collect()
        };
        FeatureTensors { user: convert(&data.user_features), item: convert(&data.item_features) }
    }

    /// No side features.
    pub fn empty() -> FeatureTensors {
        FeatureTensors { user: HashMap::new(), item: HashMap::new() }
    }

    /// The same tensors, shared.
    pub fn share(&self) -> FeatureTensors {
        let share = |m: &HashMap<String, Tensor>| m.iter().map(|(k, t)| (k.clone(), t.shallow_clone())).collect();
        FeatureTensors { user: share(&self.user), item: share(&self.item) }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.user.is_empty() && self.item.is_empty()
    }

    /// Rows of a categorical feature's embedding table: its largest code + 1 (code 0 is "none").
    pub fn vocab(&self) -> BTreeMap<String, i64> {
        self.user
            .iter()
            .chain(&self.item)
            .filter(|(_, t)| t.kind() == Kind::Int64 && t.numel() > 0)
            .map(|(k, t)| (k.clone(), t.max().int64_value(&[]) + 1))
            .collect()
    }

    /// The tensors a checkpoint stores, named `feature.<owner>.<input>`, in a stable order.
    pub fn saved(&self) -> Vec<(String, Tensor)> {
        let mut out: Vec<(String, Tensor)> = [("user", &self.user), ("item", &self.item)]
            .into_iter()
            .flat_map(|(owner, m)| {
                m.iter().map(move |(k, t)| (format!("{SAVED_PREFIX}.{owner}.{k}"), t.shallow_clone()))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The features among a checkpoint's tensors (see [`FeatureTensors::saved`]), on `device`.
    pub fn from_saved<'a>(saved: impl IntoIterator<Item = (&'a String, &'a Tensor)>, device: Device) -> FeatureTensors {
        let mut out = FeatureTensors::empty();
        for (name, t) in saved {
            let mut parts = name.splitn(3, '.');
            let (Some(SAVED_PREFIX), Some(owner), Some(input)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            let map = match owner {
                "user" => &mut out.user,
                "item" => &mut out.item,
                _ => continue,
            };
            map.insert(input.to_string(), t.to_device(device));
        }
        out
    }
}
