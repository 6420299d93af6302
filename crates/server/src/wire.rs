//! The Partner Center wire format: response and request bodies, and their conversion to and
//! from domain values. Responses are camelCase and omit null properties.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_domain::customer::{Customer, NewCustomerInput, TenantDomain};
use roster_domain::user::PasswordEcho;
use roster_domain::user::{CustomerUser, UserInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const JSON_UTF8: &str = "application/json; charset=utf-8";

/// A JSON response with Partner Center's content type.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    response
}

#[derive(Serialize, ToSchema, Debug, Clone, PartialEq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

#[derive(Serialize, ToSchema, Debug, Clone, PartialEq)]
pub struct Link {
    /// A path relative to the API root, without `/v1` (as Partner Center returns it).
    pub uri: String,
    pub method: String,
    pub headers: Vec<KeyValue>,
}

impl Link {
    pub fn get(uri: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            method: "GET".into(),
            headers: vec![],
        }
    }
}

#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct SelfLinks {
    #[serde(rename = "self")]
    pub self_: Link,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct CollectionLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<Link>,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Attributes {
    pub object_type: String,
    /// A quoted opaque string that changes on every write (users only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

impl Attributes {
    pub fn of(object_type: &str) -> Self {
        Self {
            object_type: object_type.into(),
            etag: None,
        }
    }
}

// ---------------------------------------------------------------- customer users

#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct PasswordProfile {
    /// The password: shown in the create and reset responses only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub force_change_password: bool,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
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

#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct PasswordProfileRequest {
    /// The new password; absent or null with `forceChangePassword` only sets the flag.
    pub password: Option<String>,
    pub force_change_password: Option<bool>,
}

/// A customer user as clients send it on create and PATCH. Property names are matched
/// case-insensitively; null means "not given" (create) or "leave unchanged" (PATCH); `""`
/// clears an optional property; read-only properties are ignored.
#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct CustomerUserRequest {
    pub user_principal_name: Option<String>,
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub usage_location: Option<String>,
    pub immutable_id: Option<String>,
    pub phone_number: Option<String>,
    #[serde(default, deserialize_with = "crate::json::object")]
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

// ---------------------------------------------------------------- customers

#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CompanyProfile {
    pub tenant_id: String,
    pub domain: String,
    pub company_name: String,
    pub attributes: Attributes,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub country: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_line1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct BillingProfile {
    pub company_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub culture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub default_address: Address,
    pub attributes: Attributes,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CustomerBody {
    /// The customer's tenant id.
    pub id: String,
    pub company_profile: CompanyProfile,
    pub billing_profile: BillingProfile,
    /// Always `reseller`.
    pub relationship_to_partner: String,
    /// Whether the partner's agents have legacy delegated admin access.
    pub allow_delegated_access: bool,
    pub links: SelfLinks,
    pub attributes: Attributes,
}

impl CustomerBody {
    pub fn of(c: &Customer) -> Self {
        let b = &c.billing;
        Self {
            id: c.id.to_string(),
            company_profile: CompanyProfile {
                tenant_id: c.id.to_string(),
                domain: c.domain.to_string(),
                company_name: c.company_name.clone(),
                attributes: Attributes::of("CustomerCompanyProfile"),
            },
            billing_profile: BillingProfile {
                company_name: c.company_name.clone(),
                email: b.email.clone(),
                culture: b.culture.clone(),
                language: b.language.clone(),
                default_address: Address {
                    country: c.country.as_str().into(),
                    region: b.region.clone(),
                    city: b.city.clone(),
                    address_line1: b.address_line1.clone(),
                    postal_code: b.postal_code.clone(),
                    phone_number: b.phone_number.clone(),
                },
                attributes: Attributes::of("CustomerBillingProfile"),
            },
            relationship_to_partner: "reseller".into(),
            allow_delegated_access: c.allow_delegated_access,
            links: SelfLinks {
                self_: Link::get(format!("/customers/{}", c.id)),
            },
            attributes: Attributes::of("Customer"),
        }
    }
}

#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct CompanyProfileRequest {
    /// Required and unique across the server: the customer's initial domain.
    pub domain: Option<String>,
    pub company_name: Option<String>,
}

#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct AddressRequest {
    /// ISO 3166-1 alpha-2; defaults to the partner's country.
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub address_line1: Option<String>,
    pub postal_code: Option<String>,
    pub phone_number: Option<String>,
}

