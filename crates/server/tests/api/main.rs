//! Black-box tests of the HTTP API: a real server on a loopback port over a real SQLite file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
mod applications;
mod audit;
mod bulk_upload;
mod customer_users;
mod customers;
mod delegated;
mod directory_roles;
mod fault_proxy;
mod idempotency;
mod invitations;
mod jwks;
mod licences;
mod limits;
mod matrix;
mod paging;
mod partner_users;
mod portal_sessions;
mod robustness;
mod sdk;
mod security_review;
mod shutdown;
mod sign_in;
mod smtp;
mod tokens;
mod upgrade;
