//! The partner account: users, roles, security groups (Roster's own endpoints, in Partner
//! Center's conventions).

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_domain::authz::PartnerRole;
use roster_domain::customer_user::UserState;
use roster_domain::partner_user::{NewPartnerUserInput, PartnerUser, PartnerUserPatch};
use roster_service::paging::ListRequest;
use roster_service::partner_users::{PartnerUserQuery, PartnerUserWithPassword};

use super::{user_id, Caller, OrApi, Params, PathIds};
use crate::error::{ApiError, ApiFault};
use crate::json::Body;
use crate::wire::{
    json, ActivityBody, ActivityCollection, Attributes, GrantAccessRequest, GroupMemberRequest,
    PartnerRoleBody, PartnerRoleCollection, PartnerUserBody, PartnerUserCollection,
    PartnerUserRequest, PasswordProfile, SecurityGroupBody, SecurityGroupCollection,
    SecurityGroupRequest, UserMemberBody, UserMemberCollection, UserMemberRequest,
};
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The partner account routes. Each `routes!` holds the handlers of one path.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(activity))
        .routes(routes!(list, create))
        .routes(routes!(grant))
        .routes(routes!(get, update, remove))
        .routes(routes!(roles))
        .routes(routes!(role_members, add_role_member))
        .routes(routes!(remove_role_member))
        .routes(routes!(create_group, groups))
        .routes(routes!(add_group_member))
        .routes(routes!(remove_group_member))
}

fn user_response(status: StatusCode, u: PartnerUserWithPassword) -> Response {
    let mut body = PartnerUserBody::of(&u.user);
    body.password_profile = u.password.map(|(p, force)| PasswordProfile {
        password: Some(p.expose().to_string()),
        force_change_password: force,
    });
    let mut r = json(status, &body);
    if let Ok(etag) = HeaderValue::from_str(&u.user.etag()) {
        r.headers_mut().insert(header::ETAG, etag);
    }
    r
}

fn role_id(raw: &str) -> Result<PartnerRole, ApiError> {
    PartnerRole::parse(raw).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            crate::error::codes::NOT_FOUND,
            "No partner role has this id.",
            vec![],
        )
    })
}

fn list_query(params: &Params, role: Option<PartnerRole>) -> Result<PartnerUserQuery, ApiError> {
    let role = match (role, params.get("role")) {
        (Some(r), _) => Some(r),
        (None, None) => None,
        (None, Some(raw)) => Some(PartnerRole::parse(raw).ok_or_else(|| {
            ApiError::invalid("role", format!("role: '{raw}' is not a partner role"))
        })?),
    };
    let state = match params.get("state") {
        None => UserState::Active,
        Some(raw) => UserState::parse(raw).ok_or_else(|| {
            ApiError::invalid(
                "state",
                format!("state: '{raw}' is not a state: use active or inactive"),
            )
        })?,
    };
    Ok(PartnerUserQuery {
        role,
        search: None,
        state,
        size: params.page_size()?,
    })
}

async fn page(
    app: &AppState,
    ctx: &roster_service::Ctx,
    params: &Params,
    headers: &HeaderMap,
    role: Option<PartnerRole>,
) -> Result<roster_service::Page<PartnerUser>, ApiError> {
    let request = match params.continuation(headers)? {
        Some(token) => ListRequest::Next(token),
        None => ListRequest::First(list_query(params, role)?),
    };
    app.roster
        .list_partner_users(ctx, role, request)
        .await
        .or_api(ctx)
}

#[utoipa::path(get, path = "/v1/users", operation_id = "list_partner_users", tag = "partner users",
    params(crate::openapi::RequestHeaders, crate::openapi::PageSizeParam, crate::openapi::ContinuationHeader,
        ("role" = Option<String>, Query, description = "Only users holding this role (name or id), themselves or through a group"),
        ("state" = Option<crate::openapi::UserStateWord>, Query, description = "`active` (default) or `inactive`")),
    responses((status = 200, body = PartnerUserCollection), (status = 400, body = ApiFault), (status = 401, body = ApiFault), (status = 403, description = "900150", body = ApiFault)))]
pub async fn list(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let page = page(&app, &ctx, &params, &headers, None).await?;
    let items: Vec<PartnerUserBody> = page.items.iter().map(PartnerUserBody::of).collect();
    Ok(json(
        StatusCode::OK,
        &PartnerUserCollection::paged(items, "/users", page.continuation),
    ))
}

