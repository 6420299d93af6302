//! Who is signed in, and the checks every state-changing request passes in one place: the
//! session cookie, the same-origin check and the anti-forgery token.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use roster_domain::authz::Principal;
use roster_service::portal_sessions::PortalCaller;
use roster_service::Ctx;

use crate::errors::PageError;
use crate::Portal;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "roster_session";
/// The form field and the header that carry the anti-forgery token.
pub(crate) const CSRF_FIELD: &str = "csrf";
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in caller of this request (a request extension the middleware sets).
#[derive(Clone)]
pub(crate) struct Signed(pub(crate) PortalCaller);

/// A page for signed-in users: without a session, the browser goes to "Sign in" and comes
/// back afterwards.
pub(crate) struct Caller(pub(crate) PortalCaller);

impl Caller {
    /// The service's context for one operation.
    pub(crate) fn ctx(&self) -> Ctx {
        Ctx {
            actor: self.0.actor.clone(),
            request_id: uuid::Uuid::new_v4().to_string(),
            correlation_id: uuid::Uuid::new_v4().to_string(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        if let Some(Signed(caller)) = parts.extensions.get::<Signed>() {
            return Ok(Self(caller.clone()));
        }
        // Back to this page after signing in (a GET's own path; a form's page otherwise).
        let next = if parts.method == Method::GET {
            parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string()
        } else {
            "/".to_string()
        };
        let to = format!("/signin?next={}", crate::layout::query_escape(&next));
        Err(to_page(&parts.headers, &to))
    }
}

/// A redirect to `to` that htmx follows as a whole page (not into the part it updates).
pub(crate) fn to_page(headers: &HeaderMap, to: &str) -> Response {
    if headers.contains_key("hx-request") {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if let Ok(v) = HeaderValue::from_str(to) {
            r.headers_mut().insert("hx-redirect", v);
        }
        r
    } else {
        Redirect::to(to).into_response()
    }
}

/// The session id the browser sent, if any.
pub(crate) fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The `Set-Cookie` value that gives the browser a session.
pub(crate) fn session_cookie(portal: &Portal, id: &str) -> String {
    cookie_attributes(id, portal.secure_cookies)
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn cleared_cookie(portal: &Portal) -> String {
    cleared_attributes(portal.secure_cookies)
}

/// `Secure` when the public URL is https: the browser then never sends the cookie in clear.
fn cookie_attributes(id: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

fn cleared_attributes(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// Resolves the session (every page), refuses state-changing requests from other sites or
/// without this session's anti-forgery token, and notes the request in the account user's
/// history as the REST door does.
pub(crate) async fn resolve(State(portal): State<Portal>, req: Request, next: Next) -> Response {
    let caller = match session_id(req.headers()) {
        Some(id) => match portal.roster.portal_caller(&id).await {
            Ok(caller) => caller,
            Err(e) => return PageError::from(e).into_response(),
        },
        None => None,
    };
    let history = caller
        .as_ref()
        .filter(|c| c.actor.principal == Principal::PartnerUser)
        .map(|c| {
            (
                c.actor.user,
                req.method().to_string(),
                req.uri().path().to_string(),
            )
        })
        .filter(|(_, _, path)| !path.starts_with("/assets/"));
    let response = checked(caller, req, next).await;
    // Refused requests too, as the REST door records its refusals.
    if let Some((user, method, path)) = history {
        portal
            .roster
            .record_activity(user, &method, &path, response.status().as_u16());
    }
    response
}

/// The request, past the same-origin and anti-forgery checks when it changes state.
async fn checked(caller: Option<PortalCaller>, req: Request, next: Next) -> Response {
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD);
    let mut req = req;
    if changes_state {
        if from_another_site(req.headers()) {
            return PageError::forbidden(
                "This form was sent from another site. Open Roster and try again from its own page.",
            )
            .into_response();
        }
        if let Some(caller) = &caller {
            let (parts, body) = req.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, crate::FORM_LIMIT).await else {
                return PageError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Too large",
                    "What you sent is larger than Roster accepts (1 MiB for a file).",
                )
                .into_response();
            };
            let sent = csrf_token_of(&parts.headers, &bytes).await;
            if !sent.is_some_and(|t| roster_service::secrets::same_hash(&t, &caller.csrf_token)) {
                return PageError::forbidden(
                    "This page has expired or was opened in another session. Reload it and try again.",
                )
                .into_response();
            }
            req = Request::from_parts(parts, Body::from(bytes));
        }
    }
    if let Some(caller) = caller {
        req.extensions_mut().insert(Signed(caller));
    }
    next.run(req).await
}

/// A request the browser says comes from another site (`Sec-Fetch-Site`), or whose `Origin`
/// is not this host.
fn from_another_site(headers: &HeaderMap) -> bool {
    let header = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return true;
        }
    }
    match (header(header::ORIGIN), header(header::HOST)) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => {
            let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
            !origin_host.eq_ignore_ascii_case(host)
        }
        _ => false,
    }
}

