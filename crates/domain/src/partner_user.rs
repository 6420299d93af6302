//! Users of the partner's own tenant and their access to the Roster account.

use std::collections::BTreeMap;

use crate::authz::{Area, CustomPermissions, Level, PartnerRole};
use crate::ids::{PartnerId, UserId};
use crate::time::Timestamp;
use crate::upn::Upn;
use crate::user::UserState;
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
    pub groups: Vec<String>,
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
    pub id: String,
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

#[cfg(test)]
mod tests {
    use super::*;

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
