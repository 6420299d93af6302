//! Customer users: operations 3–9 of rest-api.md.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_domain::customer_user::PasswordEcho;
use roster_domain::customer_user::{CustomerUser, UserState};
use roster_domain::listing::{
    sort_key, SortDirection, TextFilter, UserListQuery, UserSortField, UserTextField,
};
use roster_service::paging::ListRequest;

use super::{customer_id, user_id, Caller, Filter, OrApi, Params, PathIds};
use crate::error::{ApiError, ApiFault};
use crate::json::{read_body, Body};
use crate::wire::{
    json, CustomerUserBody, CustomerUserCollection, CustomerUserRequest, ResetPasswordRequest,
};
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The customer users routes. Each `routes!` holds the handlers of one path.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get, update, delete))
        .routes(routes!(reset_password))
}

fn user_response(status: StatusCode, user: &CustomerUser, echo: Option<PasswordEcho>) -> Response {
    let mut response = json(status, &CustomerUserBody::of(user).with_password(echo));
    if let Ok(etag) = HeaderValue::from_str(&user.etag()) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

#[utoipa::path(post, path = "/v1/customers/{customerId}/users", operation_id = "create_customer_user", tag = "customer users",
    params(("customerId" = uuid::Uuid, Path), crate::openapi::RequestHeaders),
    request_body(content = CustomerUserRequest, description = "userPrincipalName and displayName are required; without passwordProfile.password Roster generates a temporary password and returns it once"),
    responses(
        (status = 201, description = "Created; passwordProfile shows the password this once", body = CustomerUserBody),
        (status = 400, description = "800002 malformed body; 2000 bad id; 3000 invalid properties (data names each)", body = ApiFault),
        (status = 401, body = ApiFault), (status = 403, description = "900150", body = ApiFault),
        (status = 404, description = "60003", body = ApiFault),
        (status = 409, description = "60004 UPN taken; 60007 MS-RequestId reused", body = ApiFault),
        (status = 413, description = "800004", body = ApiFault),
    ))]
pub async fn create(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(cid): PathIds<String>,
    Body(req): Body<CustomerUserRequest>,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let created = app
        .roster
        .create_customer_user(&ctx, cid, &req.into_input())
        .await
        .or_api(&ctx)?;
    let echo = PasswordEcho {
        password: Some(created.password),
        force_change_password: created.user.force_change_password,
    };
    Ok(user_response(
        StatusCode::CREATED,
        &created.user,
        Some(echo),
    ))
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/users/{userId}", operation_id = "get_customer_user", tag = "customer users",
    params(("customerId" = uuid::Uuid, Path), ("userId" = uuid::Uuid, Path), crate::openapi::RequestHeaders),
    responses(
        (status = 200, description = "The user, active or soft-deleted", body = CustomerUserBody,
            headers(("ETag" = String, description = "The user's etag, for If-Match"))),
        (status = 400, description = "2000", body = ApiFault), (status = 401, body = ApiFault),
        (status = 404, description = "60003 customer; 60002 user", body = ApiFault),
    ))]
pub async fn get(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((cid, uid)): PathIds<(String, String)>,
) -> Result<Response, ApiError> {
    let (cid, uid) = (customer_id(&cid)?, user_id(&uid)?);
    let user = app
        .roster
        .get_customer_user(&ctx, cid, uid)
        .await
        .or_api(&ctx)?;
    Ok(user_response(StatusCode::OK, &user, None))
}

