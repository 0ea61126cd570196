//! What an editor asks of a checked program: where a name is defined and what it is. The
//! checker fills it as it resolves names, so it is there even when the program has errors.

use crate::builtins::Signature;
use crate::span::{FileId, Span};

/// Every name the checker resolved, and what each item checked to.
#[derive(Clone, Debug, Default)]
pub struct Index {
    /// Names as written, each with what it resolved to.
    pub references: Vec<Reference>,
    /// Items of every loaded module, with their checked types.
    pub items: Vec<ItemInfo>,
}

/// A name written somewhere and what it resolved to.
#[derive(Clone, Debug)]
pub struct Reference {
    /// The whole path as written (`std::data::random_split`, `split`).
    pub span: Span,
    pub target: Target,
}

/// What a name resolved to.
#[derive(Clone, Debug)]
pub enum Target {
    /// An item of a `.evo` module: the span of its name, in that module's file.
    Item(Span),
    /// A built-in step or constructor.
    Builtin(&'static Signature),
}

/// A checked item of a module.
#[derive(Clone, Debug)]
pub struct ItemInfo {
    pub name: String,
    /// `param`, `dataset`, `let`, `model`, `reward`, `optimizer`, `persona`, `step` or `output`.
    pub kind: &'static str,
    /// Its type as the checker found it (`dataset`, `model`, `trained_model`, ...).
    pub ty: String,
    /// The span of its name.
    pub span: Span,
    /// The span of the whole item.
    pub item_span: Span,
}

impl Index {
    /// The reference written at `offset` of `file`, innermost first.
    pub fn reference_at(&self, file: FileId, offset: usize) -> Option<&Reference> {
        self.references.iter().filter(|r| contains(r.span, file, offset)).min_by_key(|r| r.span.end - r.span.start)
    }

    /// The item whose name is at `offset` of `file`, or whose name is `span`.
    pub fn item_named_at(&self, file: FileId, offset: usize) -> Option<&ItemInfo> {
        self.items.iter().find(|i| contains(i.span, file, offset))
    }

    /// The item whose name has `span`.
    pub fn item(&self, span: Span) -> Option<&ItemInfo> {
        self.items.iter().find(|i| i.span == span)
    }
}

/// Whether `span` lies in `file` and covers `offset` (its end included: a cursor after a name).
fn contains(span: Span, file: FileId, offset: usize) -> bool {
    span.file == file && span.start as usize <= offset && offset <= span.end as usize
}

/// A built-in's signature as a person reads it: `std::data::random_split(data: dataset, valid:
/// float = 0.1, ...) -> split`.
pub fn signature_text(sig: &Signature) -> String {
    let params: Vec<String> = sig
        .params
        .iter()
        .map(|p| match &p.default {
            Some(v) => format!("{}: {} = {v}", p.name, p.ty),
            None => format!("{}: {}", p.name, p.ty),
        })
        .collect();
    format!("{}({}) -> {}", sig.qualified(), params.join(", "), sig.returns)
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn a_name_points_at_its_definition_and_the_item_has_its_type() {
        let text =
            "use std::sim::{logs}\nuse std::data::{random_split}\n\ndataset events = logs(users: 100, seed: 1)\n\
                    let split = random_split(events, seed: 1)\n";
        let checked = crate::check("w.evo", text, &crate::NoFiles, &[]);
        assert!(checked.result.is_ok());
        let file = checked.sources.find("w.evo").unwrap();
        let use_of_events = text.find("(events").unwrap() + 3;
        let Target::Item(def) = checked.index.reference_at(file, use_of_events).unwrap().target else {
            panic!("`events` is an item")
        };
        assert_eq!(def.text(&checked.sources), "events");
        assert_eq!(def.start as usize, text.find("events").unwrap(), "the dataset's name, not its use");
        let item = checked.index.item(def).unwrap();
        assert_eq!((item.kind, item.ty.as_str()), ("dataset", "dataset"));
        let call = text.find("random_split(").unwrap() + 2;
        let Target::Builtin(sig) = checked.index.reference_at(file, call).unwrap().target else {
            panic!("`random_split` is a built-in")
        };
        assert!(
            super::signature_text(sig).starts_with("std::data::random_split(data: dataset"),
            "{}",
            super::signature_text(sig)
        );
        assert_eq!(checked.index.item_named_at(file, text.find("split =").unwrap() + 1).unwrap().kind, "let");
    }
}
