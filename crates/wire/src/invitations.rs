//! Invitations of outside users to the partner account.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::common::*;

/// Invite outside users: 1–10 addresses separated by commas or semicolons, with roles (not
/// Global admin).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct InvitationRequest {
    #[schema(example = "ada@example.com; grace@example.org")]
    pub emails: Option<String>,
    pub roles: Option<Vec<String>>,
}

/// Redeem an invitation link (no access token needed).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RedeemInvitationRequest {
    /// The `token` parameter of the invitation link.
    pub token: Option<String>,
    /// The guest's new password (the password policy applies).
    pub password: Option<String>,
    pub display_name: Option<String>,
}

/// An invitation of an outside user (its link's token is only in the mail).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InvitationBody {
    pub id: String,
    pub email: String,
    /// The guest directory user the invitation made.
    pub user_id: String,
    /// The guest's UPN (`alias_domain#EXT#@partner domain`); it signs in with `email`.
    pub user_principal_name: String,
    /// The guest's own roles, by name.
    pub roles: Vec<String>,
    /// `pending`, `accepted` or `expired`.
    pub status: String,
    pub created_at: String,
    /// When the latest link was sent.
    pub sent_at: String,
    pub expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<String>,
    // Partner Center leaves them out of some answers; Roster always sends them.
    #[serde(default)]
    #[schema(required = true)]
    pub links: SelfLinks,
    pub attributes: Attributes,
}

impl InvitationBody {
    pub fn of(v: &roster_domain::invitation::InvitationView) -> Self {
        let i = &v.invitation;
        Self {
            id: i.id.to_string(),
            email: i.email.clone(),
            user_id: i.user.to_string(),
            user_principal_name: v.user_principal_name.clone(),
            roles: v.roles.iter().map(|r| r.name().to_string()).collect(),
            status: v.status.into(),
            created_at: i.created_at.to_rfc3339(),
            sent_at: i.sent_at.to_rfc3339(),
            expires_at: i.expires_at.to_rfc3339(),
            accepted_at: i.accepted_at.map(|t| t.to_rfc3339()),
            links: SelfLinks {
                self_: Link::get(format!("/invitations/{}", i.id)),
            },
            attributes: Attributes::of("Invitation"),
        }
    }
}

/// Invitations of outside users.
pub type InvitationCollection = Collection<InvitationBody>;

impl CollectionItem for InvitationBody {
    const COLLECTION: &'static str = "InvitationCollection";
    const DESCRIPTION: &'static str = "Invitations of outside users.";
}
