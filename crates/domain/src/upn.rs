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

/// A plausible email address: `local@domain` with a valid domain name and no spaces.
pub fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !s.contains(' ') && DomainName::parse(domain).is_ok()
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
