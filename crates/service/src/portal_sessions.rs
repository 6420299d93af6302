//! The web portal's sessions. A session id is 32 random bytes that live only in the
//! browser's cookie; the database keeps their SHA-256 hash, so every server on one database
//! knows every session. A session ends when its user signs out, after an idle time, after an
//! absolute lifetime, and at once when the user's security stamp changes (a password reset
//! or change) or the user may no longer sign in (deleted, account access removed): each
//! request rebuilds the actor the way a bearer token does.

use std::net::IpAddr;

use roster_domain::authz::Actor;
use roster_domain::password::Password;
use roster_store::sessions::PortalSession;
use sha2::{Digest, Sha256};

use crate::sign_in::SignInError;
use crate::tokens::hex;
use crate::{Result, Roster};

/// A session's use is written at most this often (a page view is a read, not a commit).
const TOUCH_EVERY: roster_domain::Duration = roster_domain::Duration::from_mins(1);

/// Whoever a portal session belongs to, as of this request.
#[derive(Clone, Debug)]
pub struct PortalCaller {
    pub actor: Actor,
    /// The user name it signed in with (its UPN).
    pub user_name: String,
    pub display_name: String,
    /// The token every form of this session carries (see [`csrf_token`]).
    pub csrf_token: String,
}

/// The anti-forgery token of a session: derived from the session id, which only the
/// session's browser knows, so no other page and no other session can produce it.
pub fn csrf_token(session_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"roster portal csrf\0");
    h.update(session_id.as_bytes());
    hex(&h.finalize())
}

impl Roster {
    /// Signs in to the portal with a password (the same check and lockout as the token
    /// endpoint's password grant) and starts a session: its id, for the cookie alone.
    pub async fn start_portal_session(
        &self,
        username: &str,
        password: &Password,
        source: Option<IpAddr>,
    ) -> std::result::Result<String, SignInError> {
        let (creds, _) = self.check_password(username, password, source).await?;
        if creds.force_change_password {
            return Err(SignInError::PasswordChangeRequired);
        }
        let (id, hash) = crate::secrets::new_secret();
        let now = self.now();
        let row = PortalSession {
            hash,
            user: creds.user,
            security_stamp: creds.security_stamp.clone(),
            created_at: now,
            last_seen_at: now,
        };
        self.store()
            .write_job(move |db| -> Result<()> { Ok(db.insert_portal_session(&row)?) })
            .await?;
        Ok(id)
    }

    /// The caller behind a session id, or `None` when there is no such session or it is
    /// over (an ended session is forgotten then).
    pub async fn portal_caller(&self, session_id: &str) -> Result<Option<PortalCaller>> {
        let hash = crate::secrets::hash(session_id);
        let now = self.now();
        let settings = self.settings();
        let (idle, lifetime) = (
            settings.portal_session_idle,
            settings.portal_session_lifetime,
        );
        let (roster, job_hash) = (self.clone(), hash.clone());
        let found = self
            .store()
            .read_job(move |db| -> Result<_> {
                let Some(session) = db.portal_session(&job_hash)? else {
                    return Ok(None);
                };
                let idle_over = now >= session.last_seen_at.plus(idle);
                let life_over = now >= session.created_at.plus(lifetime);
                let actor = if idle_over || life_over {
                    None
                } else {
                    roster.user_actor(db, session.user, &session.security_stamp, None, None)?
                };
                let identity = match &actor {
                    Some(_) => db.user_identity(session.user)?,
                    None => None,
                };
                Ok(Some((session, actor, identity)))
            })
            .await?;
        let Some((session, actor, identity)) = found else {
            return Ok(None);
        };
        let (Some(actor), Some((user_name, display_name))) = (actor, identity) else {
            self.store()
                .write_job(move |db| -> Result<bool> { Ok(db.delete_portal_session(&hash)?) })
                .await?;
            return Ok(None);
        };
        if now >= session.last_seen_at.plus(TOUCH_EVERY) {
            self.store()
                .write_job(move |db| -> Result<()> { Ok(db.touch_portal_session(&hash, now)?) })
                .await?;
        }
        Ok(Some(PortalCaller {
            actor,
            user_name,
            display_name,
            csrf_token: csrf_token(session_id),
        }))
    }

    /// Signs out: the session is over on every server at once.
    pub async fn end_portal_session(&self, session_id: &str) -> Result<()> {
        let hash = crate::secrets::hash(session_id);
        self.store()
            .write_job(move |db| -> Result<bool> { Ok(db.delete_portal_session(&hash)?) })
            .await?;
        Ok(())
    }
}
