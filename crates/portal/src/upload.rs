//! "Upload users": a CSV file checked ("Validate": every problem as a table, or the number
//! of users it would create) and then uploaded ("Save": the result file with the temporary
//! passwords, once), through the bulk-upload service operation alone.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use roster_domain::bulk_upload::{self, ResultRow};
use roster_service::ServiceError;

use crate::errors::PageError;
use crate::layout::{html, Chrome};
use crate::session::Caller;
use crate::users::{customer_id, passwords_csv_data_url, Created, CustomerHeader};
use crate::Portal;

pub(crate) struct ProblemRow {
    row: String,
    column: String,
    message: String,
}

#[derive(Template)]
#[template(path = "upload.html")]
struct UploadPage {
    chrome: Chrome,
    customer: CustomerHeader,
    countries: &'static [&'static str],
    location: String,
    /// The file's name and its bytes (base64), kept in the form after "Validate" so that
    /// "Save" uploads the same file.
    file_name: String,
    content: String,
    /// After "Validate": the users the file would create.
    valid: Option<usize>,
    problems: Vec<ProblemRow>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "upload_done.html")]
struct UploadDonePage {
    chrome: Chrome,
    customer: CustomerHeader,
    created: Vec<Created>,
    csv_data_url: String,
    /// The result file in the input's own format (its separator), as a `data:` URL.
    result_data_url: String,
}

pub(crate) async fn page(
    State(portal): State<Portal>,
    caller: Caller,
    Path(customer): Path<String>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    let header = CustomerHeader::load(&portal, &ctx, id, "users").await?;
    let country = portal.roster.get_customer(&ctx, id).await?.country;
    Ok(html(&UploadPage {
        chrome: Chrome::new(&caller, "customers"),
        customer: header,
        countries: roster_domain::country::assigned(),
        location: country.to_string(),
        file_name: String::new(),
        content: String::new(),
        valid: None,
        problems: Vec::new(),
        error: None,
    }))
}

/// "Download template": the header row alone.
pub(crate) async fn template(
    State(portal): State<Portal>,
    caller: Caller,
    Path(customer): Path<String>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    portal.roster.bulk_upload_template(&ctx, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"users-template.csv\"",
            ),
        ],
        bulk_upload::template_csv(),
    )
        .into_response())
}

/// What the form sent.
#[derive(Default)]
struct UploadForm {
    file_name: String,
    file: Vec<u8>,
    location: String,
    action: String,
}

async fn read_form(mut multipart: Multipart) -> Result<UploadForm, String> {
    let mut form = UploadForm::default();
    let mut kept = None;
    while let Some(field) = multipart.next_field().await.map_err(|e| e.body_text())? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                let file_name = field.file_name().unwrap_or_default().to_string();
                let bytes = field.bytes().await.map_err(|e| e.body_text())?;
                if !bytes.is_empty() || !file_name.is_empty() {
                    form.file_name = file_name;
                    form.file = bytes.to_vec();
                }
            }
            "content" => kept = Some(field.text().await.map_err(|e| e.body_text())?),
            "kept_name" => {
                let n = field.text().await.map_err(|e| e.body_text())?;
                if form.file_name.is_empty() {
                    form.file_name = n;
                }
            }
            "location" => form.location = field.text().await.map_err(|e| e.body_text())?,
            "action" => form.action = field.text().await.map_err(|e| e.body_text())?,
            _ => {}
        }
    }
    // A file chosen now wins over the one kept from "Validate".
    if form.file.is_empty() {
        if let Some(k) = kept.filter(|k| !k.is_empty()) {
            form.file = B64
                .decode(k.trim())
                .map_err(|_| "The kept file was damaged: choose the file again.".to_string())?;
        }
    }
    Ok(form)
}

pub(crate) async fn submit(
    State(portal): State<Portal>,
    caller: Caller,
    Path(customer): Path<String>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    let header = CustomerHeader::load(&portal, &ctx, id, "users").await?;
    let form = match read_form(multipart).await {
        Ok(f) => f,
        Err(message) => {
            return Err(PageError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "Not uploaded",
                message,
            ))
        }
    };
    let mut page = UploadPage {
        chrome: Chrome::new(&caller, "customers"),
        customer: header,
        countries: roster_domain::country::assigned(),
        location: form.location.clone(),
        file_name: form.file_name.clone(),
        content: if form.file.is_empty() {
            String::new()
        } else {
            B64.encode(&form.file)
        },
        valid: None,
        problems: Vec::new(),
        error: None,
    };
    if form.file.is_empty() {
        page.error = Some("Choose a CSV file first (Download template shows its columns).".into());
        page.content.clear();
        let mut r = html(&page);
        *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
        return Ok(r);
    }
    let location = Some(form.location.as_str());
    let refused = |page: &mut UploadPage, e: ServiceError| -> Option<PageError> {
        match e {
            ServiceError::BulkRefused(problems) => {
                page.problems = problems
                    .into_iter()
                    .map(|p| ProblemRow {
                        row: p
                            .row
                            .map(|r| r.to_string())
                            .unwrap_or_else(|| "File".into()),
                        column: p.column.unwrap_or_default(),
                        message: p.message,
                    })
                    .collect();
                None
            }
            ServiceError::UpnsTaken(taken) => {
                page.error = Some(format!(
                    "Other users took these usernames while you uploaded: {}. Nothing was created: remove them from the file and upload it again.",
                    taken.join(", ")
                ));
                None
            }
            other => Some(other.into()),
        }
    };
    if form.action == "save" {
        match portal
            .roster
            .bulk_upload_customer_users(&ctx, id, &form.file, location)
            .await
        {
            Ok(uploaded) => {
                let rows: Vec<ResultRow<'_>> = uploaded
                    .created
                    .iter()
                    .map(|c| ResultRow {
                        row: &c.row,
                        password: Some(c.password.expose()),
                    })
                    .collect();
                let result = bulk_upload::result_csv(uploaded.delimiter, &rows);
                let created: Vec<Created> = uploaded
                    .created
                    .iter()
                    .map(|c| Created {
                        display_name: c.user.display_name.clone(),
                        upn: c.user.upn.to_string(),
                        password: c.password.expose().to_string(),
                    })
                    .collect();
                return Ok(html(&UploadDonePage {
                    chrome: Chrome::new(&caller, "customers"),
                    customer: page.customer,
                    csv_data_url: passwords_csv_data_url(&created),
                    created,
                    result_data_url: format!(
                        "data:text/csv;charset=utf-8,{}",
                        percent_encoding::utf8_percent_encode(
                            &result,
                            percent_encoding::NON_ALPHANUMERIC
                        )
                    ),
                }));
            }
            Err(e) => {
                if let Some(fatal) = refused(&mut page, e) {
                    return Err(fatal);
                }
            }
        }
    } else {
        match portal
            .roster
            .validate_bulk_upload(&ctx, id, &form.file, location)
            .await
        {
            Ok(n) => page.valid = Some(n),
            Err(e) => {
                if let Some(fatal) = refused(&mut page, e) {
                    return Err(fatal);
                }
            }
        }
    }
    let failed = !page.problems.is_empty() || page.error.is_some();
    if failed {
        // A file with problems is chosen again once fixed: nothing is kept.
        page.content.clear();
    }
    let mut r = html(&page);
    if failed {
        *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(r)
}
