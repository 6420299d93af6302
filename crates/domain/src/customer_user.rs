//! Customer users: their properties, the rules on each, and the lifecycle.

use crate::country::CountryCode;
use crate::customer::{DomainKind, TenantDomain};
use crate::ids::{CustomerId, UserId};
use crate::password::{self, Password, PasswordChoice, PersonalWords};
use crate::text;
use crate::time::Timestamp;
use crate::upn::Upn;
use crate::validation::Invalid;

pub const DISPLAY_NAME_MAX: usize = 256;
pub const NAME_MAX: usize = 64;
pub const IMMUTABLE_ID_MAX: usize = 256;
pub const PHONE_MAX: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UserState {
    Active,
    /// Soft-deleted: restorable until the purge.
    Inactive,
}

impl UserState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }
    /// Any casing of `active` / `inactive`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "active" => Some(Self::Active),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }
}

/// What kind of domain the user's UPN is on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UserDomainType {
    None,
    Managed,
    Federated,
}

impl UserDomainType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Managed => "managed",
            Self::Federated => "federated",
        }
    }
    pub fn of(kind: DomainKind) -> Self {
        match kind {
            DomainKind::Initial => Self::None,
            DomainKind::Managed => Self::Managed,
            DomainKind::Federated => Self::Federated,
        }
    }
}

/// A user of a customer tenant.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CustomerUser {
    pub id: UserId,
    pub customer: CustomerId,
    pub upn: Upn,
    pub display_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub usage_location: Option<CountryCode>,
    pub immutable_id: Option<String>,
    pub phone_number: Option<String>,
    pub domain_type: UserDomainType,
    pub state: UserState,
    pub soft_deleted_at: Option<Timestamp>,
    pub force_change_password: bool,
    /// Bumped by every write; the etag is derived from it.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl CustomerUser {
    /// A quoted opaque entity tag that changes on every write.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// A user's properties as a client sends them, before validation. `None` means "not given".
#[derive(Clone, Debug, Default)]
pub struct UserInput {
    pub user_principal_name: Option<String>,
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub usage_location: Option<String>,
    pub immutable_id: Option<String>,
    pub phone_number: Option<String>,
    /// `passwordProfile.password`.
    pub password: Option<String>,
    /// `passwordProfile.forceChangePassword`.
    pub force_change_password: Option<bool>,
    /// Whether a `passwordProfile` object was sent at all.
    pub password_profile_given: bool,
    /// `state`, as sent.
    pub state: Option<String>,
}

/// A valid new customer user.
#[derive(Clone, Debug)]
pub struct NewCustomerUser {
    pub upn: Upn,
    pub domain_type: UserDomainType,
    pub display_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub usage_location: Option<CountryCode>,
    pub immutable_id: Option<String>,
    pub phone_number: Option<String>,
    pub password: PasswordChoice,
    pub force_change_password: bool,
}

impl NewCustomerUser {
    /// Validates a create request against the tenant's domains. Every failing property is
    /// reported. `id`, `state` and other read-only properties are not looked at.
    pub fn validate(input: &UserInput, domains: &[TenantDomain]) -> Result<Self, Invalid> {
        let mut bad = Invalid::default();
        let upn = bad.check(
            "userPrincipalName",
            Upn::parse(input.user_principal_name.as_deref().unwrap_or("")),
        );
        let domain_type = upn
            .as_ref()
            .and_then(|u| bad.check("userPrincipalName", domain_type_for_new(u, domains)));
        let display_name = bad.check(
            "displayName",
            text::bounded(
                input.display_name.as_deref().unwrap_or(""),
                DISPLAY_NAME_MAX,
                true,
            ),
        );
        let props = OptionalProps::validate(input, &mut bad);
        let personal = PersonalWords {
            first_name: props.first_name.as_deref(),
            last_name: props.last_name.as_deref(),
            upn_alias: upn.as_ref().map(Upn::alias),
        };
        let password = bad.check(
            "passwordProfile.password",
            PasswordChoice::of(input.password.as_deref(), personal),
        );
        // A generated password is temporary by definition; a given one is as the caller says.
        let force_change_password = matches!(password, Some(PasswordChoice::Generate))
            || input.force_change_password.unwrap_or(false);
        match (upn, domain_type, display_name, password) {
            (Some(upn), Some(domain_type), Some(display_name), Some(password))
                if bad.is_empty() =>
            {
                Ok(Self {
                    upn,
                    domain_type,
                    display_name,
                    first_name: props.first_name,
                    last_name: props.last_name,
                    usage_location: props.usage_location.flatten(),
                    immutable_id: props.immutable_id,
                    phone_number: props.phone_number,
                    password,
                    force_change_password,
                })
            }
            _ => Err(bad),
        }
    }
}

