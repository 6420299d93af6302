//! A customer's "Users and licenses": the users table (search, sort, paging) with the tab
//! "Deleted users (N)" and its "Restore"; "Add user"; a user's page with "Edit", "Reset
//! password" and "Delete user".

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use roster_domain::authz::{self, Action, CustomerAccess, CustomerAction, Tier};
use roster_domain::customer_user::{CustomerUser, UserInput, UserState};
use roster_domain::licence::{AssignInput, LicenceUpdateInput};
use roster_domain::listing::{
    sort_key, SortDirection, TextFilter, TextMatch, UserListQuery, UserSortField, UserTextField,
};
use roster_domain::{CustomerId, UserId};
use roster_service::licences::UserRef;
use roster_service::{Ctx, ServiceError};
use serde::Deserialize;

use crate::errors::{label_of, sentence, PageError};
use crate::grants::{self, Grants, Ticked};
use crate::layout::{html, query_escape, Chrome};
use crate::paging::{PageSize, Pager};
use crate::session::Caller;
use crate::Portal;

/// The top of every page of one customer: its name and its sections.
pub(crate) struct CustomerHeader {
    pub(crate) id: String,
    pub(crate) company_name: String,
    /// "users" or "licenses".
    pub(crate) section: &'static str,
}

impl CustomerHeader {
    pub(crate) async fn load(
        portal: &Portal,
        ctx: &Ctx,
        id: CustomerId,
        section: &'static str,
    ) -> Result<Self, PageError> {
        let customer = portal.roster.get_customer(ctx, id).await?;
        Ok(Self {
            id: customer.id.to_string(),
            company_name: customer.company_name,
            section,
        })
    }
}

pub(crate) fn customer_id(raw: &str) -> Result<CustomerId, PageError> {
    raw.parse()
        .map_err(|_| PageError::not_found("The customer"))
}

/// A user id from a path: one that is not even an id names no user.
pub(crate) fn user_id(raw: &str) -> Result<UserId, PageError> {
    raw.parse().map_err(|_| PageError::not_found("The user"))
}

fn may(ctx: &Ctx, access: &CustomerAccess, action: CustomerAction) -> bool {
    authz::authorize(&ctx.actor, Action::InCustomer(action), access).is_ok()
}

pub(crate) struct UserRow {
    id: String,
    display_name: String,
    upn: String,
    location: String,
    licences: String,
    state: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    customer: CustomerHeader,
    /// "users" or "deleted".
    tab: &'static str,
    deleted_count: u64,
    q: String,
    sort: &'static str,
    dir: &'static str,
    rows: Vec<UserRow>,
    pager: Pager,
    search_error: Option<String>,
    notice: Option<String>,
    errors: Vec<String>,
    may_add: bool,
    may_upload: bool,
    may_delete: bool,
    may_licences: bool,
    /// The customer's products, for "Assign license" and "Remove license": (id, name).
    skus: Vec<(String, String)>,
    /// How many users the list holds with its search (for "all N matching").
    matching: u64,
    /// The list holds more than this page: offer "all N matching".
    beyond_page: bool,
    /// The rows can be ticked: some action on them is allowed.
    selectable: bool,
    /// The URL of this list without sort (for the column headers' links).
    sort_base: String,
}

impl UsersPage {
    /// The link of a column header: this column, ascending, or the other way when it is
    /// already sorted by it.
    fn sort_href(&self, column: &str) -> String {
        let dir = if self.sort == column && self.dir == "asc" {
            "desc"
        } else {
            "asc"
        };
        format!("{}&sort={column}&dir={dir}", self.sort_base)
    }

