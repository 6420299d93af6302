//! "Account settings" → "Users": the partner's own account users with their roles and last
//! activity; "Create new users", "Invite outside users"; a user's page with "Edit" (roles or
//! "Customize permissions"), "Reset password", "Remove", "Resend invitation"; its history.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use roster_domain::authz::{Action, Area, Level, PartnerRole};
use roster_domain::partner_user::{NewPartnerUserInput, PartnerUser, PartnerUserPatch};
use roster_domain::{Timestamp, UserId};
use roster_service::paging::ListRequest;
use roster_service::partner_users::PartnerUserQuery;
use roster_service::{Ctx, ServiceError};
use serde::Deserialize;

use crate::errors::{label_of, sentence, PageError};
use crate::form::{value, values};
use crate::layout::{html, Chrome};
use crate::paging::{PageSize, Pager};
use crate::session::Caller;
use crate::users::{user_id, Created};
use crate::Portal;

/// "2026-12-02 09:30 UTC".
pub(crate) fn when(t: Timestamp) -> String {
    let s = t.to_rfc3339();
    format!("{} {} UTC", &s[..10], &s[11..16])
}

/// What a user's access says, as a person reads it.
fn access_of(u: &PartnerUser) -> String {
    match &u.access {
        None => "No access".into(),
        Some(a) if a.custom.is_some() => "Custom permissions".into(),
        Some(a) if a.roles.is_empty() => "No roles".into(),
        Some(a) => a
            .roles
            .iter()
            .map(|r| r.name())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

pub(crate) struct AccountRow {
    id: String,
    display_name: String,
    upn: String,
    roles: String,
    last_activity: String,
    pending: bool,
}

#[derive(Template)]
#[template(path = "account_users.html")]
struct UsersPage {
    chrome: Chrome,
    q: String,
    rows: Vec<AccountRow>,
    pager: Pager,
    may_manage: bool,
    may_create: bool,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct ListParams {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    size: Option<String>,
    #[serde(default)]
    page: Option<String>,
    #[serde(default)]
    notice: Option<String>,
}

/// "Account settings": its users, or, for whoever may not see them, what there is.
pub(crate) async fn settings(State(portal): State<Portal>, caller: Caller) -> Response {
    let ctx = caller.ctx();
    for (action, page) in [
        (Action::ViewAccountUsers, "/account/users"),
        (Action::ViewAudit, "/account/audit"),
        (Action::ManageApplications, "/account/applications"),
    ] {
        if portal.roster.permits(&ctx, action) {
            return Redirect::to(page).into_response();
        }
    }
    crate::layout::account_settings(caller).await
}

/// The users invited and not yet accepted, by user.
async fn pending_invitations(portal: &Portal, ctx: &Ctx) -> HashMap<UserId, String> {
    portal
        .roster
        .list_invitations(ctx)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i.status == "pending")
        .map(|i| (i.invitation.user, i.invitation.id.to_string()))
        .collect()
}

pub(crate) async fn list(
    State(portal): State<Portal>,
    caller: Caller,
    headers: HeaderMap,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let size = PageSize::chosen(p.size.as_deref(), &headers);
    let request = match p.page.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => ListRequest::Next(t.to_string()),
        None => ListRequest::First(PartnerUserQuery {
            size: size.get(),
            search: p.q.clone(),
            ..Default::default()
        }),
    };
    let page = portal
        .roster
        .list_partner_users(&ctx, None, request)
        .await?;
    let q = p.q.clone().unwrap_or_default();
    let pending = pending_invitations(&portal, &ctx).await;
    let rows = page
        .items
        .iter()
        .filter(|u| u.access.is_some())
        .map(|u| AccountRow {
            id: u.id.to_string(),
            display_name: u.display_name.clone(),
            upn: u.upn.to_string(),
            roles: access_of(u),
            last_activity: u.last_activity.map(when).unwrap_or_default(),
            pending: pending.contains_key(&u.id),
        })
        .collect();
    let base = format!(
        "/account/users?q={}&size={}",
        crate::layout::query_escape(&q),
        size.get()
    );
    let pager = Pager::new(&base, p.page.is_some(), page.continuation.as_deref(), size);
    let notice = match p.notice.as_deref() {
        Some("removed") => Some("The user's access was removed.".to_string()),
        Some("invited") => Some("The invitations were sent.".to_string()),
        Some("added") => Some("The selected users were added.".to_string()),
        _ => None,
    };
    let mut r = html(&UsersPage {
        may_manage: portal.roster.permits(&ctx, Action::ManageAccountUsers),
        may_create: portal.roster.permits(&ctx, Action::CreateDirectoryUsers),
        chrome: Chrome::new(&caller, "account").at("users"),
        rows,
        pager,
        notice,
        q,
    });
    size.remember(&mut r);
    Ok(r)
}

/// The roles a form offers: "Global admin" only to whoever may grant it.
pub(crate) struct RoleBox {
    value: &'static str,
    name: &'static str,
    checked: bool,
}

fn role_boxes(portal: &Portal, ctx: &Ctx, checked: &[String]) -> Vec<RoleBox> {
    let may_ga = portal.roster.permits(ctx, Action::ManageGlobalAdmins);
    PartnerRole::ALL
        .iter()
        .filter(|r| may_ga || **r != PartnerRole::GlobalAdmin)
        .map(|r| RoleBox {
            value: r.as_str(),
            name: r.name(),
            checked: checked.iter().any(|c| c == r.as_str()),
        })
        .collect()
}

pub(crate) struct GroupBox {
    id: String,
    name: String,
    checked: bool,
}

async fn group_boxes(
    portal: &Portal,
    ctx: &Ctx,
    checked: &[String],
) -> Result<Vec<GroupBox>, PageError> {
    Ok(portal
        .roster
        .list_groups(ctx)
        .await?
        .into_iter()
        .map(|g| GroupBox {
            checked: checked.contains(&g.id.to_string()),
            id: g.id.to_string(),
            name: g.display_name,
        })
        .collect())
}

/// A service refusal as (form field, sentence) pairs.
fn problems(e: ServiceError) -> Result<Vec<(String, String)>, PageError> {
    match e {
        ServiceError::Invalid(invalid) => Ok(invalid
            .0
            .iter()
            .map(|f| {
                (
                    f.field.clone(),
                    format!("{}: {}.", label_of(&f.field), f.message),
                )
            })
            .collect()),
        ServiceError::Internal(cause) => Err(ServiceError::Internal(cause).into()),
        ServiceError::Forbidden(m) => Err(PageError::forbidden(m)),
        other => Ok(vec![(String::new(), sentence(&other))]),
    }
}

#[derive(Template)]
#[template(path = "account_user_new.html")]
struct CreatePage {
    chrome: Chrome,
    first_name: String,
    last_name: String,
    username: String,
    global_admin: bool,
    recovery_email: String,
    roles: Vec<RoleBox>,
    groups: Vec<GroupBox>,
    errors: Vec<(String, String)>,
}

pub(crate) async fn create_page(
    State(portal): State<Portal>,
    caller: Caller,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    if !portal.roster.permits(&ctx, Action::CreateDirectoryUsers) {
        return Err(ServiceError::Forbidden(
            "Only a Global admin creates new users of your organization.".into(),
        )
        .into());
    }
    Ok(html(&CreatePage {
        chrome: Chrome::new(&caller, "account").at("users"),
        first_name: String::new(),
        last_name: String::new(),
        username: String::new(),
        global_admin: false,
        recovery_email: String::new(),
        roles: role_boxes(&portal, &ctx, &[]),
        groups: group_boxes(&portal, &ctx, &[]).await?,
        errors: Vec::new(),
    }))
}

pub(crate) async fn create(
    State(portal): State<Portal>,
    caller: Caller,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let roles = values(&form, "role");
    let groups = values(&form, "group");
    let global_admin = value(&form, "global_admin") == "on";
    let first = value(&form, "first_name");
    let last = value(&form, "last_name");
    let display = format!("{first} {last}").trim().to_string();
    let input = NewPartnerUserInput {
        user_principal_name: Some(value(&form, "username")),
        display_name: Some(display).filter(|d| !d.is_empty()),
        first_name: Some(first.clone()).filter(|s| !s.is_empty()),
        last_name: Some(last.clone()).filter(|s| !s.is_empty()),
        roles: Some(roles.clone()),
        custom_permissions: None,
        groups: Some(groups.clone()),
        is_directory_global_admin: global_admin,
        password_recovery_email: Some(value(&form, "recovery_email")).filter(|s| !s.is_empty()),
        password: None,
        force_change_password: Some(true),
    };
    let errors = match portal.roster.create_partner_user(&ctx, &input).await {
        Ok(created) => {
            let password = created
                .password
                .map(|(p, _)| p.expose().to_string())
                .unwrap_or_default();
            let shown = vec![Created {
                display_name: created.user.display_name.clone(),
                upn: created.user.upn.to_string(),
                password,
            }];
            return Ok(html(&CreatedPage {
                chrome: Chrome::new(&caller, "account").at("users"),
                csv_data_url: crate::users::passwords_csv_data_url(&shown),
                created: shown,
                user_id: created.user.id.to_string(),
            }));
        }
        Err(e) => problems(e)?,
    };
    let mut r = html(&CreatePage {
        chrome: Chrome::new(&caller, "account").at("users"),
        first_name: first,
        last_name: last,
        username: value(&form, "username"),
        global_admin,
        recovery_email: value(&form, "recovery_email"),
        roles: role_boxes(&portal, &ctx, &roles),
        groups: group_boxes(&portal, &ctx, &groups).await?,
        errors,
    });
    *r.status_mut() = StatusCode::BAD_REQUEST;
    Ok(r)
}

#[derive(Template)]
#[template(path = "account_user_created.html")]
struct CreatedPage {
    chrome: Chrome,
    created: Vec<Created>,
    csv_data_url: String,
    user_id: String,
}

#[derive(Template)]
#[template(path = "account_invite.html")]
struct InvitePage {
    chrome: Chrome,
    emails: String,
    roles: Vec<RoleBox>,
    errors: Vec<(String, String)>,
}

pub(crate) async fn invite_page(
    State(portal): State<Portal>,
    caller: Caller,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    Ok(html(&InvitePage {
        chrome: Chrome::new(&caller, "account").at("users"),
        emails: String::new(),
        roles: role_boxes(&portal, &ctx, &[]),
        errors: Vec::new(),
    }))
}

pub(crate) async fn invite(
    State(portal): State<Portal>,
    caller: Caller,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let emails = value(&form, "emails");
    let roles = values(&form, "role");
    let errors = match portal
        .roster
        .invite_partner_users(&ctx, Some(&emails), Some(&roles))
        .await
    {
        Ok(_) => return Ok(Redirect::to("/account/users?notice=invited").into_response()),
        Err(e) => problems(e)?,
    };
    let mut r = html(&InvitePage {
        chrome: Chrome::new(&caller, "account").at("users"),
        emails,
        roles: role_boxes(&portal, &ctx, &roles),
        errors,
    });
    *r.status_mut() = StatusCode::BAD_REQUEST;
    Ok(r)
}

pub(crate) struct AreaChoice {
    area: &'static str,
    name: &'static str,
    level: &'static str,
}

fn area_name(a: Area) -> &'static str {
    match a {
        Area::AccountUsers => "Account users",
        Area::Customers => "Customers",
        Area::CustomerUsers => "Customer users",
        Area::Licences => "Licenses",
        Area::DelegatedAccess => "Delegated access",
        Area::Audit => "Audit log",
    }
}