/// The optional properties, validated; on create `None` means "not set".
struct OptionalProps {
    first_name: Option<String>,
    last_name: Option<String>,
    usage_location: Option<Option<CountryCode>>,
    immutable_id: Option<String>,
    phone_number: Option<String>,
}

impl OptionalProps {
    fn validate(input: &UserInput, bad: &mut Invalid) -> Self {
        let mut opt = |field: &str, raw: &Option<String>, max: usize| {
            bad.check(field, text::optional(raw.as_deref(), max))
                .flatten()
        };
        let first_name = opt("firstName", &input.first_name, NAME_MAX);
        let last_name = opt("lastName", &input.last_name, NAME_MAX);
        let immutable_id = opt("immutableId", &input.immutable_id, IMMUTABLE_ID_MAX);
        let phone_number = opt("phoneNumber", &input.phone_number, PHONE_MAX);
        let usage_location = match input.usage_location.as_deref() {
            None => None,
            Some(raw) if raw.trim().is_empty() => Some(None),
            Some(raw) => bad
                .check("usageLocation", CountryCode::parse(raw))
                .map(Some),
        };
        Self {
            first_name,
            last_name,
            usage_location,
            immutable_id,
            phone_number,
        }
    }
}

fn domain_kind(upn: &Upn, domains: &[TenantDomain]) -> Result<DomainKind, String> {
    let domain = upn.domain();
    domains
        .iter()
        .find(|d| d.name == domain)
        .map(|d| d.kind)
        .ok_or_else(|| format!("the domain '{domain}' is not a domain of this customer"))
}

pub(crate) fn domain_type_for_new(
    upn: &Upn,
    domains: &[TenantDomain],
) -> Result<UserDomainType, String> {
    match domain_kind(upn, domains)? {
        DomainKind::Federated => Err("user domain can't be a federated domain".into()),
        kind => Ok(UserDomainType::of(kind)),
    }
}

/// What a PATCH on a user does, decided from the user's state and the body's `state`
/// (rest-api.md §6, PATCH semantics).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PatchKind {
    /// Edit an active user.
    Update,
    /// Restore a soft-deleted user, then apply the other properties.
    Restore,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub enum PatchRefused {
    /// `state: "inactive"` or an unknown state: a 400 on the `state` property.
    Invalid(Invalid),
    /// An inactive user and no `state: "active"`: restore first.
    NotActive,
}

pub fn patch_kind(current: UserState, state: Option<&str>) -> Result<PatchKind, PatchRefused> {
    let wanted = match state {
        None => None,
        Some(raw) => match UserState::parse(raw) {
            Some(UserState::Active) => Some(UserState::Active),
            Some(UserState::Inactive) => {
                return Err(PatchRefused::Invalid(Invalid::one(
                    "state",
                    "can't be set to inactive by PATCH: delete the user with DELETE",
                )))
            }
            None => {
                return Err(PatchRefused::Invalid(Invalid::one(
                    "state",
                    format!("'{raw}' is not a user state: give active"),
                )))
            }
        },
    };
    match (current, wanted) {
        (UserState::Active, _) => Ok(PatchKind::Update),
        (UserState::Inactive, Some(UserState::Active)) => Ok(PatchKind::Restore),
        (UserState::Inactive, _) => Err(PatchRefused::NotActive),
    }
}

