//! The audit log (Partner Center's AuditRecord).

use roster_domain::audit::AuditRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::common::*;

/// One change, as the audit log keeps it (Partner Center's AuditRecord names).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecordBody {
    pub id: String,
    pub partner_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The signed-in user who acted; absent for Roster itself (bootstrap, purge).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    pub operation_type: String,
    /// Always `succeeded`: refused and failed calls change nothing and leave no record.
    pub operation_status: String,
    pub operation_date: String,
    pub resource_type: String,
    pub resource_id: String,
    /// The new value as JSON text; never a password.
    pub resource_new_value: String,
    pub original_correlation_id: String,
    pub request_id: String,
    pub attributes: Attributes,
}

impl AuditRecordBody {
    pub fn of(r: &AuditRecord) -> Self {
        Self {
            id: r.id.clone(),
            partner_id: r.partner.to_string(),
            customer_id: r.customer.map(|c| c.to_string()),
            user_id: r.actor.map(|u| u.to_string()),
            application_id: r.application.map(|a| a.to_string()),
            operation_type: r.operation.as_str().into(),
            operation_status: "succeeded".into(),
            operation_date: r.created_at.to_rfc3339(),
            resource_type: r.resource_type.clone(),
            resource_id: r.resource_id.clone(),
            resource_new_value: r.new_value.clone(),
            original_correlation_id: r.correlation_id.clone(),
            request_id: r.request_id.clone(),
            attributes: Attributes::of("AuditRecord"),
        }
    }
}

/// A page of audit records, newest first.
pub type AuditRecordCollection = Collection<AuditRecordBody>;

impl CollectionItem for AuditRecordBody {
    const COLLECTION: &'static str = "AuditRecordCollection";
    const DESCRIPTION: &'static str = "A page of audit records, newest first.";
}
