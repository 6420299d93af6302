//! Licences: the product catalogue, a customer's seats and a user's licences.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::common::*;

/// A product (SKU) as Partner Center nests it in subscribed SKUs and licences.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProductSkuBody {
    pub id: String,
    pub name: String,
    pub sku_part_number: String,
    /// `User` or `Tenant` (absent on a user's licence, as in Partner Center).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    /// `group1` or `group2`.
    pub license_group_id: String,
}

impl ProductSkuBody {
    pub fn of(p: &roster_domain::licence::Product, with_target: bool) -> Self {
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            sku_part_number: p.sku_part_number.clone(),
            target_type: with_target.then(|| p.target_type.clone()),
            license_group_id: p.license_group.as_str().into(),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlanBody {
    pub display_name: String,
    pub service_name: String,
    pub id: String,
    /// `Enabled` on products and subscribed SKUs, `Assigned` on a user's licence.
    pub capability_status: String,
    pub target_type: String,
}

impl ServicePlanBody {
    pub fn of(p: &roster_domain::licence::ServicePlan, status: &str) -> Self {
        Self {
            display_name: p.display_name.clone(),
            service_name: p.service_name.clone(),
            id: p.id.clone(),
            capability_status: status.into(),
            target_type: p.target_type.clone(),
        }
    }
}

/// A product of the catalogue (`GET /v1/productskus`, Roster's own).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CatalogueProductBody {
    pub id: String,
    pub name: String,
    pub sku_part_number: String,
    pub target_type: String,
    pub license_group_id: String,
    pub service_plans: Vec<ServicePlanBody>,
    pub attributes: Attributes,
}

impl CatalogueProductBody {
    pub fn of(p: &roster_domain::licence::Product) -> Self {
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            sku_part_number: p.sku_part_number.clone(),
            target_type: p.target_type.clone(),
            license_group_id: p.license_group.as_str().into(),
            service_plans: p
                .service_plans
                .iter()
                .map(|s| ServicePlanBody::of(s, "Enabled"))
                .collect(),
            attributes: Attributes::of("ProductSku"),
        }
    }
}

/// A customer's seats of one product.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSkuBody {
    /// totalUnits − consumedUnits.
    pub available_units: i64,
    pub active_units: i64,
    pub consumed_units: i64,
    pub suspended_units: i64,
    /// Active and warning units.
    pub total_units: i64,
    pub warning_units: i64,
    pub product_sku: ProductSkuBody,
    pub service_plans: Vec<ServicePlanBody>,
    pub capability_status: String,
    pub attributes: Attributes,
}

impl SubscribedSkuBody {
    pub fn of(s: &roster_domain::licence::SubscribedSkuView) -> Self {
        Self {
            available_units: s.available(),
            active_units: s.seats.active(),
            consumed_units: s.consumed,
            suspended_units: s.seats.suspended,
            total_units: s.seats.total,
            warning_units: s.seats.warning,
            product_sku: ProductSkuBody::of(&s.product, true),
            service_plans: s
                .product
                .service_plans
                .iter()
                .map(|p| ServicePlanBody::of(p, "Enabled"))
                .collect(),
            capability_status: "Enabled".into(),
            attributes: Attributes::of("SubscribedSku"),
        }
    }
}

/// A licence a user holds: its service plans without the excluded ones.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LicenseBody {
    pub service_plans: Vec<ServicePlanBody>,
    pub product_sku: ProductSkuBody,
    pub attributes: Attributes,
}

impl LicenseBody {
    pub fn of(l: &roster_domain::licence::LicenceView) -> Self {
        Self {
            service_plans: l
                .product
                .service_plans
                .iter()
                .filter(|p| !l.excluded_plans.contains(&p.id))
                .map(|p| ServicePlanBody::of(p, "Assigned"))
                .collect(),
            product_sku: ProductSkuBody::of(&l.product, false),
            attributes: Attributes::of("License"),
        }
    }
}

/// A customer's seats.
pub type SubscribedSkuCollection = Collection<SubscribedSkuBody>;

impl CollectionItem for SubscribedSkuBody {
    const COLLECTION: &'static str = "SubscribedSkuCollection";
    const DESCRIPTION: &'static str = "A customer's seats.";
}
/// A user's licences.
pub type LicenseCollection = Collection<LicenseBody>;

impl CollectionItem for LicenseBody {
    const COLLECTION: &'static str = "LicenseCollection";
    const DESCRIPTION: &'static str = "A user's licences.";
}
/// The product catalogue.
pub type CatalogueCollection = Collection<CatalogueProductBody>;

impl CollectionItem for CatalogueProductBody {
    const COLLECTION: &'static str = "CatalogueCollection";
    const DESCRIPTION: &'static str = "The product catalogue.";
}

/// Seats of one product for a customer (Roster's own).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SeatsRequest {
    #[serde(default, deserialize_with = "crate::object::whole_number")]
    pub total_units: Option<i64>,
    #[serde(default, deserialize_with = "crate::object::whole_number")]
    pub suspended_units: Option<i64>,
    #[serde(default, deserialize_with = "crate::object::whole_number")]
    pub warning_units: Option<i64>,
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct LicenseAssignmentBody {
    pub sku_id: Option<String>,
    /// Service plan ids to leave off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded_plans: Option<Vec<String>>,
}

/// Licences to assign and to remove, in one licence group.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct LicenseUpdateRequest {
    pub licenses_to_assign: Option<Vec<LicenseAssignmentBody>>,
    /// Product SKU ids.
    pub licenses_to_remove: Option<Vec<String>>,
}

impl LicenseUpdateRequest {
    pub fn into_input(self) -> roster_domain::licence::LicenceUpdateInput {
        roster_domain::licence::LicenceUpdateInput {
            assign: self.licenses_to_assign.map(|list| {
                list.into_iter()
                    .map(|a| roster_domain::licence::AssignInput {
                        sku_id: a.sku_id,
                        excluded_plans: a.excluded_plans,
                    })
                    .collect()
            }),
            remove: self.licenses_to_remove,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LicenseWarningBody {
    pub code: String,
    pub message: String,
    pub service_plans: Vec<String>,
}

/// The licence update as done.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LicenseUpdateBody {
    pub licenses_to_assign: Vec<LicenseAssignmentBody>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses_to_remove: Vec<String>,
    pub license_warnings: Vec<LicenseWarningBody>,
    pub attributes: Attributes,
}

impl LicenseUpdateBody {
    pub fn of(u: &roster_domain::licence::LicenceUpdate) -> Self {
        Self {
            licenses_to_assign: u
                .assign
                .iter()
                .map(|a| LicenseAssignmentBody {
                    sku_id: Some(a.sku_id.clone()),
                    excluded_plans: (!a.excluded_plans.is_empty())
                        .then(|| a.excluded_plans.clone()),
                })
                .collect(),
            licenses_to_remove: u.remove.clone(),
            license_warnings: Vec::new(),
            attributes: Attributes::of("LicenseUpdate"),
        }
    }
}
