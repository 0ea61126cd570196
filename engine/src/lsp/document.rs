//! An open `.evo` document: its text, checked the way `evoflow check` checks it, and the
//! conversions between byte offsets and the editor's positions (lines and UTF-16 columns).

use lsp_types::{Position, Range};

/// A document as the editor last sent it, and what the checker made of it.
pub struct Document {
    /// The path it is checked as (imports resolve beside it).
    pub path: String,
    pub text: String,
    pub checked: dsl::Checked,
}

impl Document {
    /// Checks `text` as the file at `path`, reading its imports from disk.
    pub fn new(path: String, text: String) -> Document {
        let checked = dsl::check(&path, &text, &crate::fs_loader::FsLoader, &[]);
        Document { path, text, checked }
    }

    /// This document's id among the checked sources.
    pub fn file(&self) -> Option<dsl::FileId> {
        self.checked.sources.find(&self.path)
    }

    /// The byte offset of an editor position (clamped to the text).
    pub fn offset(&self, position: Position) -> usize {
        offset(&self.text, position)
    }
}

/// The byte offset of `position` in `text`: its line, then its UTF-16 column.
pub fn offset(text: &str, position: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..position.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line = &text[line_start..text[line_start..].find('\n').map_or(text.len(), |i| line_start + i)];
    let mut units = 0;
    for (i, c) in line.char_indices() {
        if units >= position.character as usize {
            return line_start + i;
        }
        units += c.len_utf16();
    }
    line_start + line.len()
}

/// The editor position of byte `offset` in `text`.
pub fn position(text: &str, offset: usize) -> Position {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() as u32;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position::new(line, before[line_start..].encode_utf16().count() as u32)
}

/// The editor range of a span of `text`.
pub fn range(text: &str, span: dsl::Span) -> Range {
    Range::new(position(text, span.start as usize), position(text, span.end as usize))
}

#[cfg(test)]
mod tests {
    use super::{offset, position};
    use lsp_types::Position;

    #[test]
    fn positions_count_utf16_units_and_round_trip() {
        let text = "let a = 1\n# é and 𝔼\nlet b = 2\n";
        let b = text.find("let b").unwrap();
        assert_eq!(position(text, b), Position::new(2, 0));
        let e = text.find('𝔼').unwrap();
        assert_eq!(position(text, e), Position::new(1, 8), "é is one unit, the space and `and ` four more");
        assert_eq!(position(text, e + '𝔼'.len_utf8()), Position::new(1, 10), "𝔼 is two UTF-16 units");
        for at in [0, 4, e, b, text.len()] {
            assert_eq!(offset(text, position(text, at)), at);
        }
        assert_eq!(offset(text, Position::new(9, 0)), text.len(), "past the end is the end");
    }
}