#[derive(Template)]
#[template(path = "account_user.html")]
struct UserPage {
    chrome: Chrome,
    id: String,
    display_name: String,
    first_name: String,
    last_name: String,
    upn: String,
    access: String,
    custom: Vec<AreaChoice>,
    groups: Vec<String>,
    last_activity: String,
    /// The invitation to resend, when the user is invited and has not accepted yet.
    invitation: Option<String>,
    may_manage: bool,
    may_reset: bool,
    may_history: bool,
    notice: Option<String>,
}

fn custom_of(u: &PartnerUser) -> Vec<AreaChoice> {
    let custom = u.access.as_ref().and_then(|a| a.custom.clone());
    Area::ALL
        .iter()
        .map(|a| AreaChoice {
            area: a.as_str(),
            name: area_name(*a),
            level: custom
                .as_ref()
                .map_or(Level::NoAccess, |c| c.level(*a))
                .as_str(),
        })
        .collect()
}

pub(crate) async fn details(
    State(portal): State<Portal>,
    caller: Caller,
    Path(user): Path<String>,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = user_id(&user)?;
    let u = portal.roster.get_partner_user(&ctx, id).await?;
    let groups = portal.roster.list_groups(&ctx).await.unwrap_or_default();
    let names: BTreeMap<String, String> = groups
        .into_iter()
        .map(|g| (g.id.to_string(), g.display_name))
        .collect();
    let notice = match p.notice.as_deref() {
        Some("saved") => Some("Your changes were saved.".to_string()),
        Some("resent") => {
            Some("The invitation was sent again; the earlier link no longer works.".to_string())
        }
        _ => None,
    };
    Ok(html(&UserPage {
        chrome: Chrome::new(&caller, "account").at("users"),
        id: u.id.to_string(),
        display_name: u.display_name.clone(),
        first_name: u.first_name.clone().unwrap_or_default(),
        last_name: u.last_name.clone().unwrap_or_default(),
        upn: u.upn.to_string(),
        access: access_of(&u),
        custom: custom_of(&u)
            .into_iter()
            .filter(|_| u.access.as_ref().is_some_and(|a| a.custom.is_some()))
            .collect(),
        groups: u
            .groups
            .iter()
            .map(|g| {
                names
                    .get(&g.to_string())
                    .cloned()
                    .unwrap_or_else(|| g.to_string())
            })
            .collect(),
        last_activity: u.last_activity.map(when).unwrap_or_default(),
        invitation: pending_invitations(&portal, &ctx).await.remove(&u.id),
        may_manage: portal.roster.permits(&ctx, Action::ManageAccountUsers),
        may_reset: portal.roster.permits(&ctx, Action::ResetPartnerPasswords),
        may_history: portal.roster.permits(&ctx, Action::ViewUserHistory),
        notice,
    }))
}

