//! Middleware: request and correlation ids, bearer authentication, idempotency by
//! `MS-RequestId`, and the error body for bare error statuses.

use axum::body::{Body as AxumBody, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use roster_service::requests::{RequestClaim, RequestKey};
use roster_service::Ctx;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::Instrument;

use crate::error::{codes, ApiError, FaultBody};
use crate::AppState;

pub const MS_REQUEST_ID: HeaderName = HeaderName::from_static("ms-requestid");
pub const MS_CORRELATION_ID: HeaderName = HeaderName::from_static("ms-correlationid");

/// The ids of one request, as the client sent them or as Roster made them.
#[derive(Clone, Debug)]
pub struct RequestIds {
    pub request_id: String,
    pub correlation_id: String,
    /// Whether the client sent `MS-RequestId` (only then is it an idempotency key).
    pub client_request_id: bool,
}

fn usable_id(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    let ok = !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| value.to_string())
}

/// Reads or makes the request and correlation ids, echoes them on the response, runs the
/// request in a tracing span that carries them, and gives bare error statuses a body.
pub async fn request_ids(mut req: Request, next: Next) -> Response {
    let sent = usable_id(req.headers(), &MS_REQUEST_ID);
    let ids = RequestIds {
        client_request_id: sent.is_some(),
        request_id: sent.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        correlation_id: usable_id(req.headers(), &MS_CORRELATION_ID)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
    };
    req.extensions_mut().insert(ids.clone());
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %ids.request_id,
        correlation_id = %ids.correlation_id,
    );
    let mut response = next.run(req).instrument(span.clone()).await;
    let status = response.status();
    let page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if status.as_u16() >= 400 && response.extensions().get::<FaultBody>().is_none() && !page {
        // A layer below (routing, limits, time-outs, a panic) answered without our body (a
        // page of the portal beside the REST door answers with its own).
        let kept: Vec<(HeaderName, HeaderValue)> = [header::ALLOW, header::RETRY_AFTER]
            .into_iter()
            .filter_map(|h| response.headers().get(&h).map(|v| (h, v.clone())))
            .collect();
        let error = if status.is_server_error() {
            span.in_scope(|| tracing::error!(%status, "request failed without an error body"));
            ApiError::unexpected(&ids.correlation_id)
        } else {
            ApiError::for_status(status)
        };
        response = error.into_response();
        response.headers_mut().extend(kept);
    }
    span.in_scope(|| tracing::debug!(status = response.status().as_u16(), "answered"));
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ids.request_id) {
        headers.insert(MS_REQUEST_ID, v);
    }
    if let Ok(v) = HeaderValue::from_str(&ids.correlation_id) {
        headers.insert(MS_CORRELATION_ID, v);
    }
    response
}

/// Served over TLS: every answer tells browsers to come back over HTTPS only, for a year.
pub async fn strict_transport_security(
    State(tls): State<bool>,
    req: Request,
    next: Next,
) -> Response {
    let mut response = next.run(req).await;
    if tls {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// The answer beyond the requests in flight or the connections (`limit`): 503, try again in
/// a second.
pub fn overloaded(limit: &'static str) -> Response {
    metrics::counter!("roster_overloaded_total", "limit" => limit).increment(1);
    ApiError::unavailable(
        "The server is taking as many requests as it can: try again in a moment.",
        1,
    )
    .into_response()
}

fn ids_of(req: &Request) -> RequestIds {
    req.extensions()
        .get::<RequestIds>()
        .cloned()
        .unwrap_or(RequestIds {
            request_id: uuid::Uuid::new_v4().to_string(),
            correlation_id: uuid::Uuid::new_v4().to_string(),
            client_request_id: false,
        })
}

/// Turns `Authorization: Bearer <token>` into the caller's [`Ctx`], or answers 401.
pub async fn authenticate(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    if !declared(&req) {
        // The route's 405, before any check of who calls: the method does not exist here.
        return next.run(req).await;
    }
    let ids = ids_of(&req);
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        });
    let Some(token) = token else {
        return ApiError::unauthorized("Send an access token as Authorization: Bearer <token>; get one from POST /oauth2/token.")
            .into_response();
    };
    match app.roster.authenticate(&token).await {
        Ok(actor) => {
            if let Err(e) = app.roster.check_api_rate(&actor) {
                return ApiError::from_service(e, &ids.correlation_id).into_response();
            }
            // The history is of account users (App+User calls included), not of customer
            // users or applications alone.
            let user = (actor.principal == roster_domain::authz::Principal::PartnerUser)
                .then_some(actor.user);
            let method = req.method().to_string();
            // The path as the client sent it (the /v1 router sees it without its prefix).
            let path = req
                .extensions()
                .get::<axum::extract::OriginalUri>()
                .map_or_else(|| req.uri().path().to_string(), |o| o.path().to_string());
            req.extensions_mut().insert(Ctx {
                actor,
                request_id: ids.request_id,
                correlation_id: ids.correlation_id,
            });
            let response = next.run(req).await;
            // The history of account users (access.md): method, path, status, time.
            if let Some(user) = user {
                app.roster
                    .record_activity(user, &method, &path, response.status().as_u16());
            }
            response
        }
        Err(e) => ApiError::from_service(e, &ids.correlation_id).into_response(),
    }
}

