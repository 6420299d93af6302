//! Granular delegated admin relationships (GDAP) between a partner and one of its customers,
//! and the security groups of the partner that are given some of their directory roles
//! (access.md, Delegated access to a customer).
//!
//! The stored status only moves forward on a decision (approval, termination); expiry and
//! auto-extension are read from the clock: [`Relationship::status_at`] and
//! [`Relationship::end_at`] take `now` as an argument.

use crate::authz::DirectoryRole;
use crate::ids::{CustomerId, GroupId, PartnerId, RelationshipId};
use crate::time::{Duration, Timestamp};
use crate::validation::Invalid;

/// The longest a relationship may last, in days.
pub const MAX_DURATION_DAYS: i64 = 730;
/// How long an auto-extension adds, in days.
pub const AUTO_EXTEND_DAYS: i64 = 180;
/// The longest display name, in characters.
pub const MAX_DISPLAY_NAME: usize = 50;

/// Where a relationship is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum RelationshipStatus {
    Created,
    ApprovalPending,
    Active,
    Expired,
    Terminated,
}

impl RelationshipStatus {
    pub const ALL: [RelationshipStatus; 5] = [
        Self::Created,
        Self::ApprovalPending,
        Self::Active,
        Self::Expired,
        Self::Terminated,
    ];
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::ApprovalPending => "approval_pending",
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Terminated => "terminated",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// A delegated admin relationship.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relationship {
    pub id: RelationshipId,
    pub partner: PartnerId,
    pub customer: CustomerId,
    pub display_name: String,
    pub duration_days: i64,
    /// Sorted, without repeats.
    pub roles: Vec<DirectoryRole>,
    pub auto_extend: bool,
    /// The stored status: `created`, `approval_pending`, `active` or `terminated`; whether an
    /// active one has expired is decided by [`Relationship::status_at`].
    pub status: RelationshipStatus,
    pub created_at: Timestamp,
    pub activated_at: Option<Timestamp>,
    pub terminated_at: Option<Timestamp>,
}

impl Relationship {
    /// When the relationship ends as seen at `now`: the approval plus the duration, moved on
    /// by 180 days each time it is reached when auto-extend is on. `None` before approval.
    pub fn end_at(&self, now: Timestamp) -> Option<Timestamp> {
        let start = self.activated_at?;
        let mut end = start.plus(Duration::from_days(self.duration_days));
        if self.auto_extend && end <= now {
            let step = Duration::from_days(AUTO_EXTEND_DAYS).millis();
            let behind = now.unix_millis() - end.unix_millis();
            let steps = behind / step + 1;
            end = Timestamp::from_unix_millis(end.unix_millis() + steps * step);
        }
        Some(end)
    }

    /// The status at `now`.
    pub fn status_at(&self, now: Timestamp) -> RelationshipStatus {
        match self.status {
            RelationshipStatus::Active => match self.end_at(now) {
                Some(end) if end <= now => RelationshipStatus::Expired,
                _ => RelationshipStatus::Active,
            },
            other => other,
        }
    }
}

/// A security group of the partner given some of a relationship's roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessAssignment {
    pub id: String,
    pub relationship: RelationshipId,
    pub group: GroupId,
    pub roles: Vec<DirectoryRole>,
    pub created_at: Timestamp,
}

/// A new relationship as a client gives it.
#[derive(Clone, Debug, Default)]
pub struct NewRelationshipInput {
    pub display_name: Option<String>,
    /// ISO 8601 days: `P730D`.
    pub duration: Option<String>,
    /// Directory role template ids.
    pub roles: Option<Vec<String>>,
    /// `P180D` (auto-extend) or `PT0S` / absent (none).
    pub auto_extend_duration: Option<String>,
}

/// A validated new relationship.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRelationship {
    pub display_name: String,
    pub duration_days: i64,
    pub roles: Vec<DirectoryRole>,
    pub auto_extend: bool,
}

/// Parses an ISO 8601 duration in whole days, `P1D` to `P730D`.
pub fn parse_duration_days(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let bad = || {
        format!("'{s}' is not a duration in days: give an ISO 8601 duration from P1D to P{MAX_DURATION_DAYS}D")
    };
    let upper = t.to_ascii_uppercase();
    let digits = upper
        .strip_prefix('P')
        .and_then(|r| r.strip_suffix('D'))
        .ok_or_else(bad)?;
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let days: i64 = digits.parse().map_err(|_| bad())?;
    if !(1..=MAX_DURATION_DAYS).contains(&days) {
        return Err(bad());
    }
    Ok(days)
}

