//! "Security groups" (their roles and members), a customer's "Delegated access" (its
//! relationships: request, approve, assign a security group, terminate) and its "Account"
//! (details and "Allow delegated access").

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use roster_domain::authz::{self, Action, DirectoryRole};
use roster_domain::relationship::{NewRelationshipInput, RelationshipStatus};
use roster_domain::{CustomerId, UserId};
use roster_service::paging::ListRequest;
use roster_service::partner_users::PartnerUserQuery;
use roster_service::ServiceError;
use serde::Deserialize;

use crate::account::when;
use crate::errors::{sentence, PageError};
use crate::form::{value, values};
use crate::layout::{html, Chrome};
use crate::session::Caller;
use crate::users::{customer_id, CustomerHeader};
use crate::Portal;

/// A refusal the page shows beside the form; an internal error or a hidden customer stops.
fn said(e: ServiceError) -> Result<String, PageError> {
    match e {
        ServiceError::Internal(_) | ServiceError::CustomerNotFound => Err(e.into()),
        other => Ok(sentence(&other)),
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct Notice {
    #[serde(default)]
    notice: Option<String>,
}

// ---------------------------------------------------------------- security groups

pub(crate) struct GroupView {
    id: String,
    name: String,
    roles: String,
    members: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    chrome: Chrome,
    groups: Vec<GroupView>,
    /// Account users who can be added: (id, name).
    users: Vec<(String, String)>,
    roles: Vec<(&'static str, &'static str)>,
    may_manage: bool,
    error: Option<String>,
    notice: Option<String>,
}

async fn groups_page(
    portal: &Portal,
    caller: &Caller,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let groups = portal.roster.list_groups(&ctx).await?;
    let users = portal
        .roster
        .list_partner_users(
            &ctx,
            None,
            ListRequest::First(PartnerUserQuery {
                size: roster_domain::listing::MAX_PAGE_SIZE,
                ..Default::default()
            }),
        )
        .await?
        .items;
    let views = groups
        .iter()
        .map(|g| GroupView {
            id: g.id.to_string(),
            name: g.display_name.clone(),
            roles: if g.roles.is_empty() {
                "No roles".into()
            } else {
                g.roles
                    .iter()
                    .map(|r| r.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            members: users
                .iter()
                .filter(|u| u.groups.contains(&g.id))
                .map(|u| (u.id.to_string(), u.display_name.clone()))
                .collect(),
        })
        .collect();
    let mut r = html(&GroupsPage {
        chrome: Chrome::new(caller, "account").at("groups"),
        groups: views,
        users: users
            .iter()
            .map(|u| (u.id.to_string(), format!("{} ({})", u.display_name, u.upn)))
            .collect(),
        roles: authz::PartnerRole::ALL
            .iter()
            .filter(|r| {
                portal.roster.permits(&ctx, Action::ManageGlobalAdmins)
                    || **r != authz::PartnerRole::GlobalAdmin
            })
            .map(|r| (r.as_str(), r.name()))
            .collect(),
        may_manage: portal.roster.permits(&ctx, Action::ManageAccountUsers),
        notice,
        error: error.clone(),
    });
    if error.is_some() {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

pub(crate) async fn groups(
    State(portal): State<Portal>,
    caller: Caller,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    let notice = match n.notice.as_deref() {
        Some("created") => Some("The group was created.".to_string()),
        Some("added") => Some("The member was added.".to_string()),
        Some("removed") => Some("The member was removed.".to_string()),
        _ => None,
    };
    groups_page(&portal, &caller, None, notice).await
}

pub(crate) async fn create_group(
    State(portal): State<Portal>,
    caller: Caller,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let name = value(&form, "name");
    let roles = values(&form, "role");
    match portal
        .roster
        .create_group(&ctx, Some(&name), None, Some(&roles))
        .await
    {
        Ok(_) => Ok(Redirect::to("/account/groups?notice=created").into_response()),
        Err(e) => groups_page(&portal, &caller, Some(said(e)?), None).await,
    }
}

pub(crate) async fn add_member(
    State(portal): State<Portal>,
    caller: Caller,
    Path(group): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let Ok(user) = value(&form, "user").parse::<UserId>() else {
        return groups_page(&portal, &caller, Some("Choose a user to add.".into()), None).await;
    };
    match portal.roster.add_group_member(&ctx, &group, user).await {
        Ok(()) => Ok(Redirect::to("/account/groups?notice=added").into_response()),
        Err(e) => groups_page(&portal, &caller, Some(said(e)?), None).await,
    }
}

pub(crate) async fn remove_member(
    State(portal): State<Portal>,
    caller: Caller,
    Path((group, user)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let user = crate::users::user_id(&user)?;
    match portal.roster.remove_group_member(&ctx, &group, user).await {
        Ok(()) => Ok(Redirect::to("/account/groups?notice=removed").into_response()),
        Err(e) => groups_page(&portal, &caller, Some(said(e)?), None).await,
    }
}

// ---------------------------------------------------------------- delegated access

pub(crate) struct RelationshipRow {
    id: String,
    name: String,
    status: &'static str,
    roles: Vec<(&'static str, &'static str)>,
    start: String,
    end: String,
    auto_extend: bool,
    assignments: Vec<String>,
    may_approve: bool,
    may_terminate: bool,
    may_assign: bool,
}

#[derive(Template)]
#[template(path = "delegated.html")]
struct DelegatedPage {
    chrome: Chrome,
    customer: CustomerHeader,
    rows: Vec<RelationshipRow>,
    groups: Vec<(String, String)>,
    all_roles: Vec<(&'static str, &'static str)>,
    may_manage: bool,
    error: Option<String>,
    notice: Option<String>,
}

fn status_name(s: RelationshipStatus) -> &'static str {
    match s {
        RelationshipStatus::Created => "Created",
        RelationshipStatus::ApprovalPending => "Approval pending",
        RelationshipStatus::Active => "Active",
        RelationshipStatus::Expired => "Expired",
        RelationshipStatus::Terminated => "Terminated",
    }
}

async fn delegated_page(
    portal: &Portal,
    caller: &Caller,
    customer: CustomerId,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let header = CustomerHeader::load(portal, &ctx, customer, "delegated").await?;
    let views = portal.roster.list_relationships(&ctx, customer).await?;
    let groups = portal.roster.list_groups(&ctx).await.unwrap_or_default();
    let group_names: BTreeMap<String, String> = groups
        .iter()
        .map(|g| (g.id.to_string(), g.display_name.clone()))
        .collect();
    let access = portal
        .roster
        .customer_access(&ctx, customer)
        .await
        .unwrap_or_default();
    let may = |a| authz::authorize(&ctx.actor, a, &access).is_ok();
    let may_manage = may(Action::ManageDelegatedAccess);
    let may_approve = may(Action::ApproveRelationship);
    let rows = views
        .iter()
        .map(|v| {
            let r = &v.relationship;
            RelationshipRow {
                id: r.id.to_string(),
                name: r.display_name.clone(),
                status: status_name(v.status),
                roles: r.roles.iter().map(|d| (d.id(), d.name())).collect(),
                start: r.activated_at.map(when).unwrap_or_default(),
                end: v.ends_at.map(when).unwrap_or_default(),
                auto_extend: r.auto_extend,
                assignments: v
                    .assignments
                    .iter()
                    .map(|a| {
                        format!(
                            "{}: {}",
                            group_names
                                .get(&a.group.to_string())
                                .cloned()
                                .unwrap_or_else(|| a.group.to_string()),
                            a.roles
                                .iter()
                                .map(|d| d.name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
                    .collect(),
                may_approve: may_approve
                    && matches!(
                        v.status,
                        RelationshipStatus::Created | RelationshipStatus::ApprovalPending
                    ),
                may_terminate: may_manage
                    && matches!(
                        v.status,
                        RelationshipStatus::Active
                            | RelationshipStatus::ApprovalPending
                            | RelationshipStatus::Created
                    ),
                may_assign: may_manage && v.status == RelationshipStatus::Active,
            }
        })
        .collect();
    let mut page = html(&DelegatedPage {
        chrome: Chrome::new(caller, "customers"),
        customer: header,
        rows,
        groups: groups
            .into_iter()
            .map(|g| (g.id.to_string(), g.display_name))
            .collect(),
        all_roles: DirectoryRole::ALL
            .iter()
            .map(|d| (d.id(), d.name()))
            .collect(),
        may_manage,
        error: error.clone(),
        notice,
    });
    if error.is_some() {
        *page.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(page)
}

pub(crate) async fn delegated(
    State(portal): State<Portal>,
    caller: Caller,
    Path(customer): Path<String>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    let notice = match n.notice.as_deref() {
        Some("requested") => Some(
            "The relationship was requested: the customer's Global Administrator approves it."
                .to_string(),
        ),
        Some("approved") => Some("The relationship is active.".to_string()),
        Some("terminated") => Some("The relationship was terminated.".to_string()),
        Some("assigned") => Some("The security group was assigned.".to_string()),
        _ => None,
    };
    delegated_page(&portal, &caller, customer_id(&customer)?, None, notice).await
}

pub(crate) async fn request(
    State(portal): State<Portal>,
    caller: Caller,
    Path(customer): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    let days = value(&form, "duration");
    let input = NewRelationshipInput {
        display_name: Some(value(&form, "name")),
        duration: Some(format!("P{days}D")),
        roles: Some(values(&form, "role")),
        auto_extend_duration: Some(if value(&form, "auto_extend") == "on" {
            "P180D".into()
        } else {
            "PT0S".into()
        }),
    };
    match portal.roster.create_relationship(&ctx, id, &input).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/customers/{id}/delegatedaccess?notice=requested"))
                .into_response(),
        ),
        Err(e) => delegated_page(&portal, &caller, id, Some(said(e)?), None).await,
    }
}

/// After an action on a relationship: the page again, with what was done or why not.
async fn act_on(
    portal: &Portal,
    caller: &Caller,
    customer: CustomerId,
    done: Result<(), ServiceError>,
    notice: &str,
) -> Result<Response, PageError> {
    match done {
        Ok(()) => Ok(Redirect::to(&format!(
            "/customers/{customer}/delegatedaccess?notice={notice}"
        ))
        .into_response()),
        Err(e) => delegated_page(portal, caller, customer, Some(said(e)?), None).await,
    }
}

pub(crate) async fn approve(
    State(portal): State<Portal>,
    caller: Caller,
    Path((customer, relationship)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    let done = portal
        .roster
        .approve_relationship(&ctx, id, &relationship)
        .await
        .map(|_| ());
    act_on(&portal, &caller, id, done, "approved").await
}

pub(crate) async fn terminate(
    State(portal): State<Portal>,
    caller: Caller,
    Path((customer, relationship)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    let done = portal
        .roster
        .terminate_relationship(&ctx, id, &relationship)
        .await
        .map(|_| ());
    act_on(&portal, &caller, id, done, "terminated").await
}

pub(crate) async fn assign(
    State(portal): State<Portal>,
    caller: Caller,
    Path((customer, relationship)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    let group = value(&form, "group");
    let roles = values(&form, "role");
    let done = portal
        .roster
        .assign_access(&ctx, id, &relationship, Some(&group), Some(&roles))
        .await
        .map(|_| ());
    act_on(&portal, &caller, id, done, "assigned").await
}

// ---------------------------------------------------------------- the customer's account

#[derive(Template)]
#[template(path = "customer_account.html")]
struct AccountPage {
    chrome: Chrome,
    customer: CustomerHeader,
    domain: String,
    country: String,
    created: String,
    allowed: bool,
    may_change: bool,
    notice: Option<String>,
    error: Option<String>,
}

async fn account_page(
    portal: &Portal,
    caller: &Caller,
    id: CustomerId,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let header = CustomerHeader::load(portal, &ctx, id, "account").await?;
    let c = portal.roster.get_customer(&ctx, id).await?;
    let access = portal
        .roster
        .customer_access(&ctx, id)
        .await
        .unwrap_or_default();
    // Turning it on takes a partner Global admin; turning it off, whoever edits the
    // customer (access.md, security review F-findings).
    let action = if c.allow_delegated_access {
        Action::DisableLegacyAccess
    } else {
        Action::EnableLegacyAccess
    };
    Ok(html(&AccountPage {
        chrome: Chrome::new(caller, "customers"),
        customer: header,
        domain: c.domain.to_string(),
        country: c.country.to_string(),
        created: when(c.created_at),
        allowed: c.allow_delegated_access,
        may_change: authz::authorize(&ctx.actor, action, &access).is_ok(),
        notice,
        error,
    }))
}

pub(crate) async fn customer_account(
    State(portal): State<Portal>,
    caller: Caller,
    Path(customer): Path<String>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    let notice = match n.notice.as_deref() {
        Some("on") => Some("Delegated access is allowed.".to_string()),
        Some("off") => Some("Delegated access is no longer allowed.".to_string()),
        _ => None,
    };
    account_page(&portal, &caller, customer_id(&customer)?, notice, None).await
}

pub(crate) async fn set_delegated(
    State(portal): State<Portal>,
    caller: Caller,
    Path(customer): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = customer_id(&customer)?;
    let on = value(&form, "allow") == "on";
    match portal.roster.update_customer(&ctx, id, Some(on)).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/customers/{id}/account?notice={}",
            if on { "on" } else { "off" }
        ))
        .into_response()),
        Err(e) => account_page(&portal, &caller, id, None, Some(said(e)?)).await,
    }
}
