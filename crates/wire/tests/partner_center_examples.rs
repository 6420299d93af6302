//! The wire shapes against Partner Center's documented examples (the bodies in
//! `../shared/research/pc-customer-users-api.md`, §6): what Partner Center sends, the SDK
//! must read; what Roster sends must look the same.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use roster_domain::country::CountryCode;
use roster_domain::customer_user::{CustomerUser, PasswordEcho, UserDomainType, UserState};
use roster_domain::{CustomerId, Timestamp, Upn, UserId};
use roster_wire::*;
use serde_json::{json, Value};

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// §6.1: the create response (a user with its password profile echoed).
#[test]
fn a_created_customer_user() {
    let body: CustomerUserBody = parse(json!({
        "usageLocation": "US", "id": "4b10bf41-ab11-40e3-8c53-cd67849b50de",
        "userPrincipalName": "userid@domain.onmicrosoft.com", "firstName": "First", "lastName": "Last",
        "displayName": "User name", "immutableId": "Some unique ID",
        "passwordProfile": { "forceChangePassword": true, "password": "abCD123*" },
        "lastDirectorySyncTime": null, "userDomainType": "none", "state": "active",
        "softDeletionTime": null, "attributes": { "objectType": "CustomerUser" }
    }));
    assert_eq!(body.user_principal_name, "userid@domain.onmicrosoft.com");
    let profile = body.password_profile.clone().unwrap();
    assert_eq!(
        (profile.password.as_deref(), profile.force_change_password),
        (Some("abCD123*"), true)
    );
    assert_eq!(body.attributes.object_type, "CustomerUser");
    // Sent again: camelCase, and nulls left out.
    let sent = serde_json::to_value(&body).unwrap();
    assert_eq!(sent["immutableId"], "Some unique ID");
    assert!(sent.get("lastDirectorySyncTime").is_none(), "{sent}");
}

/// §6.3: a page of users, one of them without a usage location.
#[test]
fn a_page_of_customer_users() {
    let page: CustomerUserCollection = parse(json!({
        "totalCount": 2,
        "items": [
            { "usageLocation": "US", "id": "a9ef48bb-8758-4590-a312-d4a47bfaded4", "userPrincipalName": "Daniel@x.onmicrosoft.com",
              "firstName": "Daniel", "lastName": "Tsai", "displayName": "Daniel Tsai", "userDomainType": "none", "state": "active",
              "links": { "self": { "uri": "/customers/4d3c/users/a9ef", "method": "GET", "headers": [] } },
              "attributes": { "objectType": "CustomerUser" } },
            { "id": "6e668259-0000-4000-8000-000000000000", "userPrincipalName": "admin@x.onmicrosoft.com", "displayName": "Admin",
              "userDomainType": "none", "state": "active", "attributes": { "objectType": "CustomerUser" } }
        ],
        "links": { "self": { "uri": "/customers/4d3c/users", "method": "GET", "headers": [] } },
        "attributes": { "objectType": "Collection" }
    }));
    assert_eq!(page.total_count, 2);
    assert_eq!(page.items[1].usage_location, None);
    assert_eq!(page.links.self_.uri, "/customers/4d3c/users");
    assert_eq!(page.continuation_token, None);
    assert_eq!(page.items[0].links.self_.method, "GET");
}

/// §3.5: a paged list names the next page by link and header, and the token.
#[test]
fn a_paged_collection_links_its_next_page() {
    let page = CustomerUserCollection::paged(vec![], "/customers/c/users", Some("tok".into()));
    let v = serde_json::to_value(&page).unwrap();
    assert_eq!(v["continuationToken"], "tok");
    assert_eq!(
        v["links"]["next"],
        json!({"uri": "/customers/c/users?seekOperation=Next", "method": "GET", "headers": [{"key": "MS-ContinuationToken", "value": "tok"}]})
    );
    let last = serde_json::to_value(CustomerUserCollection::paged(
        vec![],
        "/customers/c/users",
        None,
    ))
    .unwrap();
    assert_eq!(last["continuationToken"], "");
    assert!(last["links"].get("next").is_none());
    let whole = serde_json::to_value(DirectoryRoleCollection::whole(
        vec![],
        "/customers/c/directoryroles",
    ))
    .unwrap();
    assert!(whole.get("continuationToken").is_none());
    assert_eq!(whole["attributes"], json!({"objectType": "Collection"}));
    let back: DirectoryRoleCollection = serde_json::from_value(whole).unwrap();
    assert_eq!(back.total_count, 0);
}