    fn aria_sort(&self, column: &str) -> &'static str {
        match (self.sort == column, self.dir) {
            (false, _) => "none",
            (true, "desc") => "descending",
            (true, _) => "ascending",
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct ListParams {
    #[serde(default)]
    tab: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    dir: Option<String>,
    #[serde(default)]
    size: Option<String>,
    /// Where the page starts (see `paging::encode_cursor`).
    #[serde(default)]
    cursor: Option<String>,
    /// "1": the last page.
    #[serde(default)]
    end: Option<String>,
    #[serde(default)]
    notice: Option<String>,
}

/// What a search box holds, understood: free text (a display name, or a username when it
/// has an `@`), `name:…`, `upn:…`, and `state:active` / `state:deleted` (which picks the tab).
#[derive(Debug, PartialEq, Eq)]
struct Search {
    filter: Option<TextFilter<UserTextField>>,
    state: Option<UserState>,
}

fn parse_search(q: &str) -> Result<Search, String> {
    let mut search = Search {
        filter: None,
        state: None,
    };
    let mut free = Vec::new();
    for word in q.split_whitespace() {
        match word.split_once(':') {
            Some((field, value)) => {
                let field = field.to_ascii_lowercase();
                let value = value.trim();
                match field.as_str() {
                    "state" => {
                        search.state = Some(match value.to_ascii_lowercase().as_str() {
                            "active" => UserState::Active,
                            "deleted" | "inactive" => UserState::Inactive,
                            _ => return Err(format!(
                                "state:{value} is not a state: search state:active or state:deleted."
                            )),
                        })
                    }
                    "upn" | "username" | "name" => {
                        if search.filter.is_some() {
                            return Err("Search one field at a time: upn:… or name:…, with state: if you like.".into());
                        }
                        if value.is_empty() {
                            return Err(format!("{field}: needs a value, for example {field}:ada"));
                        }
                        search.filter = Some(TextFilter {
                            field: if field == "name" {
                                UserTextField::DisplayName
                            } else {
                                UserTextField::UserPrincipalName
                            },
                            op: if field == "name" {
                                TextMatch::Substring
                            } else {
                                TextMatch::StartsWith
                            },
                            value: sort_key(value),
                        });
                    }
                    _ => {
                        return Err(format!(
                            "{field}: is not a field to search: use upn:, name: or state:, or type part of a name."
                        ))
                    }
                }
            }
            None => free.push(word),
        }
    }
    if !free.is_empty() {
        if search.filter.is_some() {
            return Err(
                "Search one field at a time: upn:… or name:…, or type part of a name.".into(),
            );
        }
        let text = free.join(" ");
        search.filter = Some(if text.contains('@') {
            TextFilter {
                field: UserTextField::UserPrincipalName,
                op: TextMatch::StartsWith,
                value: sort_key(&text),
            }
        } else {
            TextFilter {
                field: UserTextField::DisplayName,
                op: TextMatch::Substring,
                value: sort_key(&text),
            }
        });
    }
    Ok(search)
}

/// Days left before a deleted user is gone for good (0: it goes at the next purge).
fn days_left(portal: &Portal, user: &CustomerUser) -> i64 {
    let Some(deleted) = user.soft_deleted_at else {
        return 0;
    };
    let gone = deleted.plus(portal.roster.settings().soft_delete_retention);
    let left_ms = gone.unix_millis() - portal.roster.now().unix_millis();
    if left_ms <= 0 {
        0
    } else {
        (left_ms + 86_399_999) / 86_400_000
    }
}

pub(crate) async fn list(
    State(portal): State<Portal>,
    caller: Caller,
    headers: HeaderMap,
    Path(customer): Path<String>,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    render_list(&portal, &caller, &headers, &customer, p, None, Vec::new()).await
}

async fn render_list(
    portal: &Portal,
    caller: &Caller,
    headers: &HeaderMap,
    customer: &str,
    p: ListParams,
    said: Option<String>,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(customer)?;
    let header = CustomerHeader::load(portal, &ctx, id, "users").await?;
    let access = portal.roster.customer_access(&ctx, id).await?;
    let size = PageSize::chosen(p.size.as_deref(), headers);
    let q = p.q.unwrap_or_default();
    let (search, search_error) = match parse_search(&q) {
        Ok(s) => (s, None),
        Err(m) => (
            Search {
                filter: None,
                state: None,
            },
            Some(m),
        ),
    };
    let mut tab: &'static str = match p.tab.as_deref() {
        Some("deleted") => "deleted",
        _ => "users",
    };
    match search.state {
        Some(UserState::Inactive) => tab = "deleted",
        Some(UserState::Active) => tab = "users",
        None => {}
    }
    let state = if tab == "deleted" {
        UserState::Inactive
    } else {
        UserState::Active
    };
    let sort: &'static str = match p.sort.as_deref() {
        Some("upn") => "upn",
        _ => "name",
    };
    let dir: &'static str = match p.dir.as_deref() {
        Some("desc") => "desc",
        _ => "asc",
    };
    let cursor = p.cursor.as_deref().and_then(crate::paging::decode_cursor);
    let from_end = p.end.as_deref() == Some("1");
    let query = UserListQuery {
        state,
        search: search.filter,
        sort: if sort == "upn" {
            UserSortField::UserPrincipalName
        } else {
            UserSortField::DisplayName
        },
        direction: if dir == "desc" {
            SortDirection::Descending
        } else {
            SortDirection::Ascending
        },
        size: size.get(),
    };
    let window = if search_error.is_none() {
        portal
            .roster
            .browse_customer_users(&ctx, id, &query, cursor.as_ref(), from_end)
            .await?
    } else {
        roster_service::Window {
            items: Vec::new(),
            first: None,
            last: None,
            more_before: false,
            more_after: false,
        }
    };
    let list_url = format!("/customers/{}/users", header.id);
    let tab_part = if tab == "deleted" { "&tab=deleted" } else { "" };
    let sort_base = format!(
        "{list_url}?q={}{tab_part}&size={}",
        query_escape(&q),
        size.get()
    );
    let base = format!("{sort_base}&sort={sort}&dir={dir}");
    let pager = Pager::both_ways(&base, &window, size);
    let items = window.items;
    // Users past their 30 days are gone, even before the purge has run.
    let items: Vec<CustomerUser> = items
        .into_iter()
        .filter(|u| u.state == UserState::Active || days_left(portal, u) > 0)
        .collect();
    let ids: Vec<UserId> = items.iter().map(|u| u.id).collect();
    let licences = if state == UserState::Active {
        portal.roster.licence_names_of_users(&ctx, id, &ids).await?
    } else {
        HashMap::new()
    };
    let rows: Vec<UserRow> = items
        .iter()
        .map(|u| UserRow {
            id: u.id.to_string(),
            display_name: u.display_name.clone(),
            upn: u.upn.to_string(),
            location: u.usage_location.map(|c| c.to_string()).unwrap_or_default(),
            licences: licences
                .get(&u.id)
                .map(|names| names.join(", "))
                .unwrap_or_default(),
            state: match u.state {
                UserState::Active => "Active".to_string(),
                UserState::Inactive => match days_left(portal, u) {
                    1 => "Deleted: 1 day left".to_string(),
                    n => format!("Deleted: {n} days left"),
                },
            },
        })
        .collect();
    let deleted_count = portal
        .roster
        .count_customer_users(&ctx, id, UserState::Inactive)
        .await?;
    let matching = portal.roster.count_matching_users(&ctx, id, &query).await?;
    let may_licences = may(&ctx, &access, CustomerAction::ManageLicences);
    let skus = if may_licences && tab == "users" {
        portal
            .roster
            .subscribed_skus(&ctx, id, &[])
            .await?
            .into_iter()
            .map(|s| (s.product.id, s.product.name))
            .collect()
    } else {
        Vec::new()
    };
    let notice = said.or_else(|| match p.notice.as_deref() {
        Some("deleted") => Some(
            "The user was deleted. You can restore it from Deleted users for 30 days.".to_string(),
        ),
        Some(n) if n.starts_with("restored") => Some(format!(
            "Restored: {} user(s).",
            n.trim_start_matches("restored")
                .trim_start_matches(':')
                .parse::<u64>()
                .unwrap_or(0)
        )),
        _ => None,
    });
    let may_restore = may(
        &ctx,
        &access,
        CustomerAction::RestoreUser {
            target: Tier::NoAdmin,
        },
    );
    let may_delete = may(
        &ctx,
        &access,
        CustomerAction::DeleteUser {
            target: Tier::NoAdmin,
        },
    );
    let mut response = html(&UsersPage {
        may_add: may(&ctx, &access, CustomerAction::CreateUser),
        may_upload: may(&ctx, &access, CustomerAction::BulkUpload),
        may_delete,
        beyond_page: matching > rows.len() as u64,
        selectable: match tab {
            "deleted" => may_restore,
            _ => may_delete || (may_licences && !skus.is_empty()),
        },
        may_licences,
        skus,
        matching,
        chrome: Chrome::new(caller, "customers"),
        customer: header,
        tab,
        deleted_count,
        q,
        sort,
        dir,
        rows,
        pager,
        search_error,
        notice,
        errors,
        sort_base,
    });
    size.remember(&mut response);
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct RestoreForm {
    #[serde(default)]
    user: Vec<String>,
}

