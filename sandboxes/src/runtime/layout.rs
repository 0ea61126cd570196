//! Where a chunk's descriptor, outputs and columns sit inside the region `evo_alloc` gave us.

use crate::abi;
use crate::columns::Column;
use dsl::reward::RField as Field;

/// Offsets relative to the region's base, sized for chunks of a fixed row capacity.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub out: usize,
    /// `(data, nulls)` per field; `nulls` is `None` for columns without a null mask.
    pub columns: Vec<(usize, Option<usize>)>,
    pub total: usize,
}

fn align8(n: usize) -> usize {
    n.next_multiple_of(8)
}

impl Layout {
    /// Lays out `fields` (bound to `columns`) for `capacity` rows.
    pub fn new(fields: &[Field], columns: &[&Column<'_>], capacity: usize) -> Layout {
        let mut at = align8(abi::descriptor_len(fields.len()));
        let out = at;
        at += 8 * capacity;
        let mut cols = Vec::with_capacity(fields.len());
        for (field, col) in fields.iter().zip(columns) {
            let data = at;
            at = align8(at + abi::width(field.ty) * capacity);
            let nulls = col.nulls.map(|_| {
                let n = at;
                at = align8(at + capacity);
                n
            });
            cols.push((data, nulls));
        }
        Layout { out, columns: cols, total: at }
    }

    /// The descriptor bytes for a region at `base`: little-endian `u32` pointers.
    pub fn descriptor(&self, base: u32) -> Vec<u8> {
        let ptr = |off: usize| base.wrapping_add(off as u32).to_le_bytes();
        let mut d = Vec::with_capacity(abi::descriptor_len(self.columns.len()));
        d.extend_from_slice(&ptr(self.out));
        for (data, nulls) in &self.columns {
            d.extend_from_slice(&ptr(*data));
            match nulls {
                Some(n) => d.extend_from_slice(&ptr(*n)),
                None => d.extend_from_slice(&0u32.to_le_bytes()),
            }
        }
        d
    }
}
