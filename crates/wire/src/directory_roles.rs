//! The directory roles of a customer tenant (Partner Center's DirectoryRole).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::common::*;

/// A directory role of a customer tenant (objectType `DirectoryRole`).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryRoleBody {
    /// The role's well-known template id.
    pub id: String,
    pub name: String,
    pub attributes: Attributes,
}

impl DirectoryRoleBody {
    pub fn of(role: roster_domain::authz::DirectoryRole) -> Self {
        Self {
            id: role.id().into(),
            name: role.name().into(),
            attributes: Attributes::of("DirectoryRole"),
        }
    }
}

/// Directory roles of a customer tenant.
pub type DirectoryRoleCollection = Collection<DirectoryRoleBody>;

impl CollectionItem for DirectoryRoleBody {
    const COLLECTION: &'static str = "DirectoryRoleCollection";
    const DESCRIPTION: &'static str = "Directory roles of a customer tenant.";
}
