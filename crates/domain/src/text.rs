//! Free-text properties: trimmed, bounded, without control characters.

/// True for the control characters that no property may contain (U+0000–U+001F, U+007F).
pub fn is_forbidden_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}')
}

/// Trims `raw` and checks it: no control characters, at most `max` characters, and (when
/// `required`) not empty. Returns the trimmed text or a sentence saying what is allowed.
pub fn bounded(raw: &str, max: usize, required: bool) -> Result<String, String> {
    if raw.chars().any(is_forbidden_control) {
        return Err("must not contain control characters".into());
    }
    let trimmed = raw.trim();
    if required && trimmed.is_empty() {
        return Err(format!(
            "is required: give 1 to {max} characters, not only white space"
        ));
    }
    let len = trimmed.chars().count();
    if len > max {
        return Err(format!("must be at most {max} characters (got {len})"));
    }
    Ok(trimmed.to_string())
}

/// An optional text property: `None` and an all-white-space value both mean "none".
pub fn optional(raw: Option<&str>, max: usize) -> Result<Option<String>, String> {
    match raw {
        None => Ok(None),
        Some(s) => bounded(s, max, false).map(|t| if t.is_empty() { None } else { Some(t) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_rules() {
        let cases: &[(&str, usize, bool, Result<&str, ()>)] = &[
            ("  Ada  ", 10, true, Ok("Ada")),
            ("", 10, true, Err(())),
            ("   ", 10, true, Err(())),
            ("", 10, false, Ok("")),
            ("abcdefghij", 10, true, Ok("abcdefghij")),
            ("abcdefghijk", 10, true, Err(())),
            ("ééééé", 5, true, Ok("ééééé")),
            ("a\u{0}b", 10, true, Err(())),
            ("a\u{1f}b", 10, true, Err(())),
            ("a\u{7f}b", 10, true, Err(())),
            ("a\tb", 10, true, Err(())),
            ("a\nb", 10, true, Err(())),
            ("a\u{80}b", 10, true, Ok("a\u{80}b")),
        ];
        for (input, max, required, want) in cases {
            let got = bounded(input, *max, *required);
            match want {
                Ok(w) => assert_eq!(got.as_deref(), Ok(*w), "{input:?}"),
                Err(()) => assert!(got.is_err(), "{input:?} should fail"),
            }
        }
    }

    #[test]
    fn optional_blank_is_none() {
        assert_eq!(optional(Some("  "), 5), Ok(None));
        assert_eq!(optional(None, 5), Ok(None));
        assert_eq!(optional(Some(" x "), 5), Ok(Some("x".into())));
    }
}
