//! Directory users (of partner and customer tenants), their credentials and sign-in state.

use roster_domain::authz::PartnerRole;
use roster_domain::country::CountryCode;
use roster_domain::listing::{After, UserListQuery, UserSortField, UserTextField};
use roster_domain::lockout::Throttle;
use roster_domain::user::{CustomerUser, UserDomainType, UserState};
use roster_domain::{CustomerId, PartnerId, Timestamp, Upn, UserId};
use sqlx::any::AnyRow;

use crate::rows::{self, corrupt};
use crate::{Db, Result};

const USER_COLUMNS: &str =
    "id, tenant_id, upn, display_name, first_name, last_name, usage_location, \
     immutable_id, phone_number, domain_type, state, soft_deleted_at, force_change_password, \
     version, created_at, updated_at";

fn user_from(row: &impl rows::Columns) -> Result<CustomerUser> {
    let upn = rows::text(row, "upn")?;
    let domain_type = rows::text(row, "domain_type")?;
    let state = rows::text(row, "state")?;
    let usage_location = match rows::opt_text(row, "usage_location")? {
        None => None,
        Some(c) => Some(CountryCode::parse(&c).map_err(|_| corrupt("users.usage_location", &c))?),
    };
    Ok(CustomerUser {
        id: rows::user_id(row, "id")?,
        customer: rows::customer_id(row, "tenant_id")?,
        upn: Upn::parse(&upn).map_err(|_| corrupt("users.upn", &upn))?,
        display_name: rows::text(row, "display_name")?,
        first_name: rows::opt_text(row, "first_name")?,
        last_name: rows::opt_text(row, "last_name")?,
        usage_location,
        immutable_id: rows::opt_text(row, "immutable_id")?,
        phone_number: rows::opt_text(row, "phone_number")?,
        domain_type: match domain_type.as_str() {
            "none" => UserDomainType::None,
            "managed" => UserDomainType::Managed,
            "federated" => UserDomainType::Federated,
            other => return Err(corrupt("users.domain_type", other)),
        },
        state: UserState::parse(&state).ok_or_else(|| corrupt("users.state", &state))?,
        soft_deleted_at: rows::opt_time(row, "soft_deleted_at")?,
        force_change_password: rows::flag(row, "force_change_password")?,
        version: rows::int(row, "version")?,
        created_at: rows::time(row, "created_at")?,
        updated_at: rows::time(row, "updated_at")?,
    })
}

/// What sign-in needs to know about a user; the only place a password hash is read.
#[derive(Clone)]
pub struct Credentials {
    pub user: UserId,
    pub tenant: String,
    pub active: bool,
    pub password_hash: Option<String>,
    pub force_change_password: bool,
    pub security_stamp: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("tenant", &self.tenant)
            .field("active", &self.active)
            .field("password_hash", &"<redacted>")
            .finish_non_exhaustive()
    }
}

pub(crate) fn credentials_from(row: &AnyRow) -> Result<Credentials> {
    Ok(Credentials {
        user: rows::user_id(row, "id")?,
        tenant: rows::text(row, "tenant_id")?,
        active: rows::text(row, "state")? == "active",
        password_hash: rows::opt_text(row, "password_hash")?,
        force_change_password: rows::flag(row, "force_change_password")?,
        security_stamp: rows::text(row, "security_stamp")?,
    })
}

/// A user of a partner's own tenant, with its account roles.
#[derive(Clone, Debug)]
pub struct NewPartnerUser {
    pub id: UserId,
    pub partner: PartnerId,
    pub upn: Upn,
    pub display_name: String,
    pub password_hash: String,
    pub security_stamp: String,
    pub roles: Vec<PartnerRole>,
}