#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct BillingProfileRequest {
    pub company_name: Option<String>,
    pub email: Option<String>,
    pub culture: Option<String>,
    pub language: Option<String>,
    #[serde(default, deserialize_with = "crate::json::object")]
    pub default_address: Option<AddressRequest>,
}

#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRequest {
    #[serde(default, deserialize_with = "crate::json::object")]
    pub company_profile: Option<CompanyProfileRequest>,
    #[serde(default, deserialize_with = "crate::json::object")]
    pub billing_profile: Option<BillingProfileRequest>,
}

impl CustomerRequest {
    pub fn into_input(self) -> NewCustomerInput {
        let company = self.company_profile.unwrap_or_default();
        let billing = self.billing_profile.unwrap_or_default();
        let address = billing.default_address.unwrap_or_default();
        NewCustomerInput {
            domain: company.domain,
            company_name: company.company_name,
            billing_company_name: billing.company_name,
            country: address.country,
            billing: roster_domain::customer::BillingProfile {
                email: billing.email,
                culture: billing.culture,
                language: billing.language,
                region: address.region,
                city: address.city,
                address_line1: address.address_line1,
                postal_code: address.postal_code,
                phone_number: address.phone_number,
            },
        }
    }
}

#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct DomainBody {
    pub name: String,
    /// `initial`, `managed` or `federated`.
    pub authentication_type: String,
    pub attributes: Attributes,
}

impl DomainBody {
    pub fn of(d: &TenantDomain) -> Self {
        Self {
            name: d.name.to_string(),
            authentication_type: d.kind.as_str().into(),
            attributes: Attributes::of("Domain"),
        }
    }
}

#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct DomainRequest {
    pub name: Option<String>,
    /// `managed` (default) or `federated`.
    pub authentication_type: Option<String>,
}

// ---------------------------------------------------------------- collections

macro_rules! collection {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Serialize, ToSchema, Debug, Clone)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// The number of items in this response.
            pub total_count: usize,
            pub items: Vec<$item>,
            /// On paged lists: the token for the next page, `""` on the last page.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub continuation_token: Option<String>,
            pub links: CollectionLinks,
            pub attributes: Attributes,
        }

        impl $name {
            /// Every item in one response.
            #[allow(dead_code)]
            pub fn whole(items: Vec<$item>, self_uri: impl Into<String>) -> Self {
                Self {
                    total_count: items.len(),
                    items,
                    continuation_token: None,
                    links: CollectionLinks {
                        self_: Link::get(self_uri),
                        next: None,
                    },
                    attributes: Attributes::of("Collection"),
                }
            }

            /// One page of a paged list at `base`, and the token of the next (`""` on the
            /// last page).
            #[allow(dead_code)]
            pub fn paged(items: Vec<$item>, base: &str, continuation: Option<String>) -> Self {
                Self {
                    total_count: items.len(),
                    items,
                    links: paged_links(base, base.to_string(), &continuation),
                    continuation_token: Some(continuation.unwrap_or_default()),
                    attributes: Attributes::of("Collection"),
                }
            }
        }
    };
}

collection!(
    CustomerUserCollection,
    CustomerUserBody,
    "A page of customer users."
);
collection!(CustomerCollection, CustomerBody, "A page of customers.");
collection!(DomainCollection, DomainBody, "A customer's domains.");

/// The links of a paged collection: `next` carries the token as an `MS-ContinuationToken`
/// header, which is how Partner Center's SDKs follow pages.
pub fn paged_links(base: &str, self_uri: String, continuation: &Option<String>) -> CollectionLinks {
    CollectionLinks {
        self_: Link::get(self_uri),
        next: continuation.as_ref().map(|token| Link {
            uri: format!("{base}?seekOperation=Next"),
            method: "GET".into(),
            headers: vec![KeyValue {
                key: "MS-ContinuationToken".into(),
                value: token.clone(),
            }],
        }),
    }
}

// ---------------------------------------------------------------- token endpoint

#[derive(Serialize, ToSchema, Debug)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Trade it at this endpoint (`grant_type=refresh_token`) for new tokens; each refresh
    /// token works once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// The token endpoint's errors (RFC 6749 §5.2).
#[derive(Serialize, ToSchema, Debug)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_grant`, `unsupported_grant_type` or `password_change_required`.
    pub error: String,
    pub error_description: String,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

// ---------------------------------------------------------------- discovery

/// The public keys that verify access tokens (a JWK Set, RFC 7517 §5).
#[derive(Serialize, ToSchema, Debug)]
pub struct JsonWebKeySet {
    /// Every key a server on this database may have signed a still-valid token with, newest
    /// (the one that signs) first.
    pub keys: Vec<JsonWebKey>,
}

