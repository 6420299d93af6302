//! Bulk upload of customer users from a CSV file (Roster's own endpoints, in Partner Center's
//! conventions): the upload, and its template.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_domain::bulk_upload::{self, ResultRow};
use roster_domain::customer_user::PasswordEcho;
use roster_service::bulk_upload::BulkUploaded;

use super::{customer_id, Caller, OrApi, Params, PathIds};
use crate::error::{ApiError, ApiFault};
use crate::layers::RecordAs;
use crate::wire::{json, CustomerUserBody, CustomerUserCollection};
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The bulk upload routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(template))
}

pub const CSV_UTF8: &str = "text/csv; charset=utf-8";

/// A CSV attachment that no cache keeps.
fn csv_file(status: StatusCode, body: String, filename: &str) -> Response {
    let mut r = (status, body).into_response();
    let headers = r.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CSV_UTF8));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// Whether the client asks for JSON rather than the CSV file.
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            t.trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        })
}

#[utoipa::path(post, path = "/v1/customers/{customerId}/users/bulkupload", operation_id = "bulk_upload_customer_users", tag = "customer users",
    params(("customerId" = uuid::Uuid, Path),
        ("usageLocation" = String, Query, description = "The country every user of the file is in: ISO 3166-1 alpha-2, such as US"),
        ("validateOnly" = Option<bool>, Query, description = "true: check the file as an upload would, and create no one (200 with the number of rows, or the 400 an upload would answer)"),
        crate::openapi::RequestHeaders),
    request_body(content = String, content_type = "text/csv", description = "A CSV file (UTF-8, with or without a byte-order mark; `,` or `;` as in its header row) with the header row `First name,Last name,Display name,Email,Status update` and 1 to 100 users; docs/BULK_UPLOAD.md has every rule"),
    responses(
        (status = 201, description = "Every user was created, each with a temporary password it must change at its first sign-in. The result file (text/csv: the input's columns, Status update `Created`, and `Temporary password`), shown this once; with `Accept: application/json`, the created users as a collection, each with its passwordProfile. A replay of the same MS-RequestId answers the same rows without the passwords and the header `roster-replay: secrets-withheld`",
            content((String = "text/csv"), (CustomerUserCollection = "application/json"))),
        (status = 200, description = "validateOnly=true, and the file has no problems: `{\"rows\": N}`; nothing was created", body = BulkValidation),
        (status = 400, description = "3000: the file (or usageLocation) has problems, and nothing was created; data lists every one as {row, column, message} (row counts the header as 1)", body = ApiFault),
        (status = 401, body = ApiFault), (status = 403, description = "900150: it takes User Administrator or Global Administrator in the customer", body = ApiFault),
        (status = 404, description = "60003", body = ApiFault),
        (status = 409, description = "60004: other requests took some of the addresses meanwhile (data names them); nothing was created. 60007: MS-RequestId reused", body = ApiFault),
        (status = 413, description = "800004: the file is larger than 1 MiB", body = ApiFault),
    ))]
pub async fn upload(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(cid): PathIds<String>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    if validate_only(&params)? {
        let rows = app
            .roster
            .validate_bulk_upload(&ctx, cid, &body, params.get("usageLocation"))
            .await
            .or_api(&ctx)?;
        return Ok(json(StatusCode::OK, &BulkValidation { rows }));
    }
    let uploaded = app
        .roster
        .bulk_upload_customer_users(&ctx, cid, &body, params.get("usageLocation"))
        .await
        .or_api(&ctx)?;
    if wants_json(&headers) {
        return Ok(as_json(cid, uploaded));
    }
    let with = |shown: bool| {
        let rows: Vec<ResultRow<'_>> = uploaded
            .created
            .iter()
            .map(|c| ResultRow {
                row: &c.row,
                password: shown.then(|| c.password.expose()),
            })
            .collect();
        bulk_upload::result_csv(uploaded.delimiter, &rows)
    };
    let mut response = csv_file(StatusCode::CREATED, with(true), "users-created.csv");
    // The ledger of MS-RequestId keeps the file without its passwords.
    response.extensions_mut().insert(RecordAs(with(false)));
    Ok(response)
}

/// The answer to `validateOnly=true`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct BulkValidation {
    /// The users the file holds.
    rows: usize,
}

fn validate_only(params: &Params) -> Result<bool, ApiError> {
    match params.get("validateOnly").map(str::trim) {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(ApiError::invalid(
            "validateOnly",
            format!("validateOnly: '{v}' is not true or false"),
        )),
    }
}

/// The created users as a single create answers each (the SDK reads this).
fn as_json(customer: roster_domain::CustomerId, uploaded: BulkUploaded) -> Response {
    let items = uploaded
        .created
        .into_iter()
        .map(|c| {
            CustomerUserBody::of(&c.user).with_password(Some(PasswordEcho {
                password: Some(c.password),
                force_change_password: true,
            }))
        })
        .collect();
    let mut r = json(
        StatusCode::CREATED,
        &CustomerUserCollection::whole(items, format!("/customers/{customer}/users")),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/users/bulkupload/template", operation_id = "bulk_upload_template", tag = "customer users",
    params(("customerId" = uuid::Uuid, Path), crate::openapi::RequestHeaders),
    responses(
        (status = 200, description = "The header row to fill in, as a CSV attachment", content_type = "text/csv", body = String),
        (status = 400, description = "2000", body = ApiFault), (status = 401, body = ApiFault),
        (status = 403, description = "900150", body = ApiFault), (status = 404, description = "60003", body = ApiFault),
    ))]
pub async fn template(
    State(app): State<AppState>,
    Caller(ctx): Caller,
    PathIds(cid): PathIds<String>,
) -> Result<Response, ApiError> {
    let cid = customer_id(&cid)?;
    app.roster
        .bulk_upload_template(&ctx, cid)
        .await
        .or_api(&ctx)?;
    Ok(csv_file(
        StatusCode::OK,
        bulk_upload::template_csv(),
        "users-template.csv",
    ))
}
