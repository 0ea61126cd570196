//! The reward ABI shared by compiled and external rewards (see `grammar/README.md`, "ABI for
//! external rewards"): names, signatures and the batch descriptor layout.

use dsl::reward::{RField as Field, RType as Type};

/// ABI version this crate speaks; a module must return it from [`ABI_VERSION_EXPORT`].
pub const ABI_VERSION: i32 = 1;
/// `() -> i32`: returns [`ABI_VERSION`].
pub const ABI_VERSION_EXPORT: &str = "evo_abi_version";
/// The module's linear memory.
pub const MEMORY_EXPORT: &str = "memory";
/// `() -> i32`: address of a NUL-terminated schema string such as `rating:float,n:int`.
pub const SCHEMA_EXPORT: &str = "evo_schema";
/// `(bytes: i32) -> i32`: an 8-aligned region the module will not otherwise touch, or 0.
pub const ALLOC_EXPORT: &str = "evo_alloc";
/// `(desc: i32, rows: i32) -> i32`: computes `rows` rewards; 0 means success.
pub const REWARD_EXPORT: &str = "evo_reward";
/// Longest schema string accepted, in bytes.
pub const MAX_SCHEMA_BYTES: usize = 64 * 1024;
/// Bytes the host pre-fills each output slot with, so that after a trap the first slot still
/// holding it names the first row that did not finish. A signalling NaN no compiled reward
/// produces (they canonicalise NaN).
pub const UNWRITTEN: u64 = 0x7ff4_dead_beef_0001;

/// Bytes one value of `ty` takes in a column.
pub fn width(ty: Type) -> usize {
    match ty {
        Type::Float | Type::Int => 8,
        Type::Bool => 1,
    }
}

/// Bytes of the batch descriptor for `fields` fields: the output pointer, then a
/// `(data, nulls)` pointer pair per field, all little-endian `u32`.
pub fn descriptor_len(fields: usize) -> usize {
    4 + 8 * fields
}

/// Renders the schema string for `fields`.
pub fn schema_string(fields: &[Field]) -> String {
    fields.iter().map(|f| format!("{}:{}", f.name, f.ty.name())).collect::<Vec<_>>().join(",")
}

/// Parses a schema string; the error says what is wrong.
pub fn parse_schema(s: &str) -> Result<Vec<Field>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let mut fields: Vec<Field> = Vec::new();
    for part in s.split(',') {
        let (name, ty) = part.split_once(':').ok_or_else(|| format!("`{part}` is not `name:type`"))?;
        if !crate::check::is_identifier(name) {
            return Err(format!("`{name}` is not an identifier"));
        }
        if fields.iter().any(|f| f.name == name) {
            return Err(format!("`{name}` appears twice"));
        }
        let ty = match ty {
            "float" => Type::Float,
            "int" => Type::Int,
            "bool" => Type::Bool,
            other => return Err(format!("`{other}` is not float, int or bool")),
        };
        fields.push(Field::new(name, ty));
    }
    Ok(fields)
}