#[derive(Template)]
#[template(path = "account_user_edit.html")]
struct EditPage {
    chrome: Chrome,
    id: String,
    first_name: String,
    last_name: String,
    display_name: String,
    upn: String,
    /// "roles" or "custom".
    mode: String,
    roles: Vec<RoleBox>,
    custom: Vec<AreaChoice>,
    groups: Vec<GroupBox>,
    errors: Vec<(String, String)>,
}

pub(crate) async fn edit_page(
    State(portal): State<Portal>,
    caller: Caller,
    Path(user): Path<String>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = user_id(&user)?;
    let u = portal.roster.get_partner_user(&ctx, id).await?;
    let roles: Vec<String> = u
        .access
        .as_ref()
        .map(|a| a.roles.iter().map(|r| r.as_str().to_string()).collect())
        .unwrap_or_default();
    let groups: Vec<String> = u.groups.iter().map(|g| g.to_string()).collect();
    Ok(html(&EditPage {
        chrome: Chrome::new(&caller, "account").at("users"),
        id: u.id.to_string(),
        first_name: u.first_name.clone().unwrap_or_default(),
        last_name: u.last_name.clone().unwrap_or_default(),
        display_name: u.display_name.clone(),
        upn: u.upn.to_string(),
        mode: if u.access.as_ref().is_some_and(|a| a.custom.is_some()) {
            "custom".into()
        } else {
            "roles".into()
        },
        roles: role_boxes(&portal, &ctx, &roles),
        custom: custom_of(&u),
        groups: group_boxes(&portal, &ctx, &groups).await?,
        errors: Vec::new(),
    }))
}