pub(crate) async fn restore(
    State(portal): State<Portal>,
    caller: Caller,
    headers: HeaderMap,
    Path(customer): Path<String>,
    axum_extra_form: Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    let form = RestoreForm {
        user: axum_extra_form
            .0
            .into_iter()
            .filter(|(k, _)| k == "user")
            .map(|(_, v)| v)
            .collect(),
    };
    if form.user.is_empty() {
        return render_list(
            &portal,
            &caller,
            &headers,
            &customer,
            ListParams {
                tab: Some("deleted".into()),
                ..Default::default()
            },
            None,
            vec!["Select the users to restore first.".into()],
        )
        .await;
    }
    let mut restored = 0;
    let mut errors = Vec::new();
    for raw in &form.user {
        let Ok(user) = raw.parse::<UserId>() else {
            errors.push("One of the selected users is not a user of this customer.".into());
            continue;
        };
        let input = UserInput {
            state: Some("active".into()),
            ..UserInput::default()
        };
        match portal
            .roster
            .update_customer_user(&ctx, id, user, &input, None)
            .await
        {
            Ok(_) => restored += 1,
            Err(ServiceError::Internal(e)) => return Err(ServiceError::Internal(e).into()),
            Err(e) => {
                let name = portal
                    .roster
                    .get_customer_user(&ctx, id, user)
                    .await
                    .map(|u| u.display_name)
                    .unwrap_or_else(|_| raw.clone());
                errors.push(format!("{name}: {}", sentence(&e)));
            }
        }
    }
    if errors.is_empty() {
        return Ok(Redirect::to(&format!(
            "/customers/{}/users?tab=deleted&notice=restored:{restored}",
            id
        ))
        .into_response());
    }
    if restored > 0 {
        errors.insert(0, format!("Restored: {restored} user(s). Not restored:"));
    }
    let mut r = render_list(
        &portal,
        &caller,
        &headers,
        &customer,
        ListParams {
            tab: Some("deleted".into()),
            ..Default::default()
        },
        None,
        errors,
    )
    .await?;
    *r.status_mut() = axum::http::StatusCode::CONFLICT;
    Ok(r)
}

