//! Audit records: written in the transaction of the change they describe.

use roster_domain::audit::{AuditQuery, AuditRecord, OperationType};
use roster_domain::{PartnerId, Timestamp};

use crate::rows::Param;
use crate::rows::{self, corrupt};
use crate::sql::SyncDb;
use crate::Result;

fn record_from(row: &crate::sql::Row) -> Result<AuditRecord> {
    let op = rows::text(row, "operation_type")?;
    Ok(AuditRecord {
        id: rows::text(row, "id")?,
        created_at: rows::time(row, "created_at")?,
        partner: rows::partner_id(row, "partner_id")?,
        customer: rows::opt_customer_id(row, "customer_id")?,
        actor: rows::opt_user_id(row, "actor_user_id")?,
        application: rows::opt_application_id(row, "application_id")?,
        operation: OperationType::parse(&op)
            .ok_or_else(|| corrupt("audit_records.operation_type", &op))?,
        resource_type: rows::text(row, "resource_type")?,
        resource_id: rows::text(row, "resource_id")?,
        new_value: rows::text(row, "new_value")?,
        correlation_id: rows::text(row, "correlation_id")?,
        request_id: rows::text(row, "request_id")?,
    })
}

impl SyncDb<'_> {
    pub fn insert_audit(&mut self, r: &AuditRecord) -> Result<()> {
        self.sql.execute("INSERT INTO audit_records (id, created_at, partner_id, customer_id, actor_user_id, application_id, \
             operation_type, resource_type, resource_id, new_value, correlation_id, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", &[Param::from(&r.id), Param::from(r.created_at.unix_millis()), Param::from(r.partner.to_string()), Param::from(r.customer.map(|c| c.to_string())), Param::from(r.actor.map(|u| u.to_string())), Param::from(r.application.map(|a| a.to_string())), Param::from(r.operation.as_str()), Param::from(&r.resource_type), Param::from(&r.resource_id), Param::from(&r.new_value), Param::from(&r.correlation_id), Param::from(&r.request_id)])?;
        Ok(())
    }

    /// How many audit records there are, of every partner.
    pub fn count_audit_records(&mut self) -> Result<u64> {
        let row = self.query_one("SELECT COUNT(*) AS n FROM audit_records", &[])?;
        Ok(u64::try_from(crate::rows::int(&row, "n")?).unwrap_or(0))
    }

    /// A partner's audit records in `[start, end)`, oldest first.
    pub fn audit_records(
        &mut self,
        partner: PartnerId,
        start: Timestamp,
        end: Timestamp,
        limit: u32,
    ) -> Result<Vec<AuditRecord>> {
        let rows = self.sql.query("SELECT * FROM audit_records WHERE partner_id = $1 AND created_at >= $2 AND created_at < $3 \
             ORDER BY created_at, id LIMIT $4", &[Param::from(partner.to_string()), Param::from(start.unix_millis()), Param::from(end.unix_millis()), Param::from(i64::from(limit))])?;
        rows.iter().map(record_from).collect()
    }
}

impl SyncDb<'_> {
    /// One page (plus one row) of a partner's audit records in `[start, end)`, newest first,
    /// strictly after the record at `after` = (time in ms, id).
    pub fn list_audit_records(
        &mut self,
        partner: PartnerId,
        q: &AuditQuery,
        after: Option<(i64, String)>,
        size: u32,
    ) -> Result<Vec<AuditRecord>> {
        let mut params = rows::Params::default();
        let mut sql = format!(
            "SELECT * FROM audit_records WHERE partner_id = {} AND created_at >= {} AND created_at < {}",
            params.add(partner.to_string()),
            params.add(q.start.unix_millis()),
            params.add(q.end.unix_millis())
        );
        for (column, value) in [
            (
                "operation_type",
                q.operation.map(|o| o.as_str().to_string()),
            ),
            ("customer_id", q.customer.map(|c| c.to_string())),
            ("actor_user_id", q.actor.map(|u| u.to_string())),
        ] {
            if let Some(v) = value {
                sql.push_str(&format!(" AND {column} = {}", params.add(v)));
            }
        }
        if let Some((at, id)) = after {
            sql.push_str(&format!(
                " AND (created_at, id) < ({}, {})",
                params.add(at),
                params.add(id)
            ));
        }
        sql.push_str(&format!(
            " ORDER BY created_at DESC, id DESC LIMIT {}",
            params.add(i64::from(size) + 1)
        ));
        let rows = self.sql.query(&sql, params.values())?;
        rows.iter().map(record_from).collect()
    }
}