/// Parses directory role ids into a sorted set; every unknown id is named.
pub fn parse_roles(ids: &[String]) -> Result<Vec<DirectoryRole>, String> {
    let mut roles = Vec::new();
    let mut unknown = Vec::new();
    for id in ids {
        match DirectoryRole::by_id(id) {
            Some(r) => roles.push(r),
            None => unknown.push(format!("'{id}'")),
        }
    }
    if !unknown.is_empty() {
        return Err(format!(
            "{} not a directory role id of the catalogue",
            unknown.join(", ") + if unknown.len() == 1 { " is" } else { " are" }
        ));
    }
    if roles.is_empty() {
        return Err("give at least one directory role id".into());
    }
    roles.sort();
    roles.dedup();
    Ok(roles)
}

fn parse_auto_extend(s: Option<&str>) -> Result<bool, String> {
    match s.map(str::trim) {
        None | Some("") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("PT0S") || v.eq_ignore_ascii_case("P0D") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("P180D") => Ok(true),
        Some(v) => Err(format!(
            "'{v}' is not an auto-extend duration: give P180D (extend by 180 days) or PT0S (none)"
        )),
    }
}

impl NewRelationship {
    /// Checks every property and reports every failure at once.
    pub fn validate(input: &NewRelationshipInput) -> Result<Self, Invalid> {
        let mut bad = Invalid::default();
        let name = input
            .display_name
            .as_deref()
            .unwrap_or("")
            .trim()
            .to_string();
        if name.is_empty() {
            bad.push("displayName", "displayName is required");
        } else if name.chars().count() > MAX_DISPLAY_NAME {
            bad.push(
                "displayName",
                format!("displayName has more than {MAX_DISPLAY_NAME} characters"),
            );
        } else if name.chars().any(char::is_control) {
            bad.push("displayName", "displayName may not hold control characters");
        }
        let duration = match input.duration.as_deref() {
            None => {
                bad.push(
                    "duration",
                    "duration is required: an ISO 8601 duration from P1D to P730D",
                );
                None
            }
            Some(d) => bad.check("duration", parse_duration_days(d)),
        };
        let roles = match input.roles.as_deref() {
            None => {
                bad.push("roles", "roles is required: directory role ids");
                None
            }
            Some(ids) => bad.check("roles", parse_roles(ids)),
        };
        let auto_extend = bad.check(
            "autoExtendDuration",
            parse_auto_extend(input.auto_extend_duration.as_deref()),
        );
        if auto_extend == Some(true)
            && roles
                .as_ref()
                .is_some_and(|r| r.contains(&DirectoryRole::GlobalAdministrator))
        {
            bad.push(
                "autoExtendDuration",
                "a relationship that grants Global Administrator can't auto-extend: give PT0S",
            );
        }
        match (duration, roles, auto_extend) {
            (Some(duration_days), Some(roles), Some(auto_extend)) if bad.is_empty() => Ok(Self {
                display_name: name,
                duration_days,
                roles,
                auto_extend,
            }),
            _ => Err(bad),
        }
    }
}

/// Validates the roles of an access assignment: a non-empty subset of the relationship's.
pub fn assignment_roles(
    relationship: &Relationship,
    ids: Option<&[String]>,
) -> Result<Vec<DirectoryRole>, Invalid> {
    let Some(ids) = ids else {
        return Err(Invalid::one(
            "roles",
            "roles is required: directory role ids",
        ));
    };
    let roles = parse_roles(ids).map_err(|m| Invalid::one("roles", m))?;
    let outside: Vec<&str> = roles
        .iter()
        .filter(|r| !relationship.roles.contains(r))
        .map(|r| r.name())
        .collect();
    if !outside.is_empty() {
        return Err(Invalid::one(
            "roles",
            format!(
                "the relationship does not grant {}: assign a subset of its roles",
                outside.join(", ")
            ),
        ));
    }
    Ok(roles)
}

/// Roles as stored: their ids, comma-separated.
pub fn roles_to_text(roles: &[DirectoryRole]) -> String {
    roles.iter().map(|r| r.id()).collect::<Vec<_>>().join(",")
}