/// A valid set of changes to an existing user. Each `Some` is a new value.
#[derive(Clone, Debug, Default)]
pub struct UserChanges {
    pub upn: Option<(Upn, UserDomainType)>,
    pub display_name: Option<String>,
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub usage_location: Option<Option<CountryCode>>,
    pub immutable_id: Option<Option<String>>,
    pub phone_number: Option<Option<String>>,
    pub password: Option<PasswordChoice>,
    pub force_change_password: Option<bool>,
}

impl UserChanges {
    /// Validates a PATCH body against the current user. A property sent as `null` is left
    /// unchanged; an optional property sent as `""` is cleared; a property equal to the
    /// current value is no change. A reset needs a `passwordProfile` with a `password`;
    /// `forceChangePassword` alone only sets the flag.
    pub fn validate(
        current: &CustomerUser,
        input: &UserInput,
        domains: &[TenantDomain],
    ) -> Result<Self, Invalid> {
        let mut bad = Invalid::default();
        let mut changes = Self::default();
        if let Some(raw) = input.user_principal_name.as_deref() {
            if let Some(upn) = bad.check("userPrincipalName", Upn::parse(raw)) {
                if upn.as_str() != current.upn.as_str() {
                    match domain_kind(&upn, domains) {
                        Err(msg) => bad.push("userPrincipalName", msg),
                        Ok(DomainKind::Federated) => {
                            let immutable = input
                                .immutable_id
                                .as_deref()
                                .or(current.immutable_id.as_deref());
                            if immutable.is_none_or(|s| s.trim().is_empty()) {
                                bad.push(
                                    "immutableId",
                                    "is required for a user on a federated domain",
                                );
                            }
                            changes.upn = Some((upn, UserDomainType::Federated));
                        }
                        Ok(kind) => changes.upn = Some((upn, UserDomainType::of(kind))),
                    }
                }
            }
        }
        if let Some(raw) = input.display_name.as_deref() {
            if let Some(name) = bad.check("displayName", text::bounded(raw, DISPLAY_NAME_MAX, true))
            {
                changes.display_name = (name != current.display_name).then_some(name);
            }
        }
        let props = OptionalProps::validate(input, &mut bad);
        let differs = |new: &Option<String>, old: &Option<String>| new != old;
        if input.first_name.is_some() && differs(&props.first_name, &current.first_name) {
            changes.first_name = Some(props.first_name.clone());
        }
        if input.last_name.is_some() && differs(&props.last_name, &current.last_name) {
            changes.last_name = Some(props.last_name.clone());
        }
        if input.immutable_id.is_some() && differs(&props.immutable_id, &current.immutable_id) {
            changes.immutable_id = Some(props.immutable_id.clone());
        }
        if input.phone_number.is_some() && differs(&props.phone_number, &current.phone_number) {
            changes.phone_number = Some(props.phone_number.clone());
        }
        if let Some(loc) = props.usage_location {
            if loc != current.usage_location {
                changes.usage_location = Some(loc);
            }
        }
        let federated = changes
            .upn
            .as_ref()
            .map_or(current.domain_type, |(_, t)| *t)
            == UserDomainType::Federated;
        if let Some(raw) = input.password.as_deref() {
            if federated {
                bad.push("passwordProfile.password", "user domain can't be a federated domain: its passwords are managed by the federation");
            } else {
                let first = changes
                    .first_name
                    .clone()
                    .unwrap_or_else(|| current.first_name.clone());
                let last = changes
                    .last_name
                    .clone()
                    .unwrap_or_else(|| current.last_name.clone());
                let alias = changes
                    .upn
                    .as_ref()
                    .map_or(current.upn.alias(), |(u, _)| u.alias())
                    .to_string();
                let personal = PersonalWords {
                    first_name: first.as_deref(),
                    last_name: last.as_deref(),
                    upn_alias: Some(&alias),
                };
                if let Some(pw) =
                    bad.check("passwordProfile.password", password::check(raw, personal))
                {
                    changes.password = Some(PasswordChoice::Given(pw));
                }
            }
        }
        if input.password_profile_given {
            changes.force_change_password = input.force_change_password;
        }
        bad.into_result(changes)
    }

