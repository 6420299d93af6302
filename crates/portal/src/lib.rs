//! Roster's web portal: server-rendered pages (askama templates, htmx for the parts that
//! update in place) over the service layer, mounted by `roster serve` beside the REST door.
//! Every page calls the same service operations as REST, so every rule, right and audit
//! record is the same; the portal only shows and asks.
//!
//! Every page works without JavaScript (plain forms and links); `htmx` and the small
//! `portal.js` only enhance. No inline script or style anywhere: the Content-Security-Policy
//! allows only the portal's own files.

mod account;
mod assets;
mod customers;
mod delegation;
mod errors;
mod form;
mod grants;
mod layout;
mod paging;
mod records;
mod session;
mod sign_in;
mod upload;
mod users;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use roster_service::Roster;

pub use session::SESSION_COOKIE;

/// The portal's state: the service, and whether its cookies need HTTPS.
#[derive(Clone)]
pub(crate) struct Portal {
    pub(crate) roster: Roster,
    /// The public URL is https: cookies carry `Secure`.
    pub(crate) secure_cookies: bool,
}

/// The largest form the portal takes: a bulk upload's file (which the service limits to 1
/// MiB) sent again after "Validate" beside its kept copy.
const FORM_LIMIT: usize = 3 * 1024 * 1024;

/// The largest form of a page anyone may send without a session (sign-in, the password
/// change, redeeming an invitation), as on the REST door's routes without a token.
const OPEN_FORM_LIMIT: usize = 16 * 1024;

/// The portal's pages, for `roster serve` to mount beside the REST door.
pub fn router(roster: Roster) -> Router {
    let secure_cookies = roster
        .settings()
        .public_base_url
        .to_ascii_lowercase()
        .starts_with("https://");
    let portal = Portal {
        roster,
        secure_cookies,
    };
    Router::new()
        .route("/", get(layout::dashboard))
        .route(
            "/signin",
            get(sign_in::page)
                .post(sign_in::submit)
                .layer(DefaultBodyLimit::max(OPEN_FORM_LIMIT)),
        )
        .route("/signout", post(sign_in::sign_out))
        .route(
            "/changepassword",
            get(sign_in::change_page)
                .post(sign_in::change_submit)
                .layer(DefaultBodyLimit::max(OPEN_FORM_LIMIT)),
        )
        .route("/account", get(account::settings))
        .route("/account/users", get(account::list))
        .route(
            "/account/users/new",
            get(account::create_page).post(account::create),
        )
        .route(
            "/account/users/add",
            get(account::add_existing_page).post(account::add_existing),
        )
        .route(
            "/account/users/invite",
            get(account::invite_page).post(account::invite),
        )
        .route("/account/users/{user}", get(account::details))
        .route(
            "/account/users/{user}/edit",
            get(account::edit_page).post(account::edit),
        )
        .route(
            "/account/users/{user}/resetpassword",
            get(account::reset_page).post(account::reset),
        )
        .route(
            "/account/users/{user}/remove",
            get(account::remove_page).post(account::remove),
        )
        .route("/account/users/{user}/resend", post(account::resend))
        .route("/account/users/{user}/history", get(account::history))
        .route(
            "/account/groups",
            get(delegation::groups).post(delegation::create_group),
        )
        .route(
            "/account/groups/{group}/members",
            post(delegation::add_member),
        )
        .route(
            "/account/groups/{group}/members/{user}/remove",
            post(delegation::remove_member),
        )
        .route(
            "/customers/{customer}/delegatedaccess",
            get(delegation::delegated).post(delegation::request),
        )
        .route(
            "/customers/{customer}/delegatedaccess/{relationship}/approve",
            post(delegation::approve),
        )
        .route(
            "/customers/{customer}/delegatedaccess/{relationship}/terminate",
            post(delegation::terminate),
        )
        .route(
            "/customers/{customer}/delegatedaccess/{relationship}/assign",
            post(delegation::assign),
        )
        .route(
            "/customers/{customer}/account",
            get(delegation::customer_account).post(delegation::set_delegated),
        )
        .route("/account/audit", get(records::audit))
        .route("/account/audit/download", get(records::download))
        .route(
            "/account/applications",
            get(records::applications).post(records::register),
        )
        .route(
            "/account/applications/{app}/resetsecret",
            post(records::reset_secret),
        )
        .route(
            "/account/applications/{app}/delete",
            post(records::delete_application),
        )
        .route(
            "/invitations/redeem",
            get(account::redeem_page)
                .post(account::redeem)
                .layer(DefaultBodyLimit::max(OPEN_FORM_LIMIT)),
        )
        .route("/customers", get(customers::list))
        .route(
            "/customers/new",
            get(customers::new_page).post(customers::create),
        )
        .route("/customers/{customer}", get(customers::open))
        .route("/customers/{customer}/users", get(users::list))
        .route("/customers/{customer}/licenses", get(customers::licences))
        .route(
            "/customers/{customer}/users/new",
            get(users::new_page).post(users::create),
        )
        .route("/customers/{customer}/users/restore", post(users::restore))
        .route("/customers/{customer}/users/act", post(users::act))
        .route(
            "/customers/{customer}/users/upload",
            get(upload::page).post(upload::submit),
        )
        .route(
            "/customers/{customer}/users/upload/template",
            get(upload::template),
        )
        .route("/customers/{customer}/users/{user}", get(users::details))
        .route(
            "/customers/{customer}/users/{user}/edit",
            get(users::edit_page).post(users::edit),
        )
        .route(
            "/customers/{customer}/users/{user}/resetpassword",
            get(users::reset_page).post(users::reset),
        )
        .route(
            "/customers/{customer}/users/{user}/delete",
            get(users::delete_page).post(users::delete),
        )
        .route("/assets/{file}", get(assets::serve))
        .layer(axum::middleware::from_fn_with_state(
            portal.clone(),
            session::resolve,
        ))
        .layer(axum::middleware::from_fn(layout::security_headers))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .with_state(portal)
}
