//! Reading the audit log (`GET /v1/auditrecords`).

use roster_domain::audit::OperationType;
use roster_domain::audit::{AuditQuery, AuditRecord};
use roster_domain::authz::Action;
use roster_domain::{CustomerId, Invalid, Timestamp, UserId};
use serde::{Deserialize, Serialize};

use crate::paging::{self, ListRequest};
use crate::{Ctx, Page, Result, Roster};

#[derive(Serialize, Deserialize)]
struct SealedAudit {
    list: String,
    scope: String,
    start: i64,
    end: i64,
    operation: Option<String>,
    customer: Option<String>,
    actor: Option<String>,
    size: u32,
    at: i64,
    id: String,
}

/// An audit query as the caller gives it, plus the page size.
#[derive(Clone, Debug)]
pub struct AuditRequest {
    pub query: AuditQuery,
    pub size: u32,
}

impl Roster {
    /// The partner's audit records, newest first.
    pub async fn list_audit_records(
        &self,
        ctx: &Ctx,
        request: ListRequest<AuditRequest>,
    ) -> Result<Page<AuditRecord>> {
        self.allow(ctx, Action::ViewAudit)?;
        let scope = ctx.actor.partner.to_string();
        let (req, after) = match request {
            ListRequest::First(r) => {
                if r.query.start >= r.query.end {
                    return Err(Invalid::one("startDate", "must be before endDate").into());
                }
                (r, None)
            }
            ListRequest::Next(token) => {
                let key = self
                    .key_for(&token)
                    .await
                    .ok_or_else(paging::invalid_token)?;
                let s: SealedAudit = key.open(&token).ok_or_else(paging::invalid_token)?;
                if s.list != "audit" || s.scope != scope {
                    return Err(paging::invalid_token().into());
                }
                let bad = |_| paging::invalid_token();
                let query = AuditQuery {
                    start: Timestamp::from_unix_millis(s.start),
                    end: Timestamp::from_unix_millis(s.end),
                    operation: match s.operation {
                        Some(o) => {
                            Some(OperationType::parse(&o).ok_or_else(paging::invalid_token)?)
                        }
                        None => None,
                    },
                    customer: s
                        .customer
                        .map(|c| c.parse::<CustomerId>())
                        .transpose()
                        .map_err(bad)?,
                    actor: s
                        .actor
                        .map(|a| a.parse::<UserId>())
                        .transpose()
                        .map_err(bad)?,
                };
                (
                    AuditRequest {
                        query,
                        size: s.size,
                    },
                    Some((s.at, s.id)),
                )
            }
        };
        let (partner, query, size) = (ctx.actor.partner, req.query.clone(), req.size);
        let mut items = self
            .store()
            .read_job(move |db| -> Result<_> {
                Ok(db.list_audit_records(partner, &query, after, size)?)
            })
            .await?;
        let continuation = if items.len() > req.size as usize {
            items.truncate(req.size as usize);
            items.last().map(|last| {
                self.keys().current().seal(&SealedAudit {
                    list: "audit".into(),
                    scope: scope.clone(),
                    start: req.query.start.unix_millis(),
                    end: req.query.end.unix_millis(),
                    operation: req.query.operation.map(|o| o.as_str().to_string()),
                    customer: req.query.customer.map(|c| c.to_string()),
                    actor: req.query.actor.map(|a| a.to_string()),
                    size: req.size,
                    at: last.created_at.unix_millis(),
                    id: last.id.clone(),
                })
            })
        } else {
            None
        };
        Ok(Page {
            items,
            continuation,
        })
    }

    /// The current time, for a query that runs up to now.
    pub fn now_for_queries(&self) -> Timestamp {
        self.now()
    }
}