pub(crate) async fn edit(
    State(portal): State<Portal>,
    caller: Caller,
    Path(user): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = user_id(&user)?;
    let mode = value(&form, "mode");
    let roles = values(&form, "role");
    let groups = values(&form, "group");
    let custom = custom_levels(&form);
    let before = portal.roster.get_partner_user(&ctx, id).await?;
    // A Global admin held by someone the caller may not grant it to stays as it is: the
    // form did not offer it.
    let mut roles = roles;
    if !portal.roster.permits(&ctx, Action::ManageGlobalAdmins)
        && before
            .access
            .as_ref()
            .is_some_and(|a| a.roles.contains(&PartnerRole::GlobalAdmin))
    {
        roles.push(PartnerRole::GlobalAdmin.as_str().to_string());
    }
    let patch = PartnerUserPatch {
        user_principal_name: Some(value(&form, "username")),
        display_name: Some(value(&form, "display_name")),
        first_name: Some(value(&form, "first_name")),
        last_name: Some(value(&form, "last_name")),
        roles: (mode != "custom").then(|| roles.clone()),
        custom_permissions: (mode == "custom").then(|| custom.clone()),
        groups: Some(groups.clone()),
        ..PartnerUserPatch::default()
    };
    let errors = match portal.roster.update_partner_user(&ctx, id, &patch).await {
        Ok(_) => {
            return Ok(Redirect::to(&format!("/account/users/{id}?notice=saved")).into_response())
        }
        Err(e) => problems(e)?,
    };
    let mut r = html(&EditPage {
        chrome: Chrome::new(&caller, "account").at("users"),
        id: id.to_string(),
        first_name: value(&form, "first_name"),
        last_name: value(&form, "last_name"),
        display_name: value(&form, "display_name"),
        upn: value(&form, "username"),
        mode: if mode == "custom" {
            "custom".into()
        } else {
            "roles".into()
        },
        roles: role_boxes(&portal, &ctx, &roles),
        custom: Area::ALL
            .iter()
            .map(|a| AreaChoice {
                area: a.as_str(),
                name: area_name(*a),
                level: Level::parse(custom.get(a.as_str()).map_or("", |s| s.as_str()))
                    .unwrap_or(Level::NoAccess)
                    .as_str(),
            })
            .collect(),
        groups: group_boxes(&portal, &ctx, &groups).await?,
        errors,
    });
    *r.status_mut() = StatusCode::BAD_REQUEST;
    Ok(r)
}