/// An Ed25519 public key (RFC 8037 §2).
#[derive(Serialize, ToSchema, Debug)]
pub struct JsonWebKey {
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// The public key, base64url without padding (32 bytes).
    pub x: String,
    /// The `kid` header of the tokens this key verifies.
    pub kid: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// `EdDSA`.
    pub alg: String,
}

impl JsonWebKey {
    pub fn of(key: &roster_service::SigningKey) -> Self {
        use base64::Engine;
        Self {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.public_key()),
            kid: key.id().into(),
            use_: "sig".into(),
            alg: roster_service::tokens::JWT_ALGORITHM.into(),
        }
    }
}

/// Where a client finds the token endpoint and the keys (OpenID Connect Discovery 1.0 §3,
/// RFC 8414). Roster issues access tokens only: no authorization endpoint, no ID tokens.
#[derive(Serialize, ToSchema, Debug)]
pub struct OpenIdConfiguration {
    /// The `iss` of every access token: the server's public URL.
    pub issuer: String,
    /// `POST` here for tokens: `{issuer}/oauth2/token`.
    pub token_endpoint: String,
    /// The public keys: `{issuer}/.well-known/jwks.json`.
    pub jwks_uri: String,
    /// `password`, `client_credentials`, `refresh_token`.
    pub grant_types_supported: Vec<String>,
    /// `client_secret_basic` and `client_secret_post` (an application's secret in the
    /// Authorization header or the form), `none` (a public client: `client_id` alone, with
    /// the password grant).
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// Empty: there is no authorization endpoint.
    pub response_types_supported: Vec<String>,
    /// `public`: `sub` is the user's (or application's) object id, the same for every client.
    pub subject_types_supported: Vec<String>,
    /// `EdDSA`, the algorithm of Roster's signed tokens. Roster issues no ID tokens; the
    /// property is there because OpenID Connect discovery clients require it.
    pub id_token_signing_alg_values_supported: Vec<String>,
}

// ---------------------------------------------------------------- partner account

/// A user of the partner's own tenant, with its access to the Roster account.
#[derive(Serialize, ToSchema, Debug, Clone)]
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
            groups: u.groups.clone(),
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
#[derive(Deserialize, ToSchema, Debug, Default)]
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
    #[serde(default, deserialize_with = "crate::json::object")]
    pub password_profile: Option<PasswordProfileRequest>,
}

/// Give existing directory users of the partner tenant access, in one step.
#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct GrantAccessRequest {
    pub user_ids: Option<Vec<String>>,
    pub roles: Option<Vec<String>>,
    pub custom_permissions: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct PartnerRoleBody {
    pub id: String,
    pub name: String,
    pub attributes: Attributes,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct UserMemberBody {
    pub id: String,
    pub display_name: String,
    pub user_principal_name: String,
    pub role_id: String,
    pub attributes: Attributes,
}

/// A role member to add: only `id` is used.
#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserMemberRequest {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub user_principal_name: Option<String>,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
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
            id: g.id.clone(),
            display_name: g.display_name.clone(),
            description: g.description.clone(),
            roles: g.roles.iter().map(|r| r.name().to_string()).collect(),
            attributes: Attributes::of("SecurityGroup"),
        }
    }
}

#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroupRequest {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub roles: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct GroupMemberRequest {
    pub user_id: Option<String>,
}

collection!(
    PartnerUserCollection,
    PartnerUserBody,
    "A page of partner users."
);
collection!(PartnerRoleCollection, PartnerRoleBody, "The partner roles.");

/// A directory role of a customer tenant (objectType `DirectoryRole`).
#[derive(Serialize, ToSchema, Debug, Clone)]
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

collection!(
    DirectoryRoleCollection,
    DirectoryRoleBody,
    "Directory roles of a customer tenant."
);

// ---------------------------------------------------------------- applications

/// An application to register.
#[derive(Deserialize, ToSchema, Debug, Default)]
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
#[derive(Serialize, ToSchema, Debug, Clone)]
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
            id: a.id.clone(),
            client_id: a.id.clone(),
            display_name: a.display_name.clone(),
            client_secret: secret,
            public_client: a.public_client,
            created_date_time: a.created_at.to_rfc3339(),
            attributes: Attributes::of("Application"),
        }
    }
}

collection!(
    ApplicationCollection,
    ApplicationBody,
    "The partner's applications."
);
collection!(
    UserMemberCollection,
    UserMemberBody,
    "A page of a role's members."
);
collection!(
    SecurityGroupCollection,
    SecurityGroupBody,
    "The partner's security groups."
);