/// The users an action of the table applies to: those ticked, or every user the list holds
/// with its search ("all N matching"), found page by page.
async fn chosen_users(
    portal: &Portal,
    ctx: &Ctx,
    customer: CustomerId,
    form: &[(String, String)],
    state: UserState,
) -> Result<Vec<UserId>, PageError> {
    let value = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if value("all") != Some("1") {
        return Ok(form
            .iter()
            .filter(|(k, _)| k == "user")
            .filter_map(|(_, v)| v.parse().ok())
            .collect());
    }
    let search = parse_search(value("q").unwrap_or_default())
        .map_err(|m| PageError::new(axum::http::StatusCode::BAD_REQUEST, "Not done", m))?;
    let query = UserListQuery {
        state,
        search: search.filter,
        sort: UserSortField::DisplayName,
        direction: SortDirection::Ascending,
        size: roster_domain::listing::MAX_PAGE_SIZE,
    };
    let mut ids = Vec::new();
    let mut cursor = None;
    loop {
        let window = portal
            .roster
            .browse_customer_users(ctx, customer, &query, cursor.as_ref(), false)
            .await?;
        ids.extend(window.items.iter().map(|u| u.id));
        match (window.more_after, window.last) {
            (true, Some(last)) => {
                cursor = Some(roster_service::Cursor {
                    after: last,
                    backward: false,
                })
            }
            _ => return Ok(ids),
        }
    }
}

/// An action on the users ticked in the table (or all that match): "Delete", "Assign
/// license", "Remove license" on users, "Restore" on deleted users. Each user is one
/// operation; what could not be done is said user by user.
pub(crate) async fn act(
    State(portal): State<Portal>,
    caller: Caller,
    headers: HeaderMap,
    Path(customer): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    let value = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let action = value("action");
    let restoring = action == "restore";
    let state = if restoring {
        UserState::Inactive
    } else {
        UserState::Active
    };
    let params = ListParams {
        tab: restoring.then(|| "deleted".to_string()),
        q: Some(value("q")),
        ..Default::default()
    };
    let users = chosen_users(&portal, &ctx, id, &form, state).await?;
    if users.is_empty() {
        return render_list(
            &portal,
            &caller,
            &headers,
            &customer,
            params,
            None,
            vec!["Select users first (or tick “all users that match”).".into()],
        )
        .await;
    }
    let sku = value("sku");
    let mut done = 0;
    let mut errors = Vec::new();
    for user in &users {
        let outcome = match action.as_str() {
            "delete" => {
                portal
                    .roster
                    .delete_customer_user(&ctx, id, *user, None)
                    .await
            }
            "restore" => portal
                .roster
                .update_customer_user(
                    &ctx,
                    id,
                    *user,
                    &UserInput {
                        state: Some("active".into()),
                        ..UserInput::default()
                    },
                    None,
                )
                .await
                .map(|_| ()),
            "assign" | "remove" => {
                let input = if action == "assign" {
                    LicenceUpdateInput {
                        assign: Some(vec![AssignInput {
                            sku_id: Some(sku.clone()),
                            excluded_plans: None,
                        }]),
                        remove: None,
                    }
                } else {
                    LicenceUpdateInput {
                        assign: None,
                        remove: Some(vec![sku.clone()]),
                    }
                };
                portal
                    .roster
                    .update_licences(&ctx, id, &UserRef::Id(*user), &input)
                    .await
                    .map(|_| ())
            }
            _ => {
                return Err(PageError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "Not done",
                    "Choose what to do with the selected users.",
                ))
            }
        };
        match outcome {
            Ok(()) => done += 1,
            Err(ServiceError::Internal(e)) => return Err(ServiceError::Internal(e).into()),
            Err(e) => {
                let name = portal
                    .roster
                    .get_customer_user(&ctx, id, *user)
                    .await
                    .map(|u| u.display_name)
                    .unwrap_or_else(|_| user.to_string());
                errors.push(format!("{name}: {}", sentence(&e)));
            }
        }
    }
    let said = (done > 0 || errors.is_empty()).then(|| match action.as_str() {
        "delete" => {
            format!("Deleted: {done} user(s). They can be restored from Deleted users for 30 days.")
        }
        "restore" => format!("Restored: {done} user(s)."),
        "assign" => format!("License assigned to {done} user(s)."),
        _ => format!("License removed from {done} user(s)."),
    });
    let mut r = render_list(
        &portal,
        &caller,
        &headers,
        &customer,
        params,
        said,
        errors.clone(),
    )
    .await?;
    if !errors.is_empty() {
        *r.status_mut() = axum::http::StatusCode::CONFLICT;
    }
    Ok(r)
}

// ---------------------------------------------------------------- add user

/// One user of the "Add user" form, as typed.
#[derive(Clone, Default)]
pub(crate) struct NewUserRow {
    first_name: String,
    last_name: String,
    display_name: String,
    alias: String,
    domain: String,
    location: String,
    /// This row's problems: (field, sentence).
    errors: Vec<(String, String)>,
}

impl NewUserRow {
    fn error_of(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Template)]
#[template(path = "user_new.html")]
struct NewUserPage {
    chrome: Chrome,
    customer: CustomerHeader,
    rows: Vec<NewUserRow>,
    domains: Vec<String>,
    countries: &'static [&'static str],
    grants: Grants,
    for_all: bool,
}

/// A created user and its temporary password, shown this once.
pub(crate) struct Created {
    pub(crate) display_name: String,
    pub(crate) upn: String,
    pub(crate) password: String,
}

