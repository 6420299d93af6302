//! Granular delegated admin relationships and their access assignments.

use roster_domain::authz::DirectoryRole;
use roster_domain::relationship::{
    roles_from_text, roles_to_text, AccessAssignment, Relationship, RelationshipStatus,
};
use roster_domain::RelationshipId;
use roster_domain::{CustomerId, PartnerId, Timestamp, UserId};

use crate::rows::Param;
use crate::rows::{self, corrupt};
use crate::sql::SyncDb;
use crate::Result;

const COLUMNS: &str =
    "id, partner_id, customer_id, display_name, duration_days, roles, auto_extend, \
     status, created_at, activated_at, terminated_at";

fn roles_of(row: &crate::sql::Row, table: &str) -> Result<Vec<DirectoryRole>> {
    let text = rows::text(row, "roles")?;
    roles_from_text(&text).ok_or_else(|| corrupt(&format!("{table}.roles"), &text))
}

fn relationship_from(row: &crate::sql::Row) -> Result<Relationship> {
    let status = rows::text(row, "status")?;
    Ok(Relationship {
        id: rows::relationship_id(row, "id")?,
        partner: rows::partner_id(row, "partner_id")?,
        customer: rows::customer_id(row, "customer_id")?,
        display_name: rows::text(row, "display_name")?,
        duration_days: rows::int(row, "duration_days")?,
        roles: roles_of(row, "delegated_relationships")?,
        auto_extend: rows::flag(row, "auto_extend")?,
        status: RelationshipStatus::parse(&status)
            .ok_or_else(|| corrupt("delegated_relationships.status", &status))?,
        created_at: rows::time(row, "created_at")?,
        activated_at: rows::opt_time(row, "activated_at")?,
        terminated_at: rows::opt_time(row, "terminated_at")?,
    })
}

fn assignment_from(row: &crate::sql::Row) -> Result<AccessAssignment> {
    Ok(AccessAssignment {
        id: rows::text(row, "id")?,
        relationship: rows::relationship_id(row, "relationship_id")?,
        group: rows::group_id(row, "group_id")?,
        roles: roles_of(row, "delegated_access_assignments")?,
        created_at: rows::time(row, "created_at")?,
    })
}

