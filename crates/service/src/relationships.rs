//! Granular delegated admin relationships (access.md, Delegated access to a customer): create,
//! list, approve on the customer's behalf, assign security groups, terminate; and a
//! customer's legacy delegated access switch.
//!
//! The stored status moves only on a decision; expiry and auto-extension are read from the
//! injected clock whenever a relationship is read or used.

use roster_domain::audit::OperationType;
use roster_domain::authz::Action;
use roster_domain::customer::Customer;
use roster_domain::relationship::{
    assignment_roles, AccessAssignment, NewRelationship, NewRelationshipInput, Relationship,
    RelationshipStatus, RelationshipView,
};
use roster_domain::{CustomerId, Invalid, RelationshipId};
use roster_store::sql::SyncDb;
use roster_store::StoreError;
use serde_json::json;

use crate::{Ctx, Result, Roster, ServiceError};

fn relationship_json(r: &Relationship) -> serde_json::Value {
    json!({
        "id": r.id,
        "customerId": r.customer.to_string(),
        "displayName": r.display_name,
        "duration": format!("P{}D", r.duration_days),
        "roles": r.roles.iter().map(|x| x.id()).collect::<Vec<_>>(),
        "autoExtend": r.auto_extend,
    })
}

impl Roster {
    fn own_customer(&self, db: &mut SyncDb<'_>, ctx: &Ctx, id: CustomerId) -> Result<Customer> {
        db.customer(ctx.actor.partner, id)?
            .ok_or(ServiceError::CustomerNotFound)
    }

    fn view(&self, db: &mut SyncDb<'_>, relationship: Relationship) -> Result<RelationshipView> {
        let now = self.now();
        let assignments = db.access_assignments(relationship.id)?;
        Ok(RelationshipView {
            status: relationship.status_at(now),
            ends_at: relationship.end_at(now),
            relationship,
            assignments,
        })
    }

    fn find_relationship(
        &self,
        db: &mut SyncDb<'_>,
        ctx: &Ctx,
        customer: CustomerId,
        id: &str,
    ) -> Result<Relationship> {
        self.own_customer(db, ctx, customer)?;
        db.relationship(
            ctx.actor.partner,
            customer,
            Self::id_of(id, "the relationship")?,
        )?
        .ok_or(ServiceError::NotFound("the delegated admin relationship"))
    }

    /// Creates a relationship, waiting for approval (`approval_pending`).
    pub async fn create_relationship(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        input: &NewRelationshipInput,
    ) -> Result<RelationshipView> {
        self.read_in_customer(ctx, customer, Action::ManageDelegatedAccess, |_, _| Ok(()))
            .await?;
        let new = NewRelationship::validate(input)?;
        let relationship = Relationship {
            id: RelationshipId::new_random(),
            partner: ctx.actor.partner,
            customer,
            display_name: new.display_name,
            duration_days: new.duration_days,
            roles: new.roles,
            auto_extend: new.auto_extend,
            status: RelationshipStatus::ApprovalPending,
            created_at: self.now(),
            activated_at: None,
            terminated_at: None,
        };

        let roster = self.clone();
        let job_ctx = ctx.clone();
        self.store()
            .write_job(move |db| -> Result<_> {
                let ctx = &job_ctx;
        match db.insert_relationship(&relationship) {
            Err(StoreError::Conflict) => {
                return Err(ServiceError::Conflict(format!(
                    "a delegated admin relationship named '{}' exists already: choose another displayName",
                    relationship.display_name
                )))
            }
            other => other?,
        }
        let record = roster.audit(
            Some(ctx),
            ctx.actor.partner,
            Some(customer),
            OperationType::CreateDelegatedAdminRelationship,
            relationship.id,
            relationship_json(&relationship),
        );
        db.insert_audit(&record)?;
        let view = roster.view(db, relationship)?;
        Ok(view)
            })
            .await
    }

    /// The relationships of a customer, oldest first.
    pub async fn list_relationships(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
    ) -> Result<Vec<RelationshipView>> {
        let roster = self.clone();
        let job_ctx = ctx.clone();
        self.store()
            .read_job(move |db| -> Result<_> {
                let ctx = &job_ctx;
                roster.customer_for(db, ctx, customer, Action::ViewDelegatedAccess)?;
                let mut out = Vec::new();
                for rel in db.relationships(ctx.actor.partner, customer)? {
                    out.push(roster.view(db, rel)?);
                }
                Ok(out)
            })
            .await
    }

