//! User principal names (`alias@domain`) and the domain names they live on.

use std::fmt;

/// A DNS domain name of a tenant, kept in lower case (domains compare case-insensitively).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct DomainName(String);

impl DomainName {
    pub const MAX_LEN: usize = 253;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_ascii_lowercase();
        let explain = |why: &str| format!("'{}' is not a domain name: {why}", raw.trim());
        if s.is_empty() {
            return Err("is required: give a domain name such as contoso.onmicrosoft.com".into());
        }
        if s.len() > Self::MAX_LEN {
            return Err(explain("at most 253 characters"));
        }
        let labels: Vec<&str> = s.split('.').collect();
        if labels.len() < 2 {
            return Err(explain("give at least two labels, such as contoso.com"));
        }
        for label in &labels {
            if label.is_empty() || label.len() > 63 {
                return Err(explain(
                    "each label between dots must have 1 to 63 characters",
                ));
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(explain(
                    "use only letters a-z, digits and hyphens between dots",
                ));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(explain("a label must not start or end with a hyphen"));
            }
        }
        if labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(explain("the last label must not be all digits"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user principal name, stored as given (trimmed) and compared case-insensitively.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Upn {
    value: String,
    at: usize,
}

impl Upn {
    pub const MAX_LEN: usize = 113;
    pub const MAX_ALIAS_LEN: usize = 64;
    const ALIAS_SYMBOLS: &'static str = "'.-_!#^~";

    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(
                "is required: give alias@domain, such as ada@contoso.onmicrosoft.com".into(),
            );
        }
        if s.chars().any(crate::text::is_forbidden_control) {
            return Err("must not contain control characters".into());
        }
        let len = s.chars().count();
        if len > Self::MAX_LEN {
            return Err(format!(
                "must be at most {} characters (got {len})",
                Self::MAX_LEN
            ));
        }
        let Some(at) = s.find('@') else {
            return Err(format!("'{s}' has no '@': give alias@domain"));
        };
        let (alias, domain) = (&s[..at], &s[at + 1..]);
        if domain.contains('@') {
            return Err(format!("'{s}' has more than one '@'"));
        }
        if alias.is_empty() {
            return Err("the part before '@' must not be empty".into());
        }
        let alias_len = alias.chars().count();
        if alias_len > Self::MAX_ALIAS_LEN {
            return Err(format!(
                "the part before '@' must be at most {} characters (got {alias_len})",
                Self::MAX_ALIAS_LEN
            ));
        }
        if let Some(bad) = alias
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || Self::ALIAS_SYMBOLS.contains(*c)))
        {
            return Err(format!(
                "the character '{bad}' is not allowed before '@': use letters A-Z, digits and ' . - _ ! # ^ ~"
            ));
        }
        if alias.starts_with('.') {
            return Err("the part before '@' must not start with '.'".into());
        }
        if alias.ends_with('.') {
            return Err("a '.' must not stand right before '@'".into());
        }
        // DomainName::parse trims; inside a UPN, white space after the '@' is not allowed.
        if domain.starts_with(char::is_whitespace) {
            return Err("the part after '@' must not start with white space".into());
        }
        DomainName::parse(domain)?;
        Ok(Self {
            value: s.to_string(),
            at,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }
    /// The part before `@`, as given.
    pub fn alias(&self) -> &str {
        &self.value[..self.at]
    }
    /// The domain, lower-cased.
    pub fn domain(&self) -> DomainName {
        DomainName(self.value[self.at + 1..].to_ascii_lowercase())
    }
    /// The comparison key: the whole UPN in lower case.
    pub fn key(&self) -> String {
        self.value.to_ascii_lowercase()
    }
}

impl fmt::Display for Upn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// A plausible email address: `local@domain` with a valid domain name and no white space.
pub fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !s.contains(char::is_whitespace)
                && DomainName::parse(domain).is_ok()
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias_of(n: usize) -> String {
        "a".repeat(n)
    }

