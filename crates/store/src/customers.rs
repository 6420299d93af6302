//! Customers, and the partner's own tenant: both are rows of `tenants`, with their domains.

use roster_domain::country::CountryCode;
use roster_domain::customer::{BillingProfile, Customer, DomainKind, TenantDomain};
use roster_domain::listing::{After, CustomerListQuery, CustomerTextField, SortDirection};
use roster_domain::{CustomerId, DomainName, PartnerId, Timestamp};

use crate::rows::{self, corrupt};
use crate::{Db, Result};

const CUSTOMER_COLUMNS: &str =
    "id, partner_id, company_name, domain, country, billing, allow_delegated_access, created_at";

fn customer_from(row: &impl rows::Columns) -> Result<Customer> {
    let domain = rows::text(row, "domain")?;
    let country = rows::text(row, "country")?;
    let billing = rows::text(row, "billing")?;
    Ok(Customer {
        id: rows::customer_id(row, "id")?,
        partner: rows::partner_id(row, "partner_id")?,
        company_name: rows::text(row, "company_name")?,
        domain: DomainName::parse(&domain).map_err(|_| corrupt("tenants.domain", &domain))?,
        country: CountryCode::parse(&country).map_err(|_| corrupt("tenants.country", &country))?,
        billing: serde_json::from_str::<BillingProfile>(&billing)
            .map_err(|_| corrupt("tenants.billing", &billing))?,
        allow_delegated_access: rows::flag(row, "allow_delegated_access")?,
        created_at: rows::time(row, "created_at")?,
    })
}

/// The partner's own tenant, as the bootstrap creates it.
#[derive(Clone, Debug)]
pub struct NewPartner {
    pub id: PartnerId,
    pub company_name: String,
    pub domain: DomainName,
    pub country: CountryCode,
}

