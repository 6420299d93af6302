//! Customers: create, read, list, and add domains.

use roster_domain::audit::OperationType;
use roster_domain::authz::{Action, Principal};
use roster_domain::customer::{Customer, DomainKind, NewCustomer, NewCustomerInput, TenantDomain};
use roster_domain::listing::{sort_key, After, CustomerListQuery};
use roster_domain::{CustomerId, DomainName, Invalid};
use roster_store::StoreError;
use serde_json::json;

use crate::paging::{self, ListRequest};
use crate::{Ctx, Page, Result, Roster, ServiceError};

fn customer_json(c: &Customer) -> serde_json::Value {
    json!({
        "id": c.id.to_string(),
        "companyName": c.company_name,
        "domain": c.domain.as_str(),
        "country": c.country.as_str(),
        "allowDelegatedAccess": c.allow_delegated_access,
    })
}

impl Roster {
    pub async fn create_customer(&self, ctx: &Ctx, input: &NewCustomerInput) -> Result<Customer> {
        self.allow(ctx, Action::CreateCustomer)?;
        let partner = ctx.actor.partner;
        let country = self
            .store()
            .read_job(move |db| {
                db.partner_country(partner)?
                    .ok_or(ServiceError::internal("the caller's partner is missing"))
            })
            .await?;
        let new = NewCustomer::validate(input, country)?;
        let customer = Customer {
            id: CustomerId::new_random(),
            partner: ctx.actor.partner,
            company_name: new.company_name,
            domain: new.domain,
            country: new.country,
            billing: new.billing,
            allow_delegated_access: true,
            created_at: self.now(),
        };
        let record = self.audit(
            Some(ctx),
            ctx.actor.partner,
            Some(customer.id),
            OperationType::CreateCustomer,
            customer.id.to_string(),
            customer_json(&customer),
        );
        let row = customer.clone();
        self.store()
            .write_job(move |db| -> Result<()> {
                match db.insert_customer(&row) {
                    Err(StoreError::Conflict) => {
                        return Err(ServiceError::DomainTaken(row.domain.to_string()))
                    }
                    other => other?,
                }
                db.insert_audit(&record)?;
                Ok(())
            })
            .await?;
        Ok(customer)
    }

    /// A customer the caller sees: through a customer-viewing partner role, through
    /// effective directory roles in it (access.md: granular or legacy delegated access), or
    /// as one of its own users.
    pub async fn get_customer(&self, ctx: &Ctx, id: CustomerId) -> Result<Customer> {
        let (roster, ctx) = (self.clone(), ctx.clone());
        self.store()
            .read_job(move |db| roster.customer_for(db, &ctx, id, Action::ViewCustomers))
            .await
    }

    /// For a caller without a customer-viewing role: the customers where it holds directory
    /// roles through active delegated admin relationships, by company name, in one page.
    /// A caller with none is refused (403), as before.
    async fn customers_by_delegation(&self, ctx: &Ctx, size: u32) -> Result<Page<Customer>> {
        let (roster, job_ctx) = (self.clone(), ctx.clone());
        let mut items = self
            .store()
            .read_job(move |db| -> Result<_> {
                let granted = roster.granular_roles(db, &job_ctx, None)?;
                let mut items = Vec::new();
                for (id, roles) in granted {
                    if roles.is_empty() {
                        continue;
                    }
                    if let Some(c) = db.customer(job_ctx.actor.partner, id)? {
                        items.push(c);
                    }
                }
                Ok(items)
            })
            .await?;
        if items.is_empty() {
            return Err(crate::forbidden());
        }
        items.sort_by(|a, b| {
            (sort_key(&a.company_name), a.id.to_string())
                .cmp(&(sort_key(&b.company_name), b.id.to_string()))
        });
        items.truncate(size as usize);
        Ok(Page {
            items,
            continuation: None,
        })
    }

    pub async fn list_customers(
        &self,
        ctx: &Ctx,
        request: ListRequest<CustomerListQuery>,
    ) -> Result<Page<Customer>> {
        if let Principal::CustomerUser { customer, .. } = ctx.actor.principal {
            // A customer user sees its own customer and no other.
            return Ok(Page {
                items: vec![self.get_customer(ctx, customer).await?],
                continuation: None,
            });
        }
        if self.allow(ctx, Action::ViewCustomers).is_err() {
            let size = match &request {
                ListRequest::First(q) => q.size,
                ListRequest::Next(_) => return Err(crate::forbidden()),
            };
            return self.customers_by_delegation(ctx, size).await;
        }
        let scope = ctx.actor.partner.to_string();
        let (query, after) = match request {
            ListRequest::First(q) => (q, None),
            ListRequest::Next(token) => {
                let (q, a) = paging::open_customers(
                    &self
                        .key_for(&token)
                        .await
                        .ok_or_else(paging::invalid_token)?,
                    &scope,
                    &token,
                )?;
                (q, Some(a))
            }
        };
        let (partner, q) = (ctx.actor.partner, query.clone());
        let mut items = self
            .store()
            .read_job(move |db| -> Result<_> {
                Ok(db.list_customers(partner, &q, after.as_ref())?)
            })
            .await?;
        let continuation = if items.len() > query.size as usize {
            items.truncate(query.size as usize);
            items.last().map(|last| {
                let after = After {
                    key: sort_key(&last.company_name),
                    id: last.id.to_string(),
                };
                paging::seal_customers(self.keys().current(), &scope, &query, after)
            })
        } else {
            None
        };
        Ok(Page {
            items,
            continuation,
        })
    }

    /// The domains of a customer, initial domain first.
    pub async fn customer_domains(&self, ctx: &Ctx, id: CustomerId) -> Result<Vec<TenantDomain>> {
        let (roster, ctx) = (self.clone(), ctx.clone());
        self.store()
            .read_job(move |db| {
                let customer = roster.customer_for(db, &ctx, id, Action::ViewCustomers)?;
                Ok(db.tenant_domains(&customer.id.to_string())?)
            })
            .await
    }

    /// Adds a `managed` or `federated` domain to a customer.
    pub async fn add_customer_domain(
        &self,
        ctx: &Ctx,
        id: CustomerId,
        name: Option<&str>,
        kind: Option<&str>,
    ) -> Result<TenantDomain> {
        let mut bad = Invalid::default();
        let name = bad.check("name", DomainName::parse(name.unwrap_or("")));
        let kind = match kind.map(DomainKind::parse) {
            None => Some(DomainKind::Managed),
            Some(Some(k @ (DomainKind::Managed | DomainKind::Federated))) => Some(k),
            Some(_) => {
                bad.push("authenticationType", "must be managed or federated");
                None
            }
        };
        let (Some(name), Some(kind)) = (name, kind) else {
            return Err(bad.into());
        };
        let domain = TenantDomain { name, kind };
        let record = self.audit(
            Some(ctx),
            ctx.actor.partner,
            Some(id),
            OperationType::AddCustomerDomain,
            domain.name.to_string(),
            json!({"name": domain.name.as_str(), "authenticationType": domain.kind.as_str()}),
        );
        let (row, now) = (domain.clone(), self.now());
        self.write_in_customer(ctx, id, Action::EditCustomer, move |db, customer| {
            match db.insert_domain(&customer.id.to_string(), &row, now) {
                Err(StoreError::Conflict) => {
                    return Err(ServiceError::DomainTaken(row.name.to_string()))
                }
                other => other?,
            }
            db.insert_audit(&record)?;
            Ok(())
        })
        .await?;
        Ok(domain)
    }
}