    #[test]
    fn upn_lengths() {
        // 64 before '@' is the most; 113 in all is the most.
        let d = "contoso.com"; // 11 characters
        assert!(Upn::parse(&format!("{}@{d}", alias_of(64))).is_ok());
        assert!(Upn::parse(&format!("{}@{d}", alias_of(65))).is_err());
        let long_domain = format!("{}.{}.com", "b".repeat(40), "c".repeat(3)); // 48
        let upn113 = format!("{}@{long_domain}", alias_of(64));
        assert_eq!(upn113.len(), 113);
        assert!(Upn::parse(&upn113).is_ok());
        let long_domain49 = format!("{}.{}.com", "b".repeat(41), "c".repeat(3));
        let upn114 = format!("{}@{long_domain49}", alias_of(64));
        assert_eq!(upn114.len(), 114);
        assert!(Upn::parse(&upn114).is_err());
    }

    #[test]
    fn upn_characters() {
        for c in ['\'', '.', '-', '_', '!', '#', '^', '~'] {
            let upn = format!("a{c}b@contoso.com");
            assert!(Upn::parse(&upn).is_ok(), "{upn} should be allowed");
        }
        for c in [
            ' ', '"', '(', ')', ',', ':', ';', '<', '>', '[', ']', '\\', '/', '$', '%', '&', '*',
            '+', '=', '?', '`', '{', '|', '}', 'é', 'ß', '\u{7f}', '\u{0}',
        ] {
            let upn = format!("a{c}b@contoso.com");
            assert!(Upn::parse(&upn).is_err(), "{upn:?} should be refused");
        }
    }

    #[test]
    fn upn_shape() {
        let cases = [
            ("ada@contoso.com", true),
            ("  Ada.Lovelace@Contoso.COM ", true),
            (".ada@contoso.com", false),
            ("ada.@contoso.com", false),
            ("a.d.a@contoso.com", true),
            ("ada", false),
            ("@contoso.com", false),
            ("ada@", false),
            ("ada@contoso", false),
            ("ada@@contoso.com", false),
            ("ada@b@contoso.com", false),
            ("ada@-contoso.com", false),
            ("ada@contoso..com", false),
            ("ada@contoso_x.com", false),
            ("ada@contoso.123", false),
            ("", false),
        ];
        for (s, ok) in cases {
            assert_eq!(Upn::parse(s).is_ok(), ok, "{s:?}");
        }
    }

    #[test]
    fn upn_parts_and_key() {
        let u = Upn::parse(" Ada.Lovelace@Contoso.COM ").unwrap();
        assert_eq!(u.as_str(), "Ada.Lovelace@Contoso.COM");
        assert_eq!(u.alias(), "Ada.Lovelace");
        assert_eq!(u.domain().as_str(), "contoso.com");
        assert_eq!(u.key(), "ada.lovelace@contoso.com");
    }

