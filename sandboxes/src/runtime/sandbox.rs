//! [`Sandbox`]: a loaded reward and its batch entry point.

use std::sync::Arc;

use wasmtime::Module;

use crate::abi;
use crate::columns::{Column, ColumnData, Columns};
use crate::error::SandboxError;
use crate::runtime::engine::Shared;
use crate::runtime::instance::{trap_error, Live};
use crate::runtime::layout::Layout;
use dsl::reward::RField as Field;

/// A compiled reward, ready to score events. Cheap to share across threads; every
/// [`Sandbox::run`] gets a fresh instance, so one failed run never affects the next.
#[derive(Clone)]
pub struct Sandbox {
    shared: Arc<Shared>,
    module: Module,
    name: String,
    fields: Vec<Field>,
    from_cache: bool,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("name", &self.name)
            .field("fields", &self.fields)
            .field("from_cache", &self.from_cache)
            .finish()
    }
}

impl Sandbox {
    pub(crate) fn new(shared: Arc<Shared>, module: Module, name: String, fields: Vec<Field>, from_cache: bool) -> Self {
        Sandbox { shared, module, name, fields, from_cache }
    }

    /// The reward's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The fields the reward reads, from its schema.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Whether the compiled code came from the module cache.
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }

    /// Scores every row of `columns` into `out` (cleared first), chunk by chunk, so the
    /// input is never copied whole. On error `out` holds the rows scored before it.
    pub fn run(&self, columns: &Columns<'_>, out: &mut Vec<f64>) -> Result<(), SandboxError> {
        out.clear();
        let (rows, bound) =
            columns.bind(&self.fields).map_err(|source| SandboxError::Columns { reward: self.name.clone(), source })?;
        if rows == 0 {
            return Ok(());
        }
        out.reserve(rows);
        let capacity = self.shared.limits.chunk_rows.clamp(1, rows);
        let layout = Layout::new(&self.fields, &bound, capacity);
        let mut live = Live::new(&self.shared, &self.module, &self.name)?;
        let base = live.alloc(layout.total)?;
        let desc = layout.descriptor(base);
        let base = base as usize;
        let mut start = 0;
        while start < rows {
            let n = capacity.min(rows - start);
            let memory = live.memory.data_mut(&mut live.store);
            let region = &mut memory[base..base + layout.total];
            region[..desc.len()].copy_from_slice(&desc);
            fill_chunk(region, &layout, &bound, start, n);
            live.refuel(n)?;
            let status = live.reward.call(&mut live.store, (base as i32, n as i32));
            let memory = live.memory.data(&live.store);
            let outputs =
                memory.get(base + layout.out..base + layout.out + 8 * n).ok_or_else(|| SandboxError::Alloc {
                    reward: self.name.clone(),
                    bytes: layout.total,
                    problem: "region no longer inside linear memory".into(),
                })?;
            match status {
                Ok(0) => out.extend(outputs.chunks_exact(8).map(read_f64)),
                Ok(code) => {
                    return Err(SandboxError::Failed { reward: self.name.clone(), code, first: start, end: start + n })
                }
                Err(e) => {
                    // Rows are scored in order: the first slot still holding the marker is
                    // the first event that did not finish.
                    let done =
                        outputs.chunks_exact(8).position(|c| read_f64(c).to_bits() == abi::UNWRITTEN).unwrap_or(n);
                    let done = done.min(n.saturating_sub(1));
                    out.extend(outputs.chunks_exact(8).take(done).map(read_f64));
                    return Err(trap_error(&self.name, &e, Some(start + done)));
                }
            }
            start += n;
        }
        Ok(())
    }
}

fn read_f64(c: &[u8]) -> f64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(c);
    f64::from_le_bytes(b)
}

/// Copies rows `start..start + n` of every bound column into the region, and marks every
/// output slot unwritten.
fn fill_chunk(region: &mut [u8], layout: &Layout, bound: &[&Column<'_>], start: usize, n: usize) {
    let marker = abi::UNWRITTEN.to_le_bytes();
    for slot in region[layout.out..layout.out + 8 * n].chunks_exact_mut(8) {
        slot.copy_from_slice(&marker);
    }
    for (col, (data, nulls)) in bound.iter().zip(&layout.columns) {
        let rows = start..start + n;
        let dst = &mut region[*data..];
        match col.data {
            ColumnData::Float(v) => {
                for (d, x) in dst.chunks_exact_mut(8).zip(&v[rows.clone()]) {
                    d.copy_from_slice(&x.to_le_bytes());
                }
            }
            ColumnData::Int(v) => {
                for (d, x) in dst.chunks_exact_mut(8).zip(&v[rows.clone()]) {
                    d.copy_from_slice(&x.to_le_bytes());
                }
            }
            ColumnData::Bool(v) => {
                for (d, x) in dst.iter_mut().zip(&v[rows.clone()]) {
                    *d = u8::from(*x);
                }
            }
        }
        if let (Some(at), Some(mask)) = (nulls, col.nulls) {
            for (d, x) in region[*at..].iter_mut().zip(&mask[rows]) {
                *d = u8::from(*x);
            }
        }
    }
}
