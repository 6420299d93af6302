//! Invitations of outside users (guests) to the partner account: the invitation holds only
//! the SHA-256 of its link's token.

use crate::ids::{InvitationId, PartnerId, UserId};
use crate::time::Timestamp;

/// Whether the guest has redeemed its invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationState {
    Pending,
    Accepted,
}

impl InvitationState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "accepted" => Some(Self::Accepted),
            _ => None,
        }
    }
}

/// An invitation as stored (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub partner: PartnerId,
    pub user: UserId,
    pub email: String,
    pub state: InvitationState,
    pub created_at: Timestamp,
    pub sent_at: Timestamp,
    pub expires_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
}

/// The lookup key of an email address.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Invitation {
    /// `pending`, `accepted`, or `expired` (pending past its expiry) at `now`.
    pub fn status_at(&self, now: Timestamp) -> &'static str {
        match self.state {
            InvitationState::Accepted => "accepted",
            InvitationState::Pending if self.expires_at <= now => "expired",
            InvitationState::Pending => "pending",
        }
    }
}

/// An invitation with the guest's current roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationView {
    pub invitation: Invitation,
    pub user_principal_name: String,
    pub roles: Vec<crate::authz::PartnerRole>,
    /// `pending`, `accepted`, or `expired` (pending past its expiry), as of the read.
    pub status: &'static str,
}
