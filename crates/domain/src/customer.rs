//! Customers: tenants that a partner resells to, and the domains users live on.

use crate::country::CountryCode;
use crate::ids::{CustomerId, PartnerId};
use crate::text;
use crate::time::Timestamp;
use crate::upn::DomainName;
use crate::validation::Invalid;

/// How a domain of a tenant authenticates its users.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DomainKind {
    /// The domain the tenant was created with (`userDomainType` `none`).
    Initial,
    Managed,
    Federated,
}

impl DomainKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "initial",
            Self::Managed => "managed",
            Self::Federated => "federated",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "initial" => Some(Self::Initial),
            "managed" => Some(Self::Managed),
            "federated" => Some(Self::Federated),
            _ => None,
        }
    }
}

/// A domain of a tenant.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TenantDomain {
    pub name: DomainName,
    pub kind: DomainKind,
}

/// Billing details as Partner Center keeps them; all optional but the country.
#[derive(Clone, PartialEq, Eq, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct BillingProfile {
    pub email: Option<String>,
    pub culture: Option<String>,
    pub language: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub address_line1: Option<String>,
    pub postal_code: Option<String>,
    pub phone_number: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Customer {
    pub id: CustomerId,
    pub partner: PartnerId,
    pub company_name: String,
    /// The initial domain, given at creation.
    pub domain: DomainName,
    pub country: CountryCode,
    pub billing: BillingProfile,
    /// Legacy delegated admin access for the partner's agents (on by default).
    pub allow_delegated_access: bool,
    pub created_at: Timestamp,
}

/// A customer as a client asks for it, before validation.
#[derive(Clone, Debug, Default)]
pub struct NewCustomerInput {
    pub domain: Option<String>,
    pub company_name: Option<String>,
    pub billing_company_name: Option<String>,
    pub country: Option<String>,
    /// As sent, before validation.
    pub billing: BillingProfile,
}

/// A valid new customer.
#[derive(Clone, Debug)]
pub struct NewCustomer {
    pub domain: DomainName,
    pub company_name: String,
    pub country: CountryCode,
    pub billing: BillingProfile,
}

pub const COMPANY_NAME_MAX: usize = 256;

impl NewCustomer {
    /// Validates every property; `default_country` is the partner's.
    pub fn validate(
        input: &NewCustomerInput,
        default_country: CountryCode,
    ) -> Result<Self, Invalid> {
        let mut bad = Invalid::default();
        let domain = bad.check(
            "companyProfile.domain",
            DomainName::parse(input.domain.as_deref().unwrap_or("")),
        );
        let name_source = input
            .company_name
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| ("companyProfile.companyName", s))
            .or_else(|| {
                input
                    .billing_company_name
                    .as_deref()
                    .map(|s| ("billingProfile.companyName", s))
            });
        let company_name = match name_source {
            Some((field, raw)) => bad.check(field, text::bounded(raw, COMPANY_NAME_MAX, true)),
            None => {
                bad.push(
                    "companyProfile.companyName",
                    "is required: give the company name in companyProfile.companyName or billingProfile.companyName",
                );
                None
            }
        };
        let country = match input.country.as_deref() {
            None => Some(default_country),
            Some(raw) => bad.check(
                "billingProfile.defaultAddress.country",
                CountryCode::parse(raw),
            ),
        };
        let b = &input.billing;
        let mut opt = |field: &str, raw: &Option<String>, max: usize| {
            bad.check(field, text::optional(raw.as_deref(), max))
                .flatten()
        };
        let billing = BillingProfile {
            email: opt("billingProfile.email", &b.email, 256),
            culture: opt("billingProfile.culture", &b.culture, 35),
            language: opt("billingProfile.language", &b.language, 35),
            region: opt("billingProfile.defaultAddress.region", &b.region, 128),
            city: opt("billingProfile.defaultAddress.city", &b.city, 128),
            address_line1: opt(
                "billingProfile.defaultAddress.addressLine1",
                &b.address_line1,
                256,
            ),
            postal_code: opt(
                "billingProfile.defaultAddress.postalCode",
                &b.postal_code,
                40,
            ),
            phone_number: opt(
                "billingProfile.defaultAddress.phoneNumber",
                &b.phone_number,
                64,
            ),
        };
        if let Some(email) = &billing.email {
            if !crate::upn::looks_like_email(email) {
                bad.push(
                    "billingProfile.email",
                    format!("'{email}' is not an email address such as billing@contoso.com"),
                );
            }
        }
        match (domain, company_name, country) {
            (Some(domain), Some(company_name), Some(country)) if bad.is_empty() => Ok(Self {
                domain,
                company_name,
                country,
                billing,
            }),
            _ => Err(bad),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> CountryCode {
        CountryCode::parse("US").unwrap()
    }

    #[test]
    fn minimal_customer() {
        let input = NewCustomerInput {
            domain: Some("Contoso.OnMicrosoft.com".into()),
            company_name: Some(" Contoso ".into()),
            ..Default::default()
        };
        let c = NewCustomer::validate(&input, us()).unwrap();
        assert_eq!(c.domain.as_str(), "contoso.onmicrosoft.com");
        assert_eq!(c.company_name, "Contoso");
        assert_eq!(c.country.as_str(), "US");
    }

    #[test]
    fn company_name_from_billing_profile() {
        let input = NewCustomerInput {
            domain: Some("fabrikam.com".into()),
            billing_company_name: Some("Fabrikam".into()),
            country: Some("de".into()),
            ..Default::default()
        };
        let c = NewCustomer::validate(&input, us()).unwrap();
        assert_eq!(c.company_name, "Fabrikam");
        assert_eq!(c.country.as_str(), "DE");
    }

    #[test]
    fn every_failure_is_reported() {
        let input = NewCustomerInput {
            domain: Some("not a domain".into()),
            company_name: None,
            country: Some("XX".into()),
            billing: BillingProfile {
                email: Some("nope".into()),
                postal_code: Some("1".repeat(41)),
                ..Default::default()
            },
            ..Default::default()
        };
        let err = NewCustomer::validate(&input, us()).unwrap_err();
        assert_eq!(
            err.fields(),
            vec![
                "companyProfile.domain",
                "companyProfile.companyName",
                "billingProfile.defaultAddress.country",
                "billingProfile.defaultAddress.postalCode",
                "billingProfile.email",
            ]
        );
    }
}