#[derive(Template)]
#[template(path = "account_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    id: String,
    display_name: String,
    upn: String,
    /// "reset" or "remove".
    what: &'static str,
}

async fn confirm(
    portal: &Portal,
    caller: &Caller,
    user: &str,
    what: &'static str,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let u = portal.roster.get_partner_user(&ctx, user_id(user)?).await?;
    Ok(html(&ConfirmPage {
        chrome: Chrome::new(caller, "account").at("users"),
        id: u.id.to_string(),
        display_name: u.display_name,
        upn: u.upn.to_string(),
        what,
    }))
}

pub(crate) async fn reset_page(
    State(portal): State<Portal>,
    caller: Caller,
    Path(user): Path<String>,
) -> Result<Response, PageError> {
    confirm(&portal, &caller, &user, "reset").await
}

pub(crate) async fn remove_page(
    State(portal): State<Portal>,
    caller: Caller,
    Path(user): Path<String>,
) -> Result<Response, PageError> {
    confirm(&portal, &caller, &user, "remove").await
}

pub(crate) async fn reset(
    State(portal): State<Portal>,
    caller: Caller,
    Path(user): Path<String>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = user_id(&user)?;
    let patch = PartnerUserPatch {
        reset_password: true,
        force_change_password: Some(true),
        ..PartnerUserPatch::default()
    };
    let done = portal.roster.update_partner_user(&ctx, id, &patch).await?;
    let shown = vec![Created {
        display_name: done.user.display_name.clone(),
        upn: done.user.upn.to_string(),
        password: done
            .password
            .map(|(p, _)| p.expose().to_string())
            .unwrap_or_default(),
    }];
    Ok(html(&CreatedPage {
        chrome: Chrome::new(&caller, "account").at("users"),
        csv_data_url: crate::users::passwords_csv_data_url(&shown),
        created: shown,
        user_id: id.to_string(),
    }))
}

pub(crate) async fn remove(
    State(portal): State<Portal>,
    caller: Caller,
    Path(user): Path<String>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    portal
        .roster
        .remove_partner_user_access(&ctx, user_id(&user)?)
        .await?;
    Ok(Redirect::to("/account/users?notice=removed").into_response())
}

