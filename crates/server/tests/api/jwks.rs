//! The published keys: a resource server verifies Roster's access tokens on its own, with the
//! JWK Set and an Ed25519 library (ed25519-dalek here), none of Roster's code; and the
//! discovery document that points at them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use roster_domain::Duration;
use roster_service::startup::{self, Options};
use roster_service::{HashCost, Settings};
use serde_json::{json, Value};
use tokio::sync::oneshot;

use crate::common::*;

const PUBLIC_URL: &str = "https://roster.example.com";

fn settings(public_url: &str) -> Settings {
    Settings {
        hash_cost: HashCost::TEST,
        public_base_url: public_url.into(),
        ..Settings::default()
    }
}

async fn start() -> TestApp {
    // A trailing slash, as an operator may write it: the issuer never has one.
    TestApp::start_with(Builder {
        settings: settings(&format!("{PUBLIC_URL}/")),
        ..Default::default()
    })
    .await
}

/// A GET without a token: the body, after checking the status and the caching header.
async fn public_document(base: &str, path: &str) -> Value {
    let r = reqwest::get(format!("{base}{path}")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=300",
        "{path}"
    );
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{path}"
    );
    r.json().await.unwrap()
}

/// The published keys.
async fn jwks(base: &str) -> Vec<Value> {
    let set = public_document(base, "/.well-known/jwks.json").await;
    let keys = set["keys"].as_array().unwrap().clone();
    for k in &keys {
        let mut names: Vec<&str> = k.as_object().unwrap().keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["alg", "crv", "kid", "kty", "use", "x"], "{k}");
        assert_eq!(
            (&k["kty"], &k["crv"], &k["use"], &k["alg"]),
            (
                &json!("OKP"),
                &json!("Ed25519"),
                &json!("sig"),
                &json!("EdDSA")
            ),
        );
    }
    keys
}

fn kids(keys: &[Value]) -> Vec<&str> {
    keys.iter().map(|k| k["kid"].as_str().unwrap()).collect()
}

fn decode_json(part: &str) -> Value {
    serde_json::from_slice(&B64.decode(part).unwrap()).unwrap()
}

/// What a resource server does with a bearer token: find the published key its `kid` names,
/// check the Ed25519 signature over `header.payload` with it, and read the claims.
fn verify(token: &str, keys: &[Value]) -> Result<Value, String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return Err(format!("not a compact JWS: {token}"));
    };
    let header = decode_json(header);
    if header["alg"] != "EdDSA" {
        return Err(format!("alg {}", header["alg"]));
    }
    let kid = header["kid"].as_str().ok_or("no kid")?;
    let jwk = keys
        .iter()
        .find(|k| k["kid"] == kid)
        .ok_or_else(|| format!("no published key {kid}"))?;
    let x: [u8; 32] = B64
        .decode(jwk["x"].as_str().unwrap())
        .unwrap()
        .try_into()
        .map_err(|_| "x is not 32 bytes")?;
    let key = VerifyingKey::from_bytes(&x).map_err(|e| e.to_string())?;
    let signature = Signature::from_slice(&B64.decode(signature).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    key.verify_strict(format!("{}.{payload}", parts[0]).as_bytes(), &signature)
        .map_err(|e| format!("bad signature: {e}"))?;
    Ok(decode_json(payload))
}

fn header_of(token: &str) -> Value {
    decode_json(token.split('.').next().unwrap())
}