#[utoipa::path(post, path = "/v1/users", operation_id = "create_partner_user", tag = "partner users",
    params(crate::openapi::RequestHeaders), request_body = PartnerUserRequest,
    responses((status = 201, description = "Created; passwordProfile shows the password this once", body = PartnerUserBody),
        (status = 400, body = ApiFault), (status = 401, body = ApiFault), (status = 403, description = "900150 (Global admin only)", body = ApiFault),
        (status = 409, description = "60004 UPN taken", body = ApiFault)))]
pub async fn create(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    Body(req): Body<PartnerUserRequest>,
) -> Result<Response, ApiError> {
    let profile = req.password_profile;
    let input = NewPartnerUserInput {
        user_principal_name: req.user_principal_name,
        display_name: req.display_name,
        first_name: req.first_name,
        last_name: req.last_name,
        roles: req.roles,
        custom_permissions: req.custom_permissions,
        groups: req.groups,
        is_directory_global_admin: req.is_directory_global_admin.unwrap_or(false),
        password_recovery_email: req.password_recovery_email,
        password: profile.as_ref().and_then(|p| p.password.clone()),
        force_change_password: profile.as_ref().and_then(|p| p.force_change_password),
    };
    let created = app
        .roster
        .create_partner_user(&ctx, &input)
        .await
        .or_api(&ctx)?;
    Ok(user_response(StatusCode::CREATED, created))
}

#[utoipa::path(post, path = "/v1/users/access", tag = "partner users",
    params(crate::openapi::RequestHeaders), request_body = GrantAccessRequest,
    responses((status = 200, description = "The users, with their new access", body = PartnerUserCollection),
        (status = 400, body = ApiFault), (status = 401, body = ApiFault), (status = 403, body = ApiFault), (status = 404, description = "60002", body = ApiFault)))]
pub async fn grant(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    Body(req): Body<GrantAccessRequest>,
) -> Result<Response, ApiError> {
    let ids = req
        .user_ids
        .unwrap_or_default()
        .iter()
        .map(|s| user_id(s))
        .collect::<Result<Vec<_>, _>>()?;
    let users = app
        .roster
        .grant_access(
            &ctx,
            &ids,
            req.roles.as_deref(),
            req.custom_permissions.as_ref(),
        )
        .await
        .or_api(&ctx)?;
    let items: Vec<PartnerUserBody> = users.iter().map(PartnerUserBody::of).collect();
    Ok(json(
        StatusCode::OK,
        &PartnerUserCollection::whole(items, "/users"),
    ))
}

#[utoipa::path(get, path = "/v1/users/{userId}", operation_id = "get_partner_user", tag = "partner users",
    params(("userId" = uuid::Uuid, Path), crate::openapi::RequestHeaders),
    responses((status = 200, body = PartnerUserBody), (status = 400, body = ApiFault), (status = 401, body = ApiFault), (status = 403, body = ApiFault), (status = 404, description = "60002", body = ApiFault)))]
pub async fn get(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(uid): PathIds<String>,
) -> Result<Response, ApiError> {
    let user = app
        .roster
        .get_partner_user(&ctx, user_id(&uid)?)
        .await
        .or_api(&ctx)?;
    Ok(user_response(
        StatusCode::OK,
        PartnerUserWithPassword {
            user,
            password: None,
        },
    ))
}

#[utoipa::path(patch, path = "/v1/users/{userId}", operation_id = "update_partner_user", tag = "partner users",
    params(("userId" = uuid::Uuid, Path), crate::openapi::RequestHeaders), request_body = PartnerUserRequest,
    responses((status = 200, description = "Updated; passwordProfile shows a reset password this once", body = PartnerUserBody),
        (status = 400, body = ApiFault), (status = 401, body = ApiFault), (status = 403, description = "900150 (granting or removing Global admin, or resetting a password, takes a Global admin)", body = ApiFault),
        (status = 404, description = "60002", body = ApiFault), (status = 409, description = "60004 UPN taken; 60005 the last Global admin", body = ApiFault)))]
