//! The OpenAPI 3.1 document, generated from the handlers and wire types. A snapshot test
//! fails when it changes unnoticed.

use serde::Deserialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Roster",
        description = "Customer and partner user accounts for cloud resellers, wire-compatible with the Partner Center REST API v1. \
            Property names in request bodies match case-insensitively; responses are camelCase. Every error answers with \
            {code, description, data, source}.",
        license(name = "Apache-2.0"),
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from POST /oauth2/token"))
                    .build(),
            ),
        );
    }
}

/// Headers every `/v1` operation accepts.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct RequestHeaders {
    /// A GUID per call. On POST, PATCH and DELETE it is the idempotency key: a repeat of the
    /// same request gets the first answer, a different request with it gets 409 (60007).
    /// Generated when absent; echoed on the response.
    #[serde(rename = "MS-RequestId")]
    ms_request_id: Option<String>,
    /// Carried into logs and audit records; generated when absent; echoed on the response.
    #[serde(rename = "MS-CorrelationId")]
    ms_correlation_id: Option<String>,
}

/// Paging of list operations.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// Page size, 0–500; 0 or absent means 100.
    #[param(minimum = 0, maximum = 500)]
    size: Option<u32>,
    /// URL-encoded JSON `{"Field": F, "Value": V, "Operator": OP}`. Users: `UserState` (or
    /// `UserStatus`) `equals` `Active`/`Inactive`; `DisplayName` or `UserPrincipalName` with
    /// `starts_with` or `substring`. Customers: `CompanyName` or `Domain` with `starts_with`
    /// or `substring`.
    filter: Option<String>,
    /// `Next`, with the previous page's token in the `MS-ContinuationToken` header (or the
    /// `continuationToken` parameter); the token alone carries the filter, sort and size.
    #[serde(rename = "seekOperation")]
    seek_operation: Option<String>,
    #[serde(rename = "continuationToken")]
    continuation_token: Option<String>,
}

/// The continuation token header of list operations.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct ContinuationHeader {
    /// The previous page's `continuationToken`, with `seekOperation=Next`.
    #[serde(rename = "MS-ContinuationToken")]
    ms_continuation_token: Option<String>,
}

/// The page size of a list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageSizeParam {
    /// Page size, 0–500; 0 or absent means 100.
    #[param(minimum = 0, maximum = 500)]
    size: Option<u32>,
    /// `Next`, with the previous page's token in the `MS-ContinuationToken` header.
    #[serde(rename = "seekOperation")]
    seek_operation: Option<String>,
}

