//! Invitations of outside users to the partner account (Roster's own endpoints, in Partner
//! Center's conventions). Redeeming a link needs no access token.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use roster_service::invitations::RequestIds;

use super::{Caller, OrApi, PathIds};
use crate::error::{ApiError, ApiFault};
use crate::json::Body;
use crate::layers;
use crate::wire::{
    json, Attributes, CollectionLinks, InvitationBody, InvitationCollection, InvitationRequest,
    Link, RedeemInvitationRequest,
};
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The invitation routes that take an access token. Each `routes!` holds the handlers of one path.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(invite, list))
        .routes(routes!(get, delete))
        .routes(routes!(resend))
}

/// The one that takes none: redeeming a link.
pub fn public_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(redeem))
}

fn collection(items: Vec<InvitationBody>) -> InvitationCollection {
    InvitationCollection {
        total_count: items.len(),
        items,
        continuation_token: None,
        links: CollectionLinks {
            self_: Link::get("/invitations"),
            next: None,
        },
        attributes: Attributes::of("Collection"),
    }
}

#[utoipa::path(post, path = "/v1/invitations", tag = "partner users",
    params(crate::openapi::RequestHeaders), request_body = InvitationRequest,
    responses((status = 201, description = "Invited: each address is a guest user pending its invitation, and has a mail in the outbox with its link", body = InvitationCollection),
        (status = 400, description = "3000: 1–10 valid addresses, known roles, no Global admin", body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault), (status = 409, description = "60005 an address is invited already", body = ApiFault)))]
pub async fn invite(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    Body(req): Body<InvitationRequest>,
) -> Result<Response, ApiError> {
    let made = app
        .roster
        .invite_partner_users(&ctx, req.emails.as_deref(), req.roles.as_deref())
        .await
        .or_api(&ctx)?;
    Ok(json(
        StatusCode::CREATED,
        &collection(made.iter().map(InvitationBody::of).collect()),
    ))
}

#[utoipa::path(get, path = "/v1/invitations", operation_id = "list_invitations", tag = "partner users",
    params(crate::openapi::RequestHeaders),
    responses((status = 200, description = "The partner's invitations, newest first", body = InvitationCollection),
        (status = 401, body = ApiFault), (status = 403, description = "900150", body = ApiFault)))]
pub async fn list(State(app): State<AppState>, Caller(ctx): Caller) -> Result<Response, ApiError> {
    let found = app.roster.list_invitations(&ctx).await.or_api(&ctx)?;
    Ok(json(
        StatusCode::OK,
        &collection(found.iter().map(InvitationBody::of).collect()),
    ))
}

#[utoipa::path(get, path = "/v1/invitations/{invitationId}", operation_id = "get_invitation", tag = "partner users",
    params(("invitationId" = String, Path), crate::openapi::RequestHeaders),
    responses((status = 200, body = InvitationBody), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault), (status = 404, description = "1000", body = ApiFault)))]
pub async fn get(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(id): PathIds<String>,
) -> Result<Response, ApiError> {
    let found = app.roster.get_invitation(&ctx, &id).await.or_api(&ctx)?;
    Ok(json(StatusCode::OK, &InvitationBody::of(&found)))
}

#[utoipa::path(post, path = "/v1/invitations/{invitationId}/resend", tag = "partner users",
    params(("invitationId" = String, Path), crate::openapi::RequestHeaders),
    responses((status = 200, description = "A new link is in the outbox; the old one no longer works", body = InvitationBody),
        (status = 401, body = ApiFault), (status = 403, description = "900150", body = ApiFault),
        (status = 404, description = "1000", body = ApiFault), (status = 409, description = "60005 accepted already", body = ApiFault)))]
pub async fn resend(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(id): PathIds<String>,
) -> Result<Response, ApiError> {
    let sent = app.roster.resend_invitation(&ctx, &id).await.or_api(&ctx)?;
    Ok(json(StatusCode::OK, &InvitationBody::of(&sent)))
}

#[utoipa::path(delete, path = "/v1/invitations/{invitationId}", operation_id = "delete_invitation", tag = "partner users",
    params(("invitationId" = String, Path), crate::openapi::RequestHeaders),
    responses((status = 204, description = "Withdrawn: a pending invitation's link stops working and its guest user is removed; an accepted one's record is removed (the guest keeps its access)"),
        (status = 401, body = ApiFault), (status = 403, description = "900150", body = ApiFault), (status = 404, description = "1000", body = ApiFault)))]
pub async fn delete(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(id): PathIds<String>,
) -> Result<Response, ApiError> {
    app.roster.delete_invitation(&ctx, &id).await.or_api(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(post, path = "/v1/invitations/redeem", tag = "partner users",
    params(crate::openapi::RequestHeaders), request_body = RedeemInvitationRequest,
    security(()),
    responses((status = 200, description = "Accepted: the guest signs in with the invited address and this password", body = InvitationBody),
        (status = 400, description = "3000: the link is unknown, replaced, used or expired; or the password is too weak", body = ApiFault)))]
pub async fn redeem(
    State(app): State<AppState>,
    Extension(ids): Extension<layers::RequestIds>,
    Body(req): Body<RedeemInvitationRequest>,
) -> Result<Response, ApiError> {
    let ids = RequestIds {
        request_id: ids.request_id,
        correlation_id: ids.correlation_id,
    };
    let accepted = app
        .roster
        .redeem_invitation(
            &ids,
            req.token.as_deref(),
            req.password.as_deref(),
            req.display_name.as_deref(),
        )
        .await
        .map_err(|e| ApiError::from_service(e, &ids.correlation_id))?;
    Ok(json(StatusCode::OK, &InvitationBody::of(&accepted)))
}
