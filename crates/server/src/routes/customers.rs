//! Customers: operations 1–2 of rest-api.md, PATCH of a customer (legacy delegated access on
//! or off), and Roster's domains endpoints.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use roster_domain::listing::{sort_key, CustomerListQuery, CustomerTextField, TextFilter};
use roster_service::paging::ListRequest;

use super::{customer_id, Caller, Filter, OrApi, Params, PathIds};
use crate::error::{ApiError, ApiFault};
use crate::json::Body;
use crate::wire::{
    json, CustomerBody, CustomerCollection, CustomerPatchRequest, CustomerRequest, DomainBody,
    DomainCollection, DomainRequest,
};
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The customers routes. Each `routes!` holds the handlers of one path.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get, update))
        .routes(routes!(list_domains, add_domain))
}

#[utoipa::path(post, path = "/v1/customers", operation_id = "create_customer", tag = "customers",
    params(crate::openapi::RequestHeaders),
    request_body = CustomerRequest,
    responses(
        (status = 201, description = "Created", body = CustomerBody),
        (status = 400, description = "800002 malformed body; 3000 invalid property", body = ApiFault),
        (status = 401, body = ApiFault), (status = 403, description = "900150", body = ApiFault),
        (status = 409, description = "3000 the domain belongs to another tenant; 60007 MS-RequestId reused", body = ApiFault),
    ))]
pub async fn create(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    Body(req): Body<CustomerRequest>,
) -> Result<Response, ApiError> {
    let customer = app
        .roster
        .create_customer(&ctx, &req.into_input())
        .await
        .or_api(&ctx)?;
    Ok(json(StatusCode::CREATED, &CustomerBody::of(&customer)))
}

#[utoipa::path(get, path = "/v1/customers", operation_id = "list_customers", tag = "customers",
    params(crate::openapi::RequestHeaders, crate::openapi::ListParams, crate::openapi::ContinuationHeader),
    responses(
        (status = 200, body = CustomerCollection),
        (status = 400, description = "3000 bad size, filter or continuation token", body = ApiFault),
        (status = 401, body = ApiFault), (status = 403, body = ApiFault),
    ))]
pub async fn list(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    params: Params,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let request = match params.continuation(&headers)? {
        Some(token) => ListRequest::Next(token),
        None => {
            let search = match params.get("filter") {
                None => None,
                Some(raw) => {
                    let f = Filter::parse(raw)?;
                    let field = match f.field.to_ascii_lowercase().as_str() {
                        "companyname" => CustomerTextField::CompanyName,
                        "domain" => CustomerTextField::Domain,
                        _ => {
                            return Err(ApiError::invalid(
                                "filter",
                                format!(
                                    "filter: '{}' can't be filtered on: use CompanyName or Domain",
                                    f.field
                                ),
                            ))
                        }
                    };
                    let op = f.text_match().ok_or_else(|| {
                        ApiError::invalid("filter", format!("filter: operator '{}' is not supported: use starts_with or substring", f.operator))
                    })?;
                    Some(TextFilter {
                        field,
                        op,
                        value: sort_key(&f.value),
                    })
                }
            };
            ListRequest::First(CustomerListQuery {
                search,
                size: params.page_size()?,
            })
        }
    };
    let page = app
        .roster
        .list_customers(&ctx, request)
        .await
        .or_api(&ctx)?;
    let items: Vec<CustomerBody> = page.items.iter().map(CustomerBody::of).collect();
    Ok(json(
        StatusCode::OK,
        &CustomerCollection::paged(items, "/customers", page.continuation),
    ))
}

#[utoipa::path(get, path = "/v1/customers/{customerId}", operation_id = "get_customer", tag = "customers",
    params(("customerId" = uuid::Uuid, Path, description = "The customer's tenant id"), crate::openapi::RequestHeaders),
    responses(
        (status = 200, body = CustomerBody),
        (status = 400, description = "2000 the id is not a GUID", body = ApiFault),
        (status = 401, body = ApiFault),
        (status = 404, description = "60003", body = ApiFault),
    ))]
pub async fn get(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(cid): PathIds<String>,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let customer = app.roster.get_customer(&ctx, cid).await.or_api(&ctx)?;
    Ok(json(StatusCode::OK, &CustomerBody::of(&customer)))
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/domains", tag = "customers",
    params(("customerId" = uuid::Uuid, Path), crate::openapi::RequestHeaders),
    responses(
        (status = 200, body = DomainCollection),
        (status = 400, body = ApiFault), (status = 401, body = ApiFault), (status = 404, description = "60003", body = ApiFault),
    ))]
pub async fn list_domains(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(cid): PathIds<String>,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let domains = app.roster.customer_domains(&ctx, cid).await.or_api(&ctx)?;
    let items: Vec<DomainBody> = domains.iter().map(DomainBody::of).collect();
    Ok(json(
        StatusCode::OK,
        &DomainCollection::whole(items, format!("/customers/{cid}/domains")),
    ))
}

#[utoipa::path(post, path = "/v1/customers/{customerId}/domains", tag = "customers",
    params(("customerId" = uuid::Uuid, Path), crate::openapi::RequestHeaders),
    request_body = DomainRequest,
    responses(
        (status = 201, body = DomainBody),
        (status = 400, description = "800002, 2000, 3000", body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, body = ApiFault), (status = 404, description = "60003", body = ApiFault),
        (status = 409, description = "3000 the domain belongs to a tenant", body = ApiFault),
    ))]
pub async fn add_domain(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(cid): PathIds<String>,
    Body(req): Body<DomainRequest>,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let domain = app
        .roster
        .add_customer_domain(
            &ctx,
            cid,
            req.name.as_deref(),
            req.authentication_type.as_deref(),
        )
        .await
        .or_api(&ctx)?;
    Ok(json(StatusCode::CREATED, &DomainBody::of(&domain)))
}

#[utoipa::path(patch, path = "/v1/customers/{customerId}", operation_id = "update_customer", tag = "customers",
    params(("customerId" = uuid::Uuid, Path, description = "The customer's tenant id"), crate::openapi::RequestHeaders),
    request_body = CustomerPatchRequest,
    responses(
        (status = 200, body = CustomerBody),
        (status = 400, description = "800002 malformed body; 2000 the id is not a GUID", body = ApiFault),
        (status = 401, body = ApiFault), (status = 403, description = "900150", body = ApiFault),
        (status = 404, description = "60003", body = ApiFault),
    ))]
pub async fn update(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(cid): PathIds<String>,
    Body(req): Body<CustomerPatchRequest>,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    let customer = app
        .roster
        .update_customer(&ctx, cid, req.allow_delegated_access)
        .await
        .or_api(&ctx)?;
    Ok(json(StatusCode::OK, &CustomerBody::of(&customer)))
}