/// Sorting of the users list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct UserSortParams {
    /// `UserPrincipalName` (default) or `DisplayName`.
    #[serde(rename = "sortField")]
    sort_field: Option<String>,
    /// `Ascending` (default) or `Descending`.
    #[serde(rename = "sortDirection")]
    sort_direction: Option<String>,
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// The published contract must not change unnoticed: this compares the generated document
    /// with the committed `openapi.json`. After an intended change, run
    /// `UPDATE_SNAPSHOTS=1 cargo test -p roster-server openapi` and commit the new file.
    #[test]
    fn openapi_snapshot() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
        let generated = serde_json::to_string_pretty(&crate::openapi_document()).unwrap() + "\n";
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "the OpenAPI document changed: review the difference, then run \
             UPDATE_SNAPSHOTS=1 cargo test -p roster-server openapi and commit crates/server/openapi.json"
        );
    }

    #[test]
    fn the_document_describes_every_route() {
        let doc = crate::openapi_document();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        let expected = [
            ("/healthz", vec!["get"]),
            ("/oauth2/token", vec!["post"]),
            ("/v1/passwordchange", vec!["post"]),
            ("/.well-known/jwks.json", vec!["get"]),
            ("/.well-known/openid-configuration", vec!["get"]),
            ("/v1/customers", vec!["get", "post"]),
            ("/v1/customers/{customerId}", vec!["get", "patch"]),
            (
                "/v1/customers/{customerId}/delegatedadminrelationships",
                vec!["get", "post"],
            ),
            (
                "/v1/customers/{customerId}/delegatedadminrelationships/{relationshipId}",
                vec!["get"],
            ),
            (
                "/v1/customers/{customerId}/delegatedadminrelationships/{relationshipId}/approve",
                vec!["post"],
            ),
            (
                "/v1/customers/{customerId}/delegatedadminrelationships/{relationshipId}/terminate",
                vec!["post"],
            ),
            (
                "/v1/customers/{customerId}/delegatedadminrelationships/{relationshipId}/accessassignments",
                vec!["post"],
            ),
            ("/v1/customers/{customerId}/domains", vec!["get", "post"]),
            ("/v1/customers/{customerId}/users", vec!["get", "post"]),
            ("/v1/customers/{customerId}/users/bulkupload", vec!["post"]),
            (
                "/v1/customers/{customerId}/users/bulkupload/template",
                vec!["get"],
            ),
            (
                "/v1/customers/{customerId}/users/{userId}",
                vec!["delete", "get", "patch"],
            ),
            (
                "/v1/customers/{customerId}/users/{userId}/resetpassword",
                vec!["post"],
            ),
            ("/v1/auditrecords", vec!["get"]),
            ("/v1/users/{userId}/activity", vec!["get"]),
            ("/v1/users", vec!["get", "post"]),
            ("/v1/users/access", vec!["post"]),
            ("/v1/users/{userId}", vec!["delete", "get", "patch"]),
            ("/v1/roles", vec!["get"]),
            ("/v1/roles/{roleId}/usermembers", vec!["get", "post"]),
            ("/v1/roles/{roleId}/usermembers/{userId}", vec!["delete"]),
            ("/v1/groups", vec!["get", "post"]),
            ("/v1/groups/{groupId}/members", vec!["post"]),
            ("/v1/groups/{groupId}/members/{userId}", vec!["delete"]),
            ("/v1/invitations", vec!["get", "post"]),
            ("/v1/invitations/{invitationId}", vec!["delete", "get"]),
            ("/v1/invitations/{invitationId}/resend", vec!["post"]),
            ("/v1/invitations/redeem", vec!["post"]),
            ("/v1/customers/{customerId}/directoryroles", vec!["get"]),
            (
                "/v1/customers/{customerId}/users/{userId}/directoryroles",
                vec!["get"],
            ),
            (
                "/v1/customers/{customerId}/directoryroles/{roleId}/usermembers",
                vec!["get", "post"],
            ),
            (
                "/v1/customers/{customerId}/directoryroles/{roleId}/usermembers/{userId}",
                vec!["delete"],
            ),
            ("/v1/productskus", vec!["get"]),
            ("/v1/customers/{customerId}/subscribedskus", vec!["get"]),
            ("/v1/customers/{customerId}/subscribedskus/{skuId}", vec!["put"]),
            ("/v1/customers/{customerId}/users/{userId}/licenses", vec!["get"]),
            (
                "/v1/customers/{customerId}/users/{userId}/licenseupdates",
                vec!["post"],
            ),
            ("/v1/applications", vec!["get", "post"]),
            ("/v1/applications/{applicationId}", vec!["delete"]),
            ("/v1/applications/{applicationId}/resetsecret", vec!["post"]),
        ];
        assert_eq!(paths.len(), expected.len());
        // Generated clients name a method after each operation id: they must be unique.
        let mut ids: Vec<&str> = paths
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .map(|op| op["operationId"].as_str().unwrap())
            .collect();
        let all = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all, "operation ids repeat: {ids:?}");
        for (path, methods) in expected {
            let item = paths
                .get(path)
                .unwrap_or_else(|| panic!("{path} is not documented"));
            let mut got: Vec<&str> = item
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            got.sort_unstable();
            assert_eq!(got, methods, "{path}");
            for (_, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                assert!(
                    responses.keys().any(|s| s.starts_with('2')),
                    "{path}: no success response"
                );
                // Redeeming an invitation link is the one /v1 call without an access token.
                // Everything under /v1 takes a bearer token but the two ways in for a user
                // who has none yet.
                let open = ["/v1/invitations/redeem", "/v1/passwordchange"];
                // What a resource server fetches to verify tokens needs none.
                if path.starts_with("/.well-known/") {
                    assert_eq!(op["security"], serde_json::json!([{}]), "{path}");
                }
                // A path parameter is one the path names: a generated client puts every
                // `in: path` parameter into the path and could not call the operation else.
                for p in op["parameters"].as_array().into_iter().flatten() {
                    if p["in"] == "path" {
                        let name = p["name"].as_str().unwrap();
                        assert!(
                            path.contains(&format!("{{{name}}}")),
                            "{path}: path parameter {name} is not in the path"
                        );
                        assert_eq!(p["required"], true, "{path}: {name}");
                    }
                }
                if path.starts_with("/v1") && !open.contains(&path) {
                    assert!(responses.contains_key("401"), "{path}: 401 undocumented");
                    let params = op["parameters"].as_array().unwrap();
                    assert!(
                        params.iter().any(|p| p["name"] == "MS-RequestId"),
                        "{path}: MS-RequestId undocumented"
                    );
                }
            }
        }
    }
}
