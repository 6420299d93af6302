//! The Rust SDK of Roster's REST API: the Partner Center v1 wire format, shaped like the
//! Partner Center .NET SDK (`partner.Customers.ById(c).Users.Create(user)` becomes
//! `partner.customers().by_id(c).users().create(&user)`).
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//! use roster_client::{Credentials, Partner, UserQuery};
//!
//! # async fn run() -> roster_client::Result<()> {
//! let partner = Partner::connect(
//!     "http://127.0.0.1:8080",
//!     Credentials::password("admin@partner.local", "the password"),
//! )
//! .await?;
//! let customers: Vec<_> = partner.customers().list().try_collect().await?;
//! let users = partner.customers().by_id(&customers[0].id).users();
//! let mut deleted = users.list(UserQuery::deleted());
//! while let Some(user) = deleted.try_next().await? {
//!     println!("{} can be restored", user.user_principal_name);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Every write carries an `MS-RequestId` that stays the same across the SDK's own retries, so
//! a retried create never creates twice; connection errors, 408, 429 and 5xx are retried with
//! exponential back-off and jitter (honouring `Retry-After`), a bounded number of times; the
//! access token is refreshed before it expires and once on a 401.

#![warn(missing_docs)]

mod account;
mod error;
mod resources;
mod transport;

pub use account::{
    Groups, Invitations, PartnerRoles, PartnerUserOps, PartnerUsers, Relationships, RoleMembers,
};
pub use error::{Error, Result};
pub use resources::{
    CustomerOps, CustomerQuery, CustomerUserOps, CustomerUsers, Customers, Items, UserQuery,
};
pub use roster_wire as wire;
pub use transport::{Credentials, Partner, PartnerBuilder, RetryPolicy};

/// The README's example, compiled with the tests so that it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
