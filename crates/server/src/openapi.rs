//! The OpenAPI 3.1 document, generated from the handlers and wire types. A snapshot test
//! fails when it changes unnoticed.

mod requests;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::openapi::security::{
    ClientCredentials, Flow, OAuth2, Password, Scopes, SecurityScheme,
};
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
    components(schemas(SeekOperation, SortField, SortDirection, UserStateWord)),
    modifiers(&BearerAuth),
    security(("oauth2" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [
                    Flow::Password(Password::new("/oauth2/token", Scopes::new())),
                    Flow::ClientCredentials(ClientCredentials::new("/oauth2/token", Scopes::new())),
                ],
                "An access token from POST /oauth2/token, sent as `Authorization: Bearer <token>`",
            )),
        );
    }
}

/// Completes the document generated from the handlers with what no single handler says:
/// the answers every operation of a kind may give, and the shapes of parameters whose text
/// is JSON or one of a list of words the domain defines.
pub fn finish(doc: &mut Value) {
    requests::describe(doc);
    add_links(doc);
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            add_shared_answers(path, method, op);
            for param in op
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                describe_parameter(path, param);
            }
        }
    }
}

/// The operations that create something, the id their answer carries, and the parameter the
/// operations on the created thing take it as.
const CREATORS: [(&str, &str); 6] = [
    ("/v1/customers", "customerId"),
    ("/v1/customers/{customerId}/users", "userId"),
    (
        "/v1/customers/{customerId}/delegatedadminrelationships",
        "relationshipId",
    ),
    ("/v1/users", "userId"),
    ("/v1/groups", "groupId"),
    ("/v1/applications", "applicationId"),
];

/// OpenAPI links from each creating operation's 201 to every operation on what it created
/// (`id` of the answer; the creator's own path parameters passed on), for clients and for
/// generated sequences of calls.
fn add_links(doc: &mut Value) {
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return;
    };
    let path_params = |path: &str| -> Vec<String> {
        path.split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_string)
            .collect()
    };
    let mut links: Vec<(String, Map<String, Value>)> = Vec::new();
    for (creator, param) in CREATORS {
        let inherited = path_params(creator);
        let prefix = format!("{creator}/{{{param}}}");
        let mut found = Map::new();
        for (path, item) in paths {
            if !(path == &prefix || path.starts_with(&format!("{prefix}/"))) {
                continue;
            }
            // Only where every path parameter is known: the new id or the creator's own.
            if !path_params(path)
                .iter()
                .all(|p| p == param || inherited.contains(p))
            {
                continue;
            }
            for op in item.as_object().into_iter().flat_map(|o| o.values()) {
                let Some(id) = op["operationId"].as_str() else {
                    continue;
                };
                let mut parameters = Map::new();
                parameters.insert(param.into(), json!("$response.body#/id"));
                for p in &inherited {
                    parameters.insert(p.clone(), json!(format!("$request.path.{p}")));
                }
                found.insert(
                    id.to_string(),
                    json!({"operationId": id, "parameters": parameters}),
                );
            }
        }
        links.push((creator.to_string(), found));
    }
    for (creator, found) in links {
        if let Some(created) = doc.pointer_mut(&format!(
            "/paths/{}/post/responses/201",
            creator.replace('~', "~0").replace('/', "~1")
        )) {
            created["links"] = Value::Object(found);
        }
    }
}

/// - an operation with path or query parameters may get 400 for one of them;
/// - a write of an authenticated caller (POST, PATCH, DELETE) may get 409 (60007) from the
///   idempotency layer, for an `MS-RequestId` already used for a different request;
/// - an authenticated operation, the token endpoint and the password change may get 429 from a
///   rate limit (Partner Center's throttling body, `Retry-After`);
/// - every operation may get 503 when the server is overloaded or its database does not
///   answer (`Retry-After`); nothing was changed.
fn add_shared_answers(path: &str, method: &str, op: &mut Value) {
    let authenticated = op.get("security").is_none();
    let signs_in = path == "/oauth2/token" || path == "/v1/passwordchange";
    // Beyond the request headers, which any text satisfies.
    let takes_parameters = op["parameters"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p["in"] != "header"));
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    let retry_after = json!({"Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 1},
    }});
    let body = |schema: Value| json!({"application/json": {"schema": schema}});
    let fault = json!({"$ref": "#/components/schemas/ApiFault"});
    if takes_parameters {
        responses.entry("400").or_insert_with(|| json!({
            "description": "2000 an id that is not a GUID; 3000 a parameter that is not what this document says (its name in data)",
            "content": body(fault.clone()),
        }));
    }
    if authenticated {
        responses.entry("403").or_insert_with(|| json!({
            "description": "900150: the caller's roles do not allow this, or not for this customer",
            "content": body(fault.clone()),
        }));
    }
    if authenticated && matches!(method, "post" | "patch" | "delete") {
        responses.entry("409").or_insert_with(|| {
            json!({
                "description": "60007: this MS-RequestId was already used for a different request",
                "content": body(fault.clone()),
            })
        });
    }
    if authenticated || signs_in {
        responses.entry("429").or_insert_with(|| json!({
            "description": "Rate limit is exceeded: Partner Center's throttling body",
            "headers": retry_after,
            "content": body(json!({
                "type": "object",
                "properties": {"statusCode": {"type": "integer"}, "message": {"type": "string"}},
                "required": ["statusCode", "message"],
            })),
        }));
    }
    responses.entry("503").or_insert_with(|| {
        let (description, schema) = if path == "/oauth2/token" {
            (
                "temporarily_unavailable: overloaded, or the database does not answer",
                json!({"$ref": "#/components/schemas/OAuthError"}),
            )
        } else {
            (
                "503: overloaded (requests in flight, the hashing queue), or the database does not answer; nothing was changed",
                fault.clone(),
            )
        };
        json!({"description": description, "headers": retry_after, "content": body(schema)})
    });
}

