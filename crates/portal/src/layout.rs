//! The frame every page shares (the header with its navigation, who is signed in, "Sign
//! out"), the headers on every response, and the pages that are only frame: the dashboard
//! and "Account settings".

use askama::Template;
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use roster_domain::authz::{Action, Principal};

use crate::errors::PageError;
use crate::session::Caller;

/// The part of every signed-in page around its content.
pub(crate) struct Chrome {
    pub(crate) display_name: String,
    pub(crate) user_name: String,
    pub(crate) csrf: String,
    /// The navigation entry that is the current section: "home", "customers", "account".
    pub(crate) section: &'static str,
    /// A partner user (a customer's own user sees its customer only, no account settings).
    pub(crate) partner_user: bool,
    /// The page of "Account settings" this is: "users", "audit", "applications".
    pub(crate) sub: &'static str,
    /// Which pages of "Account settings" the caller may open.
    pub(crate) may_account_users: bool,
    pub(crate) may_audit: bool,
    pub(crate) may_applications: bool,
}

impl Chrome {
    pub(crate) fn new(caller: &Caller, section: &'static str) -> Self {
        let may = |action| {
            roster_domain::authz::authorize(&caller.0.actor, action, &Default::default()).is_ok()
        };
        Self {
            display_name: caller.0.display_name.clone(),
            user_name: caller.0.user_name.clone(),
            csrf: caller.0.csrf_token.clone(),
            section,
            partner_user: caller.0.actor.principal == Principal::PartnerUser,
            sub: "",
            may_account_users: may(Action::ViewAccountUsers),
            may_audit: may(Action::ViewAudit),
            may_applications: may(Action::ManageApplications),
        }
    }

    /// The page of "Account settings" this is.
    pub(crate) fn at(mut self, sub: &'static str) -> Self {
        self.sub = sub;
        self
    }
}

/// A rendered page.
pub(crate) fn html<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(body) => Html(body).into_response(),
        Err(e) => PageError::from(roster_service::ServiceError::internal(format!(
            "a template failed to render: {e}"
        )))
        .into_response(),
    }
}

/// A value for a URL's query string.
pub(crate) fn query_escape(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The policy of every portal response: only the portal's own scripts and styles (no inline
/// ones), no framing, no sniffing, no referrer beyond this origin; and pages are never
/// cached (some show a temporary password once), while the assets set their own caching.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    may_view_customers: bool,
    may_add_customer: bool,
    /// A customer user's own customer, when its roles let it manage the users there.
    own_customer: Option<String>,
    customer_user: bool,
}

pub(crate) async fn dashboard(
    axum::extract::State(portal): axum::extract::State<crate::Portal>,
    caller: Caller,
) -> Response {
    let ctx = caller.ctx();
    // A customer's own user manages its organization's users only with a directory role
    // that allows it.
    let own_customer = match &caller.0.actor.principal {
        Principal::CustomerUser { customer, .. } => {
            let readable = match portal.roster.customer_access(&ctx, *customer).await {
                Ok(_) => true,
                Err(roster_service::ServiceError::Forbidden(_)) => false,
                Err(roster_service::ServiceError::CustomerNotFound) => false,
                Err(e) => return PageError::from(e).into_response(),
            };
            Some(readable.then(|| customer.to_string()))
        }
        Principal::PartnerUser | Principal::Application => None,
    };
    html(&Dashboard {
        chrome: Chrome::new(&caller, "home"),
        may_view_customers: own_customer.is_none(),
        may_add_customer: own_customer.is_none()
            && roster_domain::authz::authorize(
                &ctx.actor,
                Action::CreateCustomer,
                &Default::default(),
            )
            .is_ok(),
        customer_user: own_customer.is_some(),
        own_customer: own_customer.flatten(),
    })
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountSettings {
    chrome: Chrome,
}

pub(crate) async fn account_settings(caller: Caller) -> Response {
    html(&AccountSettings {
        chrome: Chrome::new(&caller, "account"),
    })
}