    pub fn is_empty(&self) -> bool {
        self.upn.is_none()
            && self.display_name.is_none()
            && self.first_name.is_none()
            && self.last_name.is_none()
            && self.usage_location.is_none()
            && self.immutable_id.is_none()
            && self.phone_number.is_none()
            && self.password.is_none()
            && self.force_change_password.is_none()
    }

    /// True when a property other than the password (and its flag) changes.
    pub fn edits_properties(&self) -> bool {
        self.display_name.is_some()
            || self.first_name.is_some()
            || self.last_name.is_some()
            || self.usage_location.is_some()
            || self.immutable_id.is_some()
            || self.phone_number.is_some()
    }

    /// Applies the changes (but not the password, which the store keeps apart) to `user`.
    pub fn apply_to(&self, user: &mut CustomerUser) {
        if let Some((upn, kind)) = &self.upn {
            user.upn = upn.clone();
            user.domain_type = *kind;
        }
        if let Some(v) = &self.display_name {
            user.display_name = v.clone();
        }
        if let Some(v) = &self.first_name {
            user.first_name = v.clone();
        }
        if let Some(v) = &self.last_name {
            user.last_name = v.clone();
        }
        if let Some(v) = self.usage_location {
            user.usage_location = v;
        }
        if let Some(v) = &self.immutable_id {
            user.immutable_id = v.clone();
        }
        if let Some(v) = &self.phone_number {
            user.phone_number = v.clone();
        }
        if let Some(force) = self.force_change_password {
            user.force_change_password = force;
        }
    }
}

/// The password profile a PATCH answers with, when it carried one.
#[derive(Debug)]
pub struct PasswordEcho {
    /// The password the caller sent, echoed; `None` when it sent only the flag.
    pub password: Option<Password>,
    pub force_change_password: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upn::DomainName;

    fn domains() -> Vec<TenantDomain> {
        vec![
            TenantDomain {
                name: DomainName::parse("contoso.onmicrosoft.com").unwrap(),
                kind: DomainKind::Initial,
            },
            TenantDomain {
                name: DomainName::parse("contoso.com").unwrap(),
                kind: DomainKind::Managed,
            },
            TenantDomain {
                name: DomainName::parse("fed.contoso.com").unwrap(),
                kind: DomainKind::Federated,
            },
        ]
    }

    fn input(upn: &str, display: &str) -> UserInput {
        UserInput {
            user_principal_name: Some(upn.into()),
            display_name: Some(display.into()),
            ..Default::default()
        }
    }

    fn existing() -> CustomerUser {
        let new = NewCustomerUser::validate(&input("ada@contoso.com", "Ada"), &domains()).unwrap();
        CustomerUser {
            id: UserId::new_random(),
            customer: CustomerId::new_random(),
            upn: new.upn,
            display_name: new.display_name,
            first_name: Some("Ada".into()),
            last_name: None,
            usage_location: None,
            immutable_id: None,
            phone_number: None,
            domain_type: new.domain_type,
            state: UserState::Active,
            soft_deleted_at: None,
            force_change_password: false,
            version: 1,
            created_at: Timestamp::from_unix_millis(0),
            updated_at: Timestamp::from_unix_millis(0),
        }
    }

    #[test]
    fn domain_types() {
        let d = domains();
        let none = NewCustomerUser::validate(&input("a@Contoso.OnMicrosoft.com", "A"), &d).unwrap();
        assert_eq!(none.domain_type, UserDomainType::None);
        let managed = NewCustomerUser::validate(&input("a@contoso.com", "A"), &d).unwrap();
        assert_eq!(managed.domain_type, UserDomainType::Managed);
        let fed = NewCustomerUser::validate(&input("a@fed.contoso.com", "A"), &d).unwrap_err();
        assert_eq!(fed.0[0].message, "user domain can't be a federated domain");
        let foreign = NewCustomerUser::validate(&input("a@fabrikam.com", "A"), &d).unwrap_err();
        assert!(foreign.0[0]
            .message
            .contains("not a domain of this customer"));
    }