pub(crate) async fn resend(
    State(portal): State<Portal>,
    caller: Caller,
    Path(user): Path<String>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = user_id(&user)?;
    let Some(invitation) = pending_invitations(&portal, &ctx).await.remove(&id) else {
        return Err(PageError::new(
            StatusCode::CONFLICT,
            "Not sent",
            "This user has no pending invitation.",
        ));
    };
    portal.roster.resend_invitation(&ctx, &invitation).await?;
    Ok(Redirect::to(&format!("/account/users/{id}?notice=resent")).into_response())
}

pub(crate) struct HistoryRow {
    at: String,
    method: String,
    path: String,
    status: u16,
}

#[derive(Template)]
#[template(path = "account_history.html")]
struct HistoryPage {
    chrome: Chrome,
    id: String,
    display_name: String,
    rows: Vec<HistoryRow>,
    pager: Pager,
}

pub(crate) async fn history(
    State(portal): State<Portal>,
    caller: Caller,
    headers: HeaderMap,
    Path(user): Path<String>,
    Query(p): Query<ListParams>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let id = user_id(&user)?;
    let u = portal.roster.get_partner_user(&ctx, id).await?;
    let size = PageSize::chosen(p.size.as_deref(), &headers);
    let request = match p.page.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => ListRequest::Next(t.to_string()),
        None => ListRequest::First(size.get()),
    };
    let page = portal.roster.user_activity(&ctx, id, request).await?;
    let rows = page
        .items
        .iter()
        .map(|a| HistoryRow {
            at: when(a.at),
            method: a.method.clone(),
            path: a.path.clone(),
            status: a.status,
        })
        .collect();
    let base = format!(
        "/account/users/{id}/history?list=history&size={}",
        size.get()
    );
    let pager = Pager::new(&base, p.page.is_some(), page.continuation.as_deref(), size);
    let mut r = html(&HistoryPage {
        chrome: Chrome::new(&caller, "account").at("users"),
        id: id.to_string(),
        display_name: u.display_name,
        rows,
        pager,
    });
    size.remember(&mut r);
    Ok(r)
}