#[derive(Template)]
#[template(path = "user_created.html")]
struct CreatedPage {
    chrome: Chrome,
    customer: CustomerHeader,
    created: Vec<Created>,
    /// The names and passwords as a CSV file, for the download link.
    csv_data_url: String,
    /// Rows that were not created (the form again, with their problems).
    not_created: usize,
    /// Permissions or licences that could not be given, by user.
    grant_problems: Vec<String>,
}

async fn domains_of(portal: &Portal, ctx: &Ctx, id: CustomerId) -> Result<Vec<String>, PageError> {
    Ok(portal
        .roster
        .customer_domains(ctx, id)
        .await?
        .into_iter()
        .filter(|d| d.kind != roster_domain::customer::DomainKind::Federated)
        .map(|d| d.name.to_string())
        .collect())
}

pub(crate) async fn new_page(
    State(portal): State<Portal>,
    caller: Caller,
    Path(customer): Path<String>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    let header = CustomerHeader::load(&portal, &ctx, id, "users").await?;
    let domains = domains_of(&portal, &ctx, id).await?;
    let row = NewUserRow {
        domain: domains.first().cloned().unwrap_or_default(),
        location: portal
            .roster
            .get_customer(&ctx, id)
            .await?
            .country
            .to_string(),
        ..Default::default()
    };
    let access = portal.roster.customer_access(&ctx, id).await?;
    let grants = Grants::load(&portal, &ctx, id, &access, Ticked::Nothing).await?;
    Ok(html(&NewUserPage {
        chrome: Chrome::new(&caller, "customers"),
        customer: header,
        rows: vec![row],
        domains,
        countries: roster_domain::country::assigned(),
        grants,
        for_all: false,
    }))
}

/// The rows of the "Add user" form: the n-th value of each field is the n-th user's.
fn rows_of(form: &[(String, String)]) -> Vec<NewUserRow> {
    let values = |name: &str| crate::form::values(form, name);
    let first = values("first_name");
    let last = values("last_name");
    let display = values("display_name");
    let alias = values("alias");
    let domain = values("domain");
    let location = values("location");
    let n = first
        .len()
        .max(last.len())
        .max(display.len())
        .max(alias.len())
        .clamp(1, 20);
    let at = |v: &Vec<String>, i: usize| v.get(i).cloned().unwrap_or_default();
    (0..n)
        .map(|i| NewUserRow {
            first_name: at(&first, i),
            last_name: at(&last, i),
            display_name: at(&display, i),
            alias: at(&alias, i),
            domain: at(&domain, i),
            location: at(&location, i),
            errors: Vec::new(),
        })
        .collect()
}

pub(crate) async fn create(
    State(portal): State<Portal>,
    caller: Caller,
    Path(customer): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    let header = CustomerHeader::load(&portal, &ctx, id, "users").await?;
    let domains = domains_of(&portal, &ctx, id).await?;
    let mut rows = rows_of(&form);
    let (roles, skus) = grants::chosen(&form);
    let access = portal.roster.customer_access(&ctx, id).await?;
    let grants = Grants::load(
        &portal,
        &ctx,
        id,
        &access,
        Ticked::Chosen {
            roles: &roles,
            skus: &skus,
        },
    )
    .await?;
    let action = form
        .iter()
        .find(|(k, _)| k == "action")
        .map(|(_, v)| v.as_str())
        .unwrap_or("complete");
    if action == "another" {
        let last = rows.last().cloned().unwrap_or_default();
        if rows.len() < 20 {
            rows.push(NewUserRow {
                domain: last.domain,
                location: last.location,
                ..Default::default()
            });
        }
        return Ok(html(&NewUserPage {
            chrome: Chrome::new(&caller, "customers"),
            customer: header,
            for_all: rows.len() > 1,
            rows,
            domains,
            countries: roster_domain::country::assigned(),
            grants,
        }));
    }
    if let Some(index) = action.strip_prefix("remove-") {
        if let Ok(i) = index.parse::<usize>() {
            if i < rows.len() && rows.len() > 1 {
                rows.remove(i);
            }
        }
        return Ok(html(&NewUserPage {
            chrome: Chrome::new(&caller, "customers"),
            customer: header,
            for_all: rows.len() > 1,
            rows,
            domains,
            countries: roster_domain::country::assigned(),
            grants,
        }));
    }
    // Each user is created by the one create operation, in order; the first refusal stops,
    // so that what was created is shown with its password and the rest stays in the form.
    let mut created = Vec::new();
    let mut left = Vec::new();
    let mut grant_problems = Vec::new();
    for mut row in rows {
        if !left.is_empty() {
            left.push(row);
            continue;
        }
        let input = UserInput {
            user_principal_name: Some(format!("{}@{}", row.alias, row.domain)),
            display_name: Some(row.display_name.clone()),
            first_name: Some(row.first_name.clone()).filter(|s| !s.is_empty()),
            last_name: Some(row.last_name.clone()).filter(|s| !s.is_empty()),
            usage_location: Some(row.location.clone()).filter(|s| !s.is_empty()),
            force_change_password: Some(true),
            ..UserInput::default()
        };
        match portal.roster.create_customer_user(&ctx, id, &input).await {
            Ok(c) => {
                for problem in
                    grants::apply(&portal, &ctx, id, c.user.id, &grants, &roles, &skus).await?
                {
                    grant_problems.push(format!("{}: {problem}", c.user.display_name));
                }
                created.push(Created {
                    display_name: c.user.display_name.clone(),
                    upn: c.user.upn.to_string(),
                    password: c.password.expose().to_string(),
                })
            }
            Err(ServiceError::Invalid(invalid)) => {
                row.errors = invalid
                    .0
                    .iter()
                    .map(|f| {
                        (
                            form_field(&f.field),
                            format!("{}: {}.", label_of(&f.field), f.message),
                        )
                    })
                    .collect();
                left.push(row);
            }
            Err(ServiceError::UpnTaken(upn)) => {
                row.errors = vec![(
                    "alias".into(),
                    format!(
                        "Username: {upn} is already used by another active user of this customer."
                    ),
                )];
                left.push(row);
            }
            Err(e) => return Err(e.into()),
        }
    }
    if created.is_empty() {
        let mut r = html(&NewUserPage {
            chrome: Chrome::new(&caller, "customers"),
            customer: header,
            for_all: left.len() > 1,
            rows: left,
            domains,
            countries: roster_domain::country::assigned(),
            grants,
        });
        *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
        return Ok(r);
    }
    let csv_data_url = passwords_csv_data_url(&created);
    Ok(html(&CreatedPage {
        chrome: Chrome::new(&caller, "customers"),
        customer: header,
        not_created: left.len(),
        created,
        csv_data_url,
        grant_problems,
    }))
}