/// The parameters whose schema the handlers' text types cannot say.
fn describe_parameter(path: &str, param: &mut Value) {
    let name = param["name"].as_str().unwrap_or_default().to_string();
    match (name.as_str(), param["in"].as_str()) {
        ("filter", Some("query")) => {
            if let Some(param) = param.as_object_mut() {
                param.remove("schema");
                param.insert(
                    "content".into(),
                    json!({"application/json": {"schema": filter_schema(path)}}),
                );
            }
        }
        ("licenseGroupIds", Some("query")) => {
            param["schema"] = json!({"type": "array", "items": {"type": "string",
                "pattern": "^[ ,]*([Gg][Rr][Oo][Uu][Pp][12]( *,[ ,]*[Gg][Rr][Oo][Uu][Pp][12])*)?[ ,]*$"}});
        }
        ("usageLocation", Some("query")) => {
            param["schema"] = requests::country_code();
        }
        ("roleId", Some("path")) => {
            let ids: Vec<&str> = if path.starts_with("/v1/roles/") {
                roster_domain::authz::PartnerRole::ALL
                    .iter()
                    .map(|r| r.id())
                    .collect()
            } else {
                roster_domain::authz::DirectoryRole::ALL
                    .iter()
                    .map(|r| r.id())
                    .collect()
            };
            param["schema"] = json!({"type": "string", "enum": ids});
        }
        ("role", Some("query")) => {
            param["schema"] = json!({"type": "string", "enum": partner_role_names()});
        }
        _ => {}
    }
}

/// The names of the partner roles, as the wire gives them.
pub fn partner_role_names() -> Vec<&'static str> {
    roster_domain::authz::PartnerRole::ALL
        .iter()
        .map(|r| r.as_str())
        .collect()
}

/// The filter JSON of a list: the customers list or a users list.
fn filter_schema(path: &str) -> Value {
    let text = |operators: &[&str]| json!({"type": "string", "enum": operators});
    let search = |fields: &[&str]| {
        json!({
            "type": "object",
            "properties": {
                "Field": {"type": "string", "enum": fields},
                "Value": {"type": "string", "description": "Empty matches everything"},
                "Operator": text(&["starts_with", "substring"]),
            },
            "required": ["Field", "Value", "Operator"],
        })
    };
    if path == "/v1/customers" {
        return search(&["CompanyName", "Domain"]);
    }
    json!({"oneOf": [
        {
            "type": "object",
            "properties": {
                "Field": {"type": "string", "enum": ["UserState", "UserStatus"]},
                "Value": {"type": "string", "enum": ["Active", "Inactive"]},
                "Operator": text(&["equals"]),
            },
            "required": ["Field", "Value", "Operator"],
        },
        search(&["DisplayName", "UserPrincipalName"]),
    ]})
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
    #[param(value_type = Option<SeekOperation>)]
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
    #[param(value_type = Option<SeekOperation>)]
    seek_operation: Option<String>,
}

/// Sorting of the users list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct UserSortParams {
    /// `UserPrincipalName` (default) or `DisplayName`.
    #[serde(rename = "sortField")]
    #[param(value_type = Option<SortField>)]
    sort_field: Option<String>,
    /// `Ascending` (default) or `Descending`.
    #[serde(rename = "sortDirection")]
    #[param(value_type = Option<SortDirection>)]
    sort_direction: Option<String>,
}

// The words some parameters take, for the document (the handlers read them as text, case
// aside, and say what they take when they get another).

/// The paging operation.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub enum SeekOperation {
    Next,
}

/// The field the users list is sorted by.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub enum SortField {
    UserPrincipalName,
    DisplayName,
}

/// The direction of the sort.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub enum SortDirection {
    Ascending,
    Descending,
}

/// A partner user's state.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum UserStateWord {
    Active,
    Inactive,
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

    /// Every link names an operation of the document and gives it every path parameter it
    /// takes; every creating operation has its links.
    #[test]
    fn links_lead_to_operations_with_all_their_path_parameters() {
        let doc = crate::openapi_document();
        let mut operations = std::collections::HashMap::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for op in item.as_object().unwrap().values() {
                if let Some(id) = op["operationId"].as_str() {
                    operations.insert(id.to_string(), path.clone());
                }
            }
        }
        for (creator, _) in super::CREATORS {
            let created = &doc["paths"][creator]["post"]["responses"]["201"];
            let links = created["links"]
                .as_object()
                .unwrap_or_else(|| panic!("{creator}"));
            assert!(!links.is_empty(), "{creator} links to nothing");
            for link in links.values() {
                let target = &operations[link["operationId"].as_str().unwrap()];
                for param in target
                    .split('/')
                    .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                {
                    assert!(
                        link["parameters"].get(param).is_some(),
                        "{creator} → {target}: no {param}"
                    );
                }
            }
        }
    }

    /// A request schema's required properties are properties it has.
    #[test]
    fn required_properties_exist() {
        let doc = crate::openapi_document();
        for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
            for required in schema["required"].as_array().into_iter().flatten() {
                let required = required.as_str().unwrap();
                assert!(
                    schema["properties"].get(required).is_some(),
                    "{name}: required {required} is not a property"
                );
            }
        }
    }
}