    #[test]
    fn property_rules_table() {
        // (field set on an otherwise valid input, value, accepted?)
        type Setter = fn(&mut UserInput, String);
        let set_display: Setter = |i, v| i.display_name = Some(v);
        let set_first: Setter = |i, v| i.first_name = Some(v);
        let set_last: Setter = |i, v| i.last_name = Some(v);
        let set_loc: Setter = |i, v| i.usage_location = Some(v);
        let set_imm: Setter = |i, v| i.immutable_id = Some(v);
        let set_phone: Setter = |i, v| i.phone_number = Some(v);
        let cases: Vec<(&str, Setter, String, bool)> = vec![
            ("displayName", set_display, "x".repeat(256), true),
            ("displayName", set_display, "x".repeat(257), false),
            ("displayName", set_display, "   ".into(), false),
            ("displayName", set_display, "".into(), false),
            ("displayName", set_display, "a\u{1}b".into(), false),
            ("firstName", set_first, "x".repeat(64), true),
            ("firstName", set_first, "x".repeat(65), false),
            ("firstName", set_first, "a\u{7f}".into(), false),
            ("lastName", set_last, "x".repeat(64), true),
            ("lastName", set_last, "x".repeat(65), false),
            ("usageLocation", set_loc, "us".into(), true),
            ("usageLocation", set_loc, "UK".into(), false),
            ("usageLocation", set_loc, "USA".into(), false),
            ("immutableId", set_imm, "x".repeat(256), true),
            ("immutableId", set_imm, "x".repeat(257), false),
            ("phoneNumber", set_phone, "+1 555 0100".into(), true),
            ("phoneNumber", set_phone, "1".repeat(65), false),
            ("phoneNumber", set_phone, "1\n2".into(), false),
        ];
        for (field, set, value, ok) in cases {
            let mut i = input("grace@contoso.com", "Grace");
            set(&mut i, value.clone());
            let got = NewCustomerUser::validate(&i, &domains());
            match (ok, got) {
                (true, Ok(_)) => {}
                (false, Err(e)) => {
                    assert_eq!(e.fields(), vec![field.to_string()], "{field}={value:?}")
                }
                (want, got) => panic!("{field}={value:?}: wanted ok={want}, got {got:?}"),
            }
        }
    }

    #[test]
    fn all_failures_together() {
        let i = UserInput {
            user_principal_name: Some("bad upn".into()),
            display_name: None,
            first_name: Some("x".repeat(65)),
            usage_location: Some("ZZ".into()),
            password: Some("short".into()),
            ..Default::default()
        };
        let err = NewCustomerUser::validate(&i, &domains()).unwrap_err();
        assert_eq!(
            err.fields(),
            vec![
                "userPrincipalName",
                "displayName",
                "firstName",
                "usageLocation",
                "passwordProfile.password"
            ]
        );
    }

    #[test]
    fn password_choice_and_force_flag() {
        let d = domains();
        let generated = NewCustomerUser::validate(&input("a@contoso.com", "A"), &d).unwrap();
        assert_eq!(generated.password, PasswordChoice::Generate);
        assert!(
            generated.force_change_password,
            "a generated password is always temporary"
        );
        let mut given = input("a@contoso.com", "A");
        given.password = Some("Tq7#vLm2xR".into());
        let v = NewCustomerUser::validate(&given, &d).unwrap();
        assert!(matches!(v.password, PasswordChoice::Given(_)));
        assert!(!v.force_change_password);
        given.force_change_password = Some(true);
        assert!(
            NewCustomerUser::validate(&given, &d)
                .unwrap()
                .force_change_password
        );
        let mut generated_no_force = input("a@contoso.com", "A");
        generated_no_force.force_change_password = Some(false);
        assert!(
            NewCustomerUser::validate(&generated_no_force, &d)
                .unwrap()
                .force_change_password
        );
    }

    #[test]
    fn password_must_not_contain_alias() {
        let mut i = input("grace.hopper@contoso.com", "Grace");
        i.password = Some("Xgrace.hopper#9".into());
        let err = NewCustomerUser::validate(&i, &domains()).unwrap_err();
        assert_eq!(err.fields(), vec!["passwordProfile.password"]);
    }

