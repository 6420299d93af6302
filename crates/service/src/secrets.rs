//! Random bearer secrets (refresh tokens, invitation links, client secrets) and the one way
//! they are stored: as SHA-256 hashes. They are 32 random bytes each, so a fast hash is as
//! safe as a slow one and lets a lookup find the secret by its hash.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::tokens::hex;

/// A fresh secret (43 URL-safe characters) and its stored hash.
pub fn new_secret() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = B64.encode(bytes);
    let hash = hash(&secret);
    (secret, hash)
}

/// The stored form of a secret (surrounding white space is not part of it).
pub fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.trim().as_bytes()))
}

/// Whether two stored hashes are equal, in time independent of where they differ.
pub fn same_hash(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_are_random_and_hashed() {
        let (a, ha) = new_secret();
        let (b, hb) = new_secret();
        assert_ne!(a, b);
        assert_eq!(B64.decode(&a).unwrap().len(), 32);
        assert_eq!(ha.len(), 64);
        assert!(!ha.contains(&a));
        assert_eq!(hash(&a), ha);
        assert_eq!(hash(&format!(" {a}\n")), ha);
        assert!(same_hash(&ha, &hash(&a)));
        assert!(!same_hash(&ha, &hb));
        assert!(!same_hash(&ha, &ha[1..]));
    }
}