/// The anti-forgery token a request carries: the header (htmx), or the form's field.
async fn csrf_token_of(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    if let Some(v) = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return Some(v.to_string());
    }
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return form_urlencoded_field(body, CSRF_FIELD);
    }
    if content_type.starts_with("multipart/form-data") {
        let boundary = multer::parse_boundary(content_type).ok()?;
        let stream = futures_stream(body.to_vec());
        let mut multipart = multer::Multipart::new(stream, boundary);
        while let Ok(Some(field)) = multipart.next_field().await {
            if field.name() == Some(CSRF_FIELD) {
                return field.text().await.ok();
            }
        }
    }
    None
}

fn futures_stream(
    body: Vec<u8>,
) -> impl futures_util::Stream<Item = Result<axum::body::Bytes, std::io::Error>> {
    futures_util::stream::once(async move { Ok(axum::body::Bytes::from(body)) })
}

/// One field of an `application/x-www-form-urlencoded` body.
fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    fields.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; roster_session=abc; b=2")]);
        assert_eq!(session_id(&h).as_deref(), Some("abc"));
        assert_eq!(session_id(&headers(&[("cookie", "roster_session=")])), None);
        assert_eq!(
            session_id(&headers(&[("cookie", "xroster_session=1")])),
            None
        );
    }

    #[test]
    fn the_cookie_is_secure_behind_https() {
        let cookie = |secure| {
            format!(
                "{SESSION_COOKIE}=x; Path=/; HttpOnly; SameSite=Lax{}",
                if secure { "; Secure" } else { "" }
            )
        };
        assert_eq!(cookie_attributes("x", true), cookie(true));
        assert_eq!(cookie_attributes("x", false), cookie(false));
        assert!(cleared_attributes(true).contains("Max-Age=0; Secure"));
    }

    #[test]
    fn other_sites_are_told_apart() {
        assert!(!from_another_site(&headers(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ])));
        assert!(from_another_site(&headers(&[(
            "sec-fetch-site",
            "cross-site"
        )])));
        assert!(from_another_site(&headers(&[(
            "sec-fetch-site",
            "same-site"
        )])));
        assert!(from_another_site(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:8080"),
        ])));
        assert!(from_another_site(&headers(&[("origin", "null")])));
        // A client that sends neither (curl, an old browser) is judged by the token alone.
        assert!(!from_another_site(&headers(&[("host", "127.0.0.1:8080")])));
    }

    #[tokio::test]
    async fn the_token_is_read_from_the_header_or_either_kind_of_form() {
        let h = headers(&[("x-csrf-token", "t1")]);
        assert_eq!(csrf_token_of(&h, b"").await.as_deref(), Some("t1"));
        let h = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        assert_eq!(
            csrf_token_of(&h, b"a=1&csrf=t%202").await.as_deref(),
            Some("t 2")
        );
        let h = headers(&[("content-type", "multipart/form-data; boundary=XX")]);
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nx,y\r\n--XX\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nt3\r\n--XX--\r\n";
        assert_eq!(csrf_token_of(&h, body).await.as_deref(), Some("t3"));
        let h = headers(&[("content-type", "text/plain")]);
        assert_eq!(csrf_token_of(&h, b"csrf=x").await, None);
    }
}