/// Roles from their stored text; `None` when an id is unknown.
pub fn roles_from_text(text: &str) -> Option<Vec<DirectoryRole>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(DirectoryRole::by_id)
        .collect()
}

/// A relationship as read at one moment: its status and end then, and its assignments.
#[derive(Clone, Debug)]
pub struct RelationshipView {
    pub relationship: Relationship,
    pub status: RelationshipStatus,
    pub ends_at: Option<Timestamp>,
    pub assignments: Vec<AccessAssignment>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use DirectoryRole::*;

    fn input(
        name: &str,
        duration: &str,
        roles: &[DirectoryRole],
        auto: Option<&str>,
    ) -> NewRelationshipInput {
        NewRelationshipInput {
            display_name: Some(name.into()),
            duration: Some(duration.into()),
            roles: Some(roles.iter().map(|r| r.id().to_string()).collect()),
            auto_extend_duration: auto.map(Into::into),
        }
    }

    #[test]
    fn durations() {
        let table: &[(&str, Option<i64>)] = &[
            ("P1D", Some(1)),
            ("p30d", Some(30)),
            (" P730D ", Some(730)),
            ("P365D", Some(365)),
            ("P0D", None),
            ("P731D", None),
            ("P99999D", None),
            ("P-1D", None),
            ("P1.5D", None),
            ("PD", None),
            ("730", None),
            ("P2Y", None),
            ("PT24H", None),
            ("P1W", None),
            ("", None),
            ("P1DD", None),
        ];
        for (s, want) in table {
            assert_eq!(parse_duration_days(s).ok(), *want, "{s:?}");
        }
        for d in 1..=730 {
            assert_eq!(parse_duration_days(&format!("P{d}D")), Ok(d));
        }
    }

    #[test]
    fn names_roles_and_auto_extend() {
        let long = "x".repeat(51);
        let fifty = "y".repeat(50);
        let table: Vec<(NewRelationshipInput, Result<(), Vec<&str>>)> = vec![
            (
                input("Contoso helpdesk", "P730D", &[UserAdministrator], None),
                Ok(()),
            ),
            (
                input(&fifty, "P1D", &[DirectoryReaders], Some("P180D")),
                Ok(()),
            ),
            (
                input("Everything", "P90D", &[GlobalAdministrator], Some("PT0S")),
                Ok(()),
            ),
            (
                input("", "P90D", &[UserAdministrator], None),
                Err(vec!["displayName"]),
            ),
            (
                input("   ", "P90D", &[UserAdministrator], None),
                Err(vec!["displayName"]),
            ),
            (
                input(&long, "P90D", &[UserAdministrator], None),
                Err(vec!["displayName"]),
            ),
            (
                input("a\u{7}b", "P90D", &[UserAdministrator], None),
                Err(vec!["displayName"]),
            ),
            (
                input("ok", "P0D", &[UserAdministrator], None),
                Err(vec!["duration"]),
            ),
            (input("ok", "P90D", &[], None), Err(vec!["roles"])),
            (
                input(
                    "ok",
                    "P90D",
                    &[GlobalAdministrator, UserAdministrator],
                    Some("P180D"),
                ),
                Err(vec!["autoExtendDuration"]),
            ),
            (
                input("ok", "P90D", &[UserAdministrator], Some("P90D")),
                Err(vec!["autoExtendDuration"]),
            ),
            (
                input(&long, "P731D", &[], Some("x")),
                Err(vec![
                    "displayName",
                    "duration",
                    "roles",
                    "autoExtendDuration",
                ]),
            ),
            (
                NewRelationshipInput::default(),
                Err(vec!["displayName", "duration", "roles"]),
            ),
        ];
        for (i, want) in table {
            let got = NewRelationship::validate(&i)
                .map(|_| ())
                .map_err(|e| e.fields());
            let want = want.map_err(|v| v.into_iter().map(String::from).collect::<Vec<_>>());
            assert_eq!(got, want, "{i:?}");
        }
        let unknown = NewRelationshipInput {
            roles: Some(vec!["not-a-role".into()]),
            ..input("ok", "P1D", &[], None)
        };
        assert_eq!(
            NewRelationship::validate(&unknown).unwrap_err().fields(),
            vec!["roles"]
        );
        let ok = NewRelationship::validate(&input(
            " Name ",
            "P10D",
            &[UserAdministrator, DirectoryReaders, UserAdministrator],
            Some("p180d"),
        ))
        .unwrap();
        assert_eq!(ok.display_name, "Name");
        assert_eq!(ok.roles, vec![UserAdministrator, DirectoryReaders]);
        assert!(ok.auto_extend);
    }