/// The form field a service field name stands for.
fn form_field(service_field: &str) -> String {
    match service_field {
        "firstName" => "first_name",
        "lastName" => "last_name",
        "displayName" => "display_name",
        "userPrincipalName" => "alias",
        "usageLocation" => "location",
        other => other,
    }
    .to_string()
}

/// The CSV of created users and their passwords as a `data:` URL: downloaded from the page
/// itself, so the passwords are never kept on the server to be fetched again.
pub(crate) fn passwords_csv_data_url(created: &[Created]) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    // A name that begins with = + - @ would run as a formula in a spreadsheet: keep it text.
    // (Temporary passwords never begin with one: the domain generates none that does.)
    let text = |s: &str| {
        if s.starts_with(['=', '+', '-', '@']) {
            quote(&format!("'{s}"))
        } else {
            quote(s)
        }
    };
    let mut csv = String::from("\u{feff}Display name,Username,Temporary password\r\n");
    for c in created {
        csv.push_str(&format!(
            "{},{},{}\r\n",
            text(&c.display_name),
            quote(&c.upn),
            quote(&c.password)
        ));
    }
    format!(
        "data:text/csv;charset=utf-8,{}",
        percent_encoding::utf8_percent_encode(&csv, percent_encoding::NON_ALPHANUMERIC)
    )
}

// ---------------------------------------------------------------- one user

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    chrome: Chrome,
    customer: CustomerHeader,
    user: UserView,
    may_edit: bool,
    may_reset: bool,
    may_delete: bool,
    may_restore: bool,
    notice: Option<String>,
}

pub(crate) struct UserView {
    id: String,
    display_name: String,
    first_name: String,
    last_name: String,
    upn: String,
    location: String,
    active: bool,
    state: String,
    licences: Vec<String>,
    roles: Vec<String>,
    created: String,
    must_change_password: bool,
}

async fn user_view(
    portal: &Portal,
    ctx: &Ctx,
    customer: CustomerId,
    user: &CustomerUser,
) -> Result<UserView, PageError> {
    let licences = portal
        .roster
        .licence_names_of_users(ctx, customer, &[user.id])
        .await?
        .remove(&user.id)
        .unwrap_or_default();
    let roles = portal
        .roster
        .user_directory_roles(ctx, customer, user.id)
        .await?
        .iter()
        .map(|r| r.name().to_string())
        .collect();
    Ok(UserView {
        id: user.id.to_string(),
        display_name: user.display_name.clone(),
        first_name: user.first_name.clone().unwrap_or_default(),
        last_name: user.last_name.clone().unwrap_or_default(),
        upn: user.upn.to_string(),
        location: user
            .usage_location
            .map(|c| c.to_string())
            .unwrap_or_default(),
        active: user.state == UserState::Active,
        state: match user.state {
            UserState::Active => "Active".into(),
            UserState::Inactive => format!(
                "Deleted: {} day(s) left to restore",
                days_left(portal, user)
            ),
        },
        licences,
        roles,
        created: user.created_at.to_rfc3339().chars().take(10).collect(),
        must_change_password: user.force_change_password,
    })
}