impl Db<'_> {
    pub async fn insert_partner(&mut self, p: &NewPartner, now: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO tenants (id, kind, partner_id, company_name, company_name_key, domain, country, billing, allow_delegated_access, created_at) \
             VALUES ($1, 'partner', NULL, $2, $3, $4, $5, '{}', 0, $6)",
        )
        .bind(p.id.to_string())
        .bind(&p.company_name)
        .bind(roster_domain::listing::sort_key(&p.company_name))
        .bind(p.domain.as_str())
        .bind(p.country.as_str())
        .bind(now.unix_millis())
        .execute(&mut *self.conn)
        .await?;
        self.insert_domain(
            &p.id.to_string(),
            &TenantDomain {
                name: p.domain.clone(),
                kind: DomainKind::Initial,
            },
            now,
        )
        .await
    }

    /// The partner that the first start created, if any.
    pub async fn first_partner(&mut self) -> Result<Option<(PartnerId, CountryCode)>> {
        let row = sqlx::query("SELECT id, country FROM tenants WHERE kind = 'partner' ORDER BY created_at, id LIMIT 1")
            .fetch_optional(&mut *self.conn)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => {
                let country = rows::text(&row, "country")?;
                Ok(Some((
                    rows::partner_id(&row, "id")?,
                    CountryCode::parse(&country)
                        .map_err(|_| corrupt("tenants.country", &country))?,
                )))
            }
        }
    }

    /// Serialises the changes of one partner's account access until this transaction ends,
    /// so that rules over all its users ("one active Global admin remains") hold when several
    /// servers change them at once (PostgreSQL; SQLite's writers are serialised already).
    pub async fn lock_partner_accounts(&mut self, partner: PartnerId) -> Result<()> {
        let sql = format!(
            "SELECT id FROM tenants WHERE id = $1 AND kind = 'partner'{}",
            crate::dialect::for_update(self.backend)
        );
        sqlx::query(&sql)
            .bind(partner.to_string())
            .fetch_optional(&mut *self.conn)
            .await?;
        Ok(())
    }

    pub async fn partner_country(&mut self, partner: PartnerId) -> Result<Option<CountryCode>> {
        let row = sqlx::query("SELECT country FROM tenants WHERE id = $1 AND kind = 'partner'")
            .bind(partner.to_string())
            .fetch_optional(&mut *self.conn)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => {
                let c = rows::text(&row, "country")?;
                Ok(Some(
                    CountryCode::parse(&c).map_err(|_| corrupt("tenants.country", &c))?,
                ))
            }
        }
    }

    /// Inserts a customer and its initial domain. `Conflict` when the domain is taken.
    pub async fn insert_customer(&mut self, c: &Customer) -> Result<()> {
        let billing =
            serde_json::to_string(&c.billing).map_err(|e| corrupt("billing", &e.to_string()))?;
        // The domain first: its primary key is the uniqueness rule that can fail.
        sqlx::query(
            "INSERT INTO tenants (id, kind, partner_id, company_name, company_name_key, domain, country, billing, allow_delegated_access, created_at) \
             VALUES ($1, 'customer', $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(c.id.to_string())
        .bind(c.partner.to_string())
        .bind(&c.company_name)
        .bind(roster_domain::listing::sort_key(&c.company_name))
        .bind(c.domain.as_str())
        .bind(c.country.as_str())
        .bind(billing)
        .bind(i64::from(c.allow_delegated_access))
        .bind(c.created_at.unix_millis())
        .execute(&mut *self.conn)
        .await?;
        self.insert_domain(
            &c.id.to_string(),
            &TenantDomain {
                name: c.domain.clone(),
                kind: DomainKind::Initial,
            },
            c.created_at,
        )
        .await
    }

    /// A customer of `partner`; `None` for an unknown id or another partner's customer.
    pub async fn customer(
        &mut self,
        partner: PartnerId,
        id: CustomerId,
    ) -> Result<Option<Customer>> {
        let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM tenants WHERE id = $1 AND partner_id = $2 AND kind = 'customer'");
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .bind(partner.to_string())
            .fetch_optional(&mut *self.conn)
            .await?;
        row.as_ref().map(customer_from).transpose()
    }

    /// One page of `partner`'s customers by company name; asks for one more row than the
    /// page holds so that the caller knows whether a next page exists.
    pub async fn list_customers(
        &mut self,
        partner: PartnerId,
        q: &CustomerListQuery,
        after: Option<&After>,
    ) -> Result<Vec<Customer>> {
        let mut params = rows::Params::default();
        let from_where = format!(
            "FROM tenants WHERE kind = 'customer' AND partner_id = {}",
            params.add(partner.to_string())
        );
        let mut page = rows::PageQuery::new(CUSTOMER_COLUMNS, from_where, params);
        if let Some(f) = &q.search {
            let column = match f.field {
                CustomerTextField::CompanyName => "company_name_key",
                CustomerTextField::Domain => "domain",
            };
            page.search(column, f.op, &f.value);
        }
        let rows = page
            .fetch(
                &mut *self.conn,
                self.backend,
                "company_name_key",
                SortDirection::Ascending,
                after,
                q.size,
            )
            .await?;
        rows.iter().map(customer_from).collect()
    }

    /// Adds a domain to a tenant. `Conflict` when any tenant already has it.
    pub async fn insert_domain(
        &mut self,
        tenant: &str,
        d: &TenantDomain,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO domains (name, tenant_id, kind, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(d.name.as_str())
        .bind(tenant)
        .bind(d.kind.as_str())
        .bind(now.unix_millis())
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    pub async fn tenant_domains(&mut self, tenant: &str) -> Result<Vec<TenantDomain>> {
        let rows = sqlx::query(
            "SELECT name, kind FROM domains WHERE tenant_id = $1 \
             ORDER BY CASE kind WHEN 'initial' THEN 0 ELSE 1 END, created_at, name",
        )
        .bind(tenant)
        .fetch_all(&mut *self.conn)
        .await?;
        rows.iter()
            .map(|row| {
                let name = rows::text(row, "name")?;
                let kind = rows::text(row, "kind")?;
                Ok(TenantDomain {
                    name: DomainName::parse(&name).map_err(|_| corrupt("domains.name", &name))?,
                    kind: DomainKind::parse(&kind).ok_or_else(|| corrupt("domains.kind", &kind))?,
                })
            })
            .collect()
    }

    /// The tenant that holds `domain`, if any.
    pub async fn tenant_of_domain(&mut self, domain: &DomainName) -> Result<Option<String>> {
        let row = sqlx::query("SELECT tenant_id FROM domains WHERE name = $1")
            .bind(domain.as_str())
            .fetch_optional(&mut *self.conn)
            .await?;
        row.as_ref().map(|r| rows::text(r, "tenant_id")).transpose()
    }
}

impl Db<'_> {
    /// The partner a customer belongs to.
    pub async fn partner_of_customer(&mut self, customer: CustomerId) -> Result<Option<PartnerId>> {
        let row = sqlx::query("SELECT partner_id FROM tenants WHERE id = $1 AND kind = 'customer'")
            .bind(customer.to_string())
            .fetch_optional(&mut *self.conn)
            .await?;
        row.as_ref()
            .map(|r| rows::partner_id(r, "partner_id"))
            .transpose()
    }
}
