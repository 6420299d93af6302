//! The activity history of partner account users: each request they made.

use crate::ids::UserId;
use crate::time::Timestamp;

/// One request of a partner account user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activity {
    pub id: String,
    pub user: UserId,
    pub at: Timestamp,
    pub method: String,
    pub path: String,
    pub status: u16,
}
