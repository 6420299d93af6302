//! Seats (subscribed SKUs) of customers and the licences of users.

use roster_domain::licence::{Seats, SubscribedSku};
use roster_domain::{CustomerId, Timestamp, UserId};

use crate::rows;
use crate::rows::Param;
use crate::sql::SyncDb;
use crate::Result;

/// A user's licence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserLicence {
    pub sku_id: String,
    pub excluded_plans: Vec<String>,
    /// Set while the user is soft-deleted: the licence takes no seat.
    pub released_at: Option<Timestamp>,
}

fn plans_from(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

const CONSUMED: &str = "(SELECT COUNT(*) FROM user_licences l \
    WHERE l.customer_id = s.customer_id AND l.sku_id = s.sku_id AND l.released_at IS NULL)";

fn subscribed(r: &crate::sql::Row) -> Result<SubscribedSku> {
    Ok(SubscribedSku {
        sku_id: rows::text(r, "sku_id")?,
        seats: Seats {
            total: rows::int(r, "total_units")?,
            suspended: rows::int(r, "suspended_units")?,
            warning: rows::int(r, "warning_units")?,
        },
        consumed: rows::int(r, "consumed")?,
    })
}

impl SyncDb<'_> {
    /// Every SKU the customer has seats of, by SKU id.
    pub fn subscribed_skus(&mut self, customer: CustomerId) -> Result<Vec<SubscribedSku>> {
        let found = self.sql.query(&format!(
            "SELECT s.sku_id AS sku_id, s.total_units AS total_units, s.suspended_units AS suspended_units, \
             s.warning_units AS warning_units, {CONSUMED} AS consumed \
             FROM subscribed_skus s WHERE s.customer_id = $1 ORDER BY s.sku_id"
        ), &[Param::from(customer.to_string())])?;
        found.iter().map(subscribed).collect()
    }

    /// One SKU's seats and use, locked until the transaction ends (PostgreSQL; SQLite has one
    /// writer at a time), so that a check of free seats and the write that takes one are one
    /// step. `None` when the customer has no seats of it.
    pub fn lock_subscribed_sku(
        &mut self,
        customer: CustomerId,
        sku: &str,
    ) -> Result<Option<SubscribedSku>> {
        let locked = self.query_opt(
            &format!(
                "SELECT sku_id FROM subscribed_skus WHERE customer_id = $1 AND sku_id = $2{}",
                crate::dialect::for_update(self.backend())
            ),
            &[Param::from(customer.to_string()), Param::from(sku)],
        )?;
        if locked.is_none() {
            return Ok(None);
        }
        let row = self.query_one(&format!(
            "SELECT s.sku_id AS sku_id, s.total_units AS total_units, s.suspended_units AS suspended_units, \
             s.warning_units AS warning_units, {CONSUMED} AS consumed \
             FROM subscribed_skus s WHERE s.customer_id = $1 AND s.sku_id = $2"
        ), &[Param::from(customer.to_string()), Param::from(sku)])?;
        subscribed(&row).map(Some)
    }

    /// Sets a customer's seats of a SKU.
    pub fn put_subscribed_sku(
        &mut self,
        customer: CustomerId,
        sku: &str,
        seats: Seats,
        now: Timestamp,
    ) -> Result<()> {
        self.sql.execute("INSERT INTO subscribed_skus (customer_id, sku_id, total_units, suspended_units, warning_units, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (customer_id, sku_id) DO UPDATE SET \
             total_units = excluded.total_units, suspended_units = excluded.suspended_units, \
             warning_units = excluded.warning_units, updated_at = excluded.updated_at", &[Param::from(customer.to_string()), Param::from(sku), Param::from(seats.total), Param::from(seats.suspended), Param::from(seats.warning), Param::from(now.unix_millis())])?;
        Ok(())
    }

    /// The SKU ids of the licences these users of `customer` hold (not released), one query
    /// for a page of users: (user, SKU id) pairs. Users of other tenants hold none here.
    pub fn licence_skus_of_users(
        &mut self,
        customer: CustomerId,
        users: &[UserId],
    ) -> Result<Vec<(UserId, String)>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let mut params = rows::Params::default();
        let sql = format!(
            "SELECT l.user_id, l.sku_id FROM user_licences l JOIN users u ON u.id = l.user_id \
             WHERE u.tenant_id = {} AND l.released_at IS NULL AND l.user_id IN ({}) ORDER BY l.user_id, l.sku_id",
            params.add(customer.to_string()),
            params.add_all(users.iter().map(|u| u.to_string()))
        );
        let found = self.sql.query(&sql, params.values())?;
        found
            .iter()
            .map(|r| Ok((rows::user_id(r, "user_id")?, rows::text(r, "sku_id")?)))
            .collect()
    }

    /// A user's licences (released ones too), by SKU id.
    pub fn user_licences(&mut self, user: UserId) -> Result<Vec<UserLicence>> {
        let found = self.sql.query("SELECT sku_id, excluded_plans, released_at FROM user_licences WHERE user_id = $1 ORDER BY sku_id", &[Param::from(user.to_string())])?;
        found
            .iter()
            .map(|r| {
                Ok(UserLicence {
                    sku_id: rows::text(r, "sku_id")?,
                    excluded_plans: plans_from(&rows::text(r, "excluded_plans")?),
                    released_at: rows::opt_time(r, "released_at")?,
                })
            })
            .collect()
    }

    /// Gives a user a licence, or sets the excluded plans of the one it has.
    pub fn put_user_licence(
        &mut self,
        user: UserId,
        customer: CustomerId,
        sku: &str,
        excluded_plans: &[String],
        now: Timestamp,
    ) -> Result<()> {
        self.sql.execute("INSERT INTO user_licences (user_id, customer_id, sku_id, excluded_plans, assigned_at, released_at) \
             VALUES ($1, $2, $3, $4, $5, NULL) ON CONFLICT (user_id, sku_id) DO UPDATE SET \
             excluded_plans = excluded.excluded_plans, released_at = NULL", &[Param::from(user.to_string()), Param::from(customer.to_string()), Param::from(sku), Param::from(excluded_plans.join(",")), Param::from(now.unix_millis())])?;
        Ok(())
    }

    /// Takes a licence away; false when the user did not have it.
    pub fn delete_user_licence(&mut self, user: UserId, sku: &str) -> Result<bool> {
        let done = self.sql.execute(
            "DELETE FROM user_licences WHERE user_id = $1 AND sku_id = $2",
            &[Param::from(user.to_string()), Param::from(sku)],
        )?;
        Ok(done == 1)
    }

    /// Releases every licence of a user (it was soft-deleted): they take no seat.
    pub fn release_user_licences(&mut self, user: UserId, now: Timestamp) -> Result<u64> {
        let done = self.sql.execute(
            "UPDATE user_licences SET released_at = $1 WHERE user_id = $2 AND released_at IS NULL",
            &[
                Param::from(now.unix_millis()),
                Param::from(user.to_string()),
            ],
        )?;
        Ok(done)
    }

    /// Takes a seat again for a released licence (the user was restored).
    pub fn reclaim_user_licence(&mut self, user: UserId, sku: &str) -> Result<()> {
        self.sql.execute(
            "UPDATE user_licences SET released_at = NULL WHERE user_id = $1 AND sku_id = $2",
            &[Param::from(user.to_string()), Param::from(sku)],
        )?;
        Ok(())
    }
}
