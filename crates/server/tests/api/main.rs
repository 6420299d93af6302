//! Black-box tests of the HTTP API: a real server on a loopback port over a real SQLite file.

mod common;
mod customers;
mod idempotency;
mod paging;
mod robustness;
mod sign_in;
mod users;
