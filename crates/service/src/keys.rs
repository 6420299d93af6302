//! The signing keys in the database: made on the first start, shared by every server,
//! rotated by the operator.

use roster_domain::audit::OperationType;
use roster_domain::Timestamp;
use roster_store::keys::StoredKey;
use roster_store::Store;
use serde_json::json;

use crate::tokens::{KeyRing, SigningKey};
use crate::{Clock, Result, Roster, ServiceError};

/// How long a key that a newer one replaced keeps verifying: longer than any access token
/// lives, and long enough for a paging walk to finish.
pub const REPLACED_KEYS_VERIFY_FOR: roster_domain::Duration =
    roster_domain::Duration::from_hours(24);

/// The keys in the database, newest first; `None` when there are none.
pub async fn load(store: &Store) -> Result<Option<KeyRing>> {
    let stored = store
        .read_job(|db| -> Result<_> { Ok(db.signing_keys()?) })
        .await?;
    let keys: Option<Vec<SigningKey>> = stored
        .iter()
        .map(|k| SigningKey::from_hex(&k.secret))
        .collect();
    let keys = keys.ok_or_else(|| ServiceError::internal("a stored signing key is damaged"))?;
    Ok(KeyRing::new(keys))
}

/// Stores `secret` (hexadecimal) as a signing key made at `now`, unless one with its id exists.
pub async fn add(store: &Store, secret: &str, now: Timestamp) -> Result<SigningKey> {
    let key = SigningKey::from_hex(secret)
        .ok_or_else(|| ServiceError::internal("a signing key must be 64 hexadecimal digits"))?;
    let row = StoredKey {
        id: key.id().to_string(),
        secret: secret.trim().to_lowercase(),
        created_at: now,
    };
    store
        .write_job(move |db| -> Result<()> { Ok(db.insert_signing_key(&row)?) })
        .await?;
    Ok(key)
}

/// What a rotation did.
#[derive(Debug)]
pub struct Rotated {
    pub new_key: String,
    /// Keys removed at once (with `revoke_old`): every token they signed stopped working.
    pub revoked: u64,
}

/// Makes a new signing key. Servers sign with it from their next key reload (at the latest
/// at their next maintenance run), and accept tokens of the old keys for
/// [`REPLACED_KEYS_VERIFY_FOR`] — unless `revoke_old`, which removes the old keys now (for a
/// leaked key: everyone signs in again).
pub async fn rotate(store: &Store, clock: &dyn Clock, revoke_old: bool) -> Result<Rotated> {
    let (key, secret) = SigningKey::generate();
    let now = clock.now();
    let row = StoredKey {
        id: key.id().to_string(),
        secret,
        created_at: now,
    };
    let key_id = key.id().to_string();
    let revoked = store
        .write_job(move |db| -> Result<_> {
            db.insert_signing_key(&row)?;
            let revoked = if revoke_old {
                db.delete_signing_keys_except(&key_id)?
            } else {
                0
            };
            if let Some((partner, _)) = db.first_partner()? {
                let record = roster_domain::audit::AuditRecord {
                    id: uuid::Uuid::new_v4().to_string(),
                    created_at: now,
                    partner,
                    customer: None,
                    actor: None,
                    application: None,
                    operation: OperationType::RotateSigningKey,
                    resource_type: OperationType::RotateSigningKey.resource_type().into(),
                    resource_id: key_id.clone(),
                    new_value: json!({"keyId": key_id, "revokedOldKeys": revoke_old}).to_string(),
                    correlation_id: String::new(),
                    request_id: String::new(),
                };
                db.insert_audit(&record)?;
            }
            Ok(revoked)
        })
        .await?;
    Ok(Rotated {
        new_key: key.id().to_string(),
        revoked,
    })
}

impl Roster {
    /// Reads the keys from the database again (another server or the operator may have
    /// rotated them).
    pub async fn reload_keys(&self) -> Result<()> {
        if let Some(ring) = load(self.store()).await? {
            self.replace_keys(ring);
        }
        Ok(())
    }

    /// Forgets keys replaced longer ago than [`REPLACED_KEYS_VERIFY_FOR`].
    pub(crate) async fn retire_replaced_keys(&self) -> Result<u64> {
        let before = self.now().minus(REPLACED_KEYS_VERIFY_FOR);
        self.store()
            .write_job(move |db| -> Result<_> {
                Ok(db.delete_signing_keys_replaced_before(before)?)
            })
            .await
    }
}
