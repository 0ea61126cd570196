//! "Did you mean ...?": the one helper every unknown-name diagnostic uses.

/// The candidate closest to `name`, if one is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let allowed = (name.chars().count() / 3).max(1);
    let mut best: Option<(&str, usize, f64)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let edits = strsim::levenshtein(name, candidate);
        if edits > allowed {
            continue;
        }
        let score = strsim::jaro_winkler(name, candidate);
        if best.is_none_or(|(_, e, s)| edits < e || (edits == e && score > s)) {
            best = Some((candidate, edits, score));
        }
    }
    best.map(|(c, ..)| c)
}

/// A help line "did you mean `x`?" when a close candidate exists.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}
