//! `GET /v1/auditrecords`: the audit log, filtered and paged.

use reqwest::{Method, StatusCode};
use roster_domain::Duration;
use serde_json::{json, Value};

use crate::common::*;

const FROM: &str = "startDate=2026-01-01T00:00:00Z";

fn ops(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["operationType"].as_str().unwrap().to_string())
        .collect()
}

async fn the_audit_log_filtered_and_paged() {
    let mut app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    app.advance(Duration::from_secs(1)).await;
    let other = app.customer("fabrikam.onmicrosoft.com").await;
    for (i, c) in [&cid, &cid, &other].into_iter().enumerate() {
        app.advance(Duration::from_secs(1)).await;
        app.user(
            c,
            &format!(
                "u{i}@{}.onmicrosoft.com",
                if c == &cid { "contoso" } else { "fabrikam" }
            ),
            "U",
        )
        .await;
    }
    let (s, all) = app.get(&format!("/v1/auditrecords?{FROM}")).await;
    assert_eq!(s, StatusCode::OK, "{all}");
    // Newest first; the bootstrap's records are there too.
    let names = ops(&all);
    assert_eq!(&names[..3], ["create_customer_user"; 3]);
    assert!(names.contains(&"create_partner".to_string()));
    let first = &all["items"][0];
    assert_eq!(first["operationStatus"], "succeeded");
    assert_eq!(first["customerId"], other);
    assert_eq!(first["attributes"]["objectType"], "AuditRecord");
    assert!(first["userId"].is_string(), "{first}");
    // Filters.
    let (_, users) = app
        .get(&format!(
            "/v1/auditrecords?{FROM}&operationType=create_customer_user"
        ))
        .await;
    assert_eq!(users["totalCount"], 3);
    let (_, contoso) = app
        .get(&format!(
            "/v1/auditrecords?{FROM}&customerId={cid}&operationType=CREATE_CUSTOMER_USER"
        ))
        .await;
    assert_eq!(contoso["totalCount"], 2);
    let actor = first["userId"].as_str().unwrap();
    let (_, by_actor) = app
        .get(&format!("/v1/auditrecords?{FROM}&userId={actor}"))
        .await;
    assert_eq!(
        by_actor["totalCount"], 5,
        "two customers and three users: {by_actor}"
    );
    let (_, window) = app
        .get("/v1/auditrecords?startDate=2026-01-05T09:00:02Z&endDate=2026-01-05T09:00:04Z")
        .await;
    assert_eq!(window["totalCount"], 2, "{window}");
    // Pages of two, by token alone.
    let (_, mut page) = app.get(&format!("/v1/auditrecords?{FROM}&size=2")).await;
    let mut seen = ops(&page);
    while !page["continuationToken"].as_str().unwrap().is_empty() {
        let token = page["continuationToken"].as_str().unwrap().to_string();
        let r = app
            .req(Method::GET, "/v1/auditrecords?seekOperation=Next")
            .header("MS-ContinuationToken", token)
            .send()
            .await
            .unwrap();
        page = into_parts(r).await.1;
        seen.extend(ops(&page));
    }
    assert_eq!(seen, names);
    // Refusals.
    for bad in [
        "",
        "?startDate=yesterday",
        &format!("?{FROM}&operationType=nope"),
        "?startDate=2026-02-01T00:00:00Z&endDate=2026-01-01T00:00:00Z",
        &format!("?{FROM}&customerId=x"),
    ] {
        let (s, b) = app.get(&format!("/v1/auditrecords{bad}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {b}");
    }
}
on_both_backends!(the_audit_log_filtered_and_paged);

/// The dates real clients send: the .NET SDK's invariant-culture `MM/dd/yyyy HH:mm:ss`, the
/// plain dates of Partner Center's documentation, and RFC 3339, for `startDate` and `endDate`.
async fn audit_dates_in_every_form_clients_send() {
    let mut app = TestApp::start().await;
    // The clock starts at 2026-01-05T09:00:00Z; one customer a day after it.
    for domain in ["a", "b", "c"] {
        app.advance(Duration::from_days(1)).await;
        app.customer(&format!("{domain}.onmicrosoft.com")).await;
    }
    let count = |page: &Value| ops(page).iter().filter(|o| *o == "create_customer").count();
    for (query, expected) in [
        ("startDate=2026-01-07&endDate=2026-01-08", 1),
        (
            "startDate=01/06/2026 00:00:00&endDate=01/08/2026 00:00:00",
            2,
        ),
        ("startDate=1/6/2026 9:00:00&endDate=1/6/2026 9:00:01", 1),
        ("startDate=01/07/2026", 2),
        (
            "startDate=2026-01-06T09:00:00&endDate=2026-01-08T09:00:00Z",
            2,
        ),
        ("startDate=2026-01-06T11:00:00%2B02:00", 3),
    ] {
        let query = query.replace(' ', "%20").replace('/', "%2F");
        let (s, page) = app.get(&format!("/v1/auditrecords?{query}")).await;
        assert_eq!(s, StatusCode::OK, "{query}: {page}");
        assert_eq!(count(&page), expected, "{query}: {page}");
    }
    for bad in ["startDate=30/11/2026", "startDate=2026-01-01&endDate=soon"] {
        let got = app
            .get(&format!("/v1/auditrecords?{}", bad.replace('/', "%2F")))
            .await;
        assert_error(&got, StatusCode::BAD_REQUEST, 3000);
        assert!(
            got.1["description"]
                .as_str()
                .unwrap()
                .contains("MM/dd/yyyy"),
            "{}",
            got.1
        );
    }
}
on_both_backends!(audit_dates_in_every_form_clients_send);

async fn who_may_read_the_audit_log() {
    let app = TestApp::start().await;
    for (alias, access, allowed) in [
        ("billing", json!({"roles": ["Billing admin"]}), false),
        ("agent", json!({"roles": ["Admin agent"]}), false),
        (
            "auditor",
            json!({"customPermissions": {"audit": "read"}}),
            true,
        ),
    ] {
        let mut body = json!({"userPrincipalName": format!("{alias}@partner.local"), "displayName": alias,
            "passwordProfile": {"password": "Tq7#vLm2xR-audit", "forceChangePassword": false}});
        for (k, v) in access.as_object().unwrap() {
            body[k] = v.clone();
        }
        assert_eq!(app.post("/v1/users", body).await.0, StatusCode::CREATED);
        let token = app
            .sign_in(&format!("{alias}@partner.local"), "Tq7#vLm2xR-audit")
            .await
            .unwrap();
        let r = app
            .client
            .get(app.url(&format!("/v1/auditrecords?{FROM}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let got = into_parts(r).await;
        if allowed {
            assert_eq!(got.0, StatusCode::OK, "{alias}");
        } else {
            assert_error(&got, StatusCode::FORBIDDEN, 900150);
        }
    }
}
on_both_backends!(who_may_read_the_audit_log);
