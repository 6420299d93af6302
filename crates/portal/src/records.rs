//! "Audit log" (records by date range, customer and operation, paged, with "Download" as
//! CSV) and "Applications" (register with the secret shown once, reset the secret, delete).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use roster_domain::audit::{AuditQuery, AuditRecord, OperationType};
use roster_domain::{Duration, Timestamp, UserId};
use roster_service::audit_log::AuditRequest;
use roster_service::paging::ListRequest;
use roster_service::partner_users::PartnerUserQuery;
use roster_service::{Ctx, ServiceError};
use serde::Deserialize;

use crate::account::when;
use crate::errors::{sentence, PageError};
use crate::layout::{html, query_escape, Chrome};
use crate::paging::{PageSize, Pager};
use crate::session::Caller;
use crate::Portal;

pub(crate) struct RecordRow {
    at: String,
    operation: String,
    customer: String,
    by: String,
    resource: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    from: String,
    to: String,
    customer: String,
    operation: String,
    customers: Vec<(String, String)>,
    operations: Vec<&'static str>,
    rows: Vec<RecordRow>,
    pager: Pager,
    error: Option<String>,
    download: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct AuditParams {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    customer: Option<String>,
    #[serde(default)]
    operation: Option<String>,
    #[serde(default)]
    size: Option<String>,
    #[serde(default)]
    page: Option<String>,
}

/// The query a form asks for: From and To are whole days (To included), in UTC; a week up to
/// today when left empty.
fn audit_query(portal: &Portal, p: &AuditParams) -> Result<(AuditQuery, String, String), String> {
    let today = portal.roster.now().to_rfc3339()[..10].to_string();
    let from = p
        .from
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| {
            portal
                .roster
                .now()
                .minus(Duration::from_days(7))
                .to_rfc3339()[..10]
                .to_string()
        });
    let to =
        p.to.clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(today);
    let start = Timestamp::parse_query_time(&from).map_err(|e| format!("From: {e}"))?;
    let end = Timestamp::parse_query_time(&to)
        .map_err(|e| format!("To: {e}"))?
        .plus(Duration::from_days(1));
    if start >= end {
        return Err("From must be on or before To.".into());
    }
    let operation = match p.operation.as_deref().filter(|s| !s.is_empty()) {
        Some(o) => {
            Some(OperationType::parse(o).ok_or_else(|| format!("'{o}' is not an operation"))?)
        }
        None => None,
    };
    let customer = match p.customer.as_deref().filter(|s| !s.is_empty()) {
        Some(c) => Some(
            c.parse()
                .map_err(|_| "That customer is not one of yours.".to_string())?,
        ),
        None => None,
    };
    Ok((
        AuditQuery {
            start,
            end,
            operation,
            customer,
            actor: None,
        },
        from,
        to,
    ))
}

/// Names for the ids a record holds: customers and account users.
struct Names {
    customers: HashMap<String, String>,
    users: HashMap<UserId, String>,
}

async fn names(portal: &Portal, ctx: &Ctx) -> Names {
    let customers = portal
        .roster
        .list_customers(
            ctx,
            ListRequest::First(roster_domain::listing::CustomerListQuery {
                search: None,
                size: roster_domain::listing::MAX_PAGE_SIZE,
            }),
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.id.to_string(), c.company_name))
        .collect();
    let users = portal
        .roster
        .list_partner_users(
            ctx,
            None,
            ListRequest::First(PartnerUserQuery {
                size: roster_domain::listing::MAX_PAGE_SIZE,
                ..Default::default()
            }),
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default()
        .into_iter()
        .map(|u| (u.id, u.upn.to_string()))
        .collect();
    Names { customers, users }
}

fn row_of(r: &AuditRecord, names: &Names) -> RecordRow {
    RecordRow {
        at: when(r.created_at),
        operation: r.operation.as_str().to_string(),
        customer: r
            .customer
            .map(|c| {
                names
                    .customers
                    .get(&c.to_string())
                    .cloned()
                    .unwrap_or_else(|| c.to_string())
            })
            .unwrap_or_default(),
        by: match (r.actor, r.application) {
            (Some(u), _) => names
                .users
                .get(&u)
                .cloned()
                .unwrap_or_else(|| u.to_string()),
            (None, Some(a)) => format!("application {a}"),
            (None, None) => "Roster".into(),
        },
        resource: format!("{} {}", r.resource_type, r.resource_id),
    }
}

pub(crate) async fn audit(
    State(portal): State<Portal>,
    caller: Caller,
    headers: HeaderMap,
    Query(p): Query<AuditParams>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let size = PageSize::chosen(p.size.as_deref(), &headers);
    let names = names(&portal, &ctx).await;
    let mut error = None;
    let (mut rows, mut continuation) = (Vec::new(), None);
    let (from, to) = match audit_query(&portal, &p) {
        Ok((query, from, to)) => {
            let request = match p.page.as_deref().filter(|t| !t.is_empty()) {
                Some(t) => ListRequest::Next(t.to_string()),
                None => ListRequest::First(AuditRequest {
                    query,
                    size: size.get(),
                }),
            };
            match portal.roster.list_audit_records(&ctx, request).await {
                Ok(page) => {
                    rows = page.items.iter().map(|r| row_of(r, &names)).collect();
                    continuation = page.continuation;
                }
                Err(ServiceError::Invalid(i)) => error = Some(sentence(&ServiceError::Invalid(i))),
                Err(e) => return Err(e.into()),
            }
            (from, to)
        }
        Err(message) => {
            error = Some(message);
            (
                p.from.clone().unwrap_or_default(),
                p.to.clone().unwrap_or_default(),
            )
        }
    };
    let customer = p.customer.clone().unwrap_or_default();
    let operation = p.operation.clone().unwrap_or_default();
    let filters = format!(
        "from={}&to={}&customer={}&operation={}",
        query_escape(&from),
        query_escape(&to),
        query_escape(&customer),
        query_escape(&operation)
    );
    let base = format!("/account/audit?{filters}&size={}", size.get());
    let mut customers: Vec<(String, String)> = names.customers.into_iter().collect();
    customers.sort_by_key(|c| c.1.to_lowercase());
    let mut r = html(&AuditPage {
        chrome: Chrome::new(&caller, "account").at("audit"),
        pager: Pager::new(&base, p.page.is_some(), continuation.as_deref(), size),
        download: format!("/account/audit/download?{filters}"),
        from,
        to,
        customer,
        operation,
        customers,
        operations: OperationType::ALL.iter().map(|o| o.as_str()).collect(),
        rows,
        error,
    });
    size.remember(&mut r);
    Ok(r)
}