async fn status_with(app: &TestApp, base: &str, token: &str) -> StatusCode {
    app.client
        .get(format!("{base}/v1/customers"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

async fn a_resource_server_verifies_access_tokens_with_the_published_keys() {
    let app = start().await;

    let discovery = public_document(&app.base, "/.well-known/openid-configuration").await;
    assert_eq!(discovery["issuer"], PUBLIC_URL);
    assert_eq!(
        discovery["token_endpoint"],
        format!("{PUBLIC_URL}/oauth2/token")
    );
    assert_eq!(
        discovery["jwks_uri"],
        format!("{PUBLIC_URL}/.well-known/jwks.json")
    );
    assert_eq!(
        discovery["grant_types_supported"],
        json!(["password", "client_credentials", "refresh_token"])
    );
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["EdDSA"])
    );

    let keys = jwks(&app.base).await;
    assert_eq!(keys.len(), 1);
    let first_kid = keys[0]["kid"].as_str().unwrap().to_string();
    let header = header_of(&app.token);
    assert_eq!(
        header,
        json!({"alg": "EdDSA", "typ": "JWT", "kid": first_kid})
    );
    let claims = verify(&app.token, &keys).unwrap();
    assert_eq!(claims["iss"], discovery["issuer"]);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );

    // A token whose claims were changed does not verify, nor with another key under its kid.
    let parts: Vec<&str> = app.token.split('.').collect();
    let mut forged_claims = claims.clone();
    forged_claims["sub"] = json!(uuid::Uuid::new_v4().to_string());
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(forged_claims.to_string()),
        parts[2]
    );
    assert!(verify(&forged, &keys)
        .unwrap_err()
        .starts_with("bad signature"));
    assert_eq!(
        status_with(&app, &app.base, &forged).await,
        StatusCode::UNAUTHORIZED
    );

    // A rotation, a while later: both keys are published; the new one signs, the old token
    // still verifies (for clients and for Roster) with the key being rotated out.
    app.clock.advance(Duration::from_secs(600));
    let rotated = roster_service::keys::rotate(app.roster.store(), app.clock.as_ref(), false)
        .await
        .unwrap();
    app.roster.reload_keys().await.unwrap();
    let keys = jwks(&app.base).await;
    assert_eq!(kids(&keys), [rotated.new_key.as_str(), first_kid.as_str()]);
    assert_eq!(verify(&app.token, &keys).unwrap(), claims);
    assert_eq!(
        status_with(&app, &app.base, &app.token).await,
        StatusCode::OK
    );
    let fresh = app.sign_in(ADMIN, ADMIN_PASSWORD).await.unwrap();
    assert_eq!(header_of(&fresh)["kid"], rotated.new_key);
    verify(&fresh, &keys).unwrap();
    // The new key's token does not verify with the old key's public key.
    let mut swapped = keys.clone();
    swapped[0]["x"] = keys[1]["x"].clone();
    assert!(verify(&fresh, &swapped)
        .unwrap_err()
        .starts_with("bad signature"));

    // A rotation that revokes the old keys unpublishes them; their tokens stop working.
    app.clock.advance(Duration::from_secs(600));
    let revoking = roster_service::keys::rotate(app.roster.store(), app.clock.as_ref(), true)
        .await
        .unwrap();
    app.roster.reload_keys().await.unwrap();
    let keys = jwks(&app.base).await;
    assert_eq!(kids(&keys), [revoking.new_key.as_str()]);
    assert!(verify(&app.token, &keys).is_err());
    assert!(verify(&fresh, &keys).is_err());
    assert_eq!(
        status_with(&app, &app.base, &fresh).await,
        StatusCode::UNAUTHORIZED
    );
}
on_both_backends!(a_resource_server_verifies_access_tokens_with_the_published_keys);
async fn only_eddsa_tokens_signed_by_a_published_key_are_accepted() {
    let app = start().await;
    let keys = jwks(&app.base).await;
    let kid = keys[0]["kid"].as_str().unwrap();
    let public_key = B64.decode(keys[0]["x"].as_str().unwrap()).unwrap();
    let claims = verify(&app.token, &keys).unwrap();
    let token = |header: Value, sign: &dyn Fn(&[u8]) -> Vec<u8>| {
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        format!("{input}.{}", B64.encode(sign(input.as_bytes())))
    };
    // Algorithm confusion: an HS256 token keyed with the published public key, which anyone
    // can make, must not pass for a token Roster signed.
    let hs256 = |data: &[u8]| {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&public_key).unwrap();
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    };
    let signature = B64.decode(app.token.split('.').nth(2).unwrap()).unwrap();
    let replayed = |_: &[u8]| signature.clone();
    for (case, forged) in [
        (
            "HS256 with the public key",
            token(json!({"alg": "HS256", "typ": "JWT", "kid": kid}), &hs256),
        ),
        (
            "none",
            token(json!({"alg": "none", "typ": "JWT", "kid": kid}), &|_| {
                Vec::new()
            }),
        ),
        (
            "none, no kid",
            token(json!({"alg": "none"}), &|_| Vec::new()),
        ),
        // The real signature under a header that says something else.
        (
            "another alg",
            token(json!({"alg": "ES256", "typ": "JWT", "kid": kid}), &replayed),
        ),
    ] {
        assert_eq!(
            status_with(&app, &app.base, &forged).await,
            StatusCode::UNAUTHORIZED,
            "{case}"
        );
    }
    // The control: the real token is accepted.
    assert_eq!(
        status_with(&app, &app.base, &app.token).await,
        StatusCode::OK
    );
}
on_both_backends!(only_eddsa_tokens_signed_by_a_published_key_are_accepted);
async fn servers_on_one_database_with_one_public_url_accept_each_others_tokens() {
    let app = start().await;
    // Two more servers on the same database: one under the same public URL, one under
    // another (a misconfigured server, or a copy of the database restored elsewhere).
    let same = Other::start(&app, PUBLIC_URL).await;
    let elsewhere = Other::start(&app, "https://staging.example.com").await;

    assert_eq!(jwks(&same.base).await, jwks(&app.base).await);
    assert_eq!(
        status_with(&app, &same.base, &app.token).await,
        StatusCode::OK
    );
    let (status, body) = into_parts(
        app.client
            .post(format!("{}/oauth2/token", same.base))
            .form(&[
                ("grant_type", "password"),
                ("username", ADMIN),
                ("password", ADMIN_PASSWORD),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let from_same = body["access_token"].as_str().unwrap();
    assert_eq!(
        status_with(&app, &app.base, from_same).await,
        StatusCode::OK
    );

    // The token names the issuer it came from; a server under another one refuses it.
    assert_eq!(
        public_document(&elsewhere.base, "/.well-known/openid-configuration").await["issuer"],
        "https://staging.example.com"
    );
    assert_eq!(
        status_with(&app, &elsewhere.base, &app.token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_with(&app, &elsewhere.base, from_same).await,
        StatusCode::UNAUTHORIZED
    );

    same.stop().await;
    elsewhere.stop().await;
}
on_both_backends!(servers_on_one_database_with_one_public_url_accept_each_others_tokens);

/// Another server on the database of a [`TestApp`], with its own public URL.
struct Other {
    base: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Other {
    async fn start(app: &TestApp, public_url: &str) -> Self {
        let opened = startup::open(Options {
            data_dir: app.dir.path().to_path_buf(),
            database_url: app.database_url.clone(),
            partner_domain: "partner.local".into(),
            bootstrap_password: None,
            settings: settings(public_url),
            clock: app.clock.clone(),
        })
        .await
        .unwrap();
        let listener = roster_server::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(roster_server::serve(
            listener,
            opened.roster,
            roster_server::Timeouts::default(),
            async {
                let _ = stopped.await;
            },
        ));
        Self { base, stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap();
    }
}
