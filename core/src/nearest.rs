//! The names nearest to one that was not found: what an error about an
//! unknown run id or path suggests instead.

use std::collections::BTreeSet;

/// The (at most three) names nearest to `wanted` among `candidates` and
/// the namespaces above them, nearest first. Ranked by, in turn:
///
/// 1. names under `wanted` or with it as their last part (`params` →
///    `params/lr`; `learning_rate` → `params/learning_rate`);
/// 2. names that start with it (`param` → `params`);
/// 3. names in the same namespace (`params/lr` → `params/learning_rate`
///    before `sys/id`);
/// 4. the rest;
///
/// and within each, a last segment with the same first letter first, then
/// by edit distance.
///
/// ```
/// let near = hippocamp_core::nearest("MNIST-12", ["CIFAR-1", "MNIST-1", "MNIST-2", "MNIST-13"]);
/// assert_eq!(near, ["MNIST-1", "MNIST-13", "MNIST-2"]);
/// let paths = ["params/batch", "params/learning_rate", "sys/id"];
/// assert_eq!(hippocamp_core::nearest("param", paths)[0], "params");
/// assert_eq!(hippocamp_core::nearest("params/lr", paths)[0], "params/learning_rate");
/// ```
pub fn nearest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut all: BTreeSet<&str> = BTreeSet::new();
    for candidate in candidates {
        all.insert(candidate);
        let mut end = candidate.len();
        while let Some(slash) = candidate[..end].rfind('/') {
            all.insert(&candidate[..slash]);
            end = slash;
        }
    }
    all.remove(wanted);
    let (wanted_parent, wanted_name) = split_last(wanted);
    let under = format!("{wanted}/");
    let inside = format!("/{wanted}");
    let tier = |c: &str| -> u8 {
        if c.starts_with(&under) || c.ends_with(&inside) {
            0
        } else if c.starts_with(wanted) {
            1
        } else if split_last(c).0 == wanted_parent {
            2
        } else {
            3
        }
    };
    let mut ranked: Vec<(u8, bool, usize, &str)> = all
        .into_iter()
        .map(|c| {
            let (_, name) = split_last(c);
            (
                tier(c),
                name.chars().next() != wanted_name.chars().next(),
                strsim::levenshtein(wanted, c),
                c,
            )
        })
        .collect();
    ranked.sort();
    ranked.into_iter().take(3).map(|r| r.3).collect()
}

/// `(parent, last segment)` of a path (`("", path)` at the top).
fn split_last(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}