/// "Download": every record of the query as CSV (all pages).
pub(crate) async fn download(
    State(portal): State<Portal>,
    caller: Caller,
    Query(p): Query<AuditParams>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let (query, from, to) = audit_query(&portal, &p)
        .map_err(|m| PageError::new(StatusCode::BAD_REQUEST, "Not downloaded", m))?;
    let names = names(&portal, &ctx).await;
    let quote = |s: &str| {
        let s = if s.starts_with(['=', '+', '-', '@']) {
            format!("'{s}")
        } else {
            s.to_string()
        };
        format!("\"{}\"", s.replace('"', "\"\""))
    };
    let mut csv = String::from(
        "\u{feff}When (UTC),Operation,Customer,By,Resource type,Resource id,New value,Correlation id\r\n",
    );
    let mut request = ListRequest::First(AuditRequest {
        query,
        size: roster_domain::listing::MAX_PAGE_SIZE,
    });
    loop {
        let page = portal.roster.list_audit_records(&ctx, request).await?;
        for r in &page.items {
            let row = row_of(r, &names);
            csv.push_str(
                &[
                    row.at.as_str(),
                    row.operation.as_str(),
                    row.customer.as_str(),
                    row.by.as_str(),
                    r.resource_type.as_str(),
                    r.resource_id.as_str(),
                    r.new_value.as_str(),
                    r.correlation_id.as_str(),
                ]
                .map(quote)
                .join(","),
            );
            csv.push_str("\r\n");
        }
        match page.continuation {
            Some(t) => request = ListRequest::Next(t),
            None => break,
        }
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"audit-{from}-{to}.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}

pub(crate) struct AppRow {
    id: String,
    name: String,
    kind: &'static str,
    created: String,
}

#[derive(Template)]
#[template(path = "applications.html")]
struct ApplicationsPage {
    chrome: Chrome,
    rows: Vec<AppRow>,
    /// A client id and its secret, shown this once.
    secret: Option<(String, String)>,
    name: String,
    error: Option<String>,
    notice: Option<String>,
}

async fn applications_page(
    portal: &Portal,
    caller: &Caller,
    secret: Option<(String, String)>,
    name: String,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let rows = portal
        .roster
        .list_applications(&ctx)
        .await?
        .into_iter()
        .map(|a| AppRow {
            id: a.id.to_string(),
            name: a.display_name,
            kind: if a.public_client {
                "Public client"
            } else {
                "Confidential"
            },
            created: when(a.created_at),
        })
        .collect();
    Ok(html(&ApplicationsPage {
        chrome: Chrome::new(caller, "account").at("applications"),
        rows,
        secret,
        name,
        error,
        notice,
    }))
}

#[derive(Deserialize, Default)]
pub(crate) struct Notice {
    #[serde(default)]
    notice: Option<String>,
}

pub(crate) async fn applications(
    State(portal): State<Portal>,
    caller: Caller,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    let notice = match n.notice.as_deref() {
        Some("deleted") => Some("The application was deleted; its tokens stopped working.".into()),
        _ => None,
    };
    applications_page(&portal, &caller, None, String::new(), None, notice).await
}

#[derive(Deserialize)]
pub(crate) struct RegisterForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    public_client: Option<String>,
}

pub(crate) async fn register(
    State(portal): State<Portal>,
    caller: Caller,
    Form(form): Form<RegisterForm>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    match portal
        .roster
        .register_application(&ctx, Some(&form.name), form.public_client.is_some())
        .await
    {
        Ok(w) => {
            let shown = Some((w.application.id.to_string(), w.secret));
            applications_page(&portal, &caller, shown, String::new(), None, None).await
        }
        Err(ServiceError::Invalid(i)) => {
            let message = sentence(&ServiceError::Invalid(i));
            let mut r =
                applications_page(&portal, &caller, None, form.name, Some(message), None).await?;
            *r.status_mut() = StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn reset_secret(
    State(portal): State<Portal>,
    caller: Caller,
    Path(app): Path<String>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let w = portal.roster.reset_application_secret(&ctx, &app).await?;
    let shown = Some((w.application.id.to_string(), w.secret));
    applications_page(&portal, &caller, shown, String::new(), None, None).await
}

pub(crate) async fn delete_application(
    State(portal): State<Portal>,
    caller: Caller,
    Path(app): Path<String>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    portal.roster.delete_application(&ctx, &app).await?;
    Ok(Redirect::to("/account/applications?notice=deleted").into_response())
}