pub async fn update(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(uid): PathIds<String>,
    Body(req): Body<PartnerUserRequest>,
) -> Result<Response, ApiError> {
    let profile = req.password_profile;
    let patch = PartnerUserPatch {
        user_principal_name: req.user_principal_name,
        display_name: req.display_name,
        first_name: req.first_name,
        last_name: req.last_name,
        roles: req.roles,
        custom_permissions: req.custom_permissions,
        groups: req.groups,
        reset_password: profile.is_some(),
        password: profile.as_ref().and_then(|p| p.password.clone()),
        force_change_password: profile.as_ref().and_then(|p| p.force_change_password),
    };
    let updated = app
        .roster
        .update_partner_user(&ctx, user_id(&uid)?, &patch)
        .await
        .or_api(&ctx)?;
    Ok(user_response(StatusCode::OK, updated))
}

#[utoipa::path(delete, path = "/v1/users/{userId}", tag = "partner users",
    params(("userId" = uuid::Uuid, Path), crate::openapi::RequestHeaders),
    responses((status = 204, description = "Access removed and sessions ended; the directory user stays"),
        (status = 400, body = ApiFault), (status = 401, body = ApiFault), (status = 403, body = ApiFault), (status = 404, description = "60002", body = ApiFault),
        (status = 409, description = "60005 the last Global admin", body = ApiFault)))]
pub async fn remove(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(uid): PathIds<String>,
) -> Result<Response, ApiError> {
    app.roster
        .remove_partner_user_access(&ctx, user_id(&uid)?)
        .await
        .or_api(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/v1/roles", tag = "partner users",
    params(crate::openapi::RequestHeaders),
    responses((status = 200, body = PartnerRoleCollection), (status = 401, body = ApiFault), (status = 403, body = ApiFault)))]
pub async fn roles(State(app): State<AppState>, Caller(ctx): Caller) -> Result<Response, ApiError> {
    let roles = app.roster.partner_roles(&ctx).or_api(&ctx)?;
    let items: Vec<PartnerRoleBody> = roles
        .iter()
        .map(|r| PartnerRoleBody {
            id: r.id().into(),
            name: r.name().into(),
            attributes: Attributes::of("PartnerRole"),
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &PartnerRoleCollection::whole(items, "/roles"),
    ))
}

fn member(u: &PartnerUser, role: PartnerRole) -> UserMemberBody {
    UserMemberBody {
        id: u.id.to_string(),
        display_name: u.display_name.clone(),
        user_principal_name: u.upn.to_string(),
        role_id: role.id().into(),
        attributes: Attributes::of("UserMember"),
    }
}

#[utoipa::path(get, path = "/v1/roles/{roleId}/usermembers", tag = "partner users",
    params(("roleId" = String, Path), crate::openapi::RequestHeaders, crate::openapi::PageSizeParam, crate::openapi::ContinuationHeader),
    responses((status = 200, description = "Users holding the role, themselves or through a group", body = UserMemberCollection),
        (status = 401, body = ApiFault), (status = 403, body = ApiFault), (status = 404, description = "1000 no such role", body = ApiFault)))]
pub async fn role_members(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(rid): PathIds<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let role = role_id(&rid)?;
    let page = page(&app, &ctx, &params, &headers, Some(role)).await?;
    let items: Vec<UserMemberBody> = page.items.iter().map(|u| member(u, role)).collect();
    let base = format!("/roles/{}/usermembers", role.id());
    Ok(json(
        StatusCode::OK,
        &UserMemberCollection::paged(items, &base, page.continuation),
    ))
}

#[utoipa::path(post, path = "/v1/roles/{roleId}/usermembers", tag = "partner users",
    params(("roleId" = String, Path), crate::openapi::RequestHeaders), request_body = UserMemberRequest,
    responses((status = 201, body = UserMemberBody), (status = 400, body = ApiFault), (status = 401, body = ApiFault), (status = 403, body = ApiFault),
        (status = 404, description = "1000 no such role; 60002 no such user", body = ApiFault)))]
pub async fn add_role_member(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(rid): PathIds<String>,
    Body(req): Body<UserMemberRequest>,
) -> Result<Response, ApiError> {
    let role = role_id(&rid)?;
    let uid = user_id(req.id.as_deref().unwrap_or(""))?;
    let user = app
        .roster
        .add_partner_role_member(&ctx, role, uid)
        .await
        .or_api(&ctx)?;
    Ok(json(StatusCode::CREATED, &member(&user, role)))
}

#[utoipa::path(delete, path = "/v1/roles/{roleId}/usermembers/{userId}", tag = "partner users",
    params(("roleId" = String, Path), ("userId" = uuid::Uuid, Path), crate::openapi::RequestHeaders),
    responses((status = 204), (status = 400, body = ApiFault), (status = 401, body = ApiFault), (status = 403, body = ApiFault),
        (status = 404, body = ApiFault), (status = 409, description = "60005 the last Global admin", body = ApiFault)))]
