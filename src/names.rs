//! Names people type: the name of a choice among named options, and the nearest known name to a
//! typo, for "did you mean" hints. Shared by every layer that reads or writes names.

/// The nearest known name to a typo, if any is close enough to be a useful suggestion.
pub fn suggest<'a>(typo: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::damerau_levenshtein(typo, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// The name `value` has among `options`: the inverse of `input::tree::choice`, for writing a scenario back.
pub fn name_of<T: Copy + PartialEq>(options: &[(&'static str, T)], value: T) -> &'static str {
    options.iter().find(|(_, v)| *v == value).expect("every option has a name").0
}
