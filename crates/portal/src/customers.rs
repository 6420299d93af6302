//! "Customers": the table with search and paging, "Add customer", and a customer's
//! "Licenses".

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use roster_domain::authz::{self, Action};
use roster_domain::customer::NewCustomerInput;
use roster_domain::listing::{
    sort_key, CustomerListQuery, CustomerTextField, TextFilter, TextMatch,
};
use roster_service::paging::ListRequest;
use roster_service::ServiceError;
use serde::Deserialize;

use crate::errors::{label_of, PageError};
use crate::layout::{html, Chrome};
use crate::paging::{PageSize, Pager};
use crate::session::Caller;
use crate::Portal;

pub(crate) struct CustomerRow {
    id: String,
    company_name: String,
    domain: String,
    country: String,
}

#[derive(Template)]
#[template(path = "customers.html")]
struct CustomersPage {
    chrome: Chrome,
    q: String,
    rows: Vec<CustomerRow>,
    pager: Pager,
    may_add: bool,
    /// "adduser": each customer leads to its "Add user" (the dashboard's quick link).
    then: String,
    search_error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct ListParams {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    size: Option<String>,
    /// The continuation token of the page to show.
    #[serde(default)]
    page: Option<String>,
    #[serde(default)]
    then: Option<String>,
}

/// "name" or `domain:contoso`: the search a box holds.
fn customer_search(q: &str) -> Option<TextFilter<CustomerTextField>> {
    let q = q.trim();
    if q.is_empty() {
        return None;
    }
    let (field, value) = match q.split_once(':') {
        Some((f, v)) if f.trim().eq_ignore_ascii_case("domain") => {
            (CustomerTextField::Domain, v.trim())
        }
        Some((f, v)) if f.trim().eq_ignore_ascii_case("name") => {
            (CustomerTextField::CompanyName, v.trim())
        }
        _ => (CustomerTextField::CompanyName, q),
    };
    Some(TextFilter {
        field,
        op: TextMatch::Substring,
        value: sort_key(value),
    })
}

pub(crate) async fn list(
    State(portal): State<Portal>,
    caller: Caller,
    headers: HeaderMap,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let size = PageSize::chosen(p.size.as_deref(), &headers);
    let q = p.q.unwrap_or_default();
    let request = match p.page.as_deref().filter(|t| !t.is_empty()) {
        Some(token) => ListRequest::Next(token.to_string()),
        None => ListRequest::First(CustomerListQuery {
            search: customer_search(&q),
            size: size.get(),
        }),
    };
    let (page, search_error) = match portal.roster.list_customers(&ctx, request).await {
        Ok(page) => (page, None),
        Err(ServiceError::Invalid(invalid)) => (
            roster_service::Page {
                items: Vec::new(),
                continuation: None,
            },
            Some(
                invalid
                    .0
                    .iter()
                    .map(|f| f.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ),
        Err(e) => return Err(e.into()),
    };
    let rows = page
        .items
        .iter()
        .map(|c| CustomerRow {
            id: c.id.to_string(),
            company_name: c.company_name.clone(),
            domain: c.domain.to_string(),
            country: c.country.to_string(),
        })
        .collect();
    let then = p.then.filter(|t| t == "adduser").unwrap_or_default();
    let base = format!(
        "/customers?q={}&size={}{}",
        crate::layout::query_escape(&q),
        size.get(),
        if then.is_empty() { "" } else { "&then=adduser" }
    );
    let pager = Pager::new(&base, p.page.is_some(), page.continuation.as_deref(), size);
    let mut response = html(&CustomersPage {
        may_add: authz::authorize(&ctx.actor, Action::CreateCustomer, &Default::default()).is_ok(),
        chrome: Chrome::new(&caller, "customers"),
        q,
        rows,
        pager,
        then,
        search_error,
    });
    size.remember(&mut response);
    Ok(response)
}

#[derive(Template)]
#[template(path = "customer_new.html")]
struct NewCustomerPage {
    chrome: Chrome,
    form: CustomerForm,
    countries: &'static [&'static str],
    errors: Vec<(String, String)>,
}

impl NewCustomerPage {
    fn error_of(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Deserialize, Default, Clone)]
pub(crate) struct CustomerForm {
    #[serde(default)]
    company_name: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    country: String,
}

pub(crate) async fn new_page(caller: Caller) -> Response {
    html(&NewCustomerPage {
        chrome: Chrome::new(&caller, "customers"),
        form: CustomerForm {
            country: "US".into(),
            ..Default::default()
        },
        countries: roster_domain::country::assigned(),
        errors: Vec::new(),
    })
}

pub(crate) async fn create(
    State(portal): State<Portal>,
    caller: Caller,
    Form(form): Form<CustomerForm>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let input = NewCustomerInput {
        domain: Some(form.domain.trim().to_string()),
        company_name: Some(form.company_name.trim().to_string()),
        billing_company_name: None,
        country: Some(form.country.trim().to_string()),
        billing: Default::default(),
    };
    let errors = match portal.roster.create_customer(&ctx, &input).await {
        Ok(customer) => {
            return Ok(Redirect::to(&format!("/customers/{}/users", customer.id)).into_response())
        }
        Err(ServiceError::Invalid(invalid)) => invalid
            .0
            .into_iter()
            .map(|f| {
                (
                    field_of(&f.field),
                    format!("{}: {}.", label_of(&f.field), f.message),
                )
            })
            .collect(),
        Err(ServiceError::DomainTaken(d)) => vec![(
            "domain".to_string(),
            format!("Domain: {d} already belongs to another tenant. Choose another one."),
        )],
        Err(e) => return Err(e.into()),
    };
    let mut r = html(&NewCustomerPage {
        chrome: Chrome::new(&caller, "customers"),
        form,
        countries: roster_domain::country::assigned(),
        errors,
    });
    *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    Ok(r)
}

/// The form field a service field name stands for.
fn field_of(service_field: &str) -> String {
    match service_field {
        "companyProfile.companyName" | "companyName" | "billingProfile.companyName" => {
            "company_name"
        }
        "companyProfile.domain" | "domain" => "domain",
        f if f.contains("country") => "country",
        other => other,
    }
    .to_string()
}

/// A customer opens on its users.
pub(crate) async fn open(Path(customer): Path<String>) -> Response {
    Redirect::to(&format!(
        "/customers/{}/users",
        crate::layout::query_escape(&customer)
    ))
    .into_response()
}

pub(crate) struct SkuRow {
    name: String,
    part_number: String,
    total: i64,
    assigned: i64,
    available: i64,
}

#[derive(Template)]
#[template(path = "licences.html")]
struct LicencesPage {
    chrome: Chrome,
    customer: crate::users::CustomerHeader,
    rows: Vec<SkuRow>,
}

pub(crate) async fn licences(
    State(portal): State<Portal>,
    caller: Caller,
    Path(customer): Path<String>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = crate::users::customer_id(&customer)?;
    let header = crate::users::CustomerHeader::load(&portal, &ctx, id, "licenses").await?;
    let skus = portal.roster.subscribed_skus(&ctx, id, &[]).await?;
    let rows = skus
        .iter()
        .map(|s| SkuRow {
            name: s.product.name.clone(),
            part_number: s.product.sku_part_number.clone(),
            total: s.seats.total,
            assigned: s.consumed,
            available: s.available(),
        })
        .collect();
    Ok(html(&LicencesPage {
        chrome: Chrome::new(&caller, "customers"),
        customer: header,
        rows,
    }))
}
