//! The password policy and temporary passwords.

use std::fmt;

use rand::{CryptoRng, Rng};

/// A plaintext password on its way to the hasher. Its `Debug` never shows the text, so it
/// cannot leak through a log line or an error.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps text without checking it (sign-in compares whatever was typed).
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 256;
/// The symbols the policy allows, besides space.
pub const SYMBOLS: &str = "@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<>";
/// The strength estimator looks at this many characters at most: its cost grows quickly with
/// length, and a longer password that passed the class rules is not weak for its tail.
const ESTIMATE_PREFIX: usize = 100;
const MIN_SCORE: u8 = 3;

/// What a password must not contain: the user's own names.
#[derive(Clone, Copy, Default, Debug)]
pub struct PersonalWords<'a> {
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub upn_alias: Option<&'a str>,
}

impl PersonalWords<'_> {
    fn words(&self) -> impl Iterator<Item = &str> {
        [self.first_name, self.last_name, self.upn_alias]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|w| w.chars().count() >= 4)
    }
}

/// Checks `password` against the policy (directory.md, Passwords). The error is one sentence
/// naming every rule that failed.
pub fn check(password: &str, personal: PersonalWords<'_>) -> Result<Password, String> {
    let mut problems: Vec<String> = Vec::new();
    let len = password.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&len) {
        problems.push(format!(
            "must have {MIN_LEN} to {MAX_LEN} characters (got {len})"
        ));
    }
    let mut bad: Vec<char> = password
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || *c == ' ' || SYMBOLS.contains(*c)))
        .collect();
    bad.dedup();
    if !bad.is_empty() {
        let shown: String = bad
            .iter()
            .take(5)
            .map(|c| c.escape_default().to_string())
            .collect::<Vec<_>>()
            .join(" ");
        problems.push(format!(
            "may use only letters A-Z and a-z, digits, space and the symbols {SYMBOLS} (not: {shown})"
        ));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| c == ' ' || SYMBOLS.contains(c)),
    ]
    .iter()
    .filter(|present| **present)
    .count();
    if classes < 3 {
        problems.push(
            "must contain at least 3 of: a lower-case letter, an upper-case letter, a digit, a symbol"
                .into(),
        );
    }
    let lower = password.to_lowercase();
    for word in personal.words() {
        if lower.contains(&word.to_lowercase()) {
            problems.push(format!(
                "must not contain the user's name or alias ('{word}')"
            ));
        }
    }
    if problems.is_empty() {
        let prefix: String = password.chars().take(ESTIMATE_PREFIX).collect();
        let inputs: Vec<&str> = personal.words().collect();
        let score = zxcvbn::zxcvbn(&prefix, &inputs).score() as u8;
        if score < MIN_SCORE {
            let hint = if prefix.chars().count() <= MIN_LEN {
                " (a password of 8 characters is always too easy to guess: use 9 or more)"
            } else {
                ""
            };
            problems.push(format!(
                "is too easy to guess: avoid common words, names, dates, keyboard patterns and repeats{hint}"
            ));
        }
    }
    if problems.is_empty() {
        Ok(Password(password.to_string()))
    } else {
        Err(problems.join("; "))
    }
}

/// The alphabet of temporary passwords: no look-alikes (0/O, 1/l/I), and symbols that need
/// no quoting in a shell, a CSV file or a URL form.
const TEMP_LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const TEMP_UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const TEMP_DIGITS: &[u8] = b"23456789";
const TEMP_SYMBOLS: &[u8] = b"!#$%*+-=?@^_";
pub const TEMP_LEN: usize = 16;

/// The password part of a valid create or reset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordChoice {
    /// The caller gave this password.
    Given(Password),
    /// Roster must generate a temporary password.
    Generate,
}

impl PasswordChoice {
    /// The password a client gave, checked against the policy and the user's own words, or
    /// (none given) a temporary one to generate.
    pub fn of(given: Option<&str>, personal: PersonalWords<'_>) -> Result<Self, String> {
        match given {
            Some(raw) => check(raw, personal).map(Self::Given),
            None => Ok(Self::Generate),
        }
    }