    #[test]
    fn patch_kinds() {
        use PatchKind::*;
        assert_eq!(patch_kind(UserState::Active, None), Ok(Update));
        assert_eq!(patch_kind(UserState::Active, Some("active")), Ok(Update));
        assert_eq!(patch_kind(UserState::Active, Some("Active")), Ok(Update));
        assert_eq!(patch_kind(UserState::Inactive, Some("ACTIVE")), Ok(Restore));
        assert_eq!(
            patch_kind(UserState::Inactive, None),
            Err(PatchRefused::NotActive)
        );
        assert!(matches!(
            patch_kind(UserState::Active, Some("inactive")),
            Err(PatchRefused::Invalid(_))
        ));
        assert!(matches!(
            patch_kind(UserState::Inactive, Some("inactive")),
            Err(PatchRefused::Invalid(_))
        ));
        assert!(matches!(
            patch_kind(UserState::Active, Some("deleted")),
            Err(PatchRefused::Invalid(_))
        ));
    }

    #[test]
    fn changes_null_same_and_clear() {
        let user = existing();
        let d = domains();
        // Nothing sent: nothing changes.
        let none = UserChanges::validate(&user, &UserInput::default(), &d).unwrap();
        assert!(none.is_empty());
        // Same values: nothing changes.
        let same = UserInput {
            user_principal_name: Some("ADA@contoso.com".into()),
            display_name: Some("Ada".into()),
            first_name: Some("Ada".into()),
            ..Default::default()
        };
        let c = UserChanges::validate(&user, &same, &d).unwrap();
        assert!(c.upn.is_some(), "a change of case is a change of UPN");
        assert!(c.display_name.is_none() && c.first_name.is_none());
        // Empty string clears an optional property.
        let clear = UserInput {
            first_name: Some("".into()),
            ..Default::default()
        };
        let c = UserChanges::validate(&user, &clear, &d).unwrap();
        assert_eq!(c.first_name, Some(None));
        // displayName cannot be cleared.
        let blank = UserInput {
            display_name: Some(" ".into()),
            ..Default::default()
        };
        assert!(UserChanges::validate(&user, &blank, &d).is_err());
    }

    #[test]
    fn change_upn_rules() {
        let user = existing();
        let d = domains();
        let moved = UserInput {
            user_principal_name: Some("ada@contoso.onmicrosoft.com".into()),
            ..Default::default()
        };
        let c = UserChanges::validate(&user, &moved, &d).unwrap();
        assert_eq!(c.upn.unwrap().1, UserDomainType::None);
        let foreign = UserInput {
            user_principal_name: Some("ada@fabrikam.com".into()),
            ..Default::default()
        };
        assert!(UserChanges::validate(&user, &foreign, &d).is_err());
        let fed = UserInput {
            user_principal_name: Some("ada@fed.contoso.com".into()),
            ..Default::default()
        };
        assert_eq!(
            UserChanges::validate(&user, &fed, &d).unwrap_err().fields(),
            vec!["immutableId"]
        );
        let fed_ok = UserInput {
            user_principal_name: Some("ada@fed.contoso.com".into()),
            immutable_id: Some("abc".into()),
            ..Default::default()
        };
        assert!(UserChanges::validate(&user, &fed_ok, &d).is_ok());
    }

    #[test]
    fn reset_password_variants() {
        let user = existing();
        let d = domains();
        let flag_only = UserInput {
            password_profile_given: true,
            force_change_password: Some(true),
            ..Default::default()
        };
        let c = UserChanges::validate(&user, &flag_only, &d).unwrap();
        assert!(c.password.is_none());
        assert_eq!(c.force_change_password, Some(true));
        let reset = UserInput {
            password_profile_given: true,
            password: Some("Renew456*Zq".into()),
            force_change_password: Some(true),
            ..Default::default()
        };
        let c = UserChanges::validate(&user, &reset, &d).unwrap();
        assert!(matches!(c.password, Some(PasswordChoice::Given(_))));
        let weak = UserInput {
            password_profile_given: true,
            password: Some("ada12345".into()),
            ..Default::default()
        };
        assert_eq!(
            UserChanges::validate(&user, &weak, &d)
                .unwrap_err()
                .fields(),
            vec!["passwordProfile.password"]
        );
    }
}
