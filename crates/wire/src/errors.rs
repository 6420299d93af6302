//! Partner Center's error body, which every 4xx and 5xx answer carries (but 429's).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Partner Center's error body.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
pub struct ApiFault {
    /// A Partner Center error code.
    pub code: u32,
    /// What was wrong and how to fix it; at most 1024 characters.
    pub description: String,
    /// The failing properties, or other details; `[]` when none.
    pub data: Vec<String>,
    /// Always `Roster`.
    pub source: String,
}