    fn relationship(days: i64, auto_extend: bool) -> Relationship {
        Relationship {
            id: RelationshipId::new_random(),
            partner: PartnerId::new_random(),
            customer: CustomerId::new_random(),
            display_name: "r".into(),
            duration_days: days,
            roles: vec![UserAdministrator, DirectoryReaders],
            auto_extend,
            status: RelationshipStatus::Active,
            created_at: Timestamp::from_unix_millis(0),
            activated_at: Some(Timestamp::from_unix_millis(0)),
            terminated_at: None,
        }
    }

    #[test]
    fn expiry_and_auto_extension_follow_the_clock() {
        let day = |d: i64| Timestamp::from_unix_millis(0).plus(Duration::from_days(d));
        let r = relationship(10, false);
        assert_eq!(r.status_at(day(9)), RelationshipStatus::Active);
        assert_eq!(r.status_at(day(10)), RelationshipStatus::Expired);
        assert_eq!(r.end_at(day(100)), Some(day(10)));
        let r = relationship(10, true);
        assert_eq!(r.status_at(day(10)), RelationshipStatus::Active);
        assert_eq!(r.end_at(day(10)), Some(day(190)));
        assert_eq!(r.end_at(day(190)), Some(day(370)));
        assert_eq!(r.end_at(day(5)), Some(day(10)));
        let mut t = relationship(10, false);
        t.status = RelationshipStatus::Terminated;
        assert_eq!(t.status_at(day(1)), RelationshipStatus::Terminated);
        let mut p = relationship(10, false);
        p.status = RelationshipStatus::ApprovalPending;
        p.activated_at = None;
        assert_eq!(p.status_at(day(1000)), RelationshipStatus::ApprovalPending);
        for s in RelationshipStatus::ALL {
            assert_eq!(RelationshipStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn assignments_take_a_subset() {
        let r = relationship(10, false);
        let ids =
            |roles: &[DirectoryRole]| roles.iter().map(|r| r.id().to_string()).collect::<Vec<_>>();
        assert_eq!(
            assignment_roles(&r, Some(&ids(&[DirectoryReaders]))),
            Ok(vec![DirectoryReaders])
        );
        assert!(assignment_roles(&r, Some(&ids(&[GlobalAdministrator]))).is_err());
        assert!(assignment_roles(&r, Some(&[])).is_err());
        assert!(assignment_roles(&r, None).is_err());
        assert_eq!(
            roles_from_text(&roles_to_text(&r.roles)),
            Some(r.roles.clone())
        );
        assert_eq!(roles_from_text("nope"), None);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// `P{n}D` in any case, padded, gives n for 1 to 730 and is refused outside.
        #[test]
        fn p_n_d_gives_n_from_1_to_730_only(
            n in prop_oneof![0..=800i64, 0..=i64::MAX],
            p in "[Pp]",
            d in "[Dd]",
            before in "[ \t]{0,2}",
            after in "[ \t\n]{0,2}",
        ) {
            let parsed = parse_duration_days(&format!("{before}{p}{n}{d}{after}"));
            if (1..=MAX_DURATION_DAYS).contains(&n) {
                prop_assert_eq!(parsed, Ok(n));
            } else {
                prop_assert!(parsed.is_err());
            }
        }

        /// Whatever the text, parsing answers, and an accepted duration was `P`, 1 to 4
        /// digits and `D`, within 1 to 730 days.
        #[test]
        fn arbitrary_text_never_passes_as_days(
            s in prop_oneof![any::<String>(), "[PpTtDdYyWwHh0-9.+-]{0,8}"],
        ) {
            if let Ok(days) = parse_duration_days(&s) {
                prop_assert!((1..=MAX_DURATION_DAYS).contains(&days));
                let t = s.trim().to_ascii_uppercase();
                let digits = t.strip_prefix('P').and_then(|r| r.strip_suffix('D'));
                prop_assert!(
                    digits.is_some_and(|d| (1..=4).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit())),
                    "{s:?}"
                );
            }
        }
    }
}
