//! Granular delegated admin relationships of a customer (Roster's own endpoints, in Partner
//! Center's style).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{customer_id, Caller, OrApi, PathIds};
use crate::error::{ApiError, ApiFault};
use crate::json::Body;
use crate::wire::{
    json, AccessAssignmentBody, AccessAssignmentRequest, DelegatedAdminRelationshipBody,
    DelegatedAdminRelationshipCollection, DelegatedAdminRelationshipRequest,
};
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The delegated admin relationships routes. Each `routes!` holds the handlers of one path.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get))
        .routes(routes!(approve))
        .routes(routes!(terminate))
        .routes(routes!(assign))
}

#[utoipa::path(post, path = "/v1/customers/{customerId}/delegatedadminrelationships", operation_id = "create_relationship", tag = "delegated access",
    params(("customerId" = uuid::Uuid, Path), crate::openapi::RequestHeaders),
    request_body = DelegatedAdminRelationshipRequest,
    responses(
        (status = 201, description = "Created, waiting for approval", body = DelegatedAdminRelationshipBody),
        (status = 400, description = "800002, 2000, 3000", body = ApiFault),
        (status = 401, body = ApiFault), (status = 403, description = "900150", body = ApiFault),
        (status = 404, description = "60003", body = ApiFault),
        (status = 409, description = "60005 the display name is taken", body = ApiFault),
    ))]
pub async fn create(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(cid): PathIds<String>,
    Body(req): Body<DelegatedAdminRelationshipRequest>,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let view = app
        .roster
        .create_relationship(&ctx, cid, &req.into_input())
        .await
        .or_api(&ctx)?;
    Ok(json(
        StatusCode::CREATED,
        &DelegatedAdminRelationshipBody::of(&view),
    ))
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/delegatedadminrelationships", operation_id = "list_relationships", tag = "delegated access",
    params(("customerId" = uuid::Uuid, Path), crate::openapi::RequestHeaders),
    responses(
        (status = 200, body = DelegatedAdminRelationshipCollection),
        (status = 400, body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault), (status = 404, description = "60003", body = ApiFault),
    ))]
pub async fn list(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(cid): PathIds<String>,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let views = app
        .roster
        .list_relationships(&ctx, cid)
        .await
        .or_api(&ctx)?;
    let items: Vec<DelegatedAdminRelationshipBody> = views
        .iter()
        .map(DelegatedAdminRelationshipBody::of)
        .collect();
    Ok(json(
        StatusCode::OK,
        &DelegatedAdminRelationshipCollection::whole(
            items,
            format!("/customers/{cid}/delegatedadminrelationships"),
        ),
    ))
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/delegatedadminrelationships/{relationshipId}", operation_id = "get_relationship", tag = "delegated access",
    params(("customerId" = uuid::Uuid, Path), ("relationshipId" = String, Path), crate::openapi::RequestHeaders),
    responses(
        (status = 200, body = DelegatedAdminRelationshipBody),
        (status = 400, body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault),
        (status = 404, description = "60003 customer; 1000 relationship", body = ApiFault),
    ))]
pub async fn get(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((cid, rid)): PathIds<(String, String)>,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let view = app
        .roster
        .get_relationship(&ctx, cid, &rid)
        .await
        .or_api(&ctx)?;
    Ok(json(
        StatusCode::OK,
        &DelegatedAdminRelationshipBody::of(&view),
    ))
}

#[utoipa::path(post, path = "/v1/customers/{customerId}/delegatedadminrelationships/{relationshipId}/approve", tag = "delegated access",
    params(("customerId" = uuid::Uuid, Path), ("relationshipId" = String, Path), crate::openapi::RequestHeaders),
    responses(
        (status = 200, description = "Active from now (a partner Global admin records the customer's approval given out of band)", body = DelegatedAdminRelationshipBody),
        (status = 400, body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault),
        (status = 404, description = "60003 customer; 1000 relationship", body = ApiFault),
        (status = 409, description = "60005 not awaiting approval", body = ApiFault),
    ))]
pub async fn approve(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((cid, rid)): PathIds<(String, String)>,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let view = app
        .roster
        .approve_relationship(&ctx, cid, &rid)
        .await
        .or_api(&ctx)?;
    Ok(json(
        StatusCode::OK,
        &DelegatedAdminRelationshipBody::of(&view),
    ))
}

#[utoipa::path(post, path = "/v1/customers/{customerId}/delegatedadminrelationships/{relationshipId}/terminate", tag = "delegated access",
    params(("customerId" = uuid::Uuid, Path), ("relationshipId" = String, Path), crate::openapi::RequestHeaders),
    responses(
        (status = 200, body = DelegatedAdminRelationshipBody),
        (status = 400, body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault),
        (status = 404, description = "60003 customer; 1000 relationship", body = ApiFault),
        (status = 409, description = "60005 expired or terminated already", body = ApiFault),
    ))]
pub async fn terminate(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((cid, rid)): PathIds<(String, String)>,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let view = app
        .roster
        .terminate_relationship(&ctx, cid, &rid)
        .await
        .or_api(&ctx)?;
    Ok(json(
        StatusCode::OK,
        &DelegatedAdminRelationshipBody::of(&view),
    ))
}

#[utoipa::path(post, path = "/v1/customers/{customerId}/delegatedadminrelationships/{relationshipId}/accessassignments", tag = "delegated access",
    params(("customerId" = uuid::Uuid, Path), ("relationshipId" = String, Path), crate::openapi::RequestHeaders),
    request_body = AccessAssignmentRequest,
    responses(
        (status = 201, body = AccessAssignmentBody),
        (status = 400, description = "800002, 2000, 3000", body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault),
        (status = 404, description = "60003 customer; 1000 relationship", body = ApiFault),
        (status = 409, description = "60005 the relationship is not active, or the group is assigned already", body = ApiFault),
    ))]
pub async fn assign(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((cid, rid)): PathIds<(String, String)>,
    Body(req): Body<AccessAssignmentRequest>,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let assignment = app
        .roster
        .assign_access(
            &ctx,
            cid,
            &rid,
            req.group_id.as_deref(),
            req.roles.as_deref(),
        )
        .await
        .or_api(&ctx)?;
    Ok(json(
        StatusCode::CREATED,
        &AccessAssignmentBody::of(&assignment),
    ))
}
