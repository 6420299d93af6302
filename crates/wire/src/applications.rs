//! Applications a partner registers (OAuth clients).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::common::*;

/// An application to register.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationRequest {
    pub display_name: Option<String>,
    /// `true` for a client that cannot keep a secret (a script, a desktop tool): it signs
    /// users in (App+User) with its client id alone. Default `false`: a confidential client
    /// sends its `client_secret` with every password grant.
    pub public_client: Option<bool>,
}

/// A registered application. `clientSecret` appears only in the answers that create it (the
/// registration and a secret reset): it is shown this once and stored only as a hash.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationBody {
    pub id: String,
    /// The OAuth client id (the same as `id`).
    pub client_id: String,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Whether it signs users in with its client id alone (see the request).
    pub public_client: bool,
    pub created_date_time: String,
    pub attributes: Attributes,
}

impl ApplicationBody {
    pub fn of(a: &roster_domain::application::Application, secret: Option<String>) -> Self {
        Self {
            id: a.id.to_string(),
            client_id: a.id.to_string(),
            display_name: a.display_name.clone(),
            client_secret: secret,
            public_client: a.public_client,
            created_date_time: a.created_at.to_rfc3339(),
            attributes: Attributes::of("Application"),
        }
    }
}

/// The partner's applications.
pub type ApplicationCollection = Collection<ApplicationBody>;

impl CollectionItem for ApplicationBody {
    const COLLECTION: &'static str = "ApplicationCollection";
    const DESCRIPTION: &'static str = "The partner's applications.";
}
