//! Rewards as tests write them: `.evo` source, checked by the dsl, as the sandbox receives them.

use dsl::reward::{RewardDef, RewardFn};

/// Declared data files "exist" (a dataset declaration only types the reward's fields here);
/// there is nothing to import.
struct Declared;

impl dsl::Loader for Declared {
    fn read(&self, path: &str) -> Result<String, String> {
        Err(format!("no file `{path}` in a test's reward"))
    }

    fn exists(&self, _: &str) -> bool {
        true
    }
}

/// The checked reward `name` declared in `src`; panics with the diagnostics when `src` does not
/// check.
pub fn reward_def(src: &str, name: &str) -> RewardDef {
    match dsl::check("main.evo", src, &Declared, &[]).result {
        Ok(program) => program.rewards.get(name).cloned().unwrap_or_else(|| panic!("no reward `{name}` in\n{src}")),
        Err(diags) => panic!("{src}\ndoes not check: {diags:#?}"),
    }
}

/// The reward function `name` declared in `src` (written in `.evo`, not an external module).
pub fn reward_fn(src: &str, name: &str) -> RewardFn {
    match reward_def(src, name) {
        RewardDef::Function { function, .. } => function,
        RewardDef::External { .. } => panic!("reward `{name}` is an external module"),
    }
}
