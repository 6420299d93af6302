//! The partner's own account: its users, their roles, role members and security groups.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::common::*;
use crate::customer_users::{PasswordProfile, PasswordProfileRequest};

/// A user of the partner's own tenant, with its access to the Roster account.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PartnerUserBody {
    pub id: String,
    pub user_principal_name: String,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// `active` or `inactive`.
    pub state: String,
    /// `member`, or `guest` for an invited outside user.
    pub user_type: String,
    pub is_directory_global_admin: bool,
    /// Whether the user may use the Roster account.
    pub has_access: bool,
    /// The user's own roles, by name (not those it has through groups).
    pub roles: Vec<String>,
    /// Custom permissions instead of roles: `{area: level}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_permissions: Option<std::collections::BTreeMap<String, String>>,
    /// Ids of the security groups the user belongs to.
    pub groups: Vec<String>,
    /// When the user last made a request to Roster (history is kept 30 days).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_activity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_profile: Option<PasswordProfile>,
    // Partner Center leaves them out of some answers; Roster always sends them.
    #[serde(default)]
    #[schema(required = true)]
    pub links: SelfLinks,
    pub attributes: Attributes,
}

impl PartnerUserBody {
    pub fn of(u: &roster_domain::partner_user::PartnerUser) -> Self {
        let access = u.access.as_ref();
        Self {
            id: u.id.to_string(),
            user_principal_name: u.upn.to_string(),
            display_name: u.display_name.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            state: u.state.as_str().into(),
            user_type: if u.is_guest { "guest" } else { "member" }.into(),
            is_directory_global_admin: u.is_directory_global_admin,
            has_access: access.is_some(),
            roles: access
                .map(|a| a.roles.iter().map(|r| r.name().to_string()).collect())
                .unwrap_or_default(),
            custom_permissions: access.and_then(|a| a.custom.as_ref()).map(|c| {
                c.0.iter()
                    .map(|(a, l)| (a.as_str().to_string(), l.as_str().to_string()))
                    .collect()
            }),
            groups: u.groups.iter().map(ToString::to_string).collect(),
            last_activity: u.last_activity.map(|t| t.to_rfc3339()),
            password_profile: None,
            links: SelfLinks {
                self_: Link::get(format!("/users/{}", u.id)),
            },
            attributes: Attributes {
                object_type: "PartnerUser".into(),
                etag: Some(u.etag()),
            },
        }
    }
}

/// A partner user as clients send it on create and PATCH.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PartnerUserRequest {
    /// On a domain of the partner's tenant.
    pub user_principal_name: Option<String>,
    /// Defaults to "first last".
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Role names (`Global admin`, `User management admin`, `Admin agent`, `Helpdesk agent`,
    /// `Sales agent`, `Billing admin`) or role ids.
    pub roles: Option<Vec<String>>,
    /// Instead of roles: `{area: level}`, areas `accountUsers`, `customers`, `customerUsers`,
    /// `licences`, `delegatedAccess`, `audit`; levels `no_access`, `read`, `read_write`.
    pub custom_permissions: Option<std::collections::BTreeMap<String, String>>,
    /// Ids of security groups; on PATCH, the whole new list.
    pub groups: Option<Vec<String>>,
    /// Make the user a Global administrator of the directory (create only).
    pub is_directory_global_admin: Option<bool>,
    /// Required with `isDirectoryGlobalAdmin`.
    pub password_recovery_email: Option<String>,
    /// On create, the first password (generated when absent); on PATCH, a reset (Global
    /// admin only; a temporary password is generated when `password` is absent).
    #[serde(default, deserialize_with = "crate::object::object")]
    pub password_profile: Option<PasswordProfileRequest>,
}

/// Give existing directory users of the partner tenant access, in one step.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct GrantAccessRequest {
    pub user_ids: Option<Vec<String>>,
    pub roles: Option<Vec<String>>,
    pub custom_permissions: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PartnerRoleBody {
    pub id: String,
    pub name: String,
    pub attributes: Attributes,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserMemberBody {
    pub id: String,
    pub display_name: String,
    pub user_principal_name: String,
    pub role_id: String,
    pub attributes: Attributes,
}

/// A role member to add: only `id` is used.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserMemberRequest {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub user_principal_name: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroupBody {
    pub id: String,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The account roles every member gets.
    pub roles: Vec<String>,
    pub attributes: Attributes,
}

impl SecurityGroupBody {
    pub fn of(g: &roster_domain::partner_user::SecurityGroup) -> Self {
        Self {
            id: g.id.to_string(),
            display_name: g.display_name.clone(),
            description: g.description.clone(),
            roles: g.roles.iter().map(|r| r.name().to_string()).collect(),
            attributes: Attributes::of("SecurityGroup"),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroupRequest {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub roles: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct GroupMemberRequest {
    pub user_id: Option<String>,
}

/// A page of partner users.
pub type PartnerUserCollection = Collection<PartnerUserBody>;

impl CollectionItem for PartnerUserBody {
    const COLLECTION: &'static str = "PartnerUserCollection";
    const DESCRIPTION: &'static str = "A page of partner users.";
}
/// The partner roles.
pub type PartnerRoleCollection = Collection<PartnerRoleBody>;

impl CollectionItem for PartnerRoleBody {
    const COLLECTION: &'static str = "PartnerRoleCollection";
    const DESCRIPTION: &'static str = "The partner roles.";
}

/// A page of a role's members.
pub type UserMemberCollection = Collection<UserMemberBody>;

impl CollectionItem for UserMemberBody {
    const COLLECTION: &'static str = "UserMemberCollection";
    const DESCRIPTION: &'static str = "A page of a role's members.";
}

/// The partner's security groups.
pub type SecurityGroupCollection = Collection<SecurityGroupBody>;

impl CollectionItem for SecurityGroupBody {
    const COLLECTION: &'static str = "SecurityGroupCollection";
    const DESCRIPTION: &'static str = "The partner's security groups.";
}

/// One request of a partner user.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActivityBody {
    pub date: String,
    pub method: String,
    pub path: String,
    pub status: u16,
}

impl ActivityBody {
    pub fn of(a: &roster_domain::activity::Activity) -> Self {
        Self {
            date: a.at.to_rfc3339(),
            method: a.method.clone(),
            path: a.path.clone(),
            status: a.status,
        }
    }
}

/// A page of a user's history.
pub type ActivityCollection = Collection<ActivityBody>;

impl CollectionItem for ActivityBody {
    const COLLECTION: &'static str = "ActivityCollection";
    const DESCRIPTION: &'static str = "A page of a user's history.";
}
