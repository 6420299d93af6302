//! Customers (Partner Center's Customer), their profiles and their domains.

use roster_domain::customer::{Customer, NewCustomerInput, TenantDomain};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::common::*;

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CompanyProfile {
    pub tenant_id: String,
    pub domain: String,
    pub company_name: String,
    pub attributes: Attributes,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub country: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_line1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BillingProfile {
    pub company_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub culture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub default_address: Address,
    pub attributes: Attributes,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CustomerBody {
    /// The customer's tenant id.
    pub id: String,
    pub company_profile: CompanyProfile,
    pub billing_profile: BillingProfile,
    /// Always `reseller`.
    pub relationship_to_partner: String,
    /// Whether the partner's agents have legacy delegated admin access.
    pub allow_delegated_access: bool,
    // Partner Center leaves them out of some answers; Roster always sends them.
    #[serde(default)]
    #[schema(required = true)]
    pub links: SelfLinks,
    pub attributes: Attributes,
}

impl CustomerBody {
    pub fn of(c: &Customer) -> Self {
        let b = &c.billing;
        Self {
            id: c.id.to_string(),
            company_profile: CompanyProfile {
                tenant_id: c.id.to_string(),
                domain: c.domain.to_string(),
                company_name: c.company_name.clone(),
                attributes: Attributes::of("CustomerCompanyProfile"),
            },
            billing_profile: BillingProfile {
                company_name: c.company_name.clone(),
                email: b.email.clone(),
                culture: b.culture.clone(),
                language: b.language.clone(),
                default_address: Address {
                    country: c.country.as_str().into(),
                    region: b.region.clone(),
                    city: b.city.clone(),
                    address_line1: b.address_line1.clone(),
                    postal_code: b.postal_code.clone(),
                    phone_number: b.phone_number.clone(),
                },
                attributes: Attributes::of("CustomerBillingProfile"),
            },
            relationship_to_partner: "reseller".into(),
            allow_delegated_access: c.allow_delegated_access,
            links: SelfLinks {
                self_: Link::get(format!("/customers/{}", c.id)),
            },
            attributes: Attributes::of("Customer"),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CompanyProfileRequest {
    /// Required and unique across the server: the customer's initial domain.
    pub domain: Option<String>,
    pub company_name: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct AddressRequest {
    /// ISO 3166-1 alpha-2; defaults to the partner's country.
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub address_line1: Option<String>,
    pub postal_code: Option<String>,
    pub phone_number: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct BillingProfileRequest {
    pub company_name: Option<String>,
    pub email: Option<String>,
    pub culture: Option<String>,
    pub language: Option<String>,
    #[serde(default, deserialize_with = "crate::object::object")]
    pub default_address: Option<AddressRequest>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRequest {
    #[serde(default, deserialize_with = "crate::object::object")]
    pub company_profile: Option<CompanyProfileRequest>,
    #[serde(default, deserialize_with = "crate::object::object")]
    pub billing_profile: Option<BillingProfileRequest>,
}

impl CustomerRequest {
    pub fn into_input(self) -> NewCustomerInput {
        let company = self.company_profile.unwrap_or_default();
        let billing = self.billing_profile.unwrap_or_default();
        let address = billing.default_address.unwrap_or_default();
        NewCustomerInput {
            domain: company.domain,
            company_name: company.company_name,
            billing_company_name: billing.company_name,
            country: address.country,
            billing: roster_domain::customer::BillingProfile {
                email: billing.email,
                culture: billing.culture,
                language: billing.language,
                region: address.region,
                city: address.city,
                address_line1: address.address_line1,
                postal_code: address.postal_code,
                phone_number: address.phone_number,
            },
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DomainBody {
    pub name: String,
    /// `initial`, `managed` or `federated`.
    pub authentication_type: String,
    pub attributes: Attributes,
}

impl DomainBody {
    pub fn of(d: &TenantDomain) -> Self {
        Self {
            name: d.name.to_string(),
            authentication_type: d.kind.as_str().into(),
            attributes: Attributes::of("Domain"),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DomainRequest {
    pub name: Option<String>,
    /// `managed` (default) or `federated`.
    pub authentication_type: Option<String>,
}

/// A page of customers.
pub type CustomerCollection = Collection<CustomerBody>;

impl CollectionItem for CustomerBody {
    const COLLECTION: &'static str = "CustomerCollection";
    const DESCRIPTION: &'static str = "A page of customers.";
}

/// A customer's domains.
pub type DomainCollection = Collection<DomainBody>;

impl CollectionItem for DomainBody {
    const COLLECTION: &'static str = "DomainCollection";
    const DESCRIPTION: &'static str = "A customer's domains.";
}
