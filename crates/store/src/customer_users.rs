//! Customer users: the directory users of customer tenants (credentials and sign-in state
//! are in `credentials`).

use roster_domain::country::CountryCode;
use roster_domain::customer_user::{CustomerUser, UserDomainType, UserState};
use roster_domain::listing::{After, UserListQuery, UserSortField, UserTextField};
use roster_domain::{CustomerId, Timestamp, Upn, UserId};

use crate::rows::Param;
use crate::rows::{self, corrupt};
use crate::sql::SyncDb;
use crate::user_rows::UserRow;
use crate::Result;

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

impl SyncDb<'_> {
    /// Inserts a customer user. `Conflict` when its UPN is taken by an active user.
    pub fn insert_customer_user(
        &mut self,
        u: &CustomerUser,
        password_hash: &str,
        security_stamp: &str,
    ) -> Result<()> {
        self.insert_user_row(&UserRow {
            id: u.id,
            tenant: u.customer.to_string(),
            upn: &u.upn,
            display_name: &u.display_name,
            first_name: u.first_name.as_deref(),
            last_name: u.last_name.as_deref(),
            usage_location: u.usage_location.as_ref().map(|c| c.as_str()),
            immutable_id: u.immutable_id.as_deref(),
            phone_number: u.phone_number.as_deref(),
            domain_type: u.domain_type.as_str(),
            state: u.state.as_str(),
            soft_deleted_at: u.soft_deleted_at,
            password_hash: Some(password_hash),
            force_change_password: u.force_change_password,
            security_stamp,
            version: u.version,
            created_at: u.created_at,
            updated_at: u.updated_at,
            is_guest: false,
            guest_email: None,
            password_recovery_email: None,
            is_directory_global_admin: false,
        })
    }

    /// A user of `customer` by id, active or soft-deleted.
    pub fn customer_user(
        &mut self,
        customer: CustomerId,
        id: UserId,
    ) -> Result<Option<CustomerUser>> {
        self.read_customer_user(customer, id, "")
    }

    /// [`Db::customer_user`], locked until the transaction ends (PostgreSQL; SQLite's writers
    /// are serialised already), so that a read-decide-write on it cannot lose a race.
    pub fn customer_user_for_update(
        &mut self,
        customer: CustomerId,
        id: UserId,
    ) -> Result<Option<CustomerUser>> {
        self.read_customer_user(customer, id, crate::dialect::for_update(self.backend()))
    }

    fn read_customer_user(
        &mut self,
        customer: CustomerId,
        id: UserId,
        lock: &str,
    ) -> Result<Option<CustomerUser>> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND tenant_id = $2{lock}");
        let row = self.query_opt(
            &sql,
            &[
                Param::from(id.to_string()),
                Param::from(customer.to_string()),
            ],
        )?;
        row.as_ref().map(user_from).transpose()
    }

    /// The active user of `customer` with this UPN.
    pub fn customer_user_by_upn(
        &mut self,
        customer: CustomerId,
        upn: &Upn,
    ) -> Result<Option<CustomerUser>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND upn_key = $2 AND state = 'active'"
        );
        let row = self.query_opt(
            &sql,
            &[Param::from(customer.to_string()), Param::from(upn.key())],
        )?;
        row.as_ref().map(user_from).transpose()
    }

    /// Which of these UPN keys active users of `customer` hold.
    pub fn active_upn_keys(
        &mut self,
        customer: CustomerId,
        keys: &[String],
    ) -> Result<Vec<String>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut params = rows::Params::default();
        let sql = format!(
            "SELECT upn_key FROM users WHERE tenant_id = {} AND state = 'active' AND upn_key IN ({})",
            params.add(customer.to_string()),
            params.add_all(keys.iter().cloned())
        );
        let found = self.sql.query(&sql, params.values())?;
        found.iter().map(|r| rows::text(r, "upn_key")).collect()
    }

    /// Whether an active user of `tenant` other than `except` has this UPN.
    pub fn upn_taken(&mut self, tenant: &str, upn: &Upn, except: Option<UserId>) -> Result<bool> {
        let row = self.query_opt(
            "SELECT id FROM users WHERE tenant_id = $1 AND upn_key = $2 AND state = 'active'",
            &[Param::from(tenant), Param::from(upn.key())],
        )?;
        Ok(match row {
            None => false,
            Some(r) => Some(rows::user_id(&r, "id")?) != except,
        })
    }

    /// Writes every property and the state of `u`, if its stored version is still
    /// `expected_version`; the stored version becomes `u.version`. Returns whether it wrote.
    /// `Conflict` when the UPN is taken by another active user.
    pub fn update_customer_user(
        &mut self,
        u: &CustomerUser,
        expected_version: i64,
    ) -> Result<bool> {
        let done = self.sql.execute("UPDATE users SET upn = $1, upn_key = $2, display_name = $3, display_name_key = $4, first_name = $5, \
             last_name = $6, usage_location = $7, immutable_id = $8, phone_number = $9, domain_type = $10, \
             state = $11, soft_deleted_at = $12, force_change_password = $13, version = $14, updated_at = $15 \
             WHERE id = $16 AND tenant_id = $17 AND version = $18", &[Param::from(u.upn.as_str()), Param::from(u.upn.key()), Param::from(&u.display_name), Param::from(roster_domain::listing::sort_key(&u.display_name)), Param::from(u.first_name.clone()), Param::from(u.last_name.clone()), Param::from(u.usage_location.map(|c| c.as_str().to_string())), Param::from(u.immutable_id.clone()), Param::from(u.phone_number.clone()), Param::from(u.domain_type.as_str()), Param::from(u.state.as_str()), Param::from(u.soft_deleted_at.map(Timestamp::unix_millis)), Param::from(i64::from(u.force_change_password)), Param::from(u.version), Param::from(u.updated_at.unix_millis()), Param::from(u.id.to_string()), Param::from(u.customer.to_string()), Param::from(expected_version)])?;
        Ok(done == 1)
    }

    /// One page of `customer`'s users; one more row than the page size, to tell whether a
    /// next page exists.
    pub fn list_customer_users(
        &mut self,
        customer: CustomerId,
        q: &UserListQuery,
        after: Option<&After>,
    ) -> Result<Vec<CustomerUser>> {
        let key = user_column(match q.sort {
            UserSortField::UserPrincipalName => UserTextField::UserPrincipalName,
            UserSortField::DisplayName => UserTextField::DisplayName,
        });
        let rows = users_query(customer, q).fetch(self, key, q.direction, after, q.size)?;
        rows.iter().map(user_from).collect()
    }

    /// How many users the list `q` holds (its state and search; not its size).
    pub fn count_matching_users(&mut self, customer: CustomerId, q: &UserListQuery) -> Result<i64> {
        users_query(customer, q).count(self)
    }

    /// How many users of a customer are in `state` (one index range: the active UPN index
    /// for active users, the tenant's rows otherwise).
    pub fn count_customer_users(
        &mut self,
        customer: CustomerId,
        state: roster_domain::customer_user::UserState,
    ) -> Result<i64> {
        let row = self.query_one(
            "SELECT COUNT(*) AS n FROM users WHERE tenant_id = $1 AND state = $2",
            &[
                Param::from(customer.to_string()),
                Param::from(state.as_str()),
            ],
        )?;
        rows::int(&row, "n")
    }

    /// Soft-deleted users whose deletion is older than `cutoff`, oldest first.
    pub fn users_deleted_before(
        &mut self,
        cutoff: Timestamp,
        limit: u32,
    ) -> Result<Vec<CustomerUser>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE state = 'inactive' AND soft_deleted_at < $1 \
             ORDER BY soft_deleted_at, id LIMIT $2"
        );
        let rows = self.sql.query(
            &sql,
            &[
                Param::from(cutoff.unix_millis()),
                Param::from(i64::from(limit)),
            ],
        )?;
        rows.iter().map(user_from).collect()
    }

    /// Deletes a soft-deleted user for good. Returns whether it was still there.
    pub fn purge_user(&mut self, id: UserId) -> Result<bool> {
        let done = self.sql.execute(
            "DELETE FROM users WHERE id = $1 AND state = 'inactive'",
            &[Param::from(id.to_string())],
        )?;
        if done == 1 {
            self.sql.execute(
                "DELETE FROM sign_in_throttles WHERE subject = $1",
                &[Param::from(id.to_string())],
            )?;
        }
        Ok(done == 1)
    }
}

fn user_column(field: UserTextField) -> &'static str {
    match field {
        UserTextField::UserPrincipalName => "upn_key",
        UserTextField::DisplayName => "display_name_key",
    }
}

/// The users of a customer in the list's state, with its search.
fn users_query(customer: CustomerId, q: &UserListQuery) -> rows::PageQuery {
    let mut params = rows::Params::default();
    let from_where = format!(
        "FROM users WHERE tenant_id = {} AND state = {}",
        params.add(customer.to_string()),
        params.add(q.state.as_str().to_string())
    );
    let mut page = rows::PageQuery::new(USER_COLUMNS, from_where, params);
    if let Some(f) = &q.search {
        page.search(user_column(f.field), f.op, &f.value);
    }
    page
}
