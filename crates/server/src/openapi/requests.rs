//! What the request bodies must be, beyond their types: the rules the service applies to
//! every request whatever the stored state (a required name, a GUID, a role name), said in
//! the document so that clients and generated input see them. A rule that depends on stored
//! state or on another field (a domain of this customer, the current password) stays in the
//! service alone, and the document's descriptions say it.
//!
//! The document says less than the service checks, and where it says more it is only a
//! little stricter (ASCII email local parts, spaces alone around trimmed values, a last
//! domain label that starts with a letter, no leading zeros in a duration): a client that
//! follows the document is always served.

use serde_json::{json, Map, Value};

use roster_domain::authz::{Area, DirectoryRole, Level, PartnerRole};
use roster_domain::customer::COMPANY_NAME_MAX;
use roster_domain::customer_user;
use roster_domain::licence::MAX_UNITS;
use roster_domain::partner_user::{self, DISPLAY_NAME_MAX};
use roster_domain::relationship::MAX_DISPLAY_NAME as RELATIONSHIP_NAME_MAX;
use roster_domain::upn::{DomainName, Upn};

/// Free text: no control characters (U+0000–U+001F, U+007F).
const TEXT: &str = "^[^\\u0000-\\u001f\\u007f]*$";
/// Required free text: as TEXT, and not only white space.
const NAME: &str =
    "^[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$";
/// A relationship's name: no control characters at all (C0, DEL and C1), not only white space.
const STRICT_NAME: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";
/// P1D to P730D, any casing (the service also takes leading zeros: the document does not).
const DURATION: &str = "^ *[Pp]([1-9]|[1-9][0-9]|[1-6][0-9][0-9]|7[0-2][0-9]|730)[Dd] *$";
/// P180D (extend), PT0S or P0D (none); empty means none.
const AUTO_EXTEND: &str = "^ *([Pp][Tt]0[Ss]|[Pp]0[Dd]|[Pp]180[Dd])? *$";
const EXTENDS: &str = "^\\s*[Pp]180[Dd]\\s*$";

/// A DNS name of at least two labels of letters, digits and inner hyphens, the last one
/// starting with a letter (the service takes any last label that is not all digits: the
/// document is the stricter). The service trims surrounding white space; the document allows
/// spaces.
macro_rules! domain_pattern {
    () => {
        "([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    };
}
const DOMAIN: &str = concat!("^ *", domain_pattern!(), " *$");
/// alias@domain: the alias of letters, digits and ' . - _ ! # ^ ~, not starting or ending
/// with a dot.
const UPN: &str = concat!(
    "^ *[A-Za-z0-9'\\-_!#^~]([A-Za-z0-9'.\\-_!#^~]{0,62}[A-Za-z0-9'\\-_!#^~])?@",
    domain_pattern!(),
    " *$"
);

/// An email address as the document promises it: a local part of dot-separated words of
/// letters, digits and _ % + ' - (the service takes more).
macro_rules! email_pattern {
    () => {
        concat!(
            "[A-Za-z0-9_%+'-]{1,20}(\\.[A-Za-z0-9_%+'-]{1,20}){0,2}@",
            domain_pattern!()
        )
    };
}
/// 1 to 10 addresses separated by commas or semicolons.
const EMAILS: &str = concat!(
    "^ *",
    email_pattern!(),
    "( *[,;] *",
    email_pattern!(),
    "){0,9} *[,;]? *$"
);
/// An optional address: empty means none.
const OPTIONAL_EMAIL: &str = concat!("^ *(", email_pattern!(), ")? *$");

fn name(max: usize) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": NAME})
}

fn optional_name(max: usize) -> Value {
    json!({"type": ["string", "null"], "minLength": 1, "maxLength": max, "pattern": NAME})
}

fn text(max: usize) -> Value {
    json!({"type": ["string", "null"], "maxLength": max, "pattern": TEXT})
}

/// An assigned ISO 3166-1 alpha-2 code (the service takes any casing).
pub(super) fn country_code() -> Value {
    json!({"type": "string", "enum": roster_domain::country::assigned()})
}

/// An optional country code; with `clears`, `""` clears it (on PATCH).
fn country(clears: bool) -> Value {
    let mut codes: Vec<Value> = roster_domain::country::assigned()
        .iter()
        .map(|c| json!(c))
        .collect();
    if clears {
        codes.push(json!(""));
    }
    codes.push(Value::Null);
    json!({"type": ["string", "null"], "enum": codes})
}

fn domain() -> Value {
    json!({"type": "string", "maxLength": DomainName::MAX_LEN, "pattern": DOMAIN})
}

fn upn() -> Value {
    json!({"type": "string", "maxLength": Upn::MAX_LEN, "pattern": UPN})
}

fn guid() -> Value {
    json!({"type": "string", "format": "uuid"})
}

fn guids() -> Value {
    json!({"type": "array", "items": guid(), "minItems": 1})
}

fn partner_roles(min: usize) -> Value {
    json!({"type": "array", "minItems": min,
        "items": {"type": "string", "enum": super::partner_role_names()}})
}

