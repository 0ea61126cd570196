//! "Did you mean ...?": the one helper every unknown-name diagnostic uses.

/// The candidate closest to `name`, if one is close enough to be a likely typo: a few edits
/// away (a swap of two neighbours counts as one), or a long prefix of it (`validation`/`valid`).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let allowed = (name.chars().count() / 3).max(1);
    let mut best: Option<(&str, usize, f64)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let mut edits = strsim::osa_distance(name, candidate);
        if edits > allowed {
            if !is_long_prefix(name, candidate) {
                continue;
            }
            // Ranked after every candidate within the allowed edits.
            edits = allowed + 1;
        }
        let score = strsim::jaro_winkler(name, candidate);
        if best.is_none_or(|(_, e, s)| edits < e || (edits == e && score > s)) {
            best = Some((candidate, edits, score));
        }
    }
    best.map(|(c, ..)| c)
}

/// Whether the shorter of two names starts the longer and is at least half of it (and 4 long).
fn is_long_prefix(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.len() >= 4 && short.len() * 2 >= long.len() && long.starts_with(short)
}

/// A help line "did you mean `x`?" when a close candidate exists.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}