/// What Roster sends for a domain user: Partner Center's names, `links.self`, the etag.
#[test]
fn a_customer_user_as_roster_sends_it() {
    let now = Timestamp::parse_rfc3339("2026-01-20T00:33:34Z").unwrap();
    let user = CustomerUser {
        id: "a9ef48bb-8758-4590-a312-d4a47bfaded4"
            .parse::<UserId>()
            .unwrap(),
        customer: "4d3cf487-70f6-4d9d-8d0a-19d1b5b8a000"
            .parse::<CustomerId>()
            .unwrap(),
        upn: Upn::parse("Ada@contoso.onmicrosoft.com").unwrap(),
        display_name: "Ada Lovelace".into(),
        first_name: Some("Ada".into()),
        last_name: None,
        usage_location: Some(CountryCode::parse("gb").unwrap()),
        immutable_id: None,
        phone_number: None,
        domain_type: UserDomainType::None,
        state: UserState::Inactive,
        soft_deleted_at: Some(now),
        force_change_password: false,
        version: 7,
        created_at: now,
        updated_at: now,
    };
    let v = serde_json::to_value(CustomerUserBody::of(&user)).unwrap();
    assert_eq!(v["userPrincipalName"], "Ada@contoso.onmicrosoft.com");
    assert_eq!(v["usageLocation"], "GB");
    assert_eq!(v["state"], "inactive");
    assert_eq!(v["softDeletionTime"], "2026-01-20T00:33:34Z");
    assert_eq!(v["userDomainType"], "none");
    assert!(
        v.get("lastName").is_none() && v.get("passwordProfile").is_none(),
        "{v}"
    );
    assert_eq!(
        v["links"]["self"],
        json!({"uri": "/customers/4d3cf487-70f6-4d9d-8d0a-19d1b5b8a000/users/a9ef48bb-8758-4590-a312-d4a47bfaded4", "method": "GET", "headers": []})
    );
    assert_eq!(
        v["attributes"],
        json!({"objectType": "CustomerUser", "etag": "\"7\""})
    );
    // A reset answers with the profile, the password shown this once.
    let echoed = CustomerUserBody::of(&user).with_password(Some(PasswordEcho {
        password: None,
        force_change_password: true,
    }));
    let v = serde_json::to_value(echoed).unwrap();
    assert_eq!(v["passwordProfile"]["forceChangePassword"], true);
}

/// §6.6 and §6.8: a reset and a restore, as the .NET SDK and the docs send them (camelCase;
/// the server's body parser maps PascalCase onto these names).
#[test]
fn patch_bodies_that_clients_send() {
    let reset: CustomerUserRequest = parse(json!({
        "passwordProfile": { "password": "Renew456*", "forceChangePassword": true },
        "attributes": { "objectType": "CustomerUser" }
    }));
    let p = reset.password_profile.clone().unwrap();
    assert_eq!(
        (p.password.as_deref(), p.force_change_password),
        (Some("Renew456*"), Some(true))
    );
    let input = reset.into_input();
    assert!(input.password_profile_given);
    let restore: CustomerUserRequest =
        parse(json!({"state": "active", "attributes": {"objectType": "CustomerUser"}}));
    assert_eq!(restore.into_input().state.as_deref(), Some("active"));
    // The SDK's nulls mean "leave unchanged".
    let nulls: CustomerUserRequest =
        parse(json!({"firstName": null, "id": null, "userDomainType": "none", "state": "active"}));
    let input = nulls.into_input();
    assert_eq!(input.first_name, None);
    assert!(!input.password_profile_given);
}