fn directory_roles() -> Value {
    let ids: Vec<&str> = DirectoryRole::ALL.iter().map(|r| r.id()).collect();
    json!({"type": "array", "minItems": 1, "items": {"type": "string", "enum": ids}})
}

/// `{area: level}`.
fn custom_permissions() -> Value {
    let areas: Vec<&str> = Area::ALL.iter().map(|a| a.as_str()).collect();
    let levels: Vec<&str> = [Level::NoAccess, Level::Read, Level::ReadWrite]
        .iter()
        .map(|l| l.as_str())
        .collect();
    json!({"type": ["object", "null"], "propertyNames": {"enum": areas},
        "additionalProperties": {"type": "string", "enum": levels}})
}

fn units() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": MAX_UNITS})
}

fn optional(mut schema: Value) -> Value {
    if let Some(t) = schema["type"].as_str().map(str::to_string) {
        schema["type"] = json!([t, "null"]);
    }
    schema
}

/// A property's rule: its name, its schema, and whether it is required.
type Rule = (&'static str, Value, bool);

/// Each request schema's rules.
fn rules() -> Vec<(&'static str, Vec<Rule>)> {
    vec![
        (
            "ApplicationRequest",
            vec![("displayName", name(DISPLAY_NAME_MAX), true)],
        ),
        (
            "DomainRequest",
            vec![
                ("name", domain(), true),
                (
                    "authenticationType",
                    json!({"type": ["string", "null"], "enum": ["managed", "federated", null]}),
                    false,
                ),
            ],
        ),
        ("UserMemberRequest", vec![("id", guid(), true)]),
        ("GroupMemberRequest", vec![("userId", guid(), true)]),
        (
            "SecurityGroupRequest",
            vec![
                ("displayName", name(DISPLAY_NAME_MAX), true),
                ("roles", optional(partner_roles(0)), false),
            ],
        ),
        (
            "InvitationRequest",
            vec![
                ("emails", json!({"type": "string", "pattern": EMAILS}), true),
                (
                    "roles",
                    json!({"type": "array", "minItems": 1, "items": {"type": "string",
                        "enum": super::partner_role_names().into_iter()
                            .filter(|r| *r != PartnerRole::GlobalAdmin.as_str())
                            .collect::<Vec<_>>()}}),
                    true,
                ),
            ],
        ),
        (
            "GrantAccessRequest",
            vec![
                ("userIds", guids(), true),
                ("roles", optional(partner_roles(0)), false),
                ("customPermissions", custom_permissions(), false),
            ],
        ),
        (
            "TokenRequest",
            vec![(
                "grant_type",
                json!({"type": "string", "enum": ["password", "client_credentials", "refresh_token"]}),
                true,
            )],
        ),
        (
            "SeatsRequest",
            vec![
                ("totalUnits", units(), true),
                ("suspendedUnits", optional(units()), false),
                ("warningUnits", optional(units()), false),
            ],
        ),
        (
            "DelegatedAdminRelationshipRequest",
            vec![
                (
                    "displayName",
                    json!({"type": "string", "minLength": 1, "maxLength": RELATIONSHIP_NAME_MAX,
                        "pattern": STRICT_NAME}),
                    true,
                ),
                (
                    "duration",
                    json!({"type": "string", "pattern": DURATION}),
                    true,
                ),
                ("roles", directory_roles(), true),
                (
                    "autoExtendDuration",
                    json!({"type": ["string", "null"], "pattern": AUTO_EXTEND}),
                    false,
                ),
            ],
        ),
        (
            "PartnerUserRequest",
            vec![
                ("userPrincipalName", upn(), true),
                ("displayName", optional_name(DISPLAY_NAME_MAX), false),
                ("firstName", text(partner_user::NAME_MAX), false),
                ("lastName", text(partner_user::NAME_MAX), false),
                ("roles", optional(partner_roles(0)), false),
                ("customPermissions", custom_permissions(), false),
            ],
        ),
        (
            "CustomerUserRequest",
            vec![
                ("userPrincipalName", upn(), true),
                ("displayName", name(DISPLAY_NAME_MAX), true),
                ("firstName", text(customer_user::NAME_MAX), false),
                ("lastName", text(customer_user::NAME_MAX), false),
                ("immutableId", text(customer_user::IMMUTABLE_ID_MAX), false),
                ("phoneNumber", text(customer_user::PHONE_MAX), false),
                ("usageLocation", country(true), false),
            ],
        ),
        (
            "CompanyProfileRequest",
            vec![
                ("domain", domain(), true),
                ("companyName", text(COMPANY_NAME_MAX), false),
            ],
        ),
        ("LicenseAssignmentBody", vec![("skuId", name(256), true)]),
        (
            "AddressRequest",
            vec![
                ("country", country(false), false),
                ("region", text(128), false),
                ("city", text(128), false),
                ("addressLine1", text(256), false),
                ("postalCode", text(40), false),
                ("phoneNumber", text(64), false),
            ],
        ),
        (
            "BillingProfileRequest",
            vec![
                (
                    "email",
                    json!({"type": ["string", "null"], "maxLength": 256, "pattern": OPTIONAL_EMAIL}),
                    false,
                ),
                ("companyName", text(COMPANY_NAME_MAX), false),
                ("culture", text(35), false),
                ("language", text(35), false),
            ],
        ),
        (
            "RedeemInvitationRequest",
            vec![("token", name(1024), true), ("password", name(256), true)],
        ),
        (
            "PasswordChangeRequest",
            vec![
                ("userPrincipalName", name(Upn::MAX_LEN), true),
                ("currentPassword", name(256), true),
                ("newPassword", name(256), true),
            ],
        ),
    ]
}

/// The schemas whose PATCH takes the same properties with none required: their `…Patch`
/// copy, which the PATCH operations name.
const PATCHED: [(&str, &str); 2] = [
    (
        "CustomerUserRequest",
        "/v1/customers/{customerId}/users/{userId}",
    ),
    ("PartnerUserRequest", "/v1/users/{userId}"),
];

/// Applies the rules to the document's component schemas.
pub fn describe(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (schema_name, properties) in rules() {
        let Some(schema) = schemas.get_mut(schema_name) else {
            continue;
        };
        for (property, rule, required) in properties {
            let Some(slot) = schema.pointer_mut(&format!("/properties/{property}")) else {
                continue;
            };
            let description = slot.get("description").cloned();
            *slot = rule;
            if let Some(d) = description {
                slot["description"] = d;
            }
            if required {
                let list = schema
                    .as_object_mut()
                    .map(|o| o.entry("required").or_insert_with(|| json!([])));
                if let Some(Value::Array(list)) = list {
                    if !list.contains(&json!(property)) {
                        list.push(json!(property));
                    }
                }
            }
        }
    }
    // A customer needs a company profile, and a company name in it or in the billing profile.
    if let Some(customer) = schemas.get_mut("CustomerRequest") {
        customer["required"] = json!(["companyProfile"]);
        customer["properties"]["companyProfile"] =
            json!({"$ref": "#/components/schemas/CompanyProfileRequest"});
        customer["anyOf"] = json!([
            {"properties": {"companyProfile": {"required": ["companyName"],
                "properties": {"companyName": name(COMPANY_NAME_MAX)}}}},
            {"required": ["billingProfile"],
             "properties": {"billingProfile": {"type": "object", "required": ["companyName"],
                "properties": {"companyName": name(COMPANY_NAME_MAX)}}}},
        ]);
    }
    // Roles or custom permissions, not both (null is "not given").
    let not_both = json!({"required": ["roles", "customPermissions"],
        "properties": {"roles": {"type": "array"}, "customPermissions": {"type": "object"}}});
    for schema_name in ["PartnerUserRequest", "GrantAccessRequest"] {
        if let Some(schema) = schemas.get_mut(schema_name) {
            schema["not"] = not_both.clone();
        }
    }
    // Access is roles or custom permissions: one of them is needed.
    if let Some(schema) = schemas.get_mut("GrantAccessRequest") {
        schema["anyOf"] = json!([
            {"required": ["roles"], "properties": {"roles": {"type": "array", "minItems": 1}}},
            {"required": ["customPermissions"], "properties": {"customPermissions": {"type": "object"}}},
        ]);
    }
    // A licence update assigns or removes at least one licence.
    if let Some(schema) = schemas.get_mut("LicenseUpdateRequest") {
        schema["anyOf"] = json!([
            {"required": ["licensesToAssign"], "properties": {"licensesToAssign": {"type": "array", "minItems": 1}}},
            {"required": ["licensesToRemove"], "properties": {"licensesToRemove": {"type": "array", "minItems": 1}}},
        ]);
    }
    // A relationship that grants Global Administrator does not auto-extend.
    if let Some(schema) = schemas.get_mut("DelegatedAdminRelationshipRequest") {
        schema["not"] = json!({"required": ["roles", "autoExtendDuration"], "properties": {
            "roles": {"contains": {"const": DirectoryRole::GlobalAdministrator.id()}},
            "autoExtendDuration": {"type": "string", "pattern": EXTENDS},
        }});
    }
    for (schema_name, _) in PATCHED {
        if let Some(mut patch) = schemas.get(schema_name).cloned() {
            if let Some(o) = patch.as_object_mut() {
                o.remove("required");
                make_nullable(o);
            }
            schemas.insert(format!("{schema_name}Patch"), patch);
        }
    }
    for (schema_name, path) in PATCHED {
        let pointer = format!(
            "/paths/{}/patch/requestBody/content/application~1json/schema",
            path.replace('~', "~0").replace('/', "~1")
        );
        if let Some(slot) = doc.pointer_mut(&pointer) {
            *slot = json!({"$ref": format!("#/components/schemas/{schema_name}Patch")});
        }
    }
}

/// Every property of a PATCH may be null: "leave it as it is".
fn make_nullable(schema: &mut Map<String, Value>) {
    let Some(Value::Object(properties)) = schema.get_mut("properties") else {
        return;
    };
    for property in properties.values_mut() {
        if let Some(t) = property["type"].as_str().map(str::to_string) {
            property["type"] = json!([t, "null"]);
        }
    }
}
