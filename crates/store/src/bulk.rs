//! Bulk loading: many customers and users in multi-row `INSERT`s, for seeding large databases
//! (the benchmark harness, `roster-bench`) without one statement per row.
//!
//! The rows are the ones [`SyncDb::insert_customer`] and [`SyncDb::insert_customer_user`] write,
//! column for column: the lower-cased `*_key` columns, the version, the security stamp, and
//! each customer's initial domain in `domains`. Everything reads them as it reads any other
//! row. No audit records are written: a bulk load is nobody's operation. The caller groups
//! the calls into transactions (a [`crate::Tx`] each); on SQLite a few large transactions
//! are much faster than many small ones, and one huge one makes a huge write-ahead log.

use roster_domain::customer::{Customer, DomainKind};
use roster_domain::customer_user::CustomerUser;
use roster_domain::listing::sort_key;
use roster_domain::Timestamp;

use crate::rows::corrupt;
use crate::rows::Param;
use crate::sql::SyncDb;
use crate::{Backend, Result};

/// A user to load, with its credentials.
#[derive(Clone, Debug)]
pub struct BulkUser<'a> {
    pub user: CustomerUser,
    /// Argon2id PHC string; many users may share one (a seed with one known password).
    pub password_hash: &'a str,
    pub security_stamp: String,
}

/// `INSERT INTO {table} ({columns}) VALUES ($1, ..), ($n, ..), ..` for `rows` rows.
fn insert_sql(table_and_columns: &str, columns: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(table_and_columns.len() + rows * columns * 6);
    sql.push_str("INSERT INTO ");
    sql.push_str(table_and_columns);
    sql.push_str(" VALUES ");
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..columns {
            if col > 0 {
                sql.push_str(", ");
            }
            n += 1;
            sql.push('$');
            sql.push_str(&n.to_string());
        }
        sql.push(')');
    }
    sql
}

const TENANT_COLUMNS: (&str, usize) = (
    "tenants (id, kind, partner_id, company_name, company_name_key, domain, country, billing, \
     allow_delegated_access, created_at)",
    10,
);
const DOMAIN_COLUMNS: (&str, usize) = ("domains (name, tenant_id, kind, created_at)", 4);
const USER_COLUMNS: (&str, usize) = (
    "users (id, tenant_id, upn, upn_key, display_name, display_name_key, first_name, last_name, \
     usage_location, immutable_id, phone_number, domain_type, state, soft_deleted_at, password_hash, \
     force_change_password, security_stamp, version, created_at, updated_at)",
    20,
);

impl SyncDb<'_> {
    /// How many rows of `columns` columns one statement inserts.
    fn bulk_rows(&self, columns: usize) -> usize {
        (crate::dialect::bulk_parameters(self.backend()) / columns).max(1)
    }

    /// Inserts customers and their initial domains, as [`SyncDb::insert_customer`] does one.
    /// `Conflict` when a domain (or id) is taken; nothing of the failing statement is kept,
    /// and the caller's transaction decides about the rest.
    pub fn insert_customers_bulk(&mut self, customers: &[Customer]) -> Result<()> {
        let billing = customers
            .iter()
            .map(|c| {
                serde_json::to_string(&c.billing).map_err(|e| corrupt("billing", &e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let rows = self.bulk_rows(TENANT_COLUMNS.1);
        for (chunk, billing) in customers.chunks(rows).zip(billing.chunks(rows)) {
            let sql = insert_sql(TENANT_COLUMNS.0, TENANT_COLUMNS.1, chunk.len());
            let mut params: Vec<Param> = Vec::new();
            for (c, billing) in chunk.iter().zip(billing) {
                params.extend([
                    Param::from(c.id.to_string()),
                    Param::from("customer"),
                    Param::from(c.partner.to_string()),
                    Param::from(c.company_name.as_str()),
                    Param::from(sort_key(&c.company_name)),
                    Param::from(c.domain.as_str()),
                    Param::from(c.country.as_str()),
                    Param::from(billing.as_str()),
                    Param::from(i64::from(c.allow_delegated_access)),
                    Param::from(c.created_at.unix_millis()),
                ]);
            }
            self.sql.execute(&sql, &params)?;
        }
        for chunk in customers.chunks(self.bulk_rows(DOMAIN_COLUMNS.1)) {
            let sql = insert_sql(DOMAIN_COLUMNS.0, DOMAIN_COLUMNS.1, chunk.len());
            let mut params: Vec<Param> = Vec::new();
            for c in chunk {
                params.extend([
                    Param::from(c.domain.as_str()),
                    Param::from(c.id.to_string()),
                    Param::from(DomainKind::Initial.as_str()),
                    Param::from(c.created_at.unix_millis()),
                ]);
            }
            self.sql.execute(&sql, &params)?;
        }
        Ok(())
    }

    /// Inserts customer users, as [`SyncDb::insert_customer_user`] does one. `Conflict` when a
    /// UPN is taken by an active user of the same customer (or an id is taken).
    pub fn insert_customer_users_bulk(&mut self, users: &[BulkUser<'_>]) -> Result<()> {
        for chunk in users.chunks(self.bulk_rows(USER_COLUMNS.1)) {
            let sql = insert_sql(USER_COLUMNS.0, USER_COLUMNS.1, chunk.len());
            let mut params: Vec<Param> = Vec::new();
            for b in chunk {
                let u = &b.user;
                params.extend([
                    Param::from(u.id.to_string()),
                    Param::from(u.customer.to_string()),
                    Param::from(u.upn.as_str()),
                    Param::from(u.upn.key()),
                    Param::from(u.display_name.as_str()),
                    Param::from(sort_key(&u.display_name)),
                    Param::from(u.first_name.as_deref()),
                    Param::from(u.last_name.as_deref()),
                    Param::from(u.usage_location.map(|c| c.as_str().to_string())),
                    Param::from(u.immutable_id.as_deref()),
                    Param::from(u.phone_number.as_deref()),
                    Param::from(u.domain_type.as_str()),
                    Param::from(u.state.as_str()),
                    Param::from(u.soft_deleted_at.map(Timestamp::unix_millis)),
                    Param::from(b.password_hash),
                    Param::from(i64::from(u.force_change_password)),
                    Param::from(b.security_stamp.as_str()),
                    Param::from(u.version),
                    Param::from(u.created_at.unix_millis()),
                    Param::from(u.updated_at.unix_millis()),
                ]);
            }
            self.sql.execute(&sql, &params)?;
        }
        Ok(())
    }
}

impl crate::Store {
    /// The size of the database as the database counts it: on SQLite the pages of the main
    /// file (not its write-ahead log), on PostgreSQL `pg_database_size`.
    pub async fn database_bytes(&self) -> Result<i64> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT p.page_count * s.page_size AS bytes FROM pragma_page_count() AS p, pragma_page_size() AS s"
            }
            Backend::Postgres => "SELECT CAST(pg_database_size(current_database()) AS BIGINT) AS bytes",
        };
        self.read_job(move |db| crate::rows::int(&db.query_one(sql, &[])?, "bytes"))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_the_placeholders_row_by_row() {
        assert_eq!(
            insert_sql("t (a, b)", 2, 3),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6)"
        );
    }
}
