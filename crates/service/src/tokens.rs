//! Signed tokens: access tokens (JWT, EdDSA) and continuation tokens (HMAC). Both come from
//! the server's one signing secret, each from its own key derived for its purpose.
//!
//! Access tokens are verified by others too (their public keys are published as a JWK Set),
//! so they are signed with Ed25519 (RFC 8037): a symmetric key could not be published.
//! Continuation tokens and wrong-password fingerprints are only ever checked by Roster
//! itself, so they stay HMAC-SHA256.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ed25519_dalek::Signer;
use hmac::{Hmac, Mac};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The JWS algorithm of access tokens (RFC 8037): the only one [`SigningKey::verify_jwt`]
/// accepts.
pub const JWT_ALGORITHM: &str = "EdDSA";

/// The server's signing secret. `Debug` never shows it.
#[derive(Clone)]
pub struct SigningKey {
    /// Signs access tokens; its public half is published.
    access: ed25519_dalek::SigningKey,
    continuation: [u8; 32],
    fingerprints: [u8; 32],
    id: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.id)
    }
}

fn derive(secret: &[u8], purpose: &str) -> [u8; 32] {
    // HMAC as a key-derivation function: one secret, independent keys per purpose.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

impl SigningKey {
    pub const SECRET_LEN: usize = 32;

    /// A new key from the operating system's CSPRNG, and its secret as hexadecimal digits
    /// (the form in which it is stored).
    pub fn generate() -> (Self, String) {
        use rand::RngCore;
        let mut secret = [0u8; Self::SECRET_LEN];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        (Self::from_secret(&secret), hex(&secret))
    }

    /// The key stored as hexadecimal digits; `None` when they are not 64 of them.
    pub fn from_hex(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.len() != Self::SECRET_LEN * 2 {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
            .collect();
        bytes.map(|b| Self::from_secret(&b))
    }

    pub fn from_secret(secret: &[u8]) -> Self {
        let id_hash = Sha256::digest([b"roster key id:".as_slice(), secret].concat());
        Self {
            // The Ed25519 seed is derived like the other keys, so every server that reads the
            // stored secret has the same key pair and the storage format stays as it was.
            // ("roster access token v1" was the HS256 key: a new label, an unrelated key.)
            access: ed25519_dalek::SigningKey::from_bytes(&derive(
                secret,
                "roster access token ed25519 v1",
            )),
            continuation: derive(secret, "roster continuation token v1"),
            fingerprints: derive(secret, "roster password fingerprint v1"),
            id: hex(&id_hash[..8]),
        }
    }

    /// A short public id of the key: it tells keys apart without revealing them.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The Ed25519 public key that verifies this key's access tokens (the JWK's `x`).
    pub fn public_key(&self) -> [u8; 32] {
        self.access.verifying_key().to_bytes()
    }

    /// A keyed fingerprint of a wrong password, for the lockout's "same wrong password"
    /// rule; it cannot be reversed without the server's secret.
    pub fn wrong_password_fingerprint(&self, user: &str, password: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.fingerprints)
            .unwrap_or_else(|_| unreachable!());
        mac.update(user.as_bytes());
        mac.update(&[0]);
        mac.update(password.as_bytes());
        hex(&mac.finalize().into_bytes()[..12])
    }

    /// The name a sign-in lockout keeps for a user name that has no account: a keyed hash of
    /// the name, so that guesses at it are counted (and cost) as guesses at an account are.
    pub fn unknown_account_subject(&self, username: &str) -> String {
        let name = username.trim().to_lowercase();
        format!(
            "unknown:{}",
            self.wrong_password_fingerprint("\0unknown account", &name)
        )
    }

    fn hmac_sha256(key: &[u8; 32], data: &[u8]) -> Vec<u8> {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    /// A compact JWT signed with EdDSA (Ed25519), naming this key in its `kid` header.
    pub fn sign_jwt<C: Serialize>(&self, claims: &C) -> String {
        let header = serde_json::json!({"alg": JWT_ALGORITHM, "typ": "JWT", "kid": self.id});
        let header = B64.encode(header.to_string());
        let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
        let signing_input = format!("{header}.{payload}");
        let sig = self.access.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", B64.encode(sig.to_bytes()))
    }

    /// The claims of a JWT this key signed; `None` for anything else. Only `alg` EdDSA with
    /// this key's `kid` is accepted: never `none`, never HS256 (whatever its key), never an
    /// algorithm the token picks for itself.
    pub fn verify_jwt<C: DeserializeOwned>(&self, token: &str) -> Option<C> {
        let (header, payload, sig) = jwt_parts(token)?;
        if header.get("alg")?.as_str()? != JWT_ALGORITHM
            || header.get("kid")?.as_str()? != self.id
            // RFC 7515 §4.1.11: extensions we would have to understand; we understand none.
            || header.get("crit").is_some()
        {
            return None;
        }
        let sig: [u8; ed25519_dalek::SIGNATURE_LENGTH] = B64.decode(sig).ok()?.try_into().ok()?;
        let signing_input = &token[..token.rfind('.')?];
        self.access
            .verifying_key()
            .verify_strict(
                signing_input.as_bytes(),
                &ed25519_dalek::Signature::from_bytes(&sig),
            )
            .ok()?;
        serde_json::from_slice(&B64.decode(payload).ok()?).ok()
    }

    /// An opaque, tamper-evident continuation token for `state`: `kid.body.tag`.
    pub fn seal<S: Serialize>(&self, state: &S) -> String {
        let body = serde_json::to_vec(state).unwrap_or_default();
        let sig = Self::hmac_sha256(&self.continuation, &body);
        format!(
            "{}.{}.{}",
            self.id,
            B64.encode(&body),
            B64.encode(&sig[..16])
        )
    }

    /// The state sealed in `token`; `None` for a forged, foreign or damaged token.
    pub fn open<S: DeserializeOwned>(&self, token: &str) -> Option<S> {
        let mut parts = token.trim().split('.');
        let (kid, body, sig) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || kid != self.id {
            return None;
        }
        let body = B64.decode(body).ok()?;
        let sig = B64.decode(sig).ok()?;
        let full = Self::hmac_sha256(&self.continuation, &body);
        // Constant-time comparison of the truncated tag.
        let same = sig.len() == 16
            && full[..16]
                .iter()
                .zip(&sig)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return None;
        }
        serde_json::from_slice(&body).ok()
    }
}

/// The decoded header and the raw payload and signature of a compact JWT.
fn jwt_parts(token: &str) -> Option<(serde_json::Value, &str, &str)> {
    let mut parts = token.split('.');
    let (header, payload, sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: serde_json::Value = serde_json::from_slice(&B64.decode(header).ok()?).ok()?;
    Some((header, payload, sig))
}

/// The key a JWT or a continuation token names.
pub fn key_id_of(token: &str) -> Option<String> {
    let token = token.trim();
    if let Some((header, _, _)) = jwt_parts(token) {
        return header.get("kid")?.as_str().map(str::to_string);
    }
    token.split('.').next().map(str::to_string)
}

/// Every signing key in use, newest first: the newest signs, all of them verify.
#[derive(Clone, Debug)]
pub struct KeyRing {
    keys: Vec<SigningKey>,
}

impl KeyRing {
    /// `None` for an empty list.
    pub fn new(keys: Vec<SigningKey>) -> Option<Self> {
        (!keys.is_empty()).then_some(Self { keys })
    }
    /// The key that signs.
    pub fn current(&self) -> &SigningKey {
        &self.keys[0]
    }
    pub fn get(&self, id: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.id == id)
    }
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id()).collect()
    }
    /// Every key, newest first: all of them verify, so all of them are published.
    pub fn iter(&self) -> impl Iterator<Item = &SigningKey> {
        self.keys.iter()
    }
}