impl SyncDb<'_> {
    /// Turns a customer's legacy delegated admin access on or off.
    pub fn set_allow_delegated_access(&mut self, customer: CustomerId, allow: bool) -> Result<()> {
        self.sql.execute(
            "UPDATE tenants SET allow_delegated_access = $1 WHERE id = $2 AND kind = 'customer'",
            &[
                Param::from(i64::from(allow)),
                Param::from(customer.to_string()),
            ],
        )?;
        Ok(())
    }

    /// Inserts a relationship; `Conflict` when the partner has one of that name.
    pub fn insert_relationship(&mut self, r: &Relationship) -> Result<()> {
        self.sql.execute("INSERT INTO delegated_relationships (id, partner_id, customer_id, display_name, display_name_key, \
             duration_days, roles, auto_extend, status, created_at, activated_at, terminated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", &[Param::from(r.id.to_string()), Param::from(r.partner.to_string()), Param::from(r.customer.to_string()), Param::from(&r.display_name), Param::from(roster_domain::listing::sort_key(&r.display_name)), Param::from(r.duration_days), Param::from(roles_to_text(&r.roles)), Param::from(i64::from(r.auto_extend)), Param::from(r.status.as_str()), Param::from(r.created_at.unix_millis()), Param::from(r.activated_at.map(Timestamp::unix_millis)), Param::from(r.terminated_at.map(Timestamp::unix_millis))])?;
        Ok(())
    }

    /// A relationship of `customer` (a customer of `partner`).
    pub fn relationship(
        &mut self,
        partner: PartnerId,
        customer: CustomerId,
        id: RelationshipId,
    ) -> Result<Option<Relationship>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM delegated_relationships WHERE id = $1 AND partner_id = $2 AND customer_id = $3"
        );
        let row = self.query_opt(
            &sql,
            &[
                Param::from(id.to_string()),
                Param::from(partner.to_string()),
                Param::from(customer.to_string()),
            ],
        )?;
        row.as_ref().map(relationship_from).transpose()
    }

    /// The relationships of a customer, oldest first.
    pub fn relationships(
        &mut self,
        partner: PartnerId,
        customer: CustomerId,
    ) -> Result<Vec<Relationship>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM delegated_relationships WHERE partner_id = $1 AND customer_id = $2 \
             ORDER BY created_at, id"
        );
        let found = self.sql.query(
            &sql,
            &[
                Param::from(partner.to_string()),
                Param::from(customer.to_string()),
            ],
        )?;
        found.iter().map(relationship_from).collect()
    }

    /// Moves a relationship to `status` (with the time of activation or termination) if it
    /// is still in `from`; `false` when it was not.
    pub fn set_relationship_status(
        &mut self,
        id: RelationshipId,
        from: RelationshipStatus,
        status: RelationshipStatus,
        at: Timestamp,
    ) -> Result<bool> {
        let sql = match status {
            RelationshipStatus::Active => {
                "UPDATE delegated_relationships SET status = $1, activated_at = $2 WHERE id = $3 AND status = $4"
            }
            _ => {
                "UPDATE delegated_relationships SET status = $1, terminated_at = $2 WHERE id = $3 AND status = $4"
            }
        };
        let done = self.sql.execute(
            sql,
            &[
                Param::from(status.as_str()),
                Param::from(at.unix_millis()),
                Param::from(id.to_string()),
                Param::from(from.as_str()),
            ],
        )?;
        Ok(done == 1)
    }

    /// Inserts an access assignment; `Conflict` when the group is assigned already.
    pub fn insert_access_assignment(&mut self, a: &AccessAssignment) -> Result<()> {
        self.sql.execute("INSERT INTO delegated_access_assignments (id, relationship_id, group_id, roles, created_at) \
             VALUES ($1, $2, $3, $4, $5)", &[Param::from(&a.id), Param::from(a.relationship.to_string()), Param::from(a.group.to_string()), Param::from(roles_to_text(&a.roles)), Param::from(a.created_at.unix_millis())])?;
        Ok(())
    }

    /// The access assignments of a relationship, oldest first.
    pub fn access_assignments(
        &mut self,
        relationship: RelationshipId,
    ) -> Result<Vec<AccessAssignment>> {
        let found = self.sql.query("SELECT id, relationship_id, group_id, roles, created_at FROM delegated_access_assignments \
             WHERE relationship_id = $1 ORDER BY created_at, id", &[Param::from(relationship.to_string())])?;
        found.iter().map(assignment_from).collect()
    }

    /// The relationships (stored as active) under which `user` belongs to an assigned group,
    /// each with the roles of those assignments; `customer` narrows to one customer.
    pub fn granted_to_user(
        &mut self,
        partner: PartnerId,
        user: UserId,
        customer: Option<CustomerId>,
    ) -> Result<Vec<(Relationship, Vec<DirectoryRole>)>> {
        let cols: Vec<String> = COLUMNS.split(", ").map(|c| format!("r.{c}")).collect();
        let mut sql = format!(
            "SELECT {}, a.roles AS assigned_roles FROM delegated_relationships r \
             JOIN delegated_access_assignments a ON a.relationship_id = r.id \
             JOIN group_members m ON m.group_id = a.group_id \
             WHERE r.partner_id = $1 AND m.user_id = $2 AND r.status = 'active'",
            cols.join(", ")
        );
        if customer.is_some() {
            sql.push_str(" AND r.customer_id = $3");
        }
        sql.push_str(" ORDER BY r.id");
        let mut params = vec![
            Param::from(partner.to_string()),
            Param::from(user.to_string()),
        ];
        if let Some(c) = customer {
            params.push(Param::from(c.to_string()));
        }
        let found = self.sql.query(&sql, &params)?;
        found
            .iter()
            .map(|row| {
                let text = rows::text(row, "assigned_roles")?;
                let roles = roles_from_text(&text)
                    .ok_or_else(|| corrupt("delegated_access_assignments.roles", &text))?;
                Ok((relationship_from(row)?, roles))
            })
            .collect()
    }
}