/// What the ledger keeps of a response: never a password.
#[derive(Serialize, Deserialize)]
struct StoredResponse {
    headers: Vec<(String, String)>,
    body: String,
    /// Secrets were left out of `body` (a replay says so).
    #[serde(default)]
    withheld: bool,
}

/// Put on a response by a handler whose body holds secrets in a form the ledger cannot
/// scrub (a CSV file of temporary passwords): the body to keep for a replay instead.
#[derive(Clone, Debug)]
pub struct RecordAs(pub String);

/// On a replay whose first answer held secrets that were not kept: they are not shown again.
pub const REPLAY_HEADER: &str = "roster-replay";
pub const SECRETS_WITHHELD: &str = "secrets-withheld";

/// Response headers worth replaying.
const REPLAYED_HEADERS: [HeaderName; 5] = [
    header::ETAG,
    header::LOCATION,
    header::CONTENT_TYPE,
    header::CONTENT_DISPOSITION,
    header::CACHE_CONTROL,
];

/// Properties that hold a secret shown once (a password, a client secret): the ledger never
/// keeps their values, wherever in a response body they stand.
const SECRET_PROPERTIES: [&str; 2] = ["password", "clientSecret"];

/// The JSON body with every secret property set to null. A body that is not JSON is not
/// kept at all: nothing could tell whether it holds a secret.
fn without_secrets(body: &[u8]) -> String {
    fn scrub(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if SECRET_PROPERTIES
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(key))
                    {
                        *v = serde_json::Value::Null;
                    } else {
                        scrub(v);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(scrub),
            _ => {}
        }
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut value) => {
            scrub(&mut value);
            value.to_string()
        }
        Err(_) => String::new(),
    }
}

/// Puts the password of the repeated request (identical to the first) back into a replay.
fn with_password_from(request_body: &[u8], stored: &str) -> String {
    let sent = crate::json::parse::<crate::wire::CustomerUserRequest>(request_body)
        .ok()
        .and_then(|r| r.password_profile)
        .and_then(|p| p.password);
    match (serde_json::from_str::<serde_json::Value>(stored), sent) {
        (Ok(mut value), Some(password)) => {
            if let Some(profile) = value
                .get_mut("passwordProfile")
                .and_then(|p| p.as_object_mut())
            {
                if profile.contains_key("password") {
                    profile.insert("password".into(), serde_json::Value::String(password));
                }
            }
            value.to_string()
        }
        _ => stored.to_string(),
    }
}

/// Whether the request's method is one its route has: these layers wrap a whole route, its
/// 405 for other methods included, which must stay a 405.
fn declared(req: &Request) -> bool {
    req.extensions()
        .get::<axum::extract::MatchedPath>()
        .is_none_or(|path| crate::declares(req.method(), path.as_str()))
}