// ---------------------------------------------------------------- invitations

/// Invite outside users: 1–10 addresses separated by commas or semicolons, with roles (not
/// Global admin).
#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct InvitationRequest {
    #[schema(example = "ada@example.com; grace@example.org")]
    pub emails: Option<String>,
    pub roles: Option<Vec<String>>,
}

/// Redeem an invitation link (no access token needed).
#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct RedeemInvitationRequest {
    /// The `token` parameter of the invitation link.
    pub token: Option<String>,
    /// The guest's new password (the password policy applies).
    pub password: Option<String>,
    pub display_name: Option<String>,
}

/// An invitation of an outside user (its link's token is only in the mail).
#[derive(Serialize, ToSchema, Debug, Clone)]
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
    pub links: SelfLinks,
    pub attributes: Attributes,
}

impl InvitationBody {
    pub fn of(v: &roster_domain::invitation::InvitationView) -> Self {
        let i = &v.invitation;
        Self {
            id: i.id.clone(),
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

collection!(
    InvitationCollection,
    InvitationBody,
    "Invitations of outside users."
);

// ---------------------------------------------------------------- delegated access

/// A new granular delegated admin relationship with a customer.
#[derive(Deserialize, ToSchema, Debug, Default)]
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
#[derive(Serialize, ToSchema, Debug, Clone)]
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
#[derive(Serialize, ToSchema, Debug, Clone)]
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
            relationship_id: a.relationship.clone(),
            group_id: a.group.clone(),
            roles: role_refs(&a.roles),
            created_date_time: a.created_at.to_rfc3339(),
            attributes: Attributes::of("DelegatedAdminAccessAssignment"),
        }
    }
}

/// A granular delegated admin relationship, as read now.
#[derive(Serialize, ToSchema, Debug, Clone)]
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
    pub links: SelfLinks,
    pub attributes: Attributes,
}

impl DelegatedAdminRelationshipBody {
    pub fn of(v: &roster_domain::relationship::RelationshipView) -> Self {
        let r = &v.relationship;
        Self {
            id: r.id.clone(),
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
#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct AccessAssignmentRequest {
    pub group_id: Option<String>,
    /// Directory role template ids, a subset of the relationship's.
    pub roles: Option<Vec<String>>,
}

/// Changes to a customer.
#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct CustomerPatchRequest {
    /// Whether the partner's agents keep legacy delegated admin access.
    pub allow_delegated_access: Option<bool>,
}

collection!(
    DelegatedAdminRelationshipCollection,
    DelegatedAdminRelationshipBody,
    "A customer's delegated admin relationships."
);

// ---------------------------------------------------------------- licences

/// A product (SKU) as Partner Center nests it in subscribed SKUs and licences.
#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ProductSkuBody {
    pub id: String,
    pub name: String,
    pub sku_part_number: String,
    /// `User` or `Tenant` (absent on a user's licence, as in Partner Center).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    /// `group1` or `group2`.
    pub license_group_id: String,
}

impl ProductSkuBody {
    pub fn of(p: &roster_domain::licence::Product, with_target: bool) -> Self {
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            sku_part_number: p.sku_part_number.clone(),
            target_type: with_target.then(|| p.target_type.clone()),
            license_group_id: p.license_group.as_str().into(),
        }
    }
}

#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlanBody {
    pub display_name: String,
    pub service_name: String,
    pub id: String,
    /// `Enabled` on products and subscribed SKUs, `Assigned` on a user's licence.
    pub capability_status: String,
    pub target_type: String,
}

impl ServicePlanBody {
    pub fn of(p: &roster_domain::licence::ServicePlan, status: &str) -> Self {
        Self {
            display_name: p.display_name.clone(),
            service_name: p.service_name.clone(),
            id: p.id.clone(),
            capability_status: status.into(),
            target_type: p.target_type.clone(),
        }
    }
}

/// A product of the catalogue (`GET /v1/productskus`, Roster's own).
#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CatalogueProductBody {
    pub id: String,
    pub name: String,
    pub sku_part_number: String,
    pub target_type: String,
    pub license_group_id: String,
    pub service_plans: Vec<ServicePlanBody>,
    pub attributes: Attributes,
}

impl CatalogueProductBody {
    pub fn of(p: &roster_domain::licence::Product) -> Self {
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            sku_part_number: p.sku_part_number.clone(),
            target_type: p.target_type.clone(),
            license_group_id: p.license_group.as_str().into(),
            service_plans: p
                .service_plans
                .iter()
                .map(|s| ServicePlanBody::of(s, "Enabled"))
                .collect(),
            attributes: Attributes::of("ProductSku"),
        }
    }
}

