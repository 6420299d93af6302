//! Users of the partner's own tenant and their access to the Roster account.

use crate::authz::{CustomPermissions, PartnerRole};
use crate::ids::{PartnerId, UserId};
use crate::time::Timestamp;
use crate::upn::Upn;
use crate::user::UserState;

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
