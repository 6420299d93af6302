//! "Sign in", "Sign out" and the "Change password" a temporary password leads to.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use roster_domain::password::Password;
use roster_service::sign_in::SignInError;
use roster_service::{ClientAddr, ServiceError};
use serde::Deserialize;

use crate::errors::{label_of, PageError};
use crate::layout::{html, query_escape};
use crate::session::{cleared_cookie, session_cookie, session_id, Signed};
use crate::Portal;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    email: String,
    next: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct SignInQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    email: Option<String>,
    /// Why the browser is here: "changed" after a password change, "ended" after a session
    /// ended.
    #[serde(default)]
    reason: Option<String>,
}

/// Where to go after signing in: a page of the portal only (never another site).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

pub(crate) async fn page(
    signed: Option<Extension<Signed>>,
    Query(q): Query<SignInQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    if signed.is_some() {
        return Redirect::to(&next).into_response();
    }
    let notice = match q.reason.as_deref() {
        Some("changed") => Some("Your password was changed. Sign in with the new one.".into()),
        Some("signedout") => Some("You signed out.".into()),
        _ => None,
    };
    html(&SignInPage {
        email: q.email.unwrap_or_default(),
        next,
        error: None,
        notice,
    })
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

pub(crate) async fn submit(
    State(portal): State<Portal>,
    client: Option<Extension<ClientAddr>>,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let email = form.email.trim().to_string();
    let source = client.map(|Extension(ClientAddr(ip))| ip);
    let refused = |message: &str| {
        let mut r = html(&SignInPage {
            email: email.clone(),
            next: next.clone(),
            error: Some(message.to_string()),
            notice: None,
        });
        *r.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
        r
    };
    if email.is_empty() || form.password.is_empty() {
        return refused("Enter your email and your password.");
    }
    match portal
        .roster
        .start_portal_session(&email, &Password::new(form.password), source)
        .await
    {
        Ok(id) => signed_in(&portal, &id, &next),
        Err(SignInError::PasswordChangeRequired) => Redirect::to(&format!(
            "/changepassword?email={}&next={}",
            query_escape(&email),
            query_escape(&next)
        ))
        .into_response(),
        Err(SignInError::Service(ServiceError::RateLimited(after))) => {
            let mut r = refused(&format!(
                "Too many sign-in attempts came from your network. Wait {} seconds, then try again.",
                after.seconds()
            ));
            *r.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(after.seconds()),
            );
            r
        }
        Err(SignInError::Service(ServiceError::Unavailable { retry_after, .. })) => {
            let mut r = refused("Roster is too busy to check your password just now. Try again in a moment.");
            *r.status_mut() = axum::http::StatusCode::SERVICE_UNAVAILABLE;
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after.seconds()),
            );
            r
        }
        Err(SignInError::Service(e)) => PageError::from(e).into_response(),
        Err(_) => refused(
            "The email or password is incorrect, or the account is locked for a while after repeated failed sign-ins. Check them and try again; after a lockout, wait a few minutes.",
        ),
    }
}

/// The browser gets its new session (a new id at every sign-in) and goes on.
pub(crate) fn signed_in(portal: &Portal, id: &str, next: &str) -> Response {
    let mut r = Redirect::to(next).into_response();
    if let Ok(v) = session_cookie(portal, id).parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

pub(crate) async fn sign_out(State(portal): State<Portal>, headers: HeaderMap) -> Response {
    if let Some(id) = session_id(&headers) {
        if let Err(e) = portal.roster.end_portal_session(&id).await {
            return PageError::from(e).into_response();
        }
    }
    let mut r = Redirect::to("/signin?reason=signedout").into_response();
    if let Ok(v) = cleared_cookie(&portal).parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[derive(Template)]
#[template(path = "changepassword.html")]
struct ChangePage {
    email: String,
    next: String,
    error: Option<String>,
    /// The field the error is about: "current", "new" or "confirm".
    field: &'static str,
}

pub(crate) async fn change_page(Query(q): Query<SignInQuery>) -> Response {
    html(&ChangePage {
        email: q.email.unwrap_or_default(),
        next: safe_next(q.next.as_deref()),
        error: None,
        field: "",
    })
}

#[derive(Deserialize)]
pub(crate) struct ChangeForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    next: Option<String>,
}

pub(crate) async fn change_submit(
    State(portal): State<Portal>,
    client: Option<Extension<ClientAddr>>,
    Form(form): Form<ChangeForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let email = form.email.trim().to_string();
    let source = client.map(|Extension(ClientAddr(ip))| ip);
    let refused = |field: &'static str, message: String| {
        let mut r = html(&ChangePage {
            email: email.clone(),
            next: next.clone(),
            error: Some(message),
            field,
        });
        *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
        r
    };
    if form.new != form.confirm {
        return refused(
            "confirm",
            "Confirm new password: it is not the same as the new password.".into(),
        );
    }
    let current = Password::new(form.current);
    match portal
        .roster
        .change_password(&email, &current, &form.new, source)
        .await
    {
        Ok(()) => {}
        Err(SignInError::Service(ServiceError::Invalid(invalid))) => {
            let field = match invalid.0.first().map(|f| f.field.as_str()) {
                Some("newPassword") => "new",
                _ => "current",
            };
            let message = invalid
                .0
                .iter()
                .map(|f| {
                    let label = match f.field.as_str() {
                        "currentPassword" | "userPrincipalName" => {
                            "Email or current password".to_string()
                        }
                        other => label_of(other).to_string(),
                    };
                    format!("{label}: {}.", f.message)
                })
                .collect::<Vec<_>>()
                .join(" ");
            return refused(field, message);
        }
        Err(SignInError::Service(e)) => return PageError::from(e).into_response(),
        Err(_) => {
            return refused(
                "current",
                "Email or current password: the email or the current password is incorrect, or the account is locked for a while after repeated failures.".into(),
            )
        }
    }
    // Signed in with the new password at once.
    match portal
        .roster
        .start_portal_session(&email, &Password::new(form.new), source)
        .await
    {
        Ok(id) => signed_in(&portal, &id, &next),
        Err(_) => Redirect::to(&format!(
            "/signin?reason=changed&email={}",
            query_escape(&email)
        ))
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_the_portal() {
        assert_eq!(safe_next(Some("/customers?x=1")), "/customers?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
