//! Licences: operations 15–17 of rest-api.md, and Roster's own catalogue and seats.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use roster_domain::licence::{LicenseGroup, Seats};
use roster_service::licences::UserRef;

use super::{customer_id, Caller, OrApi, PathIds};
use crate::error::{ApiError, ApiFault};
use crate::json::Body;
use crate::wire::{
    json, CatalogueCollection, CatalogueProductBody, LicenseBody, LicenseCollection,
    LicenseUpdateBody, LicenseUpdateRequest, SeatsRequest, SubscribedSkuBody,
    SubscribedSkuCollection,
};
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The licence routes. Each `routes!` holds the handlers of one path.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(catalogue))
        .routes(routes!(subscribed))
        .routes(routes!(set_seats))
        .routes(routes!(of_user))
        .routes(routes!(update))
}

/// `licenseGroupIds` (repeatable, any casing; `Group1` when absent, as Partner Center does).
fn license_groups(query: Option<&str>) -> Result<Vec<LicenseGroup>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|_| ApiError::bad_input("The query string is malformed.", vec![]))?;
    let mut groups = Vec::new();
    for (k, v) in pairs {
        if !k.eq_ignore_ascii_case("licenseGroupIds") {
            continue;
        }
        for raw in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let group = LicenseGroup::parse(raw).ok_or_else(|| {
                ApiError::invalid(
                    "licenseGroupIds",
                    format!(
                        "licenseGroupIds: '{raw}' is not a licence group: use Group1 or Group2"
                    ),
                )
            })?;
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
    }
    if groups.is_empty() {
        groups.push(LicenseGroup::Group1);
    }
    Ok(groups)
}

#[utoipa::path(get, path = "/v1/productskus", operation_id = "list_product_skus", tag = "licences",
    params(crate::openapi::RequestHeaders),
    responses((status = 200, description = "Every product of the catalogue with its service plans (Roster's own)", body = CatalogueCollection),
        (status = 401, body = ApiFault)))]
pub async fn catalogue(State(app): State<AppState>, Caller(ctx): Caller) -> Response {
    let items: Vec<CatalogueProductBody> = app
        .roster
        .product_skus(&ctx)
        .iter()
        .map(CatalogueProductBody::of)
        .collect();
    json(
        StatusCode::OK,
        &CatalogueCollection::whole(items, "/productskus"),
    )
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/subscribedskus", tag = "licences",
    params(("customerId" = uuid::Uuid, Path), ("licenseGroupIds" = Option<Vec<String>>, Query, description = "Group1 and/or Group2 (any casing), repeatable or separated by commas; Group1 when absent or empty"), crate::openapi::RequestHeaders),
    responses((status = 200, description = "The customer's seats of each product", body = SubscribedSkuCollection),
        (status = 400, description = "2000; 3000 bad licenseGroupIds", body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault), (status = 404, description = "60003", body = ApiFault)))]
pub async fn subscribed(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(cid): PathIds<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let groups = license_groups(query.as_deref())?;
    let skus = app
        .roster
        .subscribed_skus(&ctx, cid, &groups)
        .await
        .or_api(&ctx)?;
    let items: Vec<SubscribedSkuBody> = skus.iter().map(SubscribedSkuBody::of).collect();
    Ok(json(
        StatusCode::OK,
        &SubscribedSkuCollection::whole(items, format!("/customers/{cid}/subscribedskus")),
    ))
}

#[utoipa::path(put, path = "/v1/customers/{customerId}/subscribedskus/{skuId}", tag = "licences",
    params(("customerId" = uuid::Uuid, Path), ("skuId" = String, Path), crate::openapi::RequestHeaders),
    request_body(content = SeatsRequest, description = "totalUnits (active + warning) is required; suspendedUnits and warningUnits default to 0"),
    responses((status = 200, description = "The seats as set (Roster's own)", body = SubscribedSkuBody),
        (status = 400, description = "800002; 2000; 3000 (also: fewer seats than licences in use)", body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault), (status = 404, description = "60003; 1000 no such product", body = ApiFault)))]
pub async fn set_seats(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((cid, sku)): PathIds<(String, String)>,
    Body(req): Body<SeatsRequest>,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let seats = Seats::validate(req.total_units, req.suspended_units, req.warning_units);
    let view = app
        .roster
        .set_seats(&ctx, cid, &sku, seats)
        .await
        .or_api(&ctx)?;
    Ok(json(StatusCode::OK, &SubscribedSkuBody::of(&view)))
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/users/{userId}/licenses", operation_id = "list_user_licenses", tag = "licences",
    params(("customerId" = uuid::Uuid, Path), ("userId" = String, Path, description = "The user's id or user principal name"),
        ("licenseGroupIds" = Option<Vec<String>>, Query, description = "Group1 and/or Group2 (any casing), repeatable or separated by commas; Group1 when absent or empty"), crate::openapi::RequestHeaders),
    responses((status = 200, description = "The user's licences", body = LicenseCollection),
        (status = 400, description = "2000; 3000", body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault), (status = 404, description = "60003; 60002", body = ApiFault)))]
pub async fn of_user(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((cid, uid)): PathIds<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let groups = license_groups(query.as_deref())?;
    let licences = app
        .roster
        .user_licences(&ctx, cid, &UserRef::parse(&uid), &groups)
        .await
        .or_api(&ctx)?;
    let items: Vec<LicenseBody> = licences.iter().map(LicenseBody::of).collect();
    Ok(json(
        StatusCode::OK,
        &LicenseCollection::whole(items, format!("/customers/{cid}/users/{uid}/licenses")),
    ))
}

#[utoipa::path(post, path = "/v1/customers/{customerId}/users/{userId}/licenseupdates", operation_id = "update_user_licenses", tag = "licences",
    params(("customerId" = uuid::Uuid, Path), ("userId" = String, Path, description = "The user's id or user principal name"), crate::openapi::RequestHeaders),
    request_body(content = LicenseUpdateRequest, description = "licensesToAssign and licensesToRemove, all of one licence group; done together or not at all"),
    responses((status = 201, description = "Done", body = LicenseUpdateBody),
        (status = 400, description = "800002; 2000; 3000 (unknown SKU or plan, no usageLocation, a licence to remove the user lacks); 60012 no seat left; 60014 licence groups mixed", body = ApiFault),
        (status = 401, body = ApiFault), (status = 403, description = "900150", body = ApiFault),
        (status = 404, description = "60003; 60002", body = ApiFault),
        (status = 409, description = "60005 the user is deleted; 60007", body = ApiFault)))]
pub async fn update(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds((cid, uid)): PathIds<(String, String)>,
    Body(req): Body<LicenseUpdateRequest>,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let done = app
        .roster
        .update_licences(&ctx, cid, &UserRef::parse(&uid), &req.into_input())
        .await
        .or_api(&ctx)?;
    Ok(json(StatusCode::CREATED, &LicenseUpdateBody::of(&done)))
}
