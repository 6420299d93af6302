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
        let country = {
            let mut r = self.store().reader().await?;
            r.db()
                .partner_country(ctx.actor.partner)
                .await?
                .ok_or(ServiceError::internal("the caller's partner is missing"))?
        };
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
        let mut tx = self.store().write().await?;
        match tx.db().insert_customer(&customer).await {
            Err(StoreError::Conflict) => {
                return Err(ServiceError::DomainTaken(customer.domain.to_string()))
            }
            other => other?,
        }
        let record = self.audit(
            Some(ctx),
            ctx.actor.partner,
            Some(customer.id),
            OperationType::CreateCustomer,
            customer.id.to_string(),
            customer_json(&customer),
        );
        tx.db().insert_audit(&record).await?;
        tx.commit().await?;
        Ok(customer)
    }

    /// A customer the caller sees: through a customer-viewing partner role, through
    /// effective directory roles in it (access.md: granular or legacy delegated access), or
    /// as one of its own users.
    pub async fn get_customer(&self, ctx: &Ctx, id: CustomerId) -> Result<Customer> {
        let mut r = self.store().reader().await?;
        self.customer_for(&mut r.db(), ctx, id, Action::ViewCustomers)
            .await
    }

    /// For a caller without a customer-viewing role: the customers where it holds directory
    /// roles through active delegated admin relationships, by company name, in one page.
    /// A caller with none is refused (403), as before.
    async fn customers_by_delegation(&self, ctx: &Ctx, size: u32) -> Result<Page<Customer>> {
        let mut r = self.store().reader().await?;
        let granted = self.granular_roles(&mut r.db(), ctx, None).await?;
        let mut items = Vec::new();
        for (id, roles) in granted {
            if roles.is_empty() {
                continue;
            }
            if let Some(c) = r.db().customer(ctx.actor.partner, id).await? {
                items.push(c);
            }
        }
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
        let mut r = self.store().reader().await?;
        let mut items = r
            .db()
            .list_customers(ctx.actor.partner, &query, after.as_ref())
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
        let customer = self.get_customer(ctx, id).await?;
        let mut r = self.store().reader().await?;
        Ok(r.db().tenant_domains(&customer.id.to_string()).await?)
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
        let mut tx = self.store().write().await?;
        let customer = self
            .customer_for(&mut tx.db(), ctx, id, Action::EditCustomer)
            .await?;
        let domain = TenantDomain { name, kind };
        match tx
            .db()
            .insert_domain(&customer.id.to_string(), &domain, self.now())
            .await
        {
            Err(StoreError::Conflict) => {
                return Err(ServiceError::DomainTaken(domain.name.to_string()))
            }
            other => other?,
        }
        let record = self.audit(
            Some(ctx),
            ctx.actor.partner,
            Some(customer.id),
            OperationType::AddCustomerDomain,
            domain.name.to_string(),
            json!({"name": domain.name.as_str(), "authenticationType": domain.kind.as_str()}),
        );
        tx.db().insert_audit(&record).await?;
        tx.commit().await?;
        Ok(domain)
    }
}
