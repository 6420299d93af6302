//! Users of the partner's own tenant and their access to the Roster account.

use std::collections::BTreeMap;

use crate::authz::{Area, CustomPermissions, Level, PartnerRole};
use crate::customer_user::UserState;
use crate::ids::{GroupId, PartnerId, UserId};
use crate::password::{PasswordChoice, PersonalWords};
use crate::text;
use crate::time::Timestamp;
use crate::upn::Upn;
use crate::validation::Invalid;

/// What a partner user may do in the Roster account: roles, or custom permissions.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Access {
    /// The user's own roles (not those it has through groups).
    pub roles: Vec<PartnerRole>,
    pub custom: Option<CustomPermissions>,
}

/// A directory user of a partner tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerUser {
    pub id: UserId,
    pub partner: PartnerId,
    pub upn: Upn,
    pub display_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub state: UserState,
    /// An invited outside user.
    pub is_guest: bool,
    pub is_directory_global_admin: bool,
    /// `None`: a directory user without access to the Roster account.
    pub access: Option<Access>,
    /// Ids of the security groups the user belongs to.
    pub groups: Vec<GroupId>,
    /// The user's last request to Roster (in the 30 days of history kept).
    pub last_activity: Option<Timestamp>,
    pub version: i64,
    pub created_at: Timestamp,
}

impl PartnerUser {
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// A security group of a partner tenant, with the account roles its members get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityGroup {
    pub id: GroupId,
    pub partner: PartnerId,
    pub display_name: String,
    pub description: Option<String>,
    pub roles: Vec<PartnerRole>,
    pub created_at: Timestamp,
}

/// Reads access as a client gives it: `roles` (names or ids) or `customPermissions`
/// (`{area: level}`), not both. `Ok(None)` when neither is given.
pub fn parse_access(
    roles: Option<&[String]>,
    custom: Option<&BTreeMap<String, String>>,
) -> Result<Option<Access>, Invalid> {
    match (roles, custom) {
        (Some(_), Some(_)) => Err(Invalid::one(
            "customPermissions",
            "give either roles or customPermissions, not both",
        )),
        (Some(names), None) => {
            let mut bad = Invalid::default();
            let mut roles = Vec::new();
            for name in names {
                match PartnerRole::parse(name) {
                    Some(r) => roles.push(r),
                    None => bad.push(
                        "roles",
                        format!(
                            "'{name}' is not a role: use Global admin, User management admin, Admin agent, Helpdesk agent, Sales agent or Billing admin"
                        ),
                    ),
                }
            }
            roles.sort();
            roles.dedup();
            bad.into_result(Some(Access {
                roles,
                custom: None,
            }))
        }
        (None, Some(map)) => {
            let mut bad = Invalid::default();
            let mut levels = BTreeMap::new();
            for (area, level) in map {
                match (Area::parse(area), Level::parse(level)) {
                    (Some(a), Some(l)) => {
                        levels.insert(a, l);
                    }
                    (None, _) => bad.push(
                        "customPermissions",
                        format!("'{area}' is not an area: use accountUsers, customers, customerUsers, licences, delegatedAccess or audit"),
                    ),
                    (_, None) => bad.push(
                        "customPermissions",
                        format!("'{level}' is not a level for {area}: use no_access, read or read_write"),
                    ),
                }
            }
            bad.into_result(Some(Access {
                roles: Vec::new(),
                custom: Some(CustomPermissions(levels)),
            }))
        }
        (None, None) => Ok(None),
    }
}

/// A new directory user of the partner tenant with account access, as a client asks for it.
#[derive(Clone, Debug, Default)]
pub struct NewPartnerUserInput {
    pub user_principal_name: Option<String>,
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub roles: Option<Vec<String>>,
    pub custom_permissions: Option<BTreeMap<String, String>>,
    pub groups: Option<Vec<String>>,
    pub is_directory_global_admin: bool,
    pub password_recovery_email: Option<String>,
    pub password: Option<String>,
    pub force_change_password: Option<bool>,
}

/// A change to a partner user; `None` leaves a property as it is.
#[derive(Clone, Debug, Default)]
pub struct PartnerUserPatch {
    pub user_principal_name: Option<String>,
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub roles: Option<Vec<String>>,
    pub custom_permissions: Option<BTreeMap<String, String>>,
    pub groups: Option<Vec<String>>,
    /// A `passwordProfile` was sent: reset the password (a temporary one is generated when
    /// `password` is `None`).
    pub reset_password: bool,
    pub password: Option<String>,
    pub force_change_password: Option<bool>,
}

/// The longest first and last name of a partner user.
pub const NAME_MAX: usize = 64;
/// The longest display name.
pub const DISPLAY_NAME_MAX: usize = 256;

