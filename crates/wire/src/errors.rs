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
    /// The failing properties (strings), or other details; `[]` when none. A refused bulk
    /// upload lists its problems as objects: `{"row": 7, "column": "Email", "message": …}`
    /// (`row` and `column` null where the problem is the file's).
    pub data: Vec<serde_json::Value>,
    /// Always `Roster`.
    pub source: String,
}