    pub async fn get_relationship(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        id: &str,
    ) -> Result<RelationshipView> {
        let roster = self.clone();
        let job_ctx = ctx.clone();
        let job_id = id.to_string();
        self.store()
            .read_job(move |db| -> Result<_> {
                let ctx = &job_ctx;
                let id = job_id.as_str();
                roster.customer_for(db, ctx, customer, Action::ViewDelegatedAccess)?;
                let rel = roster.find_relationship(db, ctx, customer, id)?;
                roster.view(db, rel)
            })
            .await
    }

    /// The customer's approval: given by a Global Administrator of the customer, or recorded
    /// on its behalf by a partner Global admin when it was given out of band.
    pub async fn approve_relationship(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        id: &str,
    ) -> Result<RelationshipView> {
        self.change_relationship_status(
            ctx,
            customer,
            id,
            StatusChange {
                action: Action::ApproveRelationship,
                to: RelationshipStatus::Active,
                operation: OperationType::ApproveDelegatedAdminRelationship,
                refuse: |from| {
                    (!matches!(
                        from,
                        RelationshipStatus::Created | RelationshipStatus::ApprovalPending
                    ))
                    .then(|| {
                        format!(
                            "the relationship is {}: only one awaiting approval can be approved",
                            from.as_str()
                        )
                    })
                },
            },
        )
        .await
    }

    /// Ends a relationship that is awaiting approval or active.
    pub async fn terminate_relationship(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        id: &str,
    ) -> Result<RelationshipView> {
        self.change_relationship_status(
            ctx,
            customer,
            id,
            StatusChange {
                action: Action::ManageDelegatedAccess,
                to: RelationshipStatus::Terminated,
                operation: OperationType::TerminateDelegatedAdminRelationship,
                refuse: |from| {
                    matches!(
                        from,
                        RelationshipStatus::Expired | RelationshipStatus::Terminated
                    )
                    .then(|| format!("the relationship is {} already", from.as_str()))
                },
            },
        )
        .await
    }

    /// Moves a relationship to `change.to` in one write job: the caller's right on the
    /// customer, the status it is in now (refused with 409 when `change.refuse` says why),
    /// the versioned update and its audit record.
    async fn change_relationship_status(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        id: &str,
        change: StatusChange,
    ) -> Result<RelationshipView> {
        let roster = self.clone();
        let job_ctx = ctx.clone();
        let job_id = id.to_string();
        self.store()
            .write_job(move |db| -> Result<_> {
                let ctx = &job_ctx;
                let id = job_id.as_str();
                roster.customer_for(db, ctx, customer, change.action)?;
                let rel = roster.find_relationship(db, ctx, customer, id)?;
                let now = roster.now();
                let from = rel.status_at(now);
                if let Some(why) = (change.refuse)(from) {
                    return Err(ServiceError::Conflict(why));
                }
                if !db.set_relationship_status(rel.id, from, change.to, now)? {
                    return Err(ServiceError::Conflict(
                        "the relationship changed meanwhile: read it again".into(),
                    ));
                }
                let record = roster.audit(
                    Some(ctx),
                    ctx.actor.partner,
                    Some(customer),
                    change.operation,
                    rel.id,
                    json!({"id": rel.id, "status": change.to.as_str()}),
                );
                db.insert_audit(&record)?;
                let rel = roster.find_relationship(db, ctx, customer, id)?;
                roster.view(db, rel)
            })
            .await
    }