/// Lower-case hexadecimal digits of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The claims of a Roster access token.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    /// The user's object id.
    pub sub: String,
    /// The user's tenant id.
    pub tid: String,
    pub iat: i64,
    pub exp: i64,
    /// The user's security stamp when the token was issued: a password reset changes it,
    /// and with it every earlier token stops working. (An application's, for App-only.)
    pub sst: String,
    /// The application the token was issued to (App-only and App+User).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// `app` for an App-only token; absent for a user's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idtyp: Option<String>,
}

/// Access tokens whose signature has been checked, with their claims: checking an Ed25519
/// signature costs more than the rest of authenticating a read, and a client sends the
/// same token with every request for an hour. Only the signature's verdict is kept: expiry,
/// the issuer, the key still being known and the user's state are checked on every request
/// as before. At most [`VerifiedTokens::CAPACITY`] tokens; when full it starts over.
#[derive(Debug, Default)]
pub(crate) struct VerifiedTokens(std::sync::Mutex<std::collections::HashMap<String, AccessClaims>>);

impl VerifiedTokens {
    pub(crate) const CAPACITY: usize = 4096;

    /// The claims of `token`, checked with `key` unless they were before.
    pub(crate) fn verify(&self, key: &SigningKey, token: &str) -> Option<AccessClaims> {
        if let Some(claims) = self.lock().get(token) {
            return Some(claims.clone());
        }
        let claims: AccessClaims = key.verify_jwt(token)?;
        let mut map = self.lock();
        if map.len() >= Self::CAPACITY {
            map.clear();
        }
        map.insert(token.to_string(), claims.clone());
        Some(claims)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, AccessClaims>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> AccessClaims {
        AccessClaims {
            iss: "https://roster.example.com".into(),
            sub: "u".into(),
            tid: "t".into(),
            iat: 1,
            exp: 2,
            sst: "s".into(),
            azp: None,
            idtyp: None,
        }
    }

    /// A compact JWT with this header and claims, "signed" by `sign` over the signing input.
    fn forge(header: serde_json::Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(serde_json::to_vec(&claims()).unwrap())
        );
        let sig = B64.encode(sign(input.as_bytes()));
        format!("{input}.{sig}")
    }

