//! Customer users (Partner Center's CustomerUser) and the bodies that create and change them.

use roster_domain::customer_user::{CustomerUser, PasswordEcho, UserInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::common::*;

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PasswordProfile {
    /// The password: shown in the create and reset responses only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub force_change_password: bool,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CustomerUserBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_location: Option<String>,
    pub id: String,
    pub user_principal_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub immutable_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_profile: Option<PasswordProfile>,
    /// `none`, `managed` or `federated`.
    pub user_domain_type: String,
    /// `active`, or `inactive` for a soft-deleted user.
    pub state: String,
    /// When the user was soft-deleted (inactive users only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soft_deletion_time: Option<String>,
    // Partner Center leaves them out of some answers; Roster always sends them.
    #[serde(default)]
    #[schema(required = true)]
    pub links: SelfLinks,
    pub attributes: Attributes,
}

impl CustomerUserBody {
    pub fn of(u: &CustomerUser) -> Self {
        Self {
            usage_location: u.usage_location.map(|c| c.as_str().to_string()),
            id: u.id.to_string(),
            user_principal_name: u.upn.to_string(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            display_name: u.display_name.clone(),
            immutable_id: u.immutable_id.clone(),
            phone_number: u.phone_number.clone(),
            password_profile: None,
            user_domain_type: u.domain_type.as_str().into(),
            state: u.state.as_str().into(),
            soft_deletion_time: u.soft_deleted_at.map(|t| t.to_rfc3339()),
            links: SelfLinks {
                self_: Link::get(format!("/customers/{}/users/{}", u.customer, u.id)),
            },
            attributes: Attributes {
                object_type: "CustomerUser".into(),
                etag: Some(u.etag()),
            },
        }
    }

    pub fn with_password(mut self, echo: Option<PasswordEcho>) -> Self {
        self.password_profile = echo.map(|e| PasswordProfile {
            password: e.password.map(|p| p.expose().to_string()),
            force_change_password: e.force_change_password,
        });
        self
    }
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PasswordProfileRequest {
    /// The new password; absent or null with `forceChangePassword` only sets the flag.
    pub password: Option<String>,
    pub force_change_password: Option<bool>,
}

/// A customer user as clients send it on create and PATCH. Property names are matched
/// case-insensitively; null means "not given" (create) or "leave unchanged" (PATCH); `""`
/// clears an optional property; read-only properties are ignored.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CustomerUserRequest {
    pub user_principal_name: Option<String>,
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub usage_location: Option<String>,
    pub immutable_id: Option<String>,
    pub phone_number: Option<String>,
    #[serde(default, deserialize_with = "crate::object::object")]
    pub password_profile: Option<PasswordProfileRequest>,
    /// On PATCH: `active` restores a soft-deleted user; `inactive` is refused (use DELETE).
    pub state: Option<String>,
}

impl CustomerUserRequest {
    pub fn into_input(self) -> UserInput {
        let profile = self.password_profile;
        UserInput {
            user_principal_name: self.user_principal_name,
            display_name: self.display_name,
            first_name: self.first_name,
            last_name: self.last_name,
            usage_location: self.usage_location,
            immutable_id: self.immutable_id,
            phone_number: self.phone_number,
            password_profile_given: profile.is_some(),
            password: profile.as_ref().and_then(|p| p.password.clone()),
            force_change_password: profile.as_ref().and_then(|p| p.force_change_password),
            state: self.state,
        }
    }
}

/// A page of customer users.
pub type CustomerUserCollection = Collection<CustomerUserBody>;

impl CollectionItem for CustomerUserBody {
    const COLLECTION: &'static str = "CustomerUserCollection";
    const DESCRIPTION: &'static str = "A page of customer users.";
}

/// The body of `POST …/users/{userId}/resetpassword` (optional): whether the user must
/// change the new temporary password at its next sign-in (default true).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetPasswordRequest {
    #[serde(default)]
    pub force_change_password: Option<bool>,
}