    /// Gives a security group of the partner some of an active relationship's roles.
    pub async fn assign_access(
        &self,
        ctx: &Ctx,
        customer: CustomerId,
        id: &str,
        group: Option<&str>,
        roles: Option<&[String]>,
    ) -> Result<AccessAssignment> {
        let roster = self.clone();
        let job_ctx = ctx.clone();
        let job_id = id.to_string();
        let job_group = group.map(str::to_string);
        let job_roles = roles.map(<[String]>::to_vec);
        self.store()
            .write_job(move |db| -> Result<_> {
                let ctx = &job_ctx;
                let id = job_id.as_str();
                let group = job_group.as_deref();
                let roles = job_roles.as_deref();
                roster.customer_for(db, ctx, customer, Action::ManageDelegatedAccess)?;
                let rel = roster.find_relationship(db, ctx, customer, id)?;
                let mut bad = Invalid::default();
                let group = match group.map(str::trim).filter(|g| !g.is_empty()) {
                    None => {
                        bad.push(
                            "groupId",
                            "groupId is required: a security group of the partner",
                        );
                        None
                    }
                    Some(g) => match match g.parse() {
                        Ok(id) => db.group(ctx.actor.partner, id)?,
                        Err(_) => None,
                    } {
                        Some(found) => Some(found),
                        None => {
                            bad.push(
                                "groupId",
                                format!("'{g}' is not a security group of this partner"),
                            );
                            None
                        }
                    },
                };
                let roles = match assignment_roles(&rel, roles) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        bad.0.extend(e.0);
                        None
                    }
                };
                let (Some(group), Some(roles)) = (group, roles) else {
                    return Err(bad.into());
                };
                let status = rel.status_at(roster.now());
                if status != RelationshipStatus::Active {
                    return Err(ServiceError::Conflict(format!(
                "the relationship is {}: groups can be assigned to an active relationship only",
                status.as_str()
            )));
                }
                let assignment = AccessAssignment {
                    id: uuid::Uuid::new_v4().to_string(),
                    relationship: rel.id,
                    group: group.id,
                    roles,
                    created_at: roster.now(),
                };
                match db.insert_access_assignment(&assignment) {
                    Err(StoreError::Conflict) => {
                        return Err(ServiceError::Conflict(
                            "the group is assigned to this relationship already".into(),
                        ))
                    }
                    other => other?,
                }
                let record = roster.audit(
                    Some(ctx),
                    ctx.actor.partner,
                    Some(customer),
                    OperationType::CreateDelegatedAdminAccessAssignment,
                    assignment.id.clone(),
                    json!({
                        "relationshipId": rel.id,
                        "groupId": assignment.group,
                        "roles": assignment.roles.iter().map(|r| r.id()).collect::<Vec<_>>(),
                    }),
                );
                db.insert_audit(&record)?;
                Ok(assignment)
            })
            .await
    }

    /// Changes a customer: today only whether it allows legacy delegated admin access.
    /// Turning it on takes a partner Global admin (every Admin agent becomes a Global
    /// Administrator there); turning it off, whoever edits the customer or the customer's own
    /// Global Administrator. A value equal to the current one is no change (no write, no
    /// audit record).
    pub async fn update_customer(
        &self,
        ctx: &Ctx,
        id: CustomerId,
        allow_delegated_access: Option<bool>,
    ) -> Result<Customer> {
        let action = match allow_delegated_access {
            Some(true) => Action::EnableLegacyAccess,
            Some(false) => Action::DisableLegacyAccess,
            None => Action::EditCustomer,
        };

        let roster = self.clone();
        let job_ctx = ctx.clone();
        self.store()
            .write_job(move |db| -> Result<_> {
                let ctx = &job_ctx;
                let mut customer = roster.customer_for(db, ctx, id, action)?;
                let Some(allow) = allow_delegated_access else {
                    return Ok(customer);
                };
                if allow == customer.allow_delegated_access {
                    return Ok(customer);
                }
                db.set_allow_delegated_access(customer.id, allow)?;
                customer.allow_delegated_access = allow;
                let record = roster.audit(
                    Some(ctx),
                    ctx.actor.partner,
                    Some(customer.id),
                    OperationType::UpdateCustomer,
                    customer.id.to_string(),
                    json!({"id": customer.id.to_string(), "allowDelegatedAccess": allow}),
                );
                db.insert_audit(&record)?;
                Ok(customer)
            })
            .await
    }
}

/// A change of a relationship's status ([`Roster::change_relationship_status`]).
struct StatusChange {
    action: Action,
    to: RelationshipStatus,
    operation: OperationType,
    /// Why the relationship cannot make this change from the status it is in, if it cannot.
    refuse: fn(RelationshipStatus) -> Option<String>,
}