    fn hs256(key: &[u8]) -> impl Fn(&[u8]) -> Vec<u8> + '_ {
        move |data| {
            let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap();
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
    }

    #[test]
    fn verified_tokens_remember_only_good_signatures_and_stay_bounded() {
        let k = SigningKey::from_secret(&[7; 32]);
        let other = SigningKey::from_secret(&[8; 32]);
        let cache = VerifiedTokens::default();
        let jwt = k.sign_jwt(&claims());
        // A token signed by another key is refused and not remembered.
        assert_eq!(cache.verify(&k, &other.sign_jwt(&claims())), None);
        assert_eq!(cache.len(), 0);
        assert_eq!(cache.verify(&k, &jwt), Some(claims()));
        assert_eq!(cache.len(), 1);
        // Remembered: the same answer again, without another entry.
        assert_eq!(cache.verify(&k, &jwt), Some(claims()));
        assert_eq!(cache.len(), 1);
        // A token that differs in one character of its signature is a different token.
        let mut tampered = jwt.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(cache.verify(&k, &tampered), None);
        // Full, it starts over rather than grow.
        for i in 0..VerifiedTokens::CAPACITY + 5 {
            let mut c = claims();
            c.iat = 100 + i as i64;
            cache.verify(&k, &k.sign_jwt(&c)).unwrap();
        }
        assert!(cache.len() <= VerifiedTokens::CAPACITY);
        assert!(cache.len() < 10, "cleared when full: {}", cache.len());
    }

    #[test]
    fn jwt_round_trip_and_tampering() {
        let k = SigningKey::from_secret(&[7; 32]);
        let jwt = k.sign_jwt(&claims());
        assert_eq!(k.verify_jwt::<AccessClaims>(&jwt), Some(claims()));
        let (header, _, sig) = jwt_parts(&jwt).unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": k.id()})
        );
        assert_eq!(B64.decode(sig).unwrap().len(), 64);