fn list_query(params: &Params) -> Result<UserListQuery, ApiError> {
    let mut state = UserState::Active;
    let mut search = None;
    if let Some(raw) = params.get("filter") {
        let f = Filter::parse(raw)?;
        match f.field.to_ascii_lowercase().as_str() {
            "userstate" | "userstatus" => {
                if !f.operator.eq_ignore_ascii_case("equals") {
                    return Err(ApiError::invalid("filter", format!("filter: operator '{}' is not supported for {}: use equals", f.operator, f.field)));
                }
                state = UserState::parse(&f.value).ok_or_else(|| {
                    ApiError::invalid("filter", format!("filter: '{}' is not a user state: use Active or Inactive", f.value))
                })?;
            }
            field @ ("displayname" | "userprincipalname") => {
                let op = f.text_match().ok_or_else(|| {
                    ApiError::invalid("filter", format!("filter: operator '{}' is not supported for {}: use starts_with or substring", f.operator, f.field))
                })?;
                let field = if field == "displayname" { UserTextField::DisplayName } else { UserTextField::UserPrincipalName };
                search = Some(TextFilter { field, op, value: sort_key(&f.value) });
            }
            _ => {
                return Err(ApiError::invalid(
                    "filter",
                    format!("filter: '{}' can't be filtered on: use UserState, DisplayName or UserPrincipalName", f.field),
                ))
            }
        }
    }
    let sort = match params.get("sortField") {
        None => UserSortField::UserPrincipalName,
        Some(s) if s.eq_ignore_ascii_case("userprincipalname") => UserSortField::UserPrincipalName,
        Some(s) if s.eq_ignore_ascii_case("displayname") => UserSortField::DisplayName,
        Some(s) => {
            return Err(ApiError::invalid(
                "sortField",
                format!("sortField: '{s}' is not supported: use DisplayName or UserPrincipalName"),
            ))
        }
    };
    let direction = match params.get("sortDirection") {
        None => SortDirection::Ascending,
        Some(s) if s.eq_ignore_ascii_case("ascending") || s.eq_ignore_ascii_case("asc") => {
            SortDirection::Ascending
        }
        Some(s) if s.eq_ignore_ascii_case("descending") || s.eq_ignore_ascii_case("desc") => {
            SortDirection::Descending
        }
        Some(s) => {
            return Err(ApiError::invalid(
                "sortDirection",
                format!("sortDirection: '{s}' is not supported: use Ascending or Descending"),
            ))
        }
    };
    Ok(UserListQuery {
        state,
        search,
        sort,
        direction,
        size: params.page_size()?,
    })
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/users", operation_id = "list_customer_users", tag = "customer users",
    params(("customerId" = uuid::Uuid, Path), crate::openapi::RequestHeaders, crate::openapi::ListParams, crate::openapi::ContinuationHeader, crate::openapi::UserSortParams),
    responses(
        (status = 200, description = "A page of users; follow links.next (or send seekOperation=Next with the MS-ContinuationToken header) for the next", body = CustomerUserCollection),
        (status = 400, description = "2000; 3000 bad size, filter, sort or continuation token", body = ApiFault),
        (status = 401, body = ApiFault), (status = 404, description = "60003", body = ApiFault),
    ))]
pub async fn list(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(cid): PathIds<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let request = match params.continuation(&headers)? {
        Some(token) => ListRequest::Next(token),
        None => ListRequest::First(list_query(&params)?),
    };
    let page = app
        .roster
        .list_customer_users(&ctx, cid, request)
        .await
        .or_api(&ctx)?;
    let items: Vec<CustomerUserBody> = page.items.iter().map(CustomerUserBody::of).collect();
    let base = format!("/customers/{cid}/users");
    Ok(json(
        StatusCode::OK,
        &CustomerUserCollection::paged(items, &base, page.continuation),
    ))
}

#[utoipa::path(patch, path = "/v1/customers/{customerId}/users/{userId}", operation_id = "update_customer_user", tag = "customer users",
    params(("customerId" = uuid::Uuid, Path), ("userId" = uuid::Uuid, Path), crate::openapi::RequestHeaders,
        ("If-Match" = Option<String>, Header, description = "The etag from the last read; the PATCH is refused with 412 when the user changed since")),
    request_body(content = CustomerUserRequest, description = "Edit (any subset of properties), reset the password (passwordProfile), or restore a soft-deleted user (state: active, with optional other properties)"),
    responses(
        (status = 200, description = "The updated user; passwordProfile echoed when the body had one", body = CustomerUserBody),
        (status = 400, description = "800002; 2000; 3000 (including state: inactive)", body = ApiFault),
        (status = 401, body = ApiFault), (status = 403, description = "900150", body = ApiFault),
        (status = 404, description = "60003; 60002 (also after the purge)", body = ApiFault),
        (status = 409, description = "60004 UPN taken; 60005 the user is deleted: restore it first; 60006 restore blocked by the UPN; 60007", body = ApiFault),
        (status = 412, description = "60008 If-Match does not match", body = ApiFault),
    ))]
