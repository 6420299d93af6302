//! Applications a partner registers: an OAuth client of the partner's account.

use crate::ids::{ApplicationId, PartnerId, UserId};
use crate::time::Timestamp;

/// A registered application. Its id is the OAuth client id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Application {
    pub id: ApplicationId,
    pub partner: PartnerId,
    pub display_name: String,
    /// SHA-256 of the client secret, hexadecimal.
    pub secret_hash: String,
    /// Changes with every new secret: tokens issued under an older stamp stop working.
    pub security_stamp: String,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    /// A public client (one that cannot keep a secret) signs users in with its client id
    /// alone; a confidential one must send its secret.
    pub public_client: bool,
}