        // Another key, even one claiming this key's kid, does not verify.
        let other = SigningKey::from_secret(&[8; 32]);
        assert_eq!(other.verify_jwt::<AccessClaims>(&jwt), None);
        let impostor = forge(
            serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": k.id()}),
            |data| other.access.sign(data).to_bytes().to_vec(),
        );
        assert_eq!(k.verify_jwt::<AccessClaims>(&impostor), None);

        // Any change to the header, the claims or the signature breaks it.
        let parts: Vec<&str> = jwt.split('.').collect();
        let changed_claims = B64.encode(
            serde_json::to_vec(&AccessClaims {
                sub: "someone else".into(),
                ..claims()
            })
            .unwrap(),
        );
        let changed_header = B64.encode(
            serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": k.id(), "x": 1}).to_string(),
        );
        let mut flipped = B64.decode(parts[2]).unwrap();
        flipped[10] ^= 1;
        for bad in [
            format!("{}.{changed_claims}.{}", parts[0], parts[2]),
            format!("{changed_header}.{}.{}", parts[1], parts[2]),
            format!("{}.{}.{}", parts[0], parts[1], B64.encode(&flipped)),
            format!(
                "{}.{}.{}",
                parts[0],
                parts[1],
                &parts[2][..parts[2].len() - 2]
            ),
            format!("{}.{}.{}AA", parts[0], parts[1], parts[2]),
            format!("{}.{}.", parts[0], parts[1]),
            format!("{}.{}", parts[0], parts[1]),
            format!("{jwt}.x"),
            "garbage".to_string(),
            String::new(),
        ] {
            assert_eq!(k.verify_jwt::<AccessClaims>(&bad), None, "{bad}");
        }
    }

    #[test]
    fn only_eddsa_with_the_named_key_is_accepted() {
        let secret = [7; 32];
        let k = SigningKey::from_secret(&secret);
        let header = |alg: &str| serde_json::json!({"alg": alg, "typ": "JWT", "kid": k.id()});
        let eddsa = |data: &[u8]| k.access.sign(data).to_bytes().to_vec();
        let cases = [
            // Algorithm confusion: HS256 keyed with what a verifier or an attacker may hold.
            (
                "HS256, public key",
                forge(header("HS256"), hs256(&k.public_key())),
            ),
            ("HS256, secret", forge(header("HS256"), hs256(&secret))),
            (
                "HS256, the key HS256 tokens used before",
                forge(
                    header("HS256"),
                    hs256(&derive(&secret, "roster access token v1")),
                ),
            ),
            (
                "EdDSA header, HMAC signature",
                forge(header("EdDSA"), hs256(&k.public_key())),
            ),
            // No signature at all.
            ("none", forge(header("none"), |_| Vec::new())),
            ("None", forge(header("None"), |_| Vec::new())),
            ("none with a signature", forge(header("none"), eddsa)),
            // A real Ed25519 signature under another name, or without one.
            ("eddsa", forge(header("eddsa"), eddsa)),
            ("Ed25519", forge(header("Ed25519"), eddsa)),
            ("ES256", forge(header("ES256"), eddsa)),
            (
                "no alg",
                forge(serde_json::json!({"typ": "JWT", "kid": k.id()}), eddsa),
            ),
            (
                "alg not text",
                forge(serde_json::json!({"alg": ["EdDSA"], "kid": k.id()}), eddsa),
            ),
            // The key must be named, and be this one.
            ("no kid", forge(serde_json::json!({"alg": "EdDSA"}), eddsa)),
            (
                "other kid",
                forge(
                    serde_json::json!({"alg": "EdDSA", "kid": "0011223344556677"}),
                    eddsa,
                ),
            ),
            (
                "crit",
                forge(
                    serde_json::json!({"alg": "EdDSA", "kid": k.id(), "crit": ["b64"], "b64": false}),
                    eddsa,
                ),
            ),
        ];
        for (case, token) in cases {
            assert_eq!(
                k.verify_jwt::<AccessClaims>(&token),
                None,
                "{case}: {token}"
            );
        }
        // The same forging with the right header and key is accepted: the cases above fail
        // for the reason they name.
        assert_eq!(
            k.verify_jwt::<AccessClaims>(&forge(header("EdDSA"), eddsa)),
            Some(claims())
        );
    }

    #[test]
    fn every_server_derives_the_same_key_pair_from_the_stored_secret() {
        let stored = "0707070707070707070707070707070707070707070707070707070707070707";
        let a = SigningKey::from_hex(stored).unwrap();
        let b = SigningKey::from_secret(&[7; 32]);
        assert_eq!(a.public_key(), b.public_key());
        assert_ne!(
            a.public_key(),
            SigningKey::from_secret(&[8; 32]).public_key()
        );
        // The derivation is part of the stored format: changing it would make the servers of
        // a rolling upgrade refuse each other's tokens.
        assert_eq!(hex(&a.public_key()), KNOWN_PUBLIC_KEY);
        let jwt = a.sign_jwt(&claims());
        assert_eq!(b.verify_jwt::<AccessClaims>(&jwt), Some(claims()));
    }

    /// The public key of the secret 07…07: the Ed25519 key whose seed is
    /// HMAC-SHA256(secret, "roster access token ed25519 v1"), computed independently of
    /// this code (with Python's `cryptography`).
    const KNOWN_PUBLIC_KEY: &str =
        "42e704c7ca1589b1ded7534a6eba67eb53a1458d189f777919ded261afdca0de";

    #[test]
    fn sealed_state_is_tamper_evident() {
        let k = SigningKey::from_secret(&[1; 32]);
        let token = k.seal(&("users", 42));
        assert_eq!(key_id_of(&token).as_deref(), Some(k.id()));
        assert_eq!(k.open::<(String, i32)>(&token), Some(("users".into(), 42)));
        let parts: Vec<&str> = token.split('.').collect();
        let forged_body = B64.encode(serde_json::to_vec(&("users", 43)).unwrap());
        let forged = format!("{}.{forged_body}.{}", parts[0], parts[2]);
        assert_eq!(k.open::<(String, i32)>(&forged), None);
        assert_eq!(
            k.open::<(String, i32)>(&format!("{}.{}.AAAA", parts[0], parts[1])),
            None
        );
        assert_eq!(
            SigningKey::from_secret(&[2; 32]).open::<(String, i32)>(&token),
            None
        );
        assert_eq!(k.open::<(String, i32)>(""), None);
    }

    #[test]
    fn jwts_name_their_key_and_rings_find_it() {
        let old = SigningKey::from_secret(&[1; 32]);
        let new = SigningKey::from_secret(&[2; 32]);
        let ring = KeyRing::new(vec![new.clone(), old.clone()]).unwrap();
        assert_eq!(ring.current().id(), new.id());
        let jwt = old.sign_jwt(&serde_json::json!({"sub": "x"}));
        assert_eq!(key_id_of(&jwt).as_deref(), Some(old.id()));
        assert!(ring
            .get(old.id())
            .unwrap()
            .verify_jwt::<serde_json::Value>(&jwt)
            .is_some());
        assert!(KeyRing::new(vec![]).is_none());
        let (generated, secret) = SigningKey::generate();
        assert_eq!(SigningKey::from_hex(&secret).unwrap().id(), generated.id());
        assert!(SigningKey::from_hex("abc").is_none());
    }

    #[test]
    fn fingerprints_depend_on_key_user_and_password() {
        let k = SigningKey::from_secret(&[1; 32]);
        let a = k.wrong_password_fingerprint("u1", "pw");
        assert_eq!(a, k.wrong_password_fingerprint("u1", "pw"));
        assert_ne!(a, k.wrong_password_fingerprint("u2", "pw"));
        assert_ne!(a, k.wrong_password_fingerprint("u1", "pw2"));
        assert_ne!(
            a,
            SigningKey::from_secret(&[2; 32]).wrong_password_fingerprint("u1", "pw")
        );
        assert!(!format!("{k:?}").contains("access"));
    }
}