pub async fn update(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((cid, uid)): PathIds<(String, String)>,
    headers: HeaderMap,
    Body(req): Body<CustomerUserRequest>,
) -> Result<Response, ApiError> {
    let (cid, uid) = (customer_id(&cid)?, user_id(&uid)?);
    let if_match = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok());
    let updated = app
        .roster
        .update_customer_user(&ctx, cid, uid, &req.into_input(), if_match)
        .await
        .or_api(&ctx)?;
    Ok(user_response(
        StatusCode::OK,
        &updated.user,
        updated.password_profile,
    ))
}

#[utoipa::path(delete, path = "/v1/customers/{customerId}/users/{userId}", operation_id = "delete_customer_user", tag = "customer users",
    params(("customerId" = uuid::Uuid, Path), ("userId" = uuid::Uuid, Path), crate::openapi::RequestHeaders,
        ("If-Match" = Option<String>, Header, description = "Optional etag precondition")),
    responses(
        (status = 204, description = "Soft-deleted: restorable until the purge"),
        (status = 400, description = "2000", body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault),
        (status = 404, description = "60003; 60002 (also for an already deleted user)", body = ApiFault),
        (status = 409, description = "60007", body = ApiFault), (status = 412, description = "60008", body = ApiFault),
    ))]
pub async fn delete(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((cid, uid)): PathIds<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (cid, uid) = (customer_id(&cid)?, user_id(&uid)?);
    let if_match = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok());
    app.roster
        .delete_customer_user(&ctx, cid, uid, if_match)
        .await
        .or_api(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(post, path = "/v1/customers/{customerId}/users/{userId}/resetpassword", operation_id = "reset_customer_user_password", tag = "customer users",
    params(("customerId" = uuid::Uuid, Path), ("userId" = uuid::Uuid, Path), crate::openapi::RequestHeaders),
    request_body(content = Option<ResetPasswordRequest>, description = "Optional. forceChangePassword (default true): the user must change the new password at its next sign-in"),
    responses(
        (status = 200, description = "Roster generated a new temporary password: the user, with passwordProfile.password shown this once (a replay of the same MS-RequestId shows it null); the user's sessions and tokens end", body = CustomerUserBody),
        (status = 400, description = "800002 malformed body; 2000 bad id", body = ApiFault),
        (status = 401, body = ApiFault), (status = 403, description = "900150", body = ApiFault),
        (status = 404, description = "60003; 60002", body = ApiFault),
        (status = 409, description = "60005 the user is deleted: restore it first; 60007", body = ApiFault),
    ))]
pub async fn reset_password(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((cid, uid)): PathIds<(String, String)>,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    let (cid, uid) = (customer_id(&cid)?, user_id(&uid)?);
    let bytes = read_body(req, &app).await?;
    // No body, and a JSON null (what a client serialising "no options" sends), both mean
    // the defaults.
    let text = bytes.trim_ascii();
    let body: ResetPasswordRequest = if text.is_empty() || text == b"null" {
        ResetPasswordRequest::default()
    } else {
        crate::json::parse(&bytes)?
    };
    let (user, password) = app
        .roster
        .reset_customer_user_password(&ctx, cid, uid, body.force_change_password)
        .await
        .or_api(&ctx)?;
    let echo = PasswordEcho {
        password: Some(password),
        force_change_password: user.force_change_password,
    };
    Ok(user_response(StatusCode::OK, &user, Some(echo)))
}
