//! The Partner Center v1 wire format of Roster's REST API: response and request bodies, and
//! their conversion from and to domain values. Responses are camelCase and omit null
//! properties; requests are read case-insensitively by the server (its body parser), so the
//! types here name properties in camelCase only.
//!
//! One module per resource, as the server's routes are. The server sends these and the SDK
//! reads them, so both always agree on the shapes.

pub mod applications;
pub mod audit;
pub mod common;
pub mod customer_users;
pub mod customers;
pub mod directory_roles;
pub mod errors;
pub mod invitations;
pub mod licences;
pub mod object;
pub mod partner_users;
pub mod relationships;
pub mod sign_in;

pub use applications::*;
pub use audit::*;
pub use common::*;
pub use customer_users::*;
pub use customers::*;
pub use directory_roles::*;
pub use errors::*;
pub use invitations::*;
pub use licences::*;
pub use partner_users::*;
pub use relationships::*;
pub use sign_in::*;
