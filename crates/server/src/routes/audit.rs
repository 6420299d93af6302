//! `GET /v1/auditrecords`: the audit log.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use roster_domain::audit::{AuditQuery, OperationType};
use roster_domain::Timestamp;
use roster_service::audit_log::AuditRequest;
use roster_service::paging::ListRequest;

use super::{customer_id, user_id, Caller, OrApi, Params};
use crate::error::{ApiError, ApiFault};
use crate::wire::{json, AuditRecordBody, AuditRecordCollection};
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The audit log route. Each `routes!` holds the handlers of one path.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

fn time(params: &Params, name: &str) -> Result<Option<Timestamp>, ApiError> {
    params
        .get(name)
        .map(|raw| {
            Timestamp::parse_query_time(raw)
                .map_err(|m| ApiError::invalid(name, format!("{name}: {m}")))
        })
        .transpose()
}

#[utoipa::path(get, path = "/v1/auditrecords", operation_id = "list_audit_records", tag = "audit",
    params(crate::openapi::RequestHeaders, crate::openapi::PageSizeParam, crate::openapi::ContinuationHeader,
        ("startDate" = String, Query, format = DateTime, description = "Required on the first page. RFC 3339 (2026-11-30T20:04:39Z), a date (2026-11-30: its midnight) or MM/dd/yyyy HH:mm:ss (11/30/2026 20:04:39, as the .NET SDK sends); without an offset, UTC"),
        ("endDate" = Option<String>, Query, format = DateTime, description = "Exclusive; default now. The same forms as startDate"),
        ("operationType" = Option<String>, Query, description = "e.g. create_customer_user"),
        ("customerId" = Option<uuid::Uuid>, Query), ("userId" = Option<uuid::Uuid>, Query, description = "the acting user")),
    responses((status = 200, description = "Newest first", body = AuditRecordCollection),
        (status = 400, description = "3000", body = ApiFault), (status = 401, body = ApiFault), (status = 403, description = "900150", body = ApiFault)))]
pub async fn list(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let request = match params.continuation(&headers)? {
        Some(token) => ListRequest::Next(token),
        None => {
            let start = time(&params, "startDate")?.ok_or_else(|| {
                ApiError::invalid(
                    "startDate",
                    "startDate is required, e.g. 2026-01-01T00:00:00Z",
                )
            })?;
            let end = time(&params, "endDate")?.unwrap_or_else(|| {
                app.roster
                    .now_for_queries()
                    .plus(roster_domain::Duration::from_millis(1))
            });
            let operation = match params.get("operationType") {
                None => None,
                Some(raw) => Some(OperationType::parse(raw).ok_or_else(|| {
                    ApiError::invalid(
                        "operationType",
                        format!("operationType: '{raw}' is not an operation type"),
                    )
                })?),
            };
            let customer = params.get("customerId").map(customer_id).transpose()?;
            let actor = params.get("userId").map(user_id).transpose()?;
            ListRequest::First(AuditRequest {
                query: AuditQuery {
                    start,
                    end,
                    operation,
                    customer,
                    actor,
                },
                size: params.page_size()?,
            })
        }
    };
    let page = app
        .roster
        .list_audit_records(&ctx, request)
        .await
        .or_api(&ctx)?;
    let items = page.items.iter().map(AuditRecordBody::of).collect();
    Ok(json(
        StatusCode::OK,
        &AuditRecordCollection::paged(items, "/auditrecords", page.continuation),
    ))
}
