//! Licences: the catalogue, seats, assignment and removal (operations 15–17) with every
//! error, the last seat under concurrency, and the interplay with delete, restore and purge.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

const E3: &str = "05e9a617-0261-4cee-bb44-138d3ef5d965";
const BI: &str = "f8a1db68-be16-40ed-86d5-cb42ce701560";
const EMS: &str = "efccb6f7-5641-4e0e-bd10-b4976e1bf68e";

async fn seats(app: &TestApp, cid: &str, sku: &str, total: i64) -> (StatusCode, Value) {
    app.send(
        Method::PUT,
        &format!("/v1/customers/{cid}/subscribedskus/{sku}"),
        Some(json!({"totalUnits": total})),
    )
    .await
}

/// A user with a usage location (licences need one); returns its id.
async fn licensable(app: &TestApp, cid: &str, upn: &str) -> String {
    let (s, b) = app
        .post(
            &format!("/v1/customers/{cid}/users"),
            json!({"userPrincipalName": upn, "displayName": upn, "usageLocation": "GB",
                   "passwordProfile": {"password": GOOD_PASSWORD}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["id"].as_str().unwrap().to_string()
}

async fn assign(app: &TestApp, cid: &str, uid: &str, body: Value) -> (StatusCode, Value) {
    app.post(
        &format!("/v1/customers/{cid}/users/{uid}/licenseupdates"),
        body,
    )
    .await
}

async fn held(app: &TestApp, cid: &str, uid: &str) -> Vec<String> {
    let (s, b) = app
        .get(&format!("/v1/customers/{cid}/users/{uid}/licenses?licenseGroupIds=Group1&licenseGroupIds=Group2"))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let mut skus: Vec<String> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["productSku"]["id"].as_str().unwrap().to_string())
        .collect();
    skus.sort();
    skus
}

async fn sku_units(app: &TestApp, cid: &str, sku: &str) -> Value {
    let (s, b) = app
        .get(&format!(
            "/v1/customers/{cid}/subscribedskus?licenseGroupIds=Group1,Group2"
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["productSku"]["id"] == sku)
        .cloned()
        .unwrap_or(Value::Null)
}

async fn group2_sku(app: &TestApp) -> String {
    let (s, b) = app.get("/v1/productskus").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["licenseGroupId"] == "group2")
        .expect("a group2 product")["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn the_catalogue_and_seats() {
    let app = TestApp::start().await;
    let (s, catalogue) = app.get("/v1/productskus").await;
    assert_eq!(s, StatusCode::OK, "{catalogue}");
    let e3 = catalogue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == E3)
        .unwrap();
    assert_eq!(e3["skuPartNumber"], "SPE_E3");
    assert_eq!(e3["licenseGroupId"], "group1");
    assert_eq!(e3["attributes"]["objectType"], "ProductSku");
    let mc = group2_sku(&app).await;

    let cid = app.customer("contoso.onmicrosoft.com").await;
    let (s, b) = app
        .get(&format!("/v1/customers/{cid}/subscribedskus"))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["totalCount"], 0);
    let (s, b) = app
        .send(
            Method::PUT,
            &format!("/v1/customers/{cid}/subscribedskus/{E3}"),
            Some(json!({"TotalUnits": 5, "WarningUnits": 1, "SuspendedUnits": 2})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (
            b["totalUnits"].as_i64(),
            b["activeUnits"].as_i64(),
            b["warningUnits"].as_i64(),
            b["suspendedUnits"].as_i64(),
            b["consumedUnits"].as_i64(),
            b["availableUnits"].as_i64()
        ),
        (Some(5), Some(4), Some(1), Some(2), Some(0), Some(5))
    );
    assert_eq!(b["productSku"]["targetType"], "User");
    assert_eq!(b["capabilityStatus"], "Enabled");
    assert_eq!(b["attributes"]["objectType"], "SubscribedSku");
    let (s, _) = seats(&app, &cid, &mc, 3).await;
    assert_eq!(s, StatusCode::OK);
    // Group1 by default; Group2 when asked; both with the parameter repeated.
    for (query, want) in [
        ("", vec![E3.to_string()]),
        ("?licenseGroupIds=Group2", vec![mc.clone()]),
        (
            "?licenseGroupIds=group1&LicenseGroupIds=GROUP2",
            vec![E3.to_string(), mc.clone()],
        ),
    ] {
        let (s, b) = app
            .get(&format!("/v1/customers/{cid}/subscribedskus{query}"))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let mut got: Vec<String> = b["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["productSku"]["id"].as_str().unwrap().to_string())
            .collect();
        got.sort();
        let mut want = want;
        want.sort();
        assert_eq!(got, want, "{query}");
    }
    let got = app
        .get(&format!(
            "/v1/customers/{cid}/subscribedskus?licenseGroupIds=Group3"
        ))
        .await;
    assert_error(&got, StatusCode::BAD_REQUEST, 3000);
    // Bad seats.
    for body in [
        json!({}),
        json!({"totalUnits": -1}),
        json!({"totalUnits": 1, "warningUnits": 2}),
        json!({"totalUnits": "five"}),
    ] {
        let got = app
            .send(
                Method::PUT,
                &format!("/v1/customers/{cid}/subscribedskus/{E3}"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(got.0, StatusCode::BAD_REQUEST, "{body}: {}", got.1);
    }
    let got = seats(&app, &cid, "00000000-0000-4000-8000-000000000000", 1).await;
    assert_error(&got, StatusCode::NOT_FOUND, 1000);
    // Fewer seats than licences in use: refused.
    let uid = licensable(&app, &cid, "ada@contoso.onmicrosoft.com").await;
    let (s, b) = assign(
        &app,
        &cid,
        &uid,
        json!({"licensesToAssign": [{"skuId": E3}]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let got = seats(&app, &cid, E3, 0).await;
    assert_error(&got, StatusCode::BAD_REQUEST, 3000);
    assert_eq!(got.1["data"], json!(["totalUnits"]));
    assert_eq!(sku_units(&app, &cid, E3).await["consumedUnits"], 1);
    assert!(app
        .audit_operations()
        .await
        .contains(&"update_customer_subscribed_sku".to_string()));
}
on_both_backends!(the_catalogue_and_seats);

async fn assign_and_remove_with_every_error() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let mc = group2_sku(&app).await;
    for sku in [E3, BI, mc.as_str()] {
        let (s, b) = seats(&app, &cid, sku, 2).await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let uid = licensable(&app, &cid, "ada@contoso.onmicrosoft.com").await;
    // As the .NET SDK sends it: PascalCase and explicit nulls.
    let (s, b) = assign(
        &app,
        &cid,
        &uid,
        json!({
            "LicensesToAssign": [{"ExcludedPlans": null, "SkuId": E3}],
            "LicensesToRemove": null, "LicenseWarnings": null,
            "Attributes": {"ObjectType": "LicenseUpdate"}
        }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["licensesToAssign"], json!([{"skuId": E3}]));
    assert_eq!(b["licenseWarnings"], json!([]));
    assert_eq!(b["attributes"]["objectType"], "LicenseUpdate");
    // Read it back by id and by UPN.
    assert_eq!(held(&app, &cid, &uid).await, vec![E3.to_string()]);
    let (s, by_upn) = app
        .get(&format!(
            "/v1/customers/{cid}/users/ADA@contoso.onmicrosoft.com/licenses"
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{by_upn}");
    let licence = &by_upn["items"][0];
    assert_eq!(licence["productSku"]["skuPartNumber"], "SPE_E3");
    assert!(licence["productSku"].get("targetType").is_none());
    assert_eq!(licence["attributes"]["objectType"], "License");
    let plans = licence["servicePlans"].as_array().unwrap().clone();
    assert!(plans.iter().all(|p| p["capabilityStatus"] == "Assigned"));
    assert_eq!(sku_units(&app, &cid, E3).await["consumedUnits"], 1);

    // Excluded plans: assigning a licence the user has changes its plans, takes no seat.
    if let Some(plan) = plans.first() {
        let plan = plan["id"].as_str().unwrap();
        let (s, b) = assign(
            &app,
            &cid,
            &uid,
            json!({"licensesToAssign": [{"skuId": E3, "excludedPlans": [plan]}]}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (_, after) = app
            .get(&format!("/v1/customers/{cid}/users/{uid}/licenses"))
            .await;
        assert_eq!(
            after["items"][0]["servicePlans"].as_array().unwrap().len(),
            plans.len() - 1
        );
        assert_eq!(sku_units(&app, &cid, E3).await["consumedUnits"], 1);
    }
    let got = assign(&app, &cid, &uid, json!({"licensesToAssign": [{"skuId": E3, "excludedPlans": ["00000000-0000-4000-8000-000000000000"]}]})).await;
    assert_error(&got, StatusCode::BAD_REQUEST, 3000);
    assert_eq!(got.1["data"], json!(["excludedPlans"]));

    // Mixing licence groups: 60014, nothing done.
    let before = app.audit_count().await;
    let got = assign(
        &app,
        &cid,
        &uid,
        json!({"licensesToAssign": [{"skuId": BI}, {"skuId": mc}]}),
    )
    .await;
    assert_error(&got, StatusCode::BAD_REQUEST, 60014);
    let got = assign(
        &app,
        &cid,
        &uid,
        json!({"licensesToAssign": [{"skuId": mc}], "licensesToRemove": [E3]}),
    )
    .await;
    assert_error(&got, StatusCode::BAD_REQUEST, 60014);
    // Removing a licence the user lacks names the SKU.
    let got = assign(&app, &cid, &uid, json!({"licensesToRemove": [BI]})).await;
    assert_error(&got, StatusCode::BAD_REQUEST, 3000);
    assert!(
        got.1["description"].as_str().unwrap().contains(BI),
        "{}",
        got.1
    );
    // Unknown SKU, empty request.
    assert_error(
        &assign(
            &app,
            &cid,
            &uid,
            json!({"licensesToAssign": [{"skuId": "00000000-0000-4000-8000-000000000000"}]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        3000,
    );
    assert_error(
        &assign(
            &app,
            &cid,
            &uid,
            json!({"licensesToAssign": [], "licensesToRemove": []}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        3000,
    );
    // A product the customer has no seats of: no licences left.
    assert_error(
        &assign(
            &app,
            &cid,
            &uid,
            json!({"licensesToAssign": [{"skuId": EMS}]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        60012,
    );
    // Atomic: the removal is undone when the assignment beside it fails.
    let got = assign(
        &app,
        &cid,
        &uid,
        json!({"licensesToAssign": [{"skuId": EMS}], "licensesToRemove": [E3]}),
    )
    .await;
    assert_error(&got, StatusCode::BAD_REQUEST, 60012);
    assert_eq!(held(&app, &cid, &uid).await, vec![E3.to_string()]);
    assert_eq!(app.audit_count().await, before, "refusals write nothing");

    // A usage location is required to assign, not to remove.
    let (s, nobody) = app
        .post(&format!("/v1/customers/{cid}/users"), json!({"userPrincipalName": "nowhere@contoso.onmicrosoft.com", "displayName": "Nowhere", "passwordProfile": {"password": GOOD_PASSWORD}}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let nobody = nobody["id"].as_str().unwrap();
    let got = assign(
        &app,
        &cid,
        nobody,
        json!({"licensesToAssign": [{"skuId": BI}]}),
    )
    .await;
    assert_error(&got, StatusCode::BAD_REQUEST, 3000);
    assert_eq!(got.1["data"], json!(["usageLocation"]));

    // Swap one product for another in one request; then remove.
    let (s, b) = assign(
        &app,
        &cid,
        &uid,
        json!({"licensesToAssign": [{"skuId": BI}], "licensesToRemove": [E3]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["licensesToRemove"], json!([E3]));
    assert_eq!(held(&app, &cid, &uid).await, vec![BI.to_string()]);
    assert_eq!(sku_units(&app, &cid, E3).await["consumedUnits"], 0);
    // Group2 alone is fine, and is listed only when asked for.
    let (s, b) = assign(
        &app,
        &cid,
        &uid,
        json!({"licensesToAssign": [{"skuId": mc}]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (_, default) = app
        .get(&format!("/v1/customers/{cid}/users/{uid}/licenses"))
        .await;
    assert_eq!(default["totalCount"], 1);
    let (_, g2) = app
        .get(&format!(
            "/v1/customers/{cid}/users/{uid}/licenses?licenseGroupIds=Group2"
        ))
        .await;
    assert_eq!(g2["items"][0]["productSku"]["id"], mc.as_str());
    assert_eq!(g2["items"][0]["servicePlans"], json!([]));
    // Unknown users, a deleted user.
    let unknown = "5e7c9b1e-0000-4000-8000-000000000000";
    assert_error(
        &assign(
            &app,
            &cid,
            unknown,
            json!({"licensesToAssign": [{"skuId": BI}]}),
        )
        .await,
        StatusCode::NOT_FOUND,
        60002,
    );
    assert_error(
        &app.get(&format!(
            "/v1/customers/{cid}/users/nobody@contoso.onmicrosoft.com/licenses"
        ))
        .await,
        StatusCode::NOT_FOUND,
        60002,
    );
    let (s, _) = app
        .delete(&format!("/v1/customers/{cid}/users/{nobody}"))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_error(
        &assign(&app, &cid, nobody, json!({"licensesToRemove": [BI]})).await,
        StatusCode::CONFLICT,
        60005,
    );
    let record = app
        .audit_records()
        .await
        .into_iter()
        .find(|r| r.operation.as_str() == "update_customer_user_licenses")
        .unwrap();
    assert_eq!(record.resource_type, "license");
    assert!(
        record.new_value.contains("CustomerUserId"),
        "{}",
        record.new_value
    );
}
on_both_backends!(assign_and_remove_with_every_error);

async fn two_assignments_for_the_last_seat_one_wins() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    for round in 0..15 {
        let a = licensable(&app, &cid, &format!("a{round}@contoso.onmicrosoft.com")).await;
        let b = licensable(&app, &cid, &format!("b{round}@contoso.onmicrosoft.com")).await;
        // Exactly one seat free.
        let (s, body) = seats(&app, &cid, E3, round + 1).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let body = json!({"licensesToAssign": [{"skuId": E3}]});
        let (ra, rb) = tokio::join!(
            assign(&app, &cid, &a, body.clone()),
            assign(&app, &cid, &b, body.clone())
        );
        let mut statuses = [ra.0, rb.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::CREATED, StatusCode::BAD_REQUEST],
            "round {round}: {ra:?} {rb:?}"
        );
        let loser = if ra.0 == StatusCode::CREATED { rb } else { ra };
        assert_error(&loser, StatusCode::BAD_REQUEST, 60012);
        let units = sku_units(&app, &cid, E3).await;
        assert_eq!(units["consumedUnits"].as_i64(), Some(round + 1), "{units}");
        assert_eq!(units["availableUnits"], 0);
    }
}
on_both_backends!(two_assignments_for_the_last_seat_one_wins);

async fn delete_frees_seats_and_restore_takes_them_back_where_free() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    seats(&app, &cid, E3, 1).await;
    seats(&app, &cid, BI, 2).await;
    let ada = licensable(&app, &cid, "ada@contoso.onmicrosoft.com").await;
    let bob = licensable(&app, &cid, "bob@contoso.onmicrosoft.com").await;
    let (s, b) = assign(
        &app,
        &cid,
        &ada,
        json!({"licensesToAssign": [{"skuId": E3}, {"skuId": BI}]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // Delete: the seats are free, the deleted user shows no licences.
    let (s, _) = app
        .delete(&format!("/v1/customers/{cid}/users/{ada}"))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(sku_units(&app, &cid, E3).await["consumedUnits"], 0);
    assert_eq!(sku_units(&app, &cid, BI).await["consumedUnits"], 0);
    assert!(held(&app, &cid, &ada).await.is_empty());
    // Restore with free seats: both come back.
    let (s, b) = app
        .patch(
            &format!("/v1/customers/{cid}/users/{ada}"),
            json!({"state": "active"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let mut both = vec![E3.to_string(), BI.to_string()];
    both.sort();
    assert_eq!(held(&app, &cid, &ada).await, both);
    assert_eq!(sku_units(&app, &cid, E3).await["consumedUnits"], 1);
    // Delete again; Bob takes the only E3 seat; restore brings back only what fits, and the
    // audit record names the rest.
    let (s, _) = app
        .delete(&format!("/v1/customers/{cid}/users/{ada}"))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = assign(
        &app,
        &cid,
        &bob,
        json!({"licensesToAssign": [{"skuId": E3}]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = app
        .patch(
            &format!("/v1/customers/{cid}/users/{ada}"),
            json!({"state": "active"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(held(&app, &cid, &ada).await, vec![BI.to_string()]);
    assert_eq!(sku_units(&app, &cid, E3).await["consumedUnits"], 1);
    // (Both restores happened at the same instant of the test clock: compare them as a set.)
    let mut not_restored: Vec<Value> = app
        .audit_records()
        .await
        .into_iter()
        .filter(|r| r.operation.as_str() == "restore_customer_user")
        .map(|r| {
            serde_json::from_str::<Value>(&r.new_value).unwrap()["licensesNotRestored"].clone()
        })
        .collect();
    not_restored.sort_by_key(|v| v.to_string());
    assert_eq!(not_restored, vec![json!([E3]), json!([])]);
}
on_both_backends!(delete_frees_seats_and_restore_takes_them_back_where_free);

async fn who_may_see_and_give_seats_and_licences() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    seats(&app, &cid, BI, 3).await;
    let uid = licensable(&app, &cid, "ada@contoso.onmicrosoft.com").await;
    let mut tokens = Vec::new();
    for (alias, role) in [
        ("billing", "Billing admin"),
        ("sales", "Sales agent"),
        ("helpdesk", "Helpdesk agent"),
    ] {
        let (s, b) = app
            .post("/v1/users", json!({"userPrincipalName": format!("{alias}@partner.local"), "displayName": alias, "roles": [role],
                   "passwordProfile": {"password": GOOD_PASSWORD, "forceChangePassword": false}}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        tokens.push(
            app.sign_in(&format!("{alias}@partner.local"), GOOD_PASSWORD)
                .await
                .unwrap(),
        );
    }
    let (billing, sales, helpdesk) = (&tokens[0], &tokens[1], &tokens[2]);
    let skus = format!("/v1/customers/{cid}/subscribedskus");
    let put = format!("{skus}/{BI}");
    let licences = format!("/v1/customers/{cid}/users/{uid}/licenses");
    let update = format!("/v1/customers/{cid}/users/{uid}/licenseupdates");
    let give = json!({"licensesToAssign": [{"skuId": BI}]});
    // Billing admin: sees licence counts, gives nothing, sees no users.
    assert_eq!(
        call(&app, billing, Method::GET, &skus, None).await.0,
        StatusCode::OK
    );
    assert_error(
        &call(
            &app,
            billing,
            Method::PUT,
            &put,
            Some(json!({"totalUnits": 9})),
        )
        .await,
        StatusCode::FORBIDDEN,
        900150,
    );
    assert_error(
        &call(&app, billing, Method::GET, &licences, None).await,
        StatusCode::FORBIDDEN,
        900150,
    );
    // Sales agent: neither.
    assert_error(
        &call(&app, sales, Method::GET, &skus, None).await,
        StatusCode::FORBIDDEN,
        900150,
    );
    // Helpdesk agent (Helpdesk Administrator under legacy access): reads, may not assign.
    assert_eq!(
        call(&app, helpdesk, Method::GET, &skus, None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, helpdesk, Method::GET, &licences, None).await.0,
        StatusCode::OK
    );
    assert_error(
        &call(&app, helpdesk, Method::POST, &update, Some(give.clone())).await,
        StatusCode::FORBIDDEN,
        900150,
    );
    assert!(held(&app, &cid, &uid).await.is_empty());
    // A customer's License Administrator assigns in its own tenant.
    let la = licensable(&app, &cid, "la@contoso.onmicrosoft.com").await;
    let (s, b) = app
        .post(&format!("/v1/customers/{cid}/directoryroles/4d6ac14f-3453-41d0-bef9-a3e0c569773a/usermembers"), json!({"id": la}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let la_token = app
        .sign_in("la@contoso.onmicrosoft.com", GOOD_PASSWORD)
        .await
        .unwrap();
    let (s, b) = call(&app, &la_token, Method::POST, &update, Some(give)).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(
        call(&app, &la_token, Method::GET, &skus, None).await.0,
        StatusCode::OK
    );
    assert_error(
        &call(
            &app,
            &la_token,
            Method::PUT,
            &put,
            Some(json!({"totalUnits": 9})),
        )
        .await,
        StatusCode::FORBIDDEN,
        900150,
    );
}
on_both_backends!(who_may_see_and_give_seats_and_licences);

async fn an_operator_catalogue_adds_and_replaces_products() {
    let extra = roster_domain::licence::Catalogue::parse(&format!(
        r#"{{"products": [
          {{"id": "{BI}", "name": "Power BI Pro (our price list)", "skuPartNumber": "POWER_BI_PRO", "targetType": "User", "licenseGroupId": "group1", "servicePlans": []}},
          {{"id": "11111111-2222-4333-8444-555555555555", "name": "Backup seats", "skuPartNumber": "OUR_BACKUP", "targetType": "User", "licenseGroupId": "group1", "servicePlans": []}}
        ]}}"#
    ))
    .unwrap();
    let mut builder = Builder::default();
    builder.settings.extra_catalogue = Some(extra);
    let app = TestApp::start_with(builder).await;
    let (s, b) = app.get("/v1/productskus").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let items = b["items"].as_array().unwrap();
    let named = |id: &str| {
        items
            .iter()
            .find(|p| p["id"] == id)
            .map(|p| p["name"].clone())
    };
    assert_eq!(named(BI), Some(json!("Power BI Pro (our price list)")));
    assert_eq!(
        named("11111111-2222-4333-8444-555555555555"),
        Some(json!("Backup seats"))
    );
    assert!(named(E3).is_some());
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let (s, b) = seats(&app, &cid, "11111111-2222-4333-8444-555555555555", 4).await;
    assert_eq!(s, StatusCode::OK, "{b}");
}
on_both_backends!(an_operator_catalogue_adds_and_replaces_products);

async fn the_purge_removes_licences_and_role_memberships_for_good() {
    let mut app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    seats(&app, &cid, BI, 1).await;
    let uid = licensable(&app, &cid, "gone@contoso.onmicrosoft.com").await;
    let (s, b) = assign(
        &app,
        &cid,
        &uid,
        json!({"licensesToAssign": [{"skuId": BI}]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let user_admin = "fe930be7-5e62-47db-91af-98c3a49a38b1";
    let (s, b) = app
        .post(
            &format!("/v1/customers/{cid}/directoryroles/{user_admin}/usermembers"),
            json!({"id": uid}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, _) = app
        .delete(&format!("/v1/customers/{cid}/users/{uid}"))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    app.advance(roster_domain::Duration::from_days(31)).await;
    let mut purged = false;
    for _ in 0..200 {
        if app.get(&format!("/v1/customers/{cid}/users/{uid}")).await.0 == StatusCode::NOT_FOUND {
            purged = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(purged, "the user was not purged");
    let id: roster_domain::UserId = uid.parse().unwrap();
    let (licences, roles) = app
        .roster
        .store()
        .read_job(move |db| {
            Ok::<_, roster_store::StoreError>((db.user_licences(id)?, db.role_ids_of(id)?))
        })
        .await
        .unwrap();
    assert!(licences.is_empty());
    assert!(roles.is_empty());
    assert_eq!(sku_units(&app, &cid, BI).await["consumedUnits"], 0);
}
on_both_backends!(the_purge_removes_licences_and_role_memberships_for_good);