    pub fn is_generated(&self) -> bool {
        matches!(self, Self::Generate)
    }

    /// The password itself: the given one, or a new temporary one for this user. `rng`
    /// must be a cryptographically secure generator.
    pub fn into_password<R: Rng + CryptoRng>(
        self,
        personal: PersonalWords<'_>,
        rng: &mut R,
    ) -> Password {
        match self {
            Self::Given(p) => p,
            Self::Generate => generate_temporary(rng, personal),
        }
    }
}

/// A fresh 16-character temporary password that meets the policy for this user. `rng` must be
/// a cryptographically secure generator (the service passes the operating system's).
pub fn generate_temporary<R: Rng + CryptoRng>(
    rng: &mut R,
    personal: PersonalWords<'_>,
) -> Password {
    loop {
        let classes = [TEMP_LOWER, TEMP_UPPER, TEMP_DIGITS, TEMP_SYMBOLS];
        let mut chars: Vec<u8> = classes
            .iter()
            .map(|class| class[rng.gen_range(0..class.len())])
            .collect();
        let all: Vec<u8> = classes.concat();
        while chars.len() < TEMP_LEN {
            chars.push(all[rng.gen_range(0..all.len())]);
        }
        // Shuffle so that the guaranteed classes are not always in front.
        for i in (1..chars.len()).rev() {
            chars.swap(i, rng.gen_range(0..=i));
        }
        // A spreadsheet opening a file of temporary passwords reads a cell that begins with
        // one of these as a formula, and shows something else than the password.
        if matches!(chars[0], b'=' | b'+' | b'-' | b'@') {
            continue;
        }
        let text: String = chars.into_iter().map(char::from).collect();
        // The policy check also rules out the (vanishingly rare) draw that spells a name.
        if let Ok(password) = check(&text, personal) {
            return password;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOBODY: PersonalWords<'static> = PersonalWords {
        first_name: None,
        last_name: None,
        upn_alias: None,
    };

    #[test]
    fn length_bounds() {
        assert!(
            check("Ab3$kq9", NOBODY).unwrap_err().contains("8 to 256"),
            "7 characters"
        );
        // The estimator scores every 8-character password below 3 (10^8 guesses at most), so
        // the shortest password that can pass has 9 characters.
        assert!(
            check("Tq7#vLm2", NOBODY).unwrap_err().contains("9 or more"),
            "8 characters"
        );
        assert!(check("Tq7#vLm2x", NOBODY).is_ok(), "9 characters");
        let mut rng = rand::rngs::OsRng;
        let mut text = String::new();
        while text.len() <= 256 {
            text.push_str(generate_temporary(&mut rng, NOBODY).expose());
        }
        assert!(check(&text[..256], NOBODY).is_ok(), "256 characters");
        assert!(
            check(&text[..257], NOBODY)
                .unwrap_err()
                .contains("8 to 256"),
            "257 characters"
        );
    }

    #[test]
    fn class_rules() {
        // Each row: a password strong enough in every other way, and whether it passes.
        let cases = [
            ("vqzkmtrwpl", false), // lower only
            ("VQZKMTRWPL", false), // upper only
            ("4829163750", false), // digits only
            ("vqzkmTRWPL", false), // 2 classes: lower + upper
            ("vqzkm48291", false), // 2 classes: lower + digit
            ("vqzkm#$!%&", false), // 2 classes: lower + symbol
            ("vqzkmTRW91", true),  // lower + upper + digit
            ("vqzkmTRW#!", true),  // lower + upper + symbol
            ("vqzkm4829#", true),  // lower + digit + symbol
            ("VQZKM4829#", true),  // upper + digit + symbol
            ("vqzk TRW91", true),  // space counts as a symbol
        ];
        for (pw, ok) in cases {
            assert_eq!(
                check(pw, NOBODY).is_ok(),
                ok,
                "{pw}: {:?}",
                check(pw, NOBODY)
            );
        }
    }

    #[test]
    fn every_allowed_symbol_is_accepted() {
        for s in SYMBOLS.chars().chain([' ']) {
            let pw = format!("vqzkTRW9{s}m");
            assert!(
                check(&pw, NOBODY).is_ok(),
                "{pw:?}: {:?}",
                check(&pw, NOBODY)
            );
        }
    }

    #[test]
    fn other_characters_are_refused() {
        for c in ['é', 'ß', '€', '\t', '\n', '\u{0}', '§', '£', '\u{a0}'] {
            let pw = format!("vqzkTRW9#{c}m");
            let err = check(&pw, NOBODY).unwrap_err();
            assert!(err.contains("may use only"), "{pw:?}: {err}");
        }
    }

    #[test]
    fn personal_words() {
        let who = PersonalWords {
            first_name: Some("Grace"),
            last_name: Some("Hop"),
            upn_alias: Some("ghopper"),
        };
        assert!(check("xGRACE#91kq", who).unwrap_err().contains("Grace"));
        assert!(check("x#91kqGHopper", who).unwrap_err().contains("ghopper"));
        // Words shorter than 4 characters are not checked.
        assert!(check("Hop#91kqZvx", who).is_ok());
    }

    #[test]
    fn common_passwords_are_refused() {
        for pw in [
            "Password1!",
            "P@ssw0rd",
            "Welcome123!",
            "Qwerty123!",
            "Summer2024!",
        ] {
            let err = check(pw, NOBODY).unwrap_err();
            assert!(err.contains("guess"), "{pw}: {err}");
        }
    }

    #[test]
    fn temporary_passwords_meet_the_policy() {
        let mut rng = rand::rngs::OsRng;
        let who = PersonalWords {
            first_name: Some("Grace"),
            last_name: Some("Hopper"),
            upn_alias: Some("grace"),
        };
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            let pw = generate_temporary(&mut rng, who);
            let text = pw.expose();
            assert_eq!(text.chars().count(), TEMP_LEN);
            assert!(check(text, who).is_ok());
            assert!(!text.contains(['0', 'O', '1', 'l', 'I']), "{text}");
            assert!(text.chars().any(|c| c.is_ascii_lowercase()));
            assert!(text.chars().any(|c| c.is_ascii_uppercase()));
            assert!(text.chars().any(|c| c.is_ascii_digit()));
            assert!(!text.starts_with(['=', '+', '-', '@']), "a formula: {text}");
            assert!(seen.insert(text.to_string()), "repeated {text}");
        }
    }

    #[test]
    fn debug_never_shows_the_text() {
        let pw = Password::new("Sup3rSecret!");
        assert!(!format!("{pw:?}").contains("Sup3r"));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    const NOBODY: PersonalWords<'static> = PersonalWords {
        first_name: None,
        last_name: None,
        upn_alias: None,
    };

    /// Text of the policy's alphabet only: letters, digits, space and the symbols.
    const POLICY_ALPHABET: &str = r#"[a-zA-Z0-9 @#$%^&*_!+=\[\]{}|\\:',.?/`~"();<>-]"#;

    fn policy_text(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!(
            "{POLICY_ALPHABET}{{{},{}}}",
            len.start(),
            len.end()
        ))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// What every accepted password must be.
    fn meets_the_rules(text: &str) -> Result<(), TestCaseError> {
        let len = text.chars().count();
        prop_assert!((MIN_LEN..=MAX_LEN).contains(&len), "{len} characters");
        prop_assert!(
            text.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ' ' || SYMBOLS.contains(c)),
            "{text:?}"
        );
        let classes = [
            text.chars().any(|c| c.is_ascii_lowercase()),
            text.chars().any(|c| c.is_ascii_uppercase()),
            text.chars().any(|c| c.is_ascii_digit()),
            text.chars().any(|c| c == ' ' || SYMBOLS.contains(c)),
        ];
        prop_assert!(classes.iter().filter(|c| **c).count() >= 3, "{text:?}");
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Over 256 characters is refused, however strong the text, and the answer says so.
        #[test]
        fn passwords_over_256_characters_are_refused(text in policy_text(257..=1000)) {
            let e = check(&text, NOBODY).unwrap_err();
            prop_assert!(e.contains("8 to 256"), "{e}");
            prop_assert!(PasswordChoice::of(Some(&text), NOBODY).is_err());
        }

        /// Under 8 characters is refused, and the answer says so.
        #[test]
        fn passwords_under_8_characters_are_refused(text in policy_text(0..=7)) {
            let e = check(&text, NOBODY).unwrap_err();
            prop_assert!(e.contains("8 to 256"), "{e}");
        }

        /// Whatever the text (any characters, any length within reason), checking answers, an
        /// accepted password meets every rule and is kept as given, and `PasswordChoice::of`
        /// agrees with `check`.
        #[test]
        fn arbitrary_text_never_passes_against_the_rules(
            text in prop_oneof![any::<String>(), policy_text(0..=40), "\\PC{0,300}"],
        ) {
            let checked = check(&text, NOBODY);
            if let Ok(p) = &checked {
                meets_the_rules(&text)?;
                prop_assert_eq!(p.expose(), &text);
            }
            prop_assert_eq!(
                PasswordChoice::of(Some(&text), NOBODY),
                checked.map(PasswordChoice::Given)
            );
        }

        /// A character outside the policy's alphabet anywhere in a strong password is refused
        /// and named.
        #[test]
        fn characters_outside_the_alphabet_are_refused(
            seed in any::<u64>(),
            at in any::<prop::sample::Index>(),
            c in any::<char>().prop_filter("outside the alphabet", |c| {
                !(c.is_ascii_alphanumeric() || *c == ' ' || SYMBOLS.contains(*c))
            }),
        ) {
            let base = generate_temporary(&mut rand::rngs::StdRng::seed_from_u64(seed), NOBODY);
            let mut text = base.expose().to_string();
            text.insert(at.index(text.len() + 1), c);
            let e = check(&text, NOBODY).unwrap_err();
            prop_assert!(e.contains("may use only"), "{text:?}: {e}");
        }

        /// Every temporary password meets the policy for the user it is made for (and for
        /// anyone), has 16 characters of the unambiguous alphabet, and never starts like a
        /// spreadsheet formula.
        #[test]
        fn every_temporary_password_passes_the_policy(
            seed in any::<u64>(),
            first in proptest::option::of("[A-Za-z]{0,12}"),
            last in proptest::option::of("[A-Za-z]{0,12}"),
            alias in proptest::option::of("[a-z0-9.]{0,12}"),
        ) {
            let who = PersonalWords {
                first_name: first.as_deref(),
                last_name: last.as_deref(),
                upn_alias: alias.as_deref(),
            };
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let p = PasswordChoice::Generate.into_password(who, &mut rng);
            let text = p.expose();
            prop_assert_eq!(text.chars().count(), TEMP_LEN);
            prop_assert!(check(text, who).is_ok(), "{text}: {:?}", check(text, who));
            prop_assert!(check(text, NOBODY).is_ok(), "{text}");
            meets_the_rules(text)?;
            let alphabet = [TEMP_LOWER, TEMP_UPPER, TEMP_DIGITS, TEMP_SYMBOLS].concat();
            prop_assert!(text.bytes().all(|b| alphabet.contains(&b)), "{text}");
            prop_assert!(!text.starts_with(['=', '+', '-', '@']), "{text}");
        }

        /// A user's name (4 characters or more) in a password, in any case, is refused and
        /// named, however strong the rest.
        #[test]
        fn the_users_own_names_are_refused_in_any_case(
            seed in any::<u64>(),
            name in "[a-z]{4,12}",
            upper in proptest::collection::vec(any::<bool>(), 12),
            at in any::<prop::sample::Index>(),
            which in 0..3usize,
        ) {
            let base = generate_temporary(&mut rand::rngs::StdRng::seed_from_u64(seed), NOBODY);
            let cased: String = name
                .chars()
                .zip(&upper)
                .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
                .collect();
            let mut text = base.expose().to_string();
            text.insert_str(at.index(text.len() + 1), &cased);
            let mut who = NOBODY;
            match which {
                0 => who.first_name = Some(&name),
                1 => who.last_name = Some(&name),
                _ => who.upn_alias = Some(&name),
            }
            let e = check(&text, who).unwrap_err();
            prop_assert!(e.contains(&format!("('{name}')")), "{text}: {e}");
        }
    }
}
