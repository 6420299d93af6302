//! Signed tokens: access tokens (JWT, HS256) and continuation tokens. Both are signed with
//! keys derived from the server's one signing secret, each for its own purpose.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The server's signing secret. `Debug` never shows it.
#[derive(Clone)]
pub struct SigningKey {
    access: [u8; 32],
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
            access: derive(secret, "roster access token v1"),
            continuation: derive(secret, "roster continuation token v1"),
            fingerprints: derive(secret, "roster password fingerprint v1"),
            id: hex(&id_hash[..8]),
        }
    }

    /// A short public id of the key: it tells keys apart without revealing them.
    pub fn id(&self) -> &str {
        &self.id
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

    fn sign(key: &[u8; 32], data: &[u8]) -> Vec<u8> {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    fn verify(key: &[u8; 32], data: &[u8], signature: &[u8]) -> bool {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        mac.update(data);
        mac.verify_slice(signature).is_ok()
    }

    /// A compact JWT signed with HS256, naming this key in its `kid` header.
    pub fn sign_jwt<C: Serialize>(&self, claims: &C) -> String {
        let header = serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": self.id});
        let header = B64.encode(header.to_string());
        let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
        let signing_input = format!("{header}.{payload}");
        let sig = B64.encode(Self::sign(&self.access, signing_input.as_bytes()));
        format!("{signing_input}.{sig}")
    }

    /// The claims of a JWT this key signed; `None` for anything else.
    pub fn verify_jwt<C: DeserializeOwned>(&self, token: &str) -> Option<C> {
        let (header, payload, sig) = jwt_parts(token)?;
        if header.get("alg")?.as_str()? != "HS256" {
            return None;
        }
        let signing_input = &token[..token.rfind('.')?];
        if !Self::verify(
            &self.access,
            signing_input.as_bytes(),
            &B64.decode(sig).ok()?,
        ) {
            return None;
        }
        serde_json::from_slice(&B64.decode(payload).ok()?).ok()
    }

    /// An opaque, tamper-evident continuation token for `state`: `kid.body.tag`.
    pub fn seal<S: Serialize>(&self, state: &S) -> String {
        let body = serde_json::to_vec(state).unwrap_or_default();
        let sig = Self::sign(&self.continuation, &body);
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
        let full = Self::sign(&self.continuation, &body);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_round_trip_and_tampering() {
        let k = SigningKey::from_secret(&[7; 32]);
        let claims = AccessClaims {
            iss: "roster".into(),
            sub: "u".into(),
            tid: "t".into(),
            iat: 1,
            exp: 2,
            sst: "s".into(),
            azp: None,
            idtyp: None,
        };
        let jwt = k.sign_jwt(&claims);
        assert_eq!(k.verify_jwt::<AccessClaims>(&jwt), Some(claims.clone()));
        let other = SigningKey::from_secret(&[8; 32]);
        assert_eq!(other.verify_jwt::<AccessClaims>(&jwt), None);
        let mut bad = jwt.clone();
        bad.insert(bad.find('.').unwrap() + 3, 'x');
        assert_eq!(k.verify_jwt::<AccessClaims>(&bad), None);
        let none_alg = format!(
            "{}.{}.",
            B64.encode(br#"{"alg":"none"}"#),
            jwt.split('.').nth(1).unwrap()
        );
        assert_eq!(k.verify_jwt::<AccessClaims>(&none_alg), None);
        assert_eq!(k.verify_jwt::<AccessClaims>("garbage"), None);
    }

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