/// A customer's seats of one product.
#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSkuBody {
    /// totalUnits − consumedUnits.
    pub available_units: i64,
    pub active_units: i64,
    pub consumed_units: i64,
    pub suspended_units: i64,
    /// Active and warning units.
    pub total_units: i64,
    pub warning_units: i64,
    pub product_sku: ProductSkuBody,
    pub service_plans: Vec<ServicePlanBody>,
    pub capability_status: String,
    pub attributes: Attributes,
}

impl SubscribedSkuBody {
    pub fn of(s: &roster_domain::licence::SubscribedSkuView) -> Self {
        Self {
            available_units: s.available(),
            active_units: s.seats.active(),
            consumed_units: s.consumed,
            suspended_units: s.seats.suspended,
            total_units: s.seats.total,
            warning_units: s.seats.warning,
            product_sku: ProductSkuBody::of(&s.product, true),
            service_plans: s
                .product
                .service_plans
                .iter()
                .map(|p| ServicePlanBody::of(p, "Enabled"))
                .collect(),
            capability_status: "Enabled".into(),
            attributes: Attributes::of("SubscribedSku"),
        }
    }
}

/// A licence a user holds: its service plans without the excluded ones.
#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct LicenseBody {
    pub service_plans: Vec<ServicePlanBody>,
    pub product_sku: ProductSkuBody,
    pub attributes: Attributes,
}

impl LicenseBody {
    pub fn of(l: &roster_domain::licence::LicenceView) -> Self {
        Self {
            service_plans: l
                .product
                .service_plans
                .iter()
                .filter(|p| !l.excluded_plans.contains(&p.id))
                .map(|p| ServicePlanBody::of(p, "Assigned"))
                .collect(),
            product_sku: ProductSkuBody::of(&l.product, false),
            attributes: Attributes::of("License"),
        }
    }
}

collection!(
    SubscribedSkuCollection,
    SubscribedSkuBody,
    "A customer's seats."
);
collection!(LicenseCollection, LicenseBody, "A user's licences.");
collection!(
    CatalogueCollection,
    CatalogueProductBody,
    "The product catalogue."
);

/// Seats of one product for a customer (Roster's own).
#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct SeatsRequest {
    pub total_units: Option<i64>,
    pub suspended_units: Option<i64>,
    pub warning_units: Option<i64>,
}

#[derive(Deserialize, Serialize, ToSchema, Debug, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct LicenseAssignmentBody {
    pub sku_id: Option<String>,
    /// Service plan ids to leave off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded_plans: Option<Vec<String>>,
}

/// Licences to assign and to remove, in one licence group.
#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct LicenseUpdateRequest {
    pub licenses_to_assign: Option<Vec<LicenseAssignmentBody>>,
    /// Product SKU ids.
    pub licenses_to_remove: Option<Vec<String>>,
}

impl LicenseUpdateRequest {
    pub fn into_input(self) -> roster_domain::licence::LicenceUpdateInput {
        roster_domain::licence::LicenceUpdateInput {
            assign: self.licenses_to_assign.map(|list| {
                list.into_iter()
                    .map(|a| roster_domain::licence::AssignInput {
                        sku_id: a.sku_id,
                        excluded_plans: a.excluded_plans,
                    })
                    .collect()
            }),
            remove: self.licenses_to_remove,
        }
    }
}

#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct LicenseWarningBody {
    pub code: String,
    pub message: String,
    pub service_plans: Vec<String>,
}

/// The licence update as done.
#[derive(Serialize, ToSchema, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct LicenseUpdateBody {
    pub licenses_to_assign: Vec<LicenseAssignmentBody>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub licenses_to_remove: Vec<String>,
    pub license_warnings: Vec<LicenseWarningBody>,
    pub attributes: Attributes,
}

impl LicenseUpdateBody {
    pub fn of(u: &roster_domain::licence::LicenceUpdate) -> Self {
        Self {
            licenses_to_assign: u
                .assign
                .iter()
                .map(|a| LicenseAssignmentBody {
                    sku_id: Some(a.sku_id.clone()),
                    excluded_plans: (!a.excluded_plans.is_empty())
                        .then(|| a.excluded_plans.clone()),
                })
                .collect(),
            licenses_to_remove: u.remove.clone(),
            license_warnings: Vec::new(),
            attributes: Attributes::of("LicenseUpdate"),
        }
    }
}
