//! What Roster's things are and the rules they obey.
//!
//! Pure: no I/O, no async, no clock reads. Time comes in as a [`Timestamp`] value, randomness
//! as an `Rng` argument. Value types are parsed once (`Upn::parse`, `CountryCode::parse`) so
//! that code holding one never re-checks it.

pub mod activity;
pub mod application;
pub mod audit;
pub mod authz;
pub mod bulk_upload;
pub mod country;
pub mod customer;
pub mod customer_user;
pub mod ids;
pub mod invitation;
pub mod licence;
pub mod listing;
pub mod lockout;
pub mod partner_user;
pub mod password;
pub mod relationship;
pub mod text;
pub mod time;
pub mod upn;
pub mod validation;

pub use crate::time::{Duration, Timestamp};
pub use ids::{
    ApplicationId, CustomerId, GroupId, InvitationId, PartnerId, RelationshipId, UserId,
};
pub use upn::{DomainName, Upn};
pub use validation::{FieldError, Invalid};
