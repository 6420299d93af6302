//! Licences: the product catalogue, a customer's seats, and the rules of a licence update
//! (directory.md, Licences).

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::validation::Invalid;

/// Which licences a product's are: group1 are managed by the directory, group2 are
/// Minecraft-style products.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum LicenseGroup {
    Group1,
    Group2,
}

impl LicenseGroup {
    pub const ALL: [LicenseGroup; 2] = [Self::Group1, Self::Group2];
    /// The wire value (`group1`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Group1 => "group1",
            Self::Group2 => "group2",
        }
    }
    /// `Group1`, `group1`, in any casing.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServicePlan {
    pub id: String,
    pub service_name: String,
    pub display_name: String,
    pub target_type: String,
}

/// A product (SKU) of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Product {
    /// Lower-case GUID.
    pub id: String,
    pub name: String,
    pub sku_part_number: String,
    pub target_type: String,
    pub license_group: LicenseGroup,
    pub service_plans: Vec<ServicePlan>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProductFile {
    id: String,
    name: String,
    sku_part_number: String,
    target_type: String,
    license_group_id: String,
    service_plans: Vec<ServicePlan>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
    products: Vec<ProductFile>,
}

fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

/// The products a partner can give its customers seats of.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Catalogue {
    products: Vec<Product>,
}

/// The catalogue Roster ships (`crates/domain/data/products.json`).
pub const SHIPPED: &str = include_str!("../data/products.json");

impl Catalogue {
    /// The shipped catalogue.
    pub fn shipped() -> Result<Self, String> {
        Self::parse(SHIPPED).map_err(|e| format!("the shipped product catalogue: {e}"))
    }

    /// A catalogue file (the shipped one's shape): ids are GUIDs, unique, and each
    /// product's service plan ids unique.
    pub fn parse(json: &str) -> Result<Self, String> {
        let file: CatalogueFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let mut products = Vec::with_capacity(file.products.len());
        let mut ids = BTreeSet::new();
        for p in file.products {
            let id = p.id.trim().to_ascii_lowercase();
            let what = format!("product {id} ({})", p.name);
            if !is_guid(&id) {
                return Err(format!("{what}: id is not a GUID"));
            }
            if !ids.insert(id.clone()) {
                return Err(format!("{what}: the id is listed twice"));
            }
            if p.name.trim().is_empty() || p.sku_part_number.trim().is_empty() {
                return Err(format!("{what}: name and skuPartNumber are required"));
            }
            let license_group = LicenseGroup::parse(&p.license_group_id)
                .ok_or_else(|| format!("{what}: licenseGroupId must be group1 or group2"))?;
            let mut plans = BTreeSet::new();
            let mut service_plans = Vec::with_capacity(p.service_plans.len());
            for mut plan in p.service_plans {
                plan.id = plan.id.trim().to_ascii_lowercase();
                if !is_guid(&plan.id) || !plans.insert(plan.id.clone()) {
                    return Err(format!(
                        "{what}: service plan '{}' has no GUID id or is listed twice",
                        plan.id
                    ));
                }
                service_plans.push(plan);
            }
            products.push(Product {
                id,
                name: p.name.trim().to_string(),
                sku_part_number: p.sku_part_number.trim().to_string(),
                target_type: p.target_type,
                license_group,
                service_plans,
            });
        }
        Ok(Self { products })
    }

    /// This catalogue with `other`'s products added; one with an id already here replaces it.
    pub fn extended_with(mut self, other: Catalogue) -> Self {
        for p in other.products {
            match self.products.iter_mut().find(|q| q.id == p.id) {
                Some(q) => *q = p,
                None => self.products.push(p),
            }
        }
        self
    }

    pub fn products(&self) -> &[Product] {
        &self.products
    }

    /// The product with this id (any casing).
    pub fn get(&self, id: &str) -> Option<&Product> {
        let id = id.trim();
        self.products.iter().find(|p| p.id.eq_ignore_ascii_case(id))
    }
}

/// A customer's seats of one product, as the partner set them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Seats {
    /// Usable seats: active + warning.
    pub total: i64,
    pub suspended: i64,
    /// Seats in their grace period (still usable, counted in `total`).
    pub warning: i64,
}

/// The largest seat count Roster accepts.
pub const MAX_UNITS: i64 = 1_000_000_000;