/// A valid new partner user. Whether its UPN's domain is the partner's, and its groups
/// exist, only the store can say.
#[derive(Clone, Debug)]
pub struct NewPartnerUser {
    pub upn: Upn,
    pub display_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub access: Access,
    pub groups: Vec<String>,
    pub is_directory_global_admin: bool,
    pub password_recovery_email: Option<String>,
    pub password: PasswordChoice,
    pub force_change_password: bool,
}

impl NewPartnerUser {
    /// Validates a create request; every failing property is reported. Without a display
    /// name the first and last names make one; a directory Global administrator needs a
    /// password-recovery email; a generated password is temporary, a given one is unless
    /// `forceChangePassword` is false.
    pub fn validate(input: &NewPartnerUserInput) -> Result<Self, Invalid> {
        let mut bad = Invalid::default();
        let upn = bad.check(
            "userPrincipalName",
            Upn::parse(input.user_principal_name.as_deref().unwrap_or("")),
        );
        let first = bad
            .check(
                "firstName",
                text::optional(input.first_name.as_deref(), NAME_MAX),
            )
            .flatten();
        let last = bad
            .check(
                "lastName",
                text::optional(input.last_name.as_deref(), NAME_MAX),
            )
            .flatten();
        let display_source = input.display_name.clone().or_else(|| {
            let joined = [first.as_deref(), last.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (!joined.is_empty()).then_some(joined)
        });
        let display = bad.check(
            "displayName",
            text::bounded(
                display_source.as_deref().unwrap_or(""),
                DISPLAY_NAME_MAX,
                true,
            ),
        );
        let access = match parse_access(input.roles.as_deref(), input.custom_permissions.as_ref()) {
            Ok(a) => a.unwrap_or_default(),
            Err(e) => {
                bad.0.extend(e.0);
                Access::default()
            }
        };
        let recovery = if input.is_directory_global_admin {
            match input.password_recovery_email.as_deref().map(str::trim) {
                Some(e) if crate::upn::looks_like_email(e) => Some(e.to_string()),
                _ => {
                    bad.push("passwordRecoveryEmail", "is required for a directory Global administrator: give an email address outside this tenant");
                    None
                }
            }
        } else {
            None
        };
        let password = upn.as_ref().and_then(|u| {
            let personal = PersonalWords {
                first_name: first.as_deref(),
                last_name: last.as_deref(),
                upn_alias: Some(u.alias()),
            };
            bad.check(
                "passwordProfile.password",
                PasswordChoice::of(input.password.as_deref(), personal),
            )
        });
        match (upn, display, password) {
            (Some(upn), Some(display_name), Some(password)) if bad.is_empty() => Ok(Self {
                upn,
                display_name,
                first_name: first,
                last_name: last,
                access,
                groups: input.groups.clone().unwrap_or_default(),
                is_directory_global_admin: input.is_directory_global_admin,
                password_recovery_email: recovery,
                force_change_password: password.is_generated()
                    || input.force_change_password.unwrap_or(true),
                password,
            }),
            _ => Err(bad),
        }
    }

    /// What the password must not contain.
    pub fn personal_words(&self) -> PersonalWords<'_> {
        PersonalWords {
            first_name: self.first_name.as_deref(),
            last_name: self.last_name.as_deref(),
            upn_alias: Some(self.upn.alias()),
        }
    }
}

/// A PATCH of a partner user, validated against the user as it is.
#[derive(Clone, Debug)]
pub struct PartnerUserChanges {
    /// The user with the PATCH's names and UPN.
    pub user: PartnerUser,
    /// The account access it gives; `None`: the access stays.
    pub access: Option<Access>,
    /// A reset: the new password, and whether it must be changed at the next sign-in.
    pub password: Option<(PasswordChoice, bool)>,
}

