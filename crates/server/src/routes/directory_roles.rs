//! Directory roles of a customer tenant: operations 10–14 of rest-api.md.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_domain::authz::RoleMember;
use roster_service::paging::ListRequest;

use super::{customer_id, user_id, Caller, OrApi, Params, PathIds};
use crate::error::{ApiError, ApiFault};
use crate::json::Body;
use crate::wire::{
    json, Attributes, DirectoryRoleBody, DirectoryRoleCollection, UserMemberBody,
    UserMemberCollection, UserMemberRequest,
};
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The directory roles routes. Each `routes!` holds the handlers of one path.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(catalogue))
        .routes(routes!(of_user))
        .routes(routes!(members, add_member))
        .routes(routes!(remove_member))
}

fn roles_body(roles: &[roster_domain::authz::DirectoryRole], self_uri: String) -> Response {
    let items: Vec<DirectoryRoleBody> = roles.iter().copied().map(DirectoryRoleBody::of).collect();
    json(
        StatusCode::OK,
        &DirectoryRoleCollection::whole(items, self_uri),
    )
}

fn member(m: &RoleMember, role_id: &str) -> UserMemberBody {
    UserMemberBody {
        id: m.user.to_string(),
        display_name: m.display_name.clone(),
        user_principal_name: m.upn.to_string(),
        role_id: role_id.to_ascii_lowercase(),
        attributes: Attributes::of("UserMember"),
    }
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/directoryroles", operation_id = "list_directory_roles", tag = "directory roles",
    params(("customerId" = uuid::Uuid, Path), crate::openapi::RequestHeaders),
    responses((status = 200, description = "The fixed catalogue of directory roles", body = DirectoryRoleCollection),
        (status = 400, description = "2000", body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault), (status = 404, description = "60003", body = ApiFault)))]
pub async fn catalogue(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(cid): PathIds<String>,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let roles = app.roster.directory_roles(&ctx, cid).await.or_api(&ctx)?;
    Ok(roles_body(
        &roles,
        format!("/customers/{cid}/directoryroles"),
    ))
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/users/{userId}/directoryroles", operation_id = "list_user_directory_roles", tag = "directory roles",
    params(("customerId" = uuid::Uuid, Path), ("userId" = uuid::Uuid, Path), crate::openapi::RequestHeaders),
    responses((status = 200, description = "The roles the user holds", body = DirectoryRoleCollection),
        (status = 400, description = "2000", body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault), (status = 404, description = "60003; 60002", body = ApiFault)))]
pub async fn of_user(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((cid, uid)): PathIds<(String, String)>,
) -> Result<Response, ApiError> {
    let (cid, uid) = (customer_id(&cid)?, user_id(&uid)?);
    let roles = app
        .roster
        .user_directory_roles(&ctx, cid, uid)
        .await
        .or_api(&ctx)?;
    Ok(roles_body(
        &roles,
        format!("/customers/{cid}/users/{uid}/directoryroles"),
    ))
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/directoryroles/{roleId}/usermembers", tag = "directory roles",
    params(("customerId" = uuid::Uuid, Path), ("roleId" = String, Path), crate::openapi::RequestHeaders, crate::openapi::PageSizeParam, crate::openapi::ContinuationHeader),
    responses((status = 200, description = "A page of the role's active members, by user id", body = UserMemberCollection),
        (status = 400, description = "2000; 3000 bad size or continuation token", body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault), (status = 404, description = "60003; 1000 no such role", body = ApiFault)))]
pub async fn members(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((cid, rid)): PathIds<(String, String)>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let request = match params.continuation(&headers)? {
        Some(token) => ListRequest::Next(token),
        None => ListRequest::First(params.page_size()?),
    };
    let page = app
        .roster
        .role_members(&ctx, cid, &rid, request)
        .await
        .or_api(&ctx)?;
    let items: Vec<UserMemberBody> = page.items.iter().map(|m| member(m, &rid)).collect();
    let base = format!(
        "/customers/{cid}/directoryroles/{}/usermembers",
        rid.to_ascii_lowercase()
    );
    Ok(json(
        StatusCode::OK,
        &UserMemberCollection::paged(items, &base, page.continuation),
    ))
}

#[utoipa::path(post, path = "/v1/customers/{customerId}/directoryroles/{roleId}/usermembers", tag = "directory roles",
    params(("customerId" = uuid::Uuid, Path), ("roleId" = String, Path), crate::openapi::RequestHeaders),
    request_body(content = UserMemberRequest, description = "Only id is used"),
    responses((status = 201, description = "The user holds the role (also when it held it already)", body = UserMemberBody),
        (status = 400, description = "800002; 2000", body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault),
        (status = 404, description = "60003; 1000 no such role; 60002 no such active user", body = ApiFault)))]
pub async fn add_member(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((cid, rid)): PathIds<(String, String)>,
    Body(req): Body<UserMemberRequest>,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let uid = user_id(req.id.as_deref().unwrap_or(""))?;
    let m = app
        .roster
        .add_role_member(&ctx, cid, &rid, uid)
        .await
        .or_api(&ctx)?;
    Ok(json(StatusCode::CREATED, &member(&m, &rid)))
}

#[utoipa::path(delete, path = "/v1/customers/{customerId}/directoryroles/{roleId}/usermembers/{userId}", tag = "directory roles",
    params(("customerId" = uuid::Uuid, Path), ("roleId" = String, Path), ("userId" = uuid::Uuid, Path), crate::openapi::RequestHeaders),
    responses((status = 204, description = "The user no longer holds the role"),
        (status = 400, description = "2000", body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault),
        (status = 404, description = "60003; 60002 no such active user; 1000 no such role or the user does not hold it", body = ApiFault)))]
pub async fn remove_member(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((cid, rid, uid)): PathIds<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (cid, uid) = (customer_id(&cid)?, user_id(&uid)?);
    app.roster
        .remove_role_member(&ctx, cid, &rid, uid)
        .await
        .or_api(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