impl Seats {
    pub fn validate(
        total: Option<i64>,
        suspended: Option<i64>,
        warning: Option<i64>,
    ) -> Result<Self, Invalid> {
        let mut bad = Invalid::default();
        let mut count = |field: &str, v: Option<i64>, required: bool| match v {
            None if required => {
                bad.push(
                    field,
                    format!("is required: a whole number from 0 to {MAX_UNITS}"),
                );
                0
            }
            None => 0,
            Some(n) if !(0..=MAX_UNITS).contains(&n) => {
                bad.push(
                    field,
                    format!("must be a whole number from 0 to {MAX_UNITS}"),
                );
                0
            }
            Some(n) => n,
        };
        let seats = Seats {
            total: count("totalUnits", total, true),
            suspended: count("suspendedUnits", suspended, false),
            warning: count("warningUnits", warning, false),
        };
        if seats.warning > seats.total {
            bad.push(
                "warningUnits",
                "can't exceed totalUnits (which counts active and warning seats)",
            );
        }
        bad.into_result(seats)
    }

    pub fn active(&self) -> i64 {
        self.total - self.warning
    }
}

/// One licence to assign, as the request names it.
#[derive(Clone, Debug, Default)]
pub struct AssignInput {
    pub sku_id: Option<String>,
    pub excluded_plans: Option<Vec<String>>,
}

/// A licence update as the request carries it.
#[derive(Clone, Debug, Default)]
pub struct LicenceUpdateInput {
    pub assign: Option<Vec<AssignInput>>,
    pub remove: Option<Vec<String>>,
}

/// A licence to give (or whose excluded plans to change).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub sku_id: String,
    /// Service plan ids to leave off, sorted, without repeats.
    pub excluded_plans: Vec<String>,
}

/// A checked licence update: every SKU known, one licence group, nothing named twice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenceUpdate {
    pub assign: Vec<Assignment>,
    pub remove: Vec<String>,
    pub group: LicenseGroup,
}

/// Why a licence update is refused before it touches anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateRefused {
    Invalid(Invalid),
    /// The SKUs belong to more than one licence group (60014).
    MixedGroups,
}

impl LicenceUpdate {
    pub fn validate(
        input: &LicenceUpdateInput,
        catalogue: &Catalogue,
    ) -> Result<Self, UpdateRefused> {
        let mut bad = Invalid::default();
        let mut groups = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut assign = Vec::new();
        for a in input.assign.iter().flatten() {
            let Some(raw) = a.sku_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
                bad.push("licensesToAssign", "every licence needs a skuId");
                continue;
            };
            let Some(product) = catalogue.get(raw) else {
                bad.push(
                    "licensesToAssign",
                    format!("'{raw}' is not a product SKU id (GET /v1/productskus lists them)"),
                );
                continue;
            };
            if !seen.insert(product.id.clone()) {
                bad.push(
                    "licensesToAssign",
                    format!(
                        "{} ({}) is named twice",
                        product.id, product.sku_part_number
                    ),
                );
                continue;
            }
            groups.insert(product.license_group);
            let mut excluded = BTreeSet::new();
            for plan in a.excluded_plans.iter().flatten() {
                let plan = plan.trim().to_ascii_lowercase();
                if product.service_plans.iter().any(|p| p.id == plan) {
                    excluded.insert(plan);
                } else {
                    bad.push(
                        "excludedPlans",
                        format!(
                            "'{plan}' is not a service plan of {} ({})",
                            product.id, product.sku_part_number
                        ),
                    );
                }
            }
            assign.push(Assignment {
                sku_id: product.id.clone(),
                excluded_plans: excluded.into_iter().collect(),
            });
        }
        let mut remove = Vec::new();
        for raw in input.remove.iter().flatten() {
            let raw = raw.trim();
            let Some(product) = catalogue.get(raw) else {
                bad.push(
                    "licensesToRemove",
                    format!("'{raw}' is not a product SKU id (GET /v1/productskus lists them)"),
                );
                continue;
            };
            if !seen.insert(product.id.clone()) {
                bad.push(
                    "licensesToRemove",
                    format!(
                        "{} ({}) is named twice, or both assigned and removed",
                        product.id, product.sku_part_number
                    ),
                );
                continue;
            }
            groups.insert(product.license_group);
            remove.push(product.id.clone());
        }
        if assign.is_empty() && remove.is_empty() && bad.is_empty() {
            bad.push(
                "licensesToAssign",
                "give at least one licence in licensesToAssign or licensesToRemove",
            );
        }
        if !bad.is_empty() {
            return Err(UpdateRefused::Invalid(bad));
        }
        let mut groups = groups.into_iter();
        let group = groups.next().unwrap_or(LicenseGroup::Group1);
        if groups.next().is_some() {
            return Err(UpdateRefused::MixedGroups);
        }
        Ok(Self {
            assign,
            remove,
            group,
        })
    }
}