pub(crate) async fn details(
    State(portal): State<Portal>,
    caller: Caller,
    Path((customer, user)): Path<(String, String)>,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    let uid = user_id(&user)?;
    let header = CustomerHeader::load(&portal, &ctx, id, "users").await?;
    let u = portal.roster.get_customer_user(&ctx, id, uid).await?;
    if u.state == UserState::Inactive && days_left(&portal, &u) == 0 {
        return Err(PageError::not_found("The user"));
    }
    let access = portal.roster.customer_access(&ctx, id).await?;
    let target = authz::tier_of(&portal.roster.user_directory_roles(&ctx, id, uid).await?);
    let view = user_view(&portal, &ctx, id, &u).await?;
    let active = view.active;
    let notice = match p.notice.as_deref() {
        Some("saved") => Some("Your changes were saved.".to_string()),
        Some("restored") => Some("The user was restored.".to_string()),
        _ => None,
    };
    Ok(html(&UserPage {
        may_edit: active && may(&ctx, &access, CustomerAction::EditUser { target }),
        may_reset: active && may(&ctx, &access, CustomerAction::ResetPassword { target }),
        may_delete: active && may(&ctx, &access, CustomerAction::DeleteUser { target }),
        may_restore: !active && may(&ctx, &access, CustomerAction::RestoreUser { target }),
        chrome: Chrome::new(&caller, "customers"),
        customer: header,
        user: view,
        notice,
    }))
}

#[derive(Template)]
#[template(path = "user_edit.html")]
struct EditPage {
    chrome: Chrome,
    customer: CustomerHeader,
    user_id: String,
    form: EditForm,
    domains: Vec<String>,
    countries: &'static [&'static str],
    errors: Vec<(String, String)>,
    /// The details were saved, and `errors` are the permissions or licences that were not.
    partly_saved: bool,
    grants: Grants,
    for_all: bool,
}

impl EditPage {
    fn error_of(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Default, Clone)]
pub(crate) struct EditForm {
    first_name: String,
    last_name: String,
    display_name: String,
    alias: String,
    domain: String,
    location: String,
}