#[derive(Template)]
#[template(path = "redeem.html")]
struct RedeemPage {
    token: String,
    error: Option<String>,
    /// The anti-forgery token of a session the browser has already, if any.
    csrf: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct RedeemParams {
    #[serde(default)]
    token: Option<String>,
}

/// The invitation link's page: the invited person chooses a password (no sign-in needed).
pub(crate) async fn redeem_page(
    signed: Option<axum::Extension<crate::session::Signed>>,
    Query(p): Query<RedeemParams>,
) -> Response {
    html(&RedeemPage {
        token: p.token.unwrap_or_default(),
        error: None,
        csrf: signed.map(|axum::Extension(s)| s.0.csrf_token),
    })
}

pub(crate) async fn redeem(
    State(portal): State<Portal>,
    client: Option<axum::Extension<roster_service::ClientAddr>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let token = value(&form, "token");
    let password = value(&form, "password");
    let csrf = Some(value(&form, "csrf")).filter(|c| !c.is_empty());
    let refused = |message: String| {
        let mut r = html(&RedeemPage {
            token: token.clone(),
            error: Some(message),
            csrf: csrf.clone(),
        });
        *r.status_mut() = StatusCode::BAD_REQUEST;
        r
    };
    if password != value(&form, "confirm") {
        return refused("Confirm password: it is not the same as the password.".into());
    }
    let ids = roster_service::invitations::RequestIds {
        request_id: uuid::Uuid::new_v4().to_string(),
        correlation_id: uuid::Uuid::new_v4().to_string(),
    };
    let view = match portal
        .roster
        .redeem_invitation(&ids, Some(&token), Some(&password), None)
        .await
    {
        Ok(v) => v,
        Err(ServiceError::Internal(e)) => {
            return PageError::from(ServiceError::Internal(e)).into_response()
        }
        Err(e) => {
            return refused(match problems(e) {
                Ok(p) => p.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join(" "),
                Err(page) => return page.into_response(),
            })
        }
    };
    // Signed in at once with the password just chosen.
    let source = client.map(|axum::Extension(roster_service::ClientAddr(ip))| ip);
    match portal
        .roster
        .start_portal_session(
            &view.invitation.email,
            &roster_domain::password::Password::new(password),
            source,
        )
        .await
    {
        Ok(id) => crate::sign_in::signed_in(&portal, &id, "/"),
        Err(_) => Redirect::to("/signin").into_response(),
    }
}

pub(crate) struct Candidate {
    id: String,
    display_name: String,
    upn: String,
}

#[derive(Template)]
#[template(path = "account_add_existing.html")]
struct AddExistingPage {
    chrome: Chrome,
    q: String,
    candidates: Vec<Candidate>,
    roles: Vec<RoleBox>,
    custom: Vec<AreaChoice>,
    mode: String,
    errors: Vec<(String, String)>,
}

#[derive(Deserialize, Default)]
pub(crate) struct SearchParams {
    #[serde(default)]
    q: Option<String>,
}

/// The directory users of the partner tenant without access to the account, matching `q`
/// (part of a name or a username).
async fn candidates(portal: &Portal, ctx: &Ctx, q: &str) -> Result<Vec<Candidate>, PageError> {
    let folded = q.trim().to_lowercase();
    let found = portal
        .roster
        .directory_users_without_access(ctx, 1000)
        .await?;
    Ok(found
        .into_iter()
        .filter(|u| {
            folded.is_empty()
                || u.display_name.to_lowercase().contains(&folded)
                || u.upn.key().contains(&folded)
        })
        .map(|u| Candidate {
            id: u.id.to_string(),
            display_name: u.display_name,
            upn: u.upn.to_string(),
        })
        .collect())
}

/// The six areas' levels a "Customize permissions" form chose (`no_access` where none).
fn custom_levels(form: &[(String, String)]) -> BTreeMap<String, String> {
    Area::ALL
        .iter()
        .map(|a| {
            let level = value(form, &format!("area-{}", a.as_str()));
            let level = if level.is_empty() {
                Level::NoAccess.as_str().to_string()
            } else {
                level
            };
            (a.as_str().to_string(), level)
        })
        .collect()
}

fn no_custom() -> Vec<AreaChoice> {
    Area::ALL
        .iter()
        .map(|a| AreaChoice {
            area: a.as_str(),
            name: area_name(*a),
            level: Level::NoAccess.as_str(),
        })
        .collect()
}

/// "Add existing users": directory users of the partner tenant, picked several at a time, all
/// given one set of roles or custom permissions.
pub(crate) async fn add_existing_page(
    State(portal): State<Portal>,
    caller: Caller,
    Query(p): Query<SearchParams>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let q = p.q.unwrap_or_default();
    Ok(html(&AddExistingPage {
        chrome: Chrome::new(&caller, "account").at("users"),
        candidates: candidates(&portal, &ctx, &q).await?,
        q,
        roles: role_boxes(&portal, &ctx, &[]),
        custom: no_custom(),
        mode: "roles".into(),
        errors: Vec::new(),
    }))
}

pub(crate) async fn add_existing(
    State(portal): State<Portal>,
    caller: Caller,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = caller.ctx();
    let picked: Vec<UserId> = values(&form, "user")
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    let mode = value(&form, "mode");
    let roles = values(&form, "role");
    let custom = custom_levels(&form);
    let errors = if picked.is_empty() {
        vec![(String::new(), "Pick at least one user.".to_string())]
    } else {
        let (r, c) = if mode == "custom" {
            (None, Some(&custom))
        } else {
            (Some(roles.as_slice()), None)
        };
        match portal.roster.grant_access(&ctx, &picked, r, c).await {
            Ok(_) => return Ok(Redirect::to("/account/users?notice=added").into_response()),
            Err(e) => problems(e)?,
        }
    };
    let q = value(&form, "q");
    let mut r = html(&AddExistingPage {
        chrome: Chrome::new(&caller, "account").at("users"),
        candidates: candidates(&portal, &ctx, &q).await?,
        q,
        roles: role_boxes(&portal, &ctx, &roles),
        custom: no_custom(),
        mode: if mode == "custom" {
            "custom".into()
        } else {
            "roles".into()
        },
        errors,
    });
    *r.status_mut() = StatusCode::BAD_REQUEST;
    Ok(r)
}