impl Db<'_> {
    /// Inserts a customer user. `Conflict` when its UPN is taken by an active user.
    pub async fn insert_customer_user(
        &mut self,
        u: &CustomerUser,
        password_hash: &str,
        security_stamp: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (id, tenant_id, upn, upn_key, display_name, display_name_key, first_name, last_name, \
             usage_location, immutable_id, phone_number, domain_type, state, soft_deleted_at, password_hash, \
             force_change_password, security_stamp, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
        )
        .bind(u.id.to_string())
        .bind(u.customer.to_string())
        .bind(u.upn.as_str())
        .bind(u.upn.key())
        .bind(&u.display_name)
        .bind(roster_domain::listing::sort_key(&u.display_name))
        .bind(u.first_name.clone())
        .bind(u.last_name.clone())
        .bind(u.usage_location.map(|c| c.as_str().to_string()))
        .bind(u.immutable_id.clone())
        .bind(u.phone_number.clone())
        .bind(u.domain_type.as_str())
        .bind(u.state.as_str())
        .bind(u.soft_deleted_at.map(Timestamp::unix_millis))
        .bind(password_hash)
        .bind(i64::from(u.force_change_password))
        .bind(security_stamp)
        .bind(u.version)
        .bind(u.created_at.unix_millis())
        .bind(u.updated_at.unix_millis())
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    pub async fn insert_partner_user(&mut self, u: &NewPartnerUser, now: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (id, tenant_id, upn, upn_key, display_name, display_name_key, domain_type, state, \
             password_hash, force_change_password, security_stamp, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'none', 'active', $7, 0, $8, 1, $9, $9)",
        )
        .bind(u.id.to_string())
        .bind(u.partner.to_string())
        .bind(u.upn.as_str())
        .bind(u.upn.key())
        .bind(&u.display_name)
        .bind(roster_domain::listing::sort_key(&u.display_name))
        .bind(&u.password_hash)
        .bind(&u.security_stamp)
        .bind(now.unix_millis())
        .execute(&mut *self.conn)
        .await?;
        let access = roster_domain::partner_user::Access {
            roles: u.roles.clone(),
            custom: None,
        };
        self.set_access(u.id, &access, now).await
    }

    pub async fn partner_roles(&mut self, user: UserId) -> Result<Vec<PartnerRole>> {
        let rows = sqlx::query("SELECT role FROM partner_roles WHERE user_id = $1")
            .bind(user.to_string())
            .fetch_all(&mut *self.conn)
            .await?;
        crate::accounts::roles_from(&rows)
    }

    /// A user of `customer` by id, active or soft-deleted.
    pub async fn customer_user(
        &mut self,
        customer: CustomerId,
        id: UserId,
    ) -> Result<Option<CustomerUser>> {
        self.read_customer_user(customer, id, "").await
    }

    /// [`Db::customer_user`], locked until the transaction ends (PostgreSQL; SQLite's writers
    /// are serialised already), so that a read-decide-write on it cannot lose a race.
    pub async fn customer_user_for_update(
        &mut self,
        customer: CustomerId,
        id: UserId,
    ) -> Result<Option<CustomerUser>> {
        self.read_customer_user(customer, id, crate::dialect::for_update(self.backend))
            .await
    }

    async fn read_customer_user(
        &mut self,
        customer: CustomerId,
        id: UserId,
        lock: &str,
    ) -> Result<Option<CustomerUser>> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND tenant_id = $2{lock}");
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .bind(customer.to_string())
            .fetch_optional(&mut *self.conn)
            .await?;
        row.as_ref().map(user_from).transpose()
    }

    /// The active user of `customer` with this UPN.
    pub async fn customer_user_by_upn(
        &mut self,
        customer: CustomerId,
        upn: &Upn,
    ) -> Result<Option<CustomerUser>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND upn_key = $2 AND state = 'active'"
        );
        let row = sqlx::query(&sql)
            .bind(customer.to_string())
            .bind(upn.key())
            .fetch_optional(&mut *self.conn)
            .await?;
        row.as_ref().map(user_from).transpose()
    }

    /// Whether an active user of `tenant` other than `except` has this UPN.
    pub async fn upn_taken(
        &mut self,
        tenant: &str,
        upn: &Upn,
        except: Option<UserId>,
    ) -> Result<bool> {
        let row = sqlx::query(
            "SELECT id FROM users WHERE tenant_id = $1 AND upn_key = $2 AND state = 'active'",
        )
        .bind(tenant)
        .bind(upn.key())
        .fetch_optional(&mut *self.conn)
        .await?;
        Ok(match row {
            None => false,
            Some(r) => Some(rows::user_id(&r, "id")?) != except,
        })
    }

    /// Writes every property and the state of `u`, if its stored version is still
    /// `expected_version`; the stored version becomes `u.version`. Returns whether it wrote.
    /// `Conflict` when the UPN is taken by another active user.
    pub async fn update_customer_user(
        &mut self,
        u: &CustomerUser,
        expected_version: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET upn = $1, upn_key = $2, display_name = $3, display_name_key = $4, first_name = $5, \
             last_name = $6, usage_location = $7, immutable_id = $8, phone_number = $9, domain_type = $10, \
             state = $11, soft_deleted_at = $12, force_change_password = $13, version = $14, updated_at = $15 \
             WHERE id = $16 AND tenant_id = $17 AND version = $18",
        )
        .bind(u.upn.as_str())
        .bind(u.upn.key())
        .bind(&u.display_name)
        .bind(roster_domain::listing::sort_key(&u.display_name))
        .bind(u.first_name.clone())
        .bind(u.last_name.clone())
        .bind(u.usage_location.map(|c| c.as_str().to_string()))
        .bind(u.immutable_id.clone())
        .bind(u.phone_number.clone())
        .bind(u.domain_type.as_str())
        .bind(u.state.as_str())
        .bind(u.soft_deleted_at.map(Timestamp::unix_millis))
        .bind(i64::from(u.force_change_password))
        .bind(u.version)
        .bind(u.updated_at.unix_millis())
        .bind(u.id.to_string())
        .bind(u.customer.to_string())
        .bind(expected_version)
        .execute(&mut *self.conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces a user's password hash and security stamp (which ends its sessions).
    pub async fn set_password(
        &mut self,
        user: UserId,
        hash: &str,
        security_stamp: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE users SET password_hash = $1, security_stamp = $2 WHERE id = $3")
            .bind(hash)
            .bind(security_stamp)
            .bind(user.to_string())
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    /// Replaces a hash made with old parameters; the stamp stays (sessions live on).
    pub async fn upgrade_password_hash(
        &mut self,
        user: UserId,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
            .bind(new_hash)
            .bind(user.to_string())
            .bind(old_hash)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    /// One page of `customer`'s users; one more row than the page size, to tell whether a
    /// next page exists.
    pub async fn list_customer_users(
        &mut self,
        customer: CustomerId,
        q: &UserListQuery,
        after: Option<&After>,
    ) -> Result<Vec<CustomerUser>> {
        let column = |field| match field {
            UserTextField::UserPrincipalName => "upn_key",
            UserTextField::DisplayName => "display_name_key",
        };
        let mut page = rows::PageQuery::new(
            USER_COLUMNS,
            "FROM users WHERE tenant_id = $1 AND state = $2".to_string(),
            vec![customer.to_string(), q.state.as_str().to_string()],
        );
        if let Some(f) = &q.search {
            page.search(column(f.field), f.op, &f.value);
        }
        let key = column(match q.sort {
            UserSortField::UserPrincipalName => UserTextField::UserPrincipalName,
            UserSortField::DisplayName => UserTextField::DisplayName,
        });
        let rows = page
            .fetch(
                &mut *self.conn,
                self.backend,
                key,
                q.direction,
                after,
                q.size,
            )
            .await?;
        rows.iter().map(user_from).collect()
    }

    /// Soft-deleted users whose deletion is older than `cutoff`, oldest first.
    pub async fn users_deleted_before(
        &mut self,
        cutoff: Timestamp,
        limit: u32,
    ) -> Result<Vec<CustomerUser>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE state = 'inactive' AND soft_deleted_at < $1 \
             ORDER BY soft_deleted_at, id LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(cutoff.unix_millis())
            .bind(i64::from(limit))
            .fetch_all(&mut *self.conn)
            .await?;
        rows.iter().map(user_from).collect()
    }

    /// Deletes a soft-deleted user for good. Returns whether it was still there.
    pub async fn purge_user(&mut self, id: UserId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM users WHERE id = $1 AND state = 'inactive'")
            .bind(id.to_string())
            .execute(&mut *self.conn)
            .await?;
        if done.rows_affected() == 1 {
            sqlx::query("DELETE FROM sign_in_throttles WHERE subject = $1")
                .bind(id.to_string())
                .execute(&mut *self.conn)
                .await?;
        }
        Ok(done.rows_affected() == 1)
    }

    /// The active user of `tenant` with this UPN, for sign-in.
    pub async fn credentials_by_upn(
        &mut self,
        tenant: &str,
        upn_key: &str,
    ) -> Result<Option<Credentials>> {
        let row = sqlx::query(
            "SELECT id, tenant_id, state, password_hash, force_change_password, security_stamp \
             FROM users WHERE tenant_id = $1 AND upn_key = $2 AND state = 'active'",
        )
        .bind(tenant)
        .bind(upn_key)
        .fetch_optional(&mut *self.conn)
        .await?;
        row.as_ref().map(credentials_from).transpose()
    }

    pub async fn credentials_by_id(&mut self, user: UserId) -> Result<Option<Credentials>> {
        let row = sqlx::query(
            "SELECT id, tenant_id, state, password_hash, force_change_password, security_stamp FROM users WHERE id = $1",
        )
        .bind(user.to_string())
        .fetch_optional(&mut *self.conn)
        .await?;
        row.as_ref().map(credentials_from).transpose()
    }

    /// The sign-in lockout of `subject` (a user id, or a keyed name of an unknown user name)
    /// from `source`, locked until the transaction ends, so that concurrent attempts on
    /// several servers are counted one after the other.
    pub async fn lock_throttle(&mut self, subject: &str, source: &str) -> Result<Throttle> {
        sqlx::query(
            "INSERT INTO sign_in_throttles (subject, source, failures, lockouts, locked_until, recent_wrong, attempts, updated_at) \
             VALUES ($1, $2, 0, 0, NULL, '', 0, 0) ON CONFLICT (subject, source) DO NOTHING",
        )
        .bind(subject)
        .bind(source)
        .execute(&mut *self.conn)
        .await?;
        let sql = format!(
            "SELECT failures, lockouts, locked_until, recent_wrong, attempts FROM sign_in_throttles \
             WHERE subject = $1 AND source = $2{}",
            crate::dialect::for_update(self.backend)
        );
        let row = sqlx::query(&sql)
            .bind(subject)
            .bind(source)
            .fetch_one(&mut *self.conn)
            .await?;
        let recent = rows::text(&row, "recent_wrong")?;
        Ok(Throttle {
            failures: u32::try_from(rows::int(&row, "failures")?).unwrap_or(0),
            lockouts: u32::try_from(rows::int(&row, "lockouts")?).unwrap_or(0),
            locked_until: rows::opt_time(&row, "locked_until")?,
            recent_wrong: if recent.is_empty() {
                Vec::new()
            } else {
                recent.split(',').map(str::to_string).collect()
            },
            attempts: u64::try_from(rows::int(&row, "attempts")?).unwrap_or(0),
        })
    }

    pub async fn save_throttle(
        &mut self,
        subject: &str,
        source: &str,
        t: &Throttle,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE sign_in_throttles SET failures = $1, lockouts = $2, locked_until = $3, recent_wrong = $4, \
             attempts = $5, updated_at = $6 WHERE subject = $7 AND source = $8",
        )
        .bind(i64::from(t.failures))
        .bind(i64::from(t.lockouts))
        .bind(t.locked_until.map(Timestamp::unix_millis))
        .bind(t.recent_wrong.join(","))
        .bind(i64::try_from(t.attempts).unwrap_or(i64::MAX))
        .bind(now.unix_millis())
        .bind(subject)
        .bind(source)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    /// Forgets lockouts that nobody touched since `cutoff` and that lock nothing any more.
    pub async fn forget_sign_in_throttles_before(
        &mut self,
        cutoff: Timestamp,
        now: Timestamp,
    ) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM sign_in_throttles WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until <= $2)",
        )
        .bind(cutoff.unix_millis())
        .bind(now.unix_millis())
        .execute(&mut *self.conn)
        .await?;
        Ok(done.rows_affected())
    }

    /// Whether `user` signed in successfully from `network` before (one of the few most
    /// recent networks it did).
    pub async fn is_familiar_network(&mut self, user: &str, network: &str) -> Result<bool> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM sign_in_networks WHERE user_id = $1 AND network = $2",
        )
        .bind(user)
        .bind(network)
        .fetch_optional(&mut *self.conn)
        .await?;
        Ok(row.is_some())
    }

    /// Remembers that `user` signed in from `network`, keeping the `keep` most recent.
    pub async fn remember_sign_in_network(
        &mut self,
        user: UserId,
        network: &str,
        now: Timestamp,
        keep: u32,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sign_in_networks (user_id, network, last_success) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, network) DO UPDATE SET last_success = excluded.last_success",
        )
        .bind(user.to_string())
        .bind(network)
        .bind(now.unix_millis())
        .execute(&mut *self.conn)
        .await?;
        sqlx::query(
            "DELETE FROM sign_in_networks WHERE user_id = $1 AND network NOT IN \
             (SELECT network FROM sign_in_networks WHERE user_id = $1 ORDER BY last_success DESC, network LIMIT $2)",
        )
        .bind(user.to_string())
        .bind(i64::from(keep))
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }
}