    #[test]
    fn white_space_after_the_at_is_refused() {
        // Found by `one_character_more_never_passes_as_a_malformed_upn`: the domain part was
        // trimmed by DomainName::parse, so these were taken with the white space inside.
        for s in ["ada@ contoso.com", "a@\u{85}0.a", "ada@\u{a0}contoso.com"] {
            assert!(Upn::parse(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn emails_with_white_space_do_not_look_like_emails() {
        // Found by `looks_like_email_never_takes_white_space`: only ' ' was refused.
        for s in [
            "\t#@0.A",
            "a\u{a0}b@contoso.com",
            "a@\u{2003}contoso.com",
            "a@contoso.com\n",
        ] {
            assert!(!looks_like_email(s), "{s:?}");
        }
        assert!(looks_like_email("ada@contoso.com"));
    }

    #[test]
    fn domain_names() {
        assert_eq!(
            DomainName::parse(" Contoso.OnMicrosoft.com ")
                .unwrap()
                .as_str(),
            "contoso.onmicrosoft.com"
        );
        for bad in [
            "", "contoso", "-a.com", "a-.com", "a..com", "a.com.", "a b.com", "ä.com", "a.99",
        ] {
            assert!(DomainName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(DomainName::parse(&format!("{}.com", "a".repeat(63))).is_ok());
        assert!(DomainName::parse(&format!("{}.com", "a".repeat(64))).is_err());
    }
}

#[cfg(test)]
pub(crate) mod properties {
    use super::*;
    use proptest::prelude::*;

    /// An alias that the rules allow: 1 to 64 of A-Z, digits and `' . - _ ! # ^ ~`, not
    /// starting or ending with a dot.
    pub(crate) fn alias() -> impl Strategy<Value = String> {
        "[A-Za-z0-9'_!#^~-]([A-Za-z0-9'._!#^~-]{0,62}[A-Za-z0-9'_!#^~-])?"
    }

    /// A label of 1 to 63 letters, digits and inner hyphens, in any case.
    fn label(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!(
            "[A-Za-z0-9]([A-Za-z0-9-]{{0,{}}}[A-Za-z0-9])?",
            max - 2
        ))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A valid domain name in any case: 1 to 3 labels and a last label that is not all digits.
    pub(crate) fn domain() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(label(63), 1..4),
            "[A-Za-z][A-Za-z0-9]{0,9}",
        )
            .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join(".")))
    }

    /// White space that parsing trims.
    fn padding() -> impl Strategy<Value = String> {
        "[ \t\r\n]{0,3}"
    }

    /// Any character, often one of those that separate or delimit: white space of every
    /// kind, controls, `@`, `.` and `-`.
    fn tricky_char() -> impl Strategy<Value = char> {
        prop_oneof![
            any::<char>(),
            prop::sample::select(vec![
                ' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{a0}', '\u{2003}',
                '\u{3000}', '\u{feff}', '\u{0}', '\u{7f}', '@', '.', '-',
            ]),
        ]
    }

    /// What every accepted UPN must be, whatever text it came from.
    fn well_formed(u: &Upn) -> Result<(), TestCaseError> {
        let s = u.as_str();
        prop_assert!(s.chars().count() <= Upn::MAX_LEN, "{s:?} is too long");
        prop_assert!(!s.contains(char::is_whitespace), "{s:?} holds white space");
        prop_assert!(
            !s.contains(char::is_control),
            "{s:?} holds a control character"
        );
        prop_assert_eq!(s.matches('@').count(), 1, "{:?}", s);
        prop_assert_eq!(format!("{}@{}", u.alias(), &s[u.alias().len() + 1..]), s);
        prop_assert!(u.alias().chars().count() <= Upn::MAX_ALIAS_LEN);
        // The domain it answers is a domain name as it is.
        prop_assert_eq!(DomainName::parse(u.domain().as_str()), Ok(u.domain()));
        let again = Upn::parse(s);
        prop_assert_eq!(again.as_ref(), Ok(u), "re-parsing {:?}", s);
        Ok(())
    }

    proptest! {
        /// A UPN built from the allowed alphabet parses to its trimmed text, with its parts,
        /// when it has at most 113 characters, and is refused when it has more.
        #[test]
        fn valid_upns_parse_to_their_trimmed_text(
            alias in alias(),
            domain in domain(),
            before in padding(),
            after in padding(),
        ) {
            let upn = format!("{alias}@{domain}");
            let parsed = Upn::parse(&format!("{before}{upn}{after}"));
            if upn.len() <= Upn::MAX_LEN {
                let u = parsed.map_err(|e| TestCaseError::fail(format!("{upn}: {e}")))?;
                prop_assert_eq!(u.as_str(), &upn);
                prop_assert_eq!(u.alias(), &alias);
                prop_assert_eq!(u.domain().to_string(), domain.to_ascii_lowercase());
                prop_assert_eq!(u.key(), upn.to_ascii_lowercase());
                well_formed(&u)?;
            } else {
                let e = parsed.unwrap_err();
                prop_assert!(e.contains("at most 113"), "{upn}: {e}");
            }
        }

        /// Whatever the text, parsing answers (no panic), and what it accepts is well formed:
        /// one `@`, no white space or control characters, at most 113 characters.
        #[test]
        fn arbitrary_text_never_passes_as_a_malformed_upn(s in any::<String>()) {
            if let Ok(u) = Upn::parse(&s) {
                well_formed(&u)?;
            }
        }

        /// A valid UPN with any one character put in anywhere is either refused or still well
        /// formed (a space after the `@` once slipped through, the domain being trimmed).
        #[test]
        fn one_character_more_never_passes_as_a_malformed_upn(
            alias in alias(),
            domain in domain(),
            at in any::<prop::sample::Index>(),
            c in tricky_char(),
        ) {
            let mut upn = format!("{alias}@{domain}");
            upn.insert(at.index(upn.len() + 1), c);
            if let Ok(u) = Upn::parse(&upn) {
                well_formed(&u)?;
            }
        }

        /// More than 64 characters before the `@` are refused, whatever follows.
        #[test]
        fn long_aliases_are_refused(
            alias in "[a-z]{65,120}",
            domain in domain(),
        ) {
            let upn = format!("{alias}@{domain}");
            prop_assert!(Upn::parse(&upn).is_err(), "{upn}");
        }

        /// A valid domain name parses to its trimmed lower case, and that parses to itself.
        #[test]
        fn domain_names_parse_to_their_lower_case(
            domain in domain(),
            before in padding(),
            after in padding(),
        ) {
            let parsed = DomainName::parse(&format!("{before}{domain}{after}"));
            if domain.len() <= DomainName::MAX_LEN {
                let d = parsed.map_err(|e| TestCaseError::fail(format!("{domain}: {e}")))?;
                prop_assert_eq!(d.as_str(), domain.to_ascii_lowercase());
                prop_assert_eq!(DomainName::parse(d.as_str()), Ok(d.clone()));
            } else {
                prop_assert!(parsed.is_err());
            }
        }

        /// Whatever the text, a domain name it gives is lower-case letters, digits, hyphens
        /// and dots in labels of 1 to 63, at most 253 in all, and parses again to itself.
        #[test]
        fn arbitrary_text_never_passes_as_a_malformed_domain_name(
            s in prop_oneof![any::<String>(), "[a-zA-Z0-9.-]{0,300}", "[a-z.]{0,70}"],
        ) {
            if let Ok(d) = DomainName::parse(&s) {
                let name = d.as_str();
                prop_assert!(name.len() <= DomainName::MAX_LEN);
                prop_assert!(name.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit() || b == b'-' || b == b'.'), "{name:?}");
                for label in name.split('.') {
                    prop_assert!((1..=63).contains(&label.len()), "{name:?}");
                    prop_assert!(!label.starts_with('-') && !label.ends_with('-'), "{name:?}");
                }
                prop_assert_eq!(DomainName::parse(name), Ok(d.clone()));
            }
        }

        /// A label over 63 characters is refused wherever it stands.
        #[test]
        fn long_labels_are_refused(
            long in "[a-z]{64,100}",
            domain in domain(),
            first in any::<bool>(),
        ) {
            let name = if first { format!("{long}.{domain}") } else { format!("{domain}.{long}") };
            prop_assert!(DomainName::parse(&name).is_err());
        }

        /// An address that looks like an email has no white space in it, whatever character
        /// is put into a plausible one.
        #[test]
        fn looks_like_email_never_takes_white_space(
            alias in alias(),
            domain in domain(),
            at in any::<prop::sample::Index>(),
            c in tricky_char(),
        ) {
            let plain = format!("{alias}@{domain}");
            prop_assert!(looks_like_email(&plain) == (domain.len() <= DomainName::MAX_LEN));
            let mut s = plain;
            s.insert(at.index(s.len() + 1), c);
            if looks_like_email(&s) {
                prop_assert!(!s.contains(char::is_whitespace), "{s:?}");
                let (local, domain) = s.split_once('@').unwrap_or_default();
                prop_assert!(!local.is_empty());
                prop_assert_eq!(
                    DomainName::parse(domain).map(|d| d.as_str().to_string()),
                    Ok(domain.to_ascii_lowercase())
                );
            }
        }
    }
}