impl PartnerUserChanges {
    /// Every problem of the PATCH is reported together.
    pub fn validate(before: &PartnerUser, patch: &PartnerUserPatch) -> Result<Self, Invalid> {
        let mut bad = Invalid::default();
        let mut user = before.clone();
        if let Some(raw) = &patch.user_principal_name {
            if let Some(u) = bad.check("userPrincipalName", Upn::parse(raw)) {
                user.upn = u;
            }
        }
        if let Some(raw) = &patch.display_name {
            if let Some(d) = bad.check("displayName", text::bounded(raw, DISPLAY_NAME_MAX, true)) {
                user.display_name = d;
            }
        }
        if let Some(raw) = &patch.first_name {
            if let Some(v) = bad.check("firstName", text::optional(Some(raw), NAME_MAX)) {
                user.first_name = v;
            }
        }
        if let Some(raw) = &patch.last_name {
            if let Some(v) = bad.check("lastName", text::optional(Some(raw), NAME_MAX)) {
                user.last_name = v;
            }
        }
        let access = match parse_access(patch.roles.as_deref(), patch.custom_permissions.as_ref()) {
            Ok(a) => a,
            Err(e) => {
                bad.0.extend(e.0);
                None
            }
        };
        let password = if patch.reset_password {
            let personal = PersonalWords {
                first_name: user.first_name.as_deref(),
                last_name: user.last_name.as_deref(),
                upn_alias: Some(user.upn.alias()),
            };
            bad.check(
                "passwordProfile.password",
                PasswordChoice::of(patch.password.as_deref(), personal),
            )
            .map(|choice| {
                let force = choice.is_generated() || patch.force_change_password.unwrap_or(true);
                (choice, force)
            })
        } else {
            None
        };
        bad.into_result(Self {
            user,
            access,
            password,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(upn: &str) -> NewPartnerUserInput {
        NewPartnerUserInput {
            user_principal_name: Some(upn.into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_new_partner_user_is_validated_whole() {
        // The names make the display name; no password: a temporary one, to be changed.
        let ok = NewPartnerUser::validate(&NewPartnerUserInput {
            first_name: Some(" Grace ".into()),
            last_name: Some("Hopper".into()),
            roles: Some(vec!["Admin agent".into()]),
            ..input("grace@partner.local")
        })
        .unwrap();
        assert_eq!(ok.display_name, "Grace Hopper");
        assert_eq!(ok.first_name.as_deref(), Some("Grace"));
        assert!(ok.password.is_generated() && ok.force_change_password);
        assert_eq!(ok.access.roles, vec![PartnerRole::AdminAgent]);
        // A given password is temporary unless the caller says otherwise.
        let given = |force: Option<bool>| {
            NewPartnerUser::validate(&NewPartnerUserInput {
                display_name: Some("G".into()),
                password: Some("Tq7#vLm2xR-given".into()),
                force_change_password: force,
                ..input("grace@partner.local")
            })
            .unwrap()
            .force_change_password
        };
        assert!(given(None) && given(Some(true)) && !given(Some(false)));
        // Every problem at once.
        let bad = NewPartnerUser::validate(&NewPartnerUserInput {
            user_principal_name: Some("not an upn".into()),
            first_name: Some("x".repeat(65)),
            roles: Some(vec!["Owner".into()]),
            is_directory_global_admin: true,
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = bad.0.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "userPrincipalName",
            "firstName",
            "roles",
            "passwordRecoveryEmail",
            "displayName",
        ] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
        // The password may not hold the user's own names.
        let named = NewPartnerUser::validate(&NewPartnerUserInput {
            first_name: Some("Grace".into()),
            password: Some("Grace#2026-Tq7vLm".into()),
            ..input("grace@partner.local")
        })
        .unwrap_err();
        assert_eq!(named.0[0].field, "passwordProfile.password");
    }

    #[test]
    fn a_patch_is_validated_against_the_user() {
        let before = PartnerUser {
            id: UserId::new_random(),
            partner: PartnerId::new_random(),
            upn: Upn::parse("ada@partner.local").unwrap(),
            display_name: "Ada".into(),
            first_name: Some("Ada".into()),
            last_name: None,
            state: UserState::Active,
            is_guest: false,
            is_directory_global_admin: false,
            access: Some(Access::default()),
            groups: vec![],
            last_activity: None,
            version: 1,
            created_at: Timestamp::from_unix_millis(0),
        };
        let c = PartnerUserChanges::validate(
            &before,
            &PartnerUserPatch {
                last_name: Some("Lovelace".into()),
                reset_password: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            (c.user.first_name.as_deref(), c.user.last_name.as_deref()),
            (Some("Ada"), Some("Lovelace"))
        );
        assert!(c.access.is_none());
        assert!(matches!(c.password, Some((PasswordChoice::Generate, true))));
        // The new last name counts against the new password; the errors come together.
        let bad = PartnerUserChanges::validate(
            &before,
            &PartnerUserPatch {
                user_principal_name: Some("@".into()),
                last_name: Some("Lovelace".into()),
                reset_password: true,
                password: Some("Lovelace#2026-Tq7".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        let fields: Vec<&str> = bad.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["userPrincipalName", "passwordProfile.password"]
        );
    }

    #[test]
    fn roles_or_custom_permissions() {
        let names = vec![
            "Global admin".to_string(),
            "admin_agent".into(),
            PartnerRole::BillingAdmin.id().into(),
        ];
        let a = parse_access(Some(&names), None).unwrap().unwrap();
        assert_eq!(
            a.roles,
            vec![
                PartnerRole::GlobalAdmin,
                PartnerRole::AdminAgent,
                PartnerRole::BillingAdmin
            ]
        );
        assert!(parse_access(Some(&["Owner".to_string()]), None).is_err());
        let mut map = BTreeMap::new();
        map.insert("customers".to_string(), "read".to_string());
        let a = parse_access(None, Some(&map)).unwrap().unwrap();
        assert_eq!(a.custom.unwrap().level(Area::Customers), Level::Read);
        assert!(parse_access(Some(&names), Some(&map)).is_err());
        map.insert("billing".to_string(), "read".to_string());
        assert!(parse_access(None, Some(&map)).is_err());
        assert_eq!(parse_access(None, None), Ok(None));
    }
}
