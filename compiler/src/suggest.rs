//! "Did you mean" from edit distance over the names in scope.

/// The closest candidate to `name`, if one is close enough to be a typo.
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (name.chars().count() / 3).max(1) + usize::from(name.chars().count() > 6);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, c)| *d <= limit || c.eq_ignore_ascii_case(name))
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c.to_string())
}

/// `help:` text for a suggestion, or a fallback listing what exists.
pub fn help_for<'a, I>(name: &str, candidates: I, what: &str) -> String
where
    I: IntoIterator<Item = &'a str> + Clone,
{
    match did_you_mean(name, candidates.clone()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => {
            let mut all: Vec<&str> = candidates.into_iter().collect();
            all.sort_unstable();
            all.dedup();
            if all.is_empty() {
                format!("no {what} is defined")
            } else if all.len() <= 12 {
                format!(
                    "known {}: {}",
                    plural(what),
                    all.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                )
            } else {
                format!("check the spelling; {} {} are defined", all.len(), plural(what))
            }
        }
    }
}

/// `property` -> `properties`, `filter` -> `filters`.
fn plural(what: &str) -> String {
    match what.strip_suffix('y') {
        Some(stem) if !stem.ends_with(['a', 'e', 'o', 'u']) => format!("{stem}ies"),
        _ => format!("{what}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["marketing_consent", "night_consent", "tier", "고객명"];
        assert_eq!(did_you_mean("teir", names), Some("tier".into()));
        assert_eq!(did_you_mean("marketing_consnet", names), Some("marketing_consent".into()));
        assert_eq!(did_you_mean("고객멍", names), Some("고객명".into()));
        assert_eq!(did_you_mean("zzzzzz", names), None);
    }

    #[test]
    fn lists_known_names_in_plain_english() {
        assert_eq!(
            help_for("zz", ["price", "product"], "property"),
            "known properties: `price`, `product`"
        );
        assert_eq!(help_for("zz", ["won"], "filter"), "known filters: `won`");
        assert_eq!(help_for("zz", ["a"], "key"), "known keys: `a`");
    }
}
