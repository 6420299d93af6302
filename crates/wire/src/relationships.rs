//! Granular delegated admin relationships, their access assignments, and a customer's legacy delegated access switch.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::common::*;

/// A new granular delegated admin relationship with a customer.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DelegatedAdminRelationshipRequest {
    /// Unique among the partner's relationships; at most 50 characters.
    pub display_name: Option<String>,
    /// ISO 8601 whole days, `P1D` to `P730D`.
    #[schema(example = "P730D")]
    pub duration: Option<String>,
    /// Directory role template ids (`/v1` directory role catalogue).
    pub roles: Option<Vec<String>>,
    /// `P180D` to extend by 180 days when the end is reached (not with Global
    /// Administrator), or `PT0S` (the default) for none.
    #[schema(example = "PT0S")]
    pub auto_extend_duration: Option<String>,
}

impl DelegatedAdminRelationshipRequest {
    pub fn into_input(self) -> roster_domain::relationship::NewRelationshipInput {
        roster_domain::relationship::NewRelationshipInput {
            display_name: self.display_name,
            duration: self.duration,
            roles: self.roles,
            auto_extend_duration: self.auto_extend_duration,
        }
    }
}

/// A directory role as a relationship or an assignment names it.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryRoleRef {
    /// The role template id.
    pub role_definition_id: String,
    pub display_name: String,
}

fn role_refs(roles: &[roster_domain::authz::DirectoryRole]) -> Vec<DirectoryRoleRef> {
    roles
        .iter()
        .map(|r| DirectoryRoleRef {
            role_definition_id: r.id().into(),
            display_name: r.name().into(),
        })
        .collect()
}

/// A security group's access under a relationship.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AccessAssignmentBody {
    pub id: String,
    pub relationship_id: String,
    /// The partner's security group.
    pub group_id: String,
    pub roles: Vec<DirectoryRoleRef>,
    pub created_date_time: String,
    pub attributes: Attributes,
}

impl AccessAssignmentBody {
    pub fn of(a: &roster_domain::relationship::AccessAssignment) -> Self {
        Self {
            id: a.id.clone(),
            relationship_id: a.relationship.to_string(),
            group_id: a.group.to_string(),
            roles: role_refs(&a.roles),
            created_date_time: a.created_at.to_rfc3339(),
            attributes: Attributes::of("DelegatedAdminAccessAssignment"),
        }
    }
}

/// A granular delegated admin relationship, as read now.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DelegatedAdminRelationshipBody {
    pub id: String,
    pub customer_id: String,
    pub display_name: String,
    /// ISO 8601 days.
    pub duration: String,
    pub roles: Vec<DirectoryRoleRef>,
    /// `P180D` or `PT0S`.
    pub auto_extend_duration: String,
    /// `created`, `approval_pending`, `active`, `expired` or `terminated`.
    pub status: String,
    pub created_date_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activated_date_time: Option<String>,
    /// When it ends (after any auto-extension), once active.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminated_date_time: Option<String>,
    pub access_assignments: Vec<AccessAssignmentBody>,
    // Partner Center leaves them out of some answers; Roster always sends them.
    #[serde(default)]
    #[schema(required = true)]
    pub links: SelfLinks,
    pub attributes: Attributes,
}

impl DelegatedAdminRelationshipBody {
    pub fn of(v: &roster_domain::relationship::RelationshipView) -> Self {
        let r = &v.relationship;
        Self {
            id: r.id.to_string(),
            customer_id: r.customer.to_string(),
            display_name: r.display_name.clone(),
            duration: format!("P{}D", r.duration_days),
            roles: role_refs(&r.roles),
            auto_extend_duration: if r.auto_extend { "P180D" } else { "PT0S" }.into(),
            status: v.status.as_str().into(),
            created_date_time: r.created_at.to_rfc3339(),
            activated_date_time: r.activated_at.map(|t| t.to_rfc3339()),
            end_date_time: v.ends_at.map(|t| t.to_rfc3339()),
            terminated_date_time: r.terminated_at.map(|t| t.to_rfc3339()),
            access_assignments: v.assignments.iter().map(AccessAssignmentBody::of).collect(),
            links: SelfLinks {
                self_: Link::get(format!(
                    "/customers/{}/delegatedadminrelationships/{}",
                    r.customer, r.id
                )),
            },
            attributes: Attributes::of("DelegatedAdminRelationship"),
        }
    }
}

/// Give a security group of the partner some of the relationship's roles.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct AccessAssignmentRequest {
    pub group_id: Option<String>,
    /// Directory role template ids, a subset of the relationship's.
    pub roles: Option<Vec<String>>,
}

/// Changes to a customer.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CustomerPatchRequest {
    /// Whether the partner's agents keep legacy delegated admin access.
    pub allow_delegated_access: Option<bool>,
}

/// A customer's delegated admin relationships.
pub type DelegatedAdminRelationshipCollection = Collection<DelegatedAdminRelationshipBody>;

impl CollectionItem for DelegatedAdminRelationshipBody {
    const COLLECTION: &'static str = "DelegatedAdminRelationshipCollection";
    const DESCRIPTION: &'static str = "A customer's delegated admin relationships.";
}
