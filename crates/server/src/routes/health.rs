use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::error::ApiError;
use crate::wire::{json, Health};
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Health.
pub fn public_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz))
}

/// Ready when the database answers.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, description = "Ready", body = Health), (status = 503, description = "The database does not answer", body = crate::error::ApiFault)))]
pub async fn healthz(State(app): State<AppState>) -> Response {
    if app.roster.ready().await {
        json(
            StatusCode::OK,
            &Health {
                status: "ok".into(),
            },
        )
    } else {
        axum::response::IntoResponse::into_response(ApiError::unavailable(
            "The database does not answer.",
            5,
        ))
    }
}