pub async fn remove_role_member(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((rid, uid)): PathIds<(String, String)>,
) -> Result<Response, ApiError> {
    let role = role_id(&rid)?;
    app.roster
        .remove_partner_role_member(&ctx, role, user_id(&uid)?)
        .await
        .or_api(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(post, path = "/v1/groups", tag = "partner users",
    params(crate::openapi::RequestHeaders), request_body = SecurityGroupRequest,
    responses((status = 201, body = SecurityGroupBody), (status = 400, body = ApiFault), (status = 401, body = ApiFault), (status = 403, body = ApiFault),
        (status = 409, description = "60005 the name is taken", body = ApiFault)))]
pub async fn create_group(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    Body(req): Body<SecurityGroupRequest>,
) -> Result<Response, ApiError> {
    let group = app
        .roster
        .create_group(
            &ctx,
            req.display_name.as_deref(),
            req.description.as_deref(),
            req.roles.as_deref(),
        )
        .await
        .or_api(&ctx)?;
    Ok(json(StatusCode::CREATED, &SecurityGroupBody::of(&group)))
}

#[utoipa::path(get, path = "/v1/groups", tag = "partner users",
    params(crate::openapi::RequestHeaders),
    responses((status = 200, body = SecurityGroupCollection), (status = 401, body = ApiFault), (status = 403, body = ApiFault)))]
pub async fn groups(
    State(app): State<AppState>,
    Caller(ctx): Caller,
) -> Result<Response, ApiError> {
    let groups = app.roster.list_groups(&ctx).await.or_api(&ctx)?;
    let items: Vec<SecurityGroupBody> = groups.iter().map(SecurityGroupBody::of).collect();
    Ok(json(
        StatusCode::OK,
        &SecurityGroupCollection::whole(items, "/groups"),
    ))
}

#[utoipa::path(post, path = "/v1/groups/{groupId}/members", tag = "partner users",
    params(("groupId" = String, Path), crate::openapi::RequestHeaders), request_body = GroupMemberRequest,
    responses((status = 204, description = "The user is a member"), (status = 400, body = ApiFault), (status = 401, body = ApiFault), (status = 403, body = ApiFault), (status = 404, body = ApiFault)))]
pub async fn add_group_member(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(gid): PathIds<String>,
    Body(req): Body<GroupMemberRequest>,
) -> Result<Response, ApiError> {
    let uid = user_id(req.user_id.as_deref().unwrap_or(""))?;
    app.roster
        .add_group_member(&ctx, &gid, uid)
        .await
        .or_api(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(delete, path = "/v1/groups/{groupId}/members/{userId}", tag = "partner users",
    params(("groupId" = String, Path), ("userId" = uuid::Uuid, Path), crate::openapi::RequestHeaders),
    responses((status = 204), (status = 400, body = ApiFault), (status = 401, body = ApiFault), (status = 403, body = ApiFault), (status = 404, body = ApiFault),
        (status = 409, description = "60005 the last Global admin", body = ApiFault)))]
pub async fn remove_group_member(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((gid, uid)): PathIds<(String, String)>,
) -> Result<Response, ApiError> {
    app.roster
        .remove_group_member(&ctx, &gid, user_id(&uid)?)
        .await
        .or_api(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/v1/users/{userId}/activity", tag = "partner users",
    params(("userId" = uuid::Uuid, Path), crate::openapi::RequestHeaders, crate::openapi::PageSizeParam, crate::openapi::ContinuationHeader),
    responses((status = 200, description = "The user's requests of the last 30 days, newest first", body = ActivityCollection),
        (status = 400, body = ApiFault), (status = 401, body = ApiFault), (status = 403, description = "900150 (Global admin only)", body = ApiFault),
        (status = 404, description = "60002", body = ApiFault)))]
pub async fn activity(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(uid): PathIds<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = user_id(&uid)?;
    let request = match params.continuation(&headers)? {
        Some(token) => ListRequest::Next(token),
        None => ListRequest::First(params.page_size()?),
    };
    let page = app
        .roster
        .user_activity(&ctx, id, request)
        .await
        .or_api(&ctx)?;
    let items = page.items.iter().map(ActivityBody::of).collect();
    Ok(json(
        StatusCode::OK,
        &ActivityCollection::paged(items, &format!("/users/{id}/activity"), page.continuation),
    ))
}
