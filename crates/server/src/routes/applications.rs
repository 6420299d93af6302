//! Applications of the partner (Roster's own endpoints): register, list, new secret, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{Caller, OrApi, PathIds};
use crate::error::{ApiError, ApiFault};
use crate::json::Body;
use crate::wire::{json, ApplicationBody, ApplicationCollection, ApplicationRequest};
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The application routes. Each `routes!` holds the handlers of one path.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register, list))
        .routes(routes!(delete))
        .routes(routes!(reset_secret))
}

#[utoipa::path(post, path = "/v1/applications", tag = "applications",
    params(crate::openapi::RequestHeaders), request_body = ApplicationRequest,
    responses((status = 201, description = "Registered; clientSecret is shown this once", body = ApplicationBody),
        (status = 400, description = "800002; 3000 displayName", body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150: Global admin only", body = ApiFault)))]
pub async fn register(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    Body(req): Body<ApplicationRequest>,
) -> Result<Response, ApiError> {
    let created = app
        .roster
        .register_application(
            &ctx,
            req.display_name.as_deref(),
            req.public_client.unwrap_or(false),
        )
        .await
        .or_api(&ctx)?;
    Ok(json(
        StatusCode::CREATED,
        &ApplicationBody::of(&created.application, Some(created.secret)),
    ))
}

#[utoipa::path(get, path = "/v1/applications", operation_id = "list_applications", tag = "applications",
    params(crate::openapi::RequestHeaders),
    responses((status = 200, description = "The partner's applications, oldest first, without secrets", body = ApplicationCollection),
        (status = 401, body = ApiFault), (status = 403, description = "900150: Global admin only", body = ApiFault)))]
pub async fn list(State(app): State<AppState>, Caller(ctx): Caller) -> Result<Response, ApiError> {
    let apps = app.roster.list_applications(&ctx).await.or_api(&ctx)?;
    let items: Vec<ApplicationBody> = apps.iter().map(|a| ApplicationBody::of(a, None)).collect();
    Ok(json(
        StatusCode::OK,
        &ApplicationCollection::whole(items, "/applications"),
    ))
}

#[utoipa::path(post, path = "/v1/applications/{applicationId}/resetsecret", tag = "applications",
    params(("applicationId" = String, Path), crate::openapi::RequestHeaders),
    responses((status = 200, description = "A new clientSecret, shown this once; the old one and its App-only tokens stop working", body = ApplicationBody),
        (status = 401, body = ApiFault), (status = 403, description = "900150", body = ApiFault),
        (status = 404, description = "1000", body = ApiFault)))]
pub async fn reset_secret(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(id): PathIds<String>,
) -> Result<Response, ApiError> {
    let renewed = app
        .roster
        .reset_application_secret(&ctx, &id)
        .await
        .or_api(&ctx)?;
    Ok(json(
        StatusCode::OK,
        &ApplicationBody::of(&renewed.application, Some(renewed.secret)),
    ))
}

#[utoipa::path(delete, path = "/v1/applications/{applicationId}", operation_id = "delete_application", tag = "applications",
    params(("applicationId" = String, Path), crate::openapi::RequestHeaders),
    responses((status = 204, description = "Deleted: every token issued to it stops working"),
        (status = 401, body = ApiFault), (status = 403, description = "900150", body = ApiFault),
        (status = 404, description = "1000", body = ApiFault)))]
pub async fn delete(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(id): PathIds<String>,
) -> Result<Response, ApiError> {
    app.roster
        .delete_application(&ctx, &id)
        .await
        .or_api(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