/// A customer's seats of one SKU, and how many of them licences take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscribedSku {
    pub sku_id: String,
    pub seats: Seats,
    /// Licences of active users.
    pub consumed: i64,
}

/// A customer's seats of one product.
#[derive(Clone, Debug)]
pub struct SubscribedSkuView {
    pub product: Product,
    pub seats: Seats,
    /// Seats taken by licences of active users.
    pub consumed: i64,
}

impl SubscribedSkuView {
    pub fn available(&self) -> i64 {
        (self.seats.total - self.consumed).max(0)
    }
}

/// A licence a user holds.
#[derive(Clone, Debug)]
pub struct LicenceView {
    pub product: Product,
    pub excluded_plans: Vec<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const E3: &str = "05e9a617-0261-4cee-bb44-138d3ef5d965";
    const BI: &str = "f8a1db68-be16-40ed-86d5-cb42ce701560";

    fn catalogue() -> Catalogue {
        Catalogue::parse(
            r#"{"products": [
              {"id": "05E9A617-0261-4cee-bb44-138d3ef5d965", "name": "Microsoft 365 E3", "skuPartNumber": "SPE_E3",
               "targetType": "User", "licenseGroupId": "group1",
               "servicePlans": [{"id": "efb87545-963c-4e0d-99df-69c6916d9eb0", "serviceName": "EXCHANGE_S_ENTERPRISE", "displayName": "Exchange Online (Plan 2)", "targetType": "User"}]},
              {"id": "f8a1db68-be16-40ed-86d5-cb42ce701560", "name": "Power BI Pro", "skuPartNumber": "POWER_BI_PRO",
               "targetType": "User", "licenseGroupId": "group1", "servicePlans": []},
              {"id": "a2f7b5c0-1d3e-4f60-9a8b-7c6d5e4f3a21", "name": "Minecraft", "skuPartNumber": "MC/0001",
               "targetType": "User", "licenseGroupId": "Group2", "servicePlans": []}
            ]}"#,
        )
        .unwrap()
    }

    #[test]
    fn the_shipped_catalogue_parses_and_holds_the_named_skus() {
        let c = Catalogue::shipped().unwrap();
        for id in [
            E3,
            "6fd2c87f-b296-42f0-b197-1e91e994b900",
            "18181a46-0d4e-45cd-891e-60aabd171b4e",
            "3b555118-da6a-4418-894f-7df1e2096870",
            "f245ecc8-75af-4f8e-b61f-27d8114de5f3",
            "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46",
            "efccb6f7-5641-4e0e-bd10-b4976e1bf68e",
            "078d2b04-f1bd-4111-bbd4-b4b1b354cef4",
            BI,
        ] {
            let p = c.get(id).unwrap_or_else(|| panic!("{id} is missing"));
            assert_eq!(p.license_group, LicenseGroup::Group1, "{id}");
        }
        assert!(c
            .products()
            .iter()
            .any(|p| p.license_group == LicenseGroup::Group2));
    }

    #[test]
    fn catalogue_files_are_checked_and_extend_the_shipped_one() {
        let c = catalogue();
        assert_eq!(c.get(&E3.to_uppercase()).unwrap().sku_part_number, "SPE_E3");
        for bad in [
            r#"{"products": [{"id": "nope", "name": "x", "skuPartNumber": "X", "targetType": "User", "licenseGroupId": "group1", "servicePlans": []}]}"#,
            r#"{"products": [{"id": "f8a1db68-be16-40ed-86d5-cb42ce701560", "name": "x", "skuPartNumber": "X", "targetType": "User", "licenseGroupId": "group3", "servicePlans": []}]}"#,
            r#"{"products": [{"id": "f8a1db68-be16-40ed-86d5-cb42ce701560", "name": "x", "skuPartNumber": "X", "targetType": "User", "licenseGroupId": "group1", "servicePlans": []},
                             {"id": "f8a1db68-be16-40ed-86d5-cb42ce701560", "name": "y", "skuPartNumber": "Y", "targetType": "User", "licenseGroupId": "group1", "servicePlans": []}]}"#,
            r#"{"products": [], "extra": 1}"#,
        ] {
            assert!(Catalogue::parse(bad).is_err(), "{bad}");
        }
        let extra = Catalogue::parse(
            r#"{"products": [{"id": "f8a1db68-be16-40ed-86d5-cb42ce701560", "name": "Power BI Pro (ours)", "skuPartNumber": "POWER_BI_PRO", "targetType": "User", "licenseGroupId": "group1", "servicePlans": []},
                             {"id": "11111111-2222-4333-8444-555555555555", "name": "Ours", "skuPartNumber": "OURS", "targetType": "User", "licenseGroupId": "group1", "servicePlans": []}]}"#,
        )
        .unwrap();
        let merged = c.extended_with(extra);
        assert_eq!(merged.products().len(), 4);
        assert_eq!(merged.get(BI).unwrap().name, "Power BI Pro (ours)");
    }

    #[test]
    fn seats_are_checked() {
        assert_eq!(
            Seats::validate(Some(5), None, Some(2)).unwrap(),
            Seats {
                total: 5,
                suspended: 0,
                warning: 2
            }
        );
        assert_eq!(Seats::validate(Some(5), None, Some(2)).unwrap().active(), 3);
        assert!(Seats::validate(None, Some(1), None).is_err());
        assert!(Seats::validate(Some(-1), None, None).is_err());
        assert!(Seats::validate(Some(1), None, Some(2)).is_err());
        assert!(Seats::validate(Some(MAX_UNITS + 1), None, None).is_err());
    }

    fn update(assign: &[(&str, &[&str])], remove: &[&str]) -> LicenceUpdateInput {
        LicenceUpdateInput {
            assign: Some(
                assign
                    .iter()
                    .map(|(sku, plans)| AssignInput {
                        sku_id: Some(sku.to_string()),
                        excluded_plans: Some(plans.iter().map(|p| p.to_string()).collect()),
                    })
                    .collect(),
            ),
            remove: Some(remove.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn licence_updates_are_checked() {
        let c = catalogue();
        let ok = LicenceUpdate::validate(
            &update(&[(E3, &["EFB87545-963c-4e0d-99df-69c6916d9eb0"])], &[BI]),
            &c,
        )
        .unwrap();
        assert_eq!(
            ok.assign[0].excluded_plans,
            vec!["efb87545-963c-4e0d-99df-69c6916d9eb0"]
        );
        assert_eq!(ok.remove, vec![BI.to_string()]);
        assert_eq!(ok.group, LicenseGroup::Group1);
        let invalid = |u: LicenceUpdateInput| match LicenceUpdate::validate(&u, &c) {
            Err(UpdateRefused::Invalid(bad)) => bad.fields(),
            other => panic!("{other:?}"),
        };
        assert_eq!(invalid(update(&[], &[])), vec!["licensesToAssign"]);
        assert_eq!(
            invalid(update(&[("not-a-sku", &[])], &[])),
            vec!["licensesToAssign"]
        );
        assert_eq!(
            invalid(update(
                &[(E3, &["00000000-0000-4000-8000-000000000000"])],
                &[]
            )),
            vec!["excludedPlans"]
        );
        assert_eq!(
            invalid(update(&[(E3, &[]), (E3, &[])], &[])),
            vec!["licensesToAssign"]
        );
        assert_eq!(
            invalid(update(&[(E3, &[])], &[E3])),
            vec!["licensesToRemove"]
        );
        assert_eq!(
            LicenceUpdate::validate(
                &update(&[(E3, &[])], &["a2f7b5c0-1d3e-4f60-9a8b-7c6d5e4f3a21"]),
                &c
            ),
            Err(UpdateRefused::MixedGroups)
        );
        // Nulls are "not given".
        let none = LicenceUpdateInput {
            assign: Some(vec![AssignInput {
                sku_id: Some(BI.into()),
                excluded_plans: None,
            }]),
            remove: None,
        };
        assert_eq!(
            LicenceUpdate::validate(&none, &c).unwrap().assign[0].excluded_plans,
            Vec::<String>::new()
        );
    }
}