pub(crate) async fn edit_page(
    State(portal): State<Portal>,
    caller: Caller,
    Path((customer, user)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    let uid = user_id(&user)?;
    let header = CustomerHeader::load(&portal, &ctx, id, "users").await?;
    let u = portal.roster.get_customer_user(&ctx, id, uid).await?;
    let mut domains = domains_of(&portal, &ctx, id).await?;
    let domain = u.upn.domain().to_string();
    if !domains.contains(&domain) {
        domains.push(domain.clone());
    }
    let access = portal.roster.customer_access(&ctx, id).await?;
    let grants = Grants::load(&portal, &ctx, id, &access, Ticked::Held(uid)).await?;
    Ok(html(&EditPage {
        grants,
        for_all: false,
        chrome: Chrome::new(&caller, "customers"),
        customer: header,
        user_id: uid.to_string(),
        form: EditForm {
            first_name: u.first_name.clone().unwrap_or_default(),
            last_name: u.last_name.clone().unwrap_or_default(),
            display_name: u.display_name.clone(),
            alias: u.upn.alias().to_string(),
            domain,
            location: u.usage_location.map(|c| c.to_string()).unwrap_or_default(),
        },
        domains,
        countries: roster_domain::country::assigned(),
        errors: Vec::new(),
        partly_saved: false,
    }))
}

pub(crate) async fn edit(
    State(portal): State<Portal>,
    caller: Caller,
    Path((customer, user)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    let uid = user_id(&user)?;
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let form = EditForm {
        first_name: field("first_name"),
        last_name: field("last_name"),
        display_name: field("display_name"),
        alias: field("alias"),
        domain: field("domain"),
        location: field("location"),
    };
    let (roles, skus) = grants::chosen(&pairs);
    let current = portal.roster.get_customer_user(&ctx, id, uid).await?;
    let upn = format!("{}@{}", form.alias.trim(), form.domain.trim());
    let opt = |s: &str, now: Option<&str>| {
        let s = s.trim();
        (Some(s) != now.or(Some(""))).then(|| s.to_string())
    };
    let input = UserInput {
        user_principal_name: (!upn.eq_ignore_ascii_case(current.upn.as_str())).then_some(upn),
        display_name: opt(&form.display_name, Some(&current.display_name)),
        first_name: opt(&form.first_name, current.first_name.as_deref()),
        last_name: opt(&form.last_name, current.last_name.as_deref()),
        usage_location: opt(
            &form.location,
            current.usage_location.as_ref().map(|c| c.as_str()),
        ),
        ..UserInput::default()
    };
    let access = portal.roster.customer_access(&ctx, id).await?;
    let shown = Grants::load(&portal, &ctx, id, &access, Ticked::Held(uid)).await?;
    let mut partly_saved = false;
    let errors: Vec<(String, String)> = match portal
        .roster
        .update_customer_user(&ctx, id, uid, &input, None)
        .await
    {
        Ok(_) => {
            let problems = grants::apply(&portal, &ctx, id, uid, &shown, &roles, &skus).await?;
            if problems.is_empty() {
                return Ok(
                    Redirect::to(&format!("/customers/{id}/users/{uid}?notice=saved"))
                        .into_response(),
                );
            }
            partly_saved = true;
            problems.into_iter().map(|p| (String::new(), p)).collect()
        }
        Err(ServiceError::Invalid(invalid)) => invalid
            .0
            .iter()
            .map(|f| {
                (
                    form_field(&f.field),
                    format!("{}: {}.", label_of(&f.field), f.message),
                )
            })
            .collect(),
        Err(ServiceError::UpnTaken(upn)) => vec![(
            "alias".to_string(),
            format!("Username: {upn} is already used by another active user of this customer."),
        )],
        Err(e) => return Err(e.into()),
    };
    let header = CustomerHeader::load(&portal, &ctx, id, "users").await?;
    let mut domains = domains_of(&portal, &ctx, id).await?;
    if !domains.contains(&form.domain) {
        domains.push(form.domain.clone());
    }
    let grants = Grants::load(
        &portal,
        &ctx,
        id,
        &access,
        Ticked::Chosen {
            roles: &roles,
            skus: &skus,
        },
    )
    .await?;
    let mut r = html(&EditPage {
        grants,
        for_all: false,
        chrome: Chrome::new(&caller, "customers"),
        customer: header,
        user_id: uid.to_string(),
        form,
        domains,
        countries: roster_domain::country::assigned(),
        errors,
        partly_saved,
    });
    *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    Ok(r)
}

#[derive(Template)]
#[template(path = "user_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    customer: CustomerHeader,
    user_id: String,
    display_name: String,
    upn: String,
    /// "reset" or "delete".
    what: &'static str,
}

async fn confirm_page(
    portal: &Portal,
    caller: &Caller,
    customer: &str,
    user: &str,
    what: &'static str,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(customer)?;
    let uid = user_id(user)?;
    let header = CustomerHeader::load(portal, &ctx, id, "users").await?;
    let u = portal.roster.get_customer_user(&ctx, id, uid).await?;
    Ok(html(&ConfirmPage {
        chrome: Chrome::new(caller, "customers"),
        customer: header,
        user_id: uid.to_string(),
        display_name: u.display_name,
        upn: u.upn.to_string(),
        what,
    }))
}

pub(crate) async fn reset_page(
    State(portal): State<Portal>,
    caller: Caller,
    Path((customer, user)): Path<(String, String)>,
) -> Result<Response, PageError> {
    confirm_page(&portal, &caller, &customer, &user, "reset").await
}

pub(crate) async fn delete_page(
    State(portal): State<Portal>,
    caller: Caller,
    Path((customer, user)): Path<(String, String)>,
) -> Result<Response, PageError> {
    confirm_page(&portal, &caller, &customer, &user, "delete").await
}

#[derive(Deserialize)]
pub(crate) struct ResetForm {
    /// The box "Make this user change password when they next sign in" (sent when ticked).
    #[serde(default)]
    force_change: Option<String>,
}

pub(crate) async fn reset(
    State(portal): State<Portal>,
    caller: Caller,
    Path((customer, user)): Path<(String, String)>,
    Form(form): Form<ResetForm>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    let uid = user_id(&user)?;
    let header = CustomerHeader::load(&portal, &ctx, id, "users").await?;
    let (u, password) = portal
        .roster
        .reset_customer_user_password(&ctx, id, uid, Some(form.force_change.is_some()))
        .await?;
    let created = vec![Created {
        display_name: u.display_name.clone(),
        upn: u.upn.to_string(),
        password: password.expose().to_string(),
    }];
    let csv_data_url = passwords_csv_data_url(&created);
    Ok(html(&ResetDonePage {
        chrome: Chrome::new(&caller, "customers"),
        customer: header,
        user_id: uid.to_string(),
        created,
        csv_data_url,
        must_change: u.force_change_password,
    }))
}

#[derive(Template)]
#[template(path = "user_reset_done.html")]
struct ResetDonePage {
    chrome: Chrome,
    customer: CustomerHeader,
    user_id: String,
    created: Vec<Created>,
    csv_data_url: String,
    must_change: bool,
}

pub(crate) async fn delete(
    State(portal): State<Portal>,
    caller: Caller,
    Path((customer, user)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    let uid = user_id(&user)?;
    portal
        .roster
        .delete_customer_user(&ctx, id, uid, None)
        .await?;
    Ok(Redirect::to(&format!("/customers/{id}/users?notice=deleted")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_are_understood_or_explained() {
        let s = parse_search("ada").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            s.filter.map(|f| (f.field, f.op, f.value)),
            Some((
                UserTextField::DisplayName,
                TextMatch::Substring,
                "ada".into()
            ))
        );
        let s = parse_search("Ada@Contoso").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            s.filter.map(|f| (f.field, f.value)),
            Some((UserTextField::UserPrincipalName, "ada@contoso".into()))
        );
        let s = parse_search("upn:grace state:deleted").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.state, Some(UserState::Inactive));
        assert_eq!(
            s.filter.map(|f| f.field),
            Some(UserTextField::UserPrincipalName)
        );
        assert_eq!(
            parse_search("").ok(),
            Some(Search {
                filter: None,
                state: None
            })
        );
        for bad in ["foo:bar", "state:gone", "upn:", "upn:a name:b", "name:a b"] {
            assert!(parse_search(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_passwords_file_keeps_formulas_out() {
        let url = passwords_csv_data_url(&[Created {
            display_name: "=HYPERLINK(\"x\")".into(),
            upn: "a@b.c".into(),
            password: "Abc123!x".into(),
        }]);
        let csv = percent_encoding::percent_decode_str(
            url.trim_start_matches("data:text/csv;charset=utf-8,"),
        )
        .decode_utf8_lossy()
        .to_string();
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{csv}");
        assert!(csv.contains(",\"Abc123!x\"\r\n"), "{csv}");
    }
}