/// §6.9 and §6.12: directory roles and a role member.
#[test]
fn directory_roles_and_members() {
    let roles: DirectoryRoleCollection = parse(json!({
        "totalCount": 2,
        "items": [ { "name": "Helpdesk Administrator", "id": "729827e3-9c14-49f7-bb1b-9608f156bbb8", "attributes": { "objectType": "DirectoryRole" } },
                   { "name": "User Account Administrator", "id": "fe930be7-5e62-47db-91af-98c3a49a38b1", "attributes": { "objectType": "DirectoryRole" } } ],
        "attributes": { "objectType": "Collection" }
    }));
    assert_eq!(roles.items[0].id, "729827e3-9c14-49f7-bb1b-9608f156bbb8");
    let ours = serde_json::to_value(DirectoryRoleBody::of(
        roster_domain::authz::DirectoryRole::HelpdeskAdministrator,
    ))
    .unwrap();
    assert_eq!(
        ours,
        json!({"id": "729827e3-9c14-49f7-bb1b-9608f156bbb8", "name": "Helpdesk Administrator", "attributes": {"objectType": "DirectoryRole"}})
    );
    let member: UserMemberBody = parse(json!({
        "displayName": "Daniel Tsai", "userPrincipalName": "Daniel@dtdemocspcustomer005.onmicrosoft.com",
        "roleId": "f023fd81-a637-4b56-95fd-791ac0226033", "id": "a9ef48bb-8758-4590-a312-d4a47bfaded4",
        "attributes": { "objectType": "UserMember" }
    }));
    assert_eq!(member.role_id, "f023fd81-a637-4b56-95fd-791ac0226033");
    let add: UserMemberRequest = parse(
        json!({"id": "a9ef48bb-8758-4590-a312-d4a47bfaded4", "displayName": "Daniel Tsai", "attributes": {"objectType": "UserMember"}}),
    );
    assert_eq!(
        add.id.as_deref(),
        Some("a9ef48bb-8758-4590-a312-d4a47bfaded4")
    );
}

/// §6.14–§6.16: seats, a user's licences (no `targetType` on its product, no `links`), and a
/// licence update.
#[test]
fn licences() {
    let seats: SubscribedSkuCollection = parse(json!({
        "totalCount": 1,
        "items": [ { "availableUnits": 4, "activeUnits": 5, "consumedUnits": 1, "suspendedUnits": 0, "totalUnits": 5, "warningUnits": 0,
            "productSku": { "id": "efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "name": "Enterprise Mobility + Security E3",
                            "skuPartNumber": "EMS", "targetType": "User", "licenseGroupId": "group1" },
            "servicePlans": [ { "displayName": "Azure Information Protection Premium P1", "serviceName": "RMS_S_PREMIUM",
                                "id": "6c57d4b6-3b23-47a5-9bc9-69f17b4947b3", "capabilityStatus": "Enabled", "targetType": "User" } ],
            "capabilityStatus": "Enabled", "attributes": { "objectType": "SubscribedSku" } } ],
        "attributes": { "objectType": "Collection" }
    }));
    assert_eq!(
        (
            seats.items[0].available_units,
            seats.items[0].product_sku.sku_part_number.as_str()
        ),
        (4, "EMS")
    );
    let licences: LicenseCollection = parse(json!({
        "totalCount": 1,
        "items": [ { "servicePlans": [ { "displayName": "Microsoft Intune A Direct", "serviceName": "INTUNE_A",
                                         "id": "c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "capabilityStatus": "Assigned", "targetType": "User" } ],
                     "productSku": { "id": "efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "name": "Enterprise Mobility + Security E3",
                                     "skuPartNumber": "EMS", "licenseGroupId": "group1" },
                     "attributes": { "objectType": "License" } } ],
        "attributes": { "objectType": "Collection" }
    }));
    assert_eq!(licences.items[0].product_sku.target_type, None);
    let update: LicenseUpdateRequest = parse(json!({
        "licensesToAssign": [ { "excludedPlans": null, "skuId": "f8a1db68-be16-40ed-86d5-cb42ce701560" } ],
        "licensesToRemove": null, "licenseWarnings": null, "attributes": { "objectType": "LicenseUpdate" }
    }));
    assert_eq!(
        update.licenses_to_assign.as_ref().unwrap()[0]
            .sku_id
            .as_deref(),
        Some("f8a1db68-be16-40ed-86d5-cb42ce701560")
    );
    let answer: LicenseUpdateBody = parse(json!({
        "licensesToAssign": [ { "skuId": "f8a1db68-be16-40ed-86d5-cb42ce701560" } ], "licenseWarnings": [],
        "attributes": { "objectType": "LicenseUpdate" }
    }));
    assert!(answer.licenses_to_remove.is_empty());
}

/// §4.1: the error body.
#[test]
fn an_error() {
    let fault: ApiFault = parse(
        json!({"code": 60002, "description": "The user was not found.", "data": [], "source": "PartnerFD"}),
    );
    assert_eq!(fault.code, 60002);
    let v = serde_json::to_value(&fault).unwrap();
    assert_eq!(
        v,
        json!({"code": 60002, "description": "The user was not found.", "data": [], "source": "PartnerFD"})
    );
}