/// Idempotency by `MS-RequestId` for POST, PATCH and DELETE (rest-api.md §7).
pub async fn idempotency(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let ids = ids_of(&req);
    let writes =
        matches!(*req.method(), Method::POST | Method::PATCH | Method::DELETE) && declared(&req);
    let Some(ctx) = req.extensions().get::<Ctx>().cloned() else {
        return next.run(req).await;
    };
    if !writes || !ids.client_request_id {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match crate::json::read_body(Request::from_parts(parts.clone(), body), &()).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let key = RequestKey {
        caller: ctx.actor.user.to_string(),
        request_id: ids.request_id.clone(),
        method: parts.method.to_string(),
        // Recorded without the `/v1` prefix, as the keys recorded before the route table
        // (under a router nested at /v1) were: a retry across an upgrade still matches.
        path: {
            let full = parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_string(), |p| p.to_string());
            full.strip_prefix("/v1")
                .map_or(full.clone(), str::to_string)
        },
        body_hash: crate::hex(&Sha256::digest(&bytes)),
    };
    match app.roster.claim_request(&key).await {
        Err(e) => ApiError::from_service(e, &ids.correlation_id).into_response(),
        Ok(RequestClaim::Mismatch) => ApiError::new(
            StatusCode::CONFLICT,
            codes::REQUEST_ID_REUSED,
            "This MS-RequestId was already used for a different request: send a new MS-RequestId for a new request.",
            vec!["MS-RequestId".into()],
        )
        .into_response(),
        Ok(RequestClaim::Replay { status, body }) => replay(status, &body, &bytes),
        Ok(RequestClaim::Owner) => {
            // Run the operation and record its answer in a task of its own: if the client goes
            // away or the time-out answers first, this future is dropped, and a claim left
            // without an answer would make every retry wait, then run the operation again.
            let run = next.run(Request::from_parts(parts, AxumBody::from(bytes.clone())));
            let owner = tokio::spawn(
                run_as_owner(app.clone(), key.clone(), bytes, run).in_current_span(),
            );
            match owner.await {
                Ok(response) => response,
                Err(e) => {
                    // The handler panicked: nothing was recorded, so a retry may run it.
                    tracing::error!(error = %e, "a request with an MS-RequestId failed");
                    if let Err(e) = app.roster.abandon_request(&key).await {
                        tracing::error!(error = %e, "could not release an MS-RequestId");
                    }
                    ApiError::unexpected(&ids.correlation_id).into_response()
                }
            }
        }
    }
}

/// Runs the operation that owns the key, and records its response for replay (or gives the
/// key up after a server error, which changed nothing).
async fn run_as_owner(
    app: AppState,
    key: RequestKey,
    request_body: Bytes,
    run: impl std::future::Future<Output = Response>,
) -> Response {
    let response = run.await;
    let status = response.status();
    if status.is_server_error() {
        if let Err(e) = app.roster.abandon_request(&key).await {
            tracing::error!(error = %e, "could not release an MS-RequestId");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let (kept, withheld) = match parts.extensions.get::<RecordAs>() {
        Some(RecordAs(instead)) => (instead.clone(), true),
        None if body.is_empty() => (String::new(), false),
        None => {
            // Withheld: what a replay cannot give back (a password Roster generated, a client
            // secret); a password the request itself gave comes back from the repeat.
            let kept = without_secrets(&body);
            let replayed = with_password_from(&request_body, &kept);
            let same = serde_json::from_str::<serde_json::Value>(&replayed).ok()
                == serde_json::from_slice::<serde_json::Value>(&body).ok();
            (kept, !same)
        }
    };
    let stored = StoredResponse {
        headers: REPLAYED_HEADERS
            .iter()
            .filter_map(|h| {
                parts
                    .headers
                    .get(h)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| (h.to_string(), v.to_string()))
            })
            .collect(),
        body: kept,
        withheld,
    };
    let record = serde_json::to_string(&stored).unwrap_or_default();
    if let Err(e) = app
        .roster
        .finish_request(&key, status.as_u16(), &record)
        .await
    {
        tracing::error!(error = %e, "could not record the response of an MS-RequestId");
    }
    Response::from_parts(parts, AxumBody::from(body))
}

fn replay(status: u16, record: &str, request_body: &[u8]) -> Response {
    let Ok(stored) = serde_json::from_str::<StoredResponse>(record) else {
        return ApiError::unexpected("(replay)").into_response();
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = if stored.body.is_empty() {
        status.into_response()
    } else {
        let body = with_password_from(request_body, &stored.body);
        let mut r = (status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(crate::wire::JSON_UTF8),
        );
        r
    };
    for (name, value) in stored.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_str(&value)) {
            response.headers_mut().insert(n, v);
        }
    }
    if stored.withheld {
        response.headers_mut().insert(
            HeaderName::from_static(REPLAY_HEADER),
            HeaderValue::from_static(SECRETS_WITHHELD),
        );
    }
    if status.is_client_error() {
        response.extensions_mut().insert(FaultBody);
    }
    response
}
