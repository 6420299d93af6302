//! Customers, and the partner's own tenant: both are rows of `tenants`, with their domains.

use roster_domain::country::CountryCode;
use roster_domain::customer::{BillingProfile, Customer, DomainKind, TenantDomain};
use roster_domain::listing::{After, CustomerListQuery, CustomerTextField, SortDirection};
use roster_domain::{CustomerId, DomainName, PartnerId, Timestamp};

use crate::rows::Param;
use crate::rows::{self, corrupt};
use crate::sql::SyncDb;
use crate::Result;

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

impl SyncDb<'_> {
    pub fn insert_partner(&mut self, p: &NewPartner, now: Timestamp) -> Result<()> {
        self.sql.execute("INSERT INTO tenants (id, kind, partner_id, company_name, company_name_key, domain, country, billing, allow_delegated_access, created_at) \
             VALUES ($1, 'partner', NULL, $2, $3, $4, $5, '{}', 0, $6)", &[Param::from(p.id.to_string()), Param::from(&p.company_name), Param::from(roster_domain::listing::sort_key(&p.company_name)), Param::from(p.domain.as_str()), Param::from(p.country.as_str()), Param::from(now.unix_millis())])?;
        self.insert_domain(
            &p.id.to_string(),
            &TenantDomain {
                name: p.domain.clone(),
                kind: DomainKind::Initial,
            },
            now,
        )
    }

    /// The partner that the first start created, if any.
    pub fn first_partner(&mut self) -> Result<Option<(PartnerId, CountryCode)>> {
        let row = self.query_opt("SELECT id, country FROM tenants WHERE kind = 'partner' ORDER BY created_at, id LIMIT 1", &[])?;
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
    pub fn lock_partner_accounts(&mut self, partner: PartnerId) -> Result<()> {
        let sql = format!(
            "SELECT id FROM tenants WHERE id = $1 AND kind = 'partner'{}",
            crate::dialect::for_update(self.backend())
        );
        self.query_opt(&sql, &[Param::from(partner.to_string())])?;
        Ok(())
    }

    pub fn partner_country(&mut self, partner: PartnerId) -> Result<Option<CountryCode>> {
        let row = self.query_opt(
            "SELECT country FROM tenants WHERE id = $1 AND kind = 'partner'",
            &[Param::from(partner.to_string())],
        )?;
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
    pub fn insert_customer(&mut self, c: &Customer) -> Result<()> {
        let billing =
            serde_json::to_string(&c.billing).map_err(|e| corrupt("billing", &e.to_string()))?;
        // The domain first: its primary key is the uniqueness rule that can fail.
        self.sql.execute("INSERT INTO tenants (id, kind, partner_id, company_name, company_name_key, domain, country, billing, allow_delegated_access, created_at) \
             VALUES ($1, 'customer', $2, $3, $4, $5, $6, $7, $8, $9)", &[Param::from(c.id.to_string()), Param::from(c.partner.to_string()), Param::from(&c.company_name), Param::from(roster_domain::listing::sort_key(&c.company_name)), Param::from(c.domain.as_str()), Param::from(c.country.as_str()), Param::from(billing), Param::from(i64::from(c.allow_delegated_access)), Param::from(c.created_at.unix_millis())])?;
        self.insert_domain(
            &c.id.to_string(),
            &TenantDomain {
                name: c.domain.clone(),
                kind: DomainKind::Initial,
            },
            c.created_at,
        )
    }

    /// A customer of `partner`; `None` for an unknown id or another partner's customer.
    pub fn customer(&mut self, partner: PartnerId, id: CustomerId) -> Result<Option<Customer>> {
        let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM tenants WHERE id = $1 AND partner_id = $2 AND kind = 'customer'");
        let row = self.query_opt(
            &sql,
            &[
                Param::from(id.to_string()),
                Param::from(partner.to_string()),
            ],
        )?;
        row.as_ref().map(customer_from).transpose()
    }

    /// One page of `partner`'s customers by company name; asks for one more row than the
    /// page holds so that the caller knows whether a next page exists.
    pub fn list_customers(
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
        let rows = page.fetch(
            self,
            "company_name_key",
            SortDirection::Ascending,
            after,
            q.size,
        )?;
        rows.iter().map(customer_from).collect()
    }

    /// Adds a domain to a tenant. `Conflict` when any tenant already has it.
    pub fn insert_domain(&mut self, tenant: &str, d: &TenantDomain, now: Timestamp) -> Result<()> {
        self.sql.execute(
            "INSERT INTO domains (name, tenant_id, kind, created_at) VALUES ($1, $2, $3, $4)",
            &[
                Param::from(d.name.as_str()),
                Param::from(tenant),
                Param::from(d.kind.as_str()),
                Param::from(now.unix_millis()),
            ],
        )?;
        Ok(())
    }

    pub fn tenant_domains(&mut self, tenant: &str) -> Result<Vec<TenantDomain>> {
        let rows = self.sql.query(
            "SELECT name, kind FROM domains WHERE tenant_id = $1 \
             ORDER BY CASE kind WHEN 'initial' THEN 0 ELSE 1 END, created_at, name",
            &[Param::from(tenant)],
        )?;
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
    pub fn tenant_of_domain(&mut self, domain: &DomainName) -> Result<Option<String>> {
        let row = self.query_opt(
            "SELECT tenant_id FROM domains WHERE name = $1",
            &[Param::from(domain.as_str())],
        )?;
        row.as_ref().map(|r| rows::text(r, "tenant_id")).transpose()
    }
}

impl SyncDb<'_> {
    /// The partner a customer belongs to.
    pub fn partner_of_customer(&mut self, customer: CustomerId) -> Result<Option<PartnerId>> {
        let row = self.query_opt(
            "SELECT partner_id FROM tenants WHERE id = $1 AND kind = 'customer'",
            &[Param::from(customer.to_string())],
        )?;
        row.as_ref()
            .map(|r| rows::partner_id(r, "partner_id"))
            .transpose()
    }
}
