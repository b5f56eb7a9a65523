//! The names nearest to one that was not found: what an error about an
//! unknown run id or path suggests instead.

/// The (at most three) candidates nearest to `wanted`, nearest first: those
/// in the same namespace (same text before the last `/`) first, then those
/// whose last segment starts with the same letter, then by edit distance.
/// `params/lr` suggests `params/learning_rate` before `sys/id`; `MNIST-12`
/// suggests `MNIST-1` before `CIFAR-1`.
///
/// ```
/// let near = hippocamp_core::nearest("MNIST-12", ["CIFAR-1", "MNIST-1", "MNIST-2", "MNIST-13"]);
/// assert_eq!(near, ["MNIST-1", "MNIST-13", "MNIST-2"]);
/// ```
pub fn nearest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let (wanted_parent, wanted_name) = split_last(wanted);
    let mut ranked: Vec<(bool, bool, usize, &str)> = candidates
        .into_iter()
        .map(|c| {
            let (parent, name) = split_last(c);
            (
                parent != wanted_parent,
                name.chars().next() != wanted_name.chars().next(),
                strsim::levenshtein(wanted, c),
                c,
            )
        })
        .collect();
    ranked.sort();
    ranked.dedup_by_key(|r| r.3);
    ranked.into_iter().take(3).map(|r| r.3).collect()
}

/// `(parent, last segment)` of a path (`("", path)` at the top).
fn split_last(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}
