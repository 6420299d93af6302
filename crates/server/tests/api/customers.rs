use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

async fn create_get_and_list_customers() {
    let app = TestApp::start().await;
    let (status, body) = app
        .post(
            "/v1/customers",
            json!({"CompanyProfile": {"Domain": "Contoso.OnMicrosoft.com", "CompanyName": "Contoso"},
                   "BillingProfile": {"Email": "billing@contoso.com", "DefaultAddress": {"Country": "de", "City": "Berlin"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap();
    assert_eq!(body["companyProfile"]["tenantId"], id);
    assert_eq!(body["companyProfile"]["domain"], "contoso.onmicrosoft.com");
    assert_eq!(body["billingProfile"]["defaultAddress"]["country"], "DE");
    assert_eq!(body["billingProfile"]["defaultAddress"]["city"], "Berlin");
    assert_eq!(body["relationshipToPartner"], "reseller");
    assert_eq!(body["attributes"]["objectType"], "Customer");
    assert_eq!(body["links"]["self"]["uri"], format!("/customers/{id}"));

    let (status, got) = app.get(&format!("/v1/customers/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, body);

    let (status, list) = app.get("/v1/customers").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["totalCount"], 1);
    assert_eq!(list["items"][0]["id"], id);
    assert_eq!(list["continuationToken"], "");
    assert_eq!(list["attributes"]["objectType"], "Collection");
}
on_both_backends!(create_get_and_list_customers);

async fn customer_errors() {
    let app = TestApp::start().await;
    app.customer("fabrikam.com").await;
    // The same domain in another case is taken.
    let taken = app
        .post(
            "/v1/customers",
            json!({"companyProfile": {"domain": "FABRIKAM.com", "companyName": "X"}}),
        )
        .await;
    assert_error(&taken, StatusCode::CONFLICT, 3000);
    // Every failing property is named.
    let bad = app.post("/v1/customers", json!({"companyProfile": {"domain": "nope"}, "billingProfile": {"defaultAddress": {"country": "XX"}}})).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, 3000);
    assert_eq!(
        bad.1["data"],
        json!([
            "companyProfile.domain",
            "companyProfile.companyName",
            "billingProfile.defaultAddress.country"
        ])
    );
    // Unknown and malformed ids.
    assert_error(
        &app.get("/v1/customers/not-a-guid").await,
        StatusCode::BAD_REQUEST,
        2000,
    );
    assert_eq!(
        app.get("/v1/customers/not-a-guid").await.1["description"],
        "Tenant Id must be a GUID."
    );
    assert_error(
        &app.get(&format!("/v1/customers/{}", uuid::Uuid::new_v4()))
            .await,
        StatusCode::NOT_FOUND,
        60003,
    );
}
on_both_backends!(customer_errors);

async fn customer_filter_and_paging() {
    let app = TestApp::start().await;
    for d in ["alpha.com", "beta.com", "alpine.com", "gamma.com"] {
        app.customer(d).await;
    }
    let filter = urlencode(r#"{"Field":"Domain","Value":"AL","Operator":"starts_with"}"#);
    let (status, list) = app.get(&format!("/v1/customers?filter={filter}")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let domains: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["companyProfile"]["domain"].as_str().unwrap())
        .collect();
    assert_eq!(domains, vec!["alpha.com", "alpine.com"]);

    let (_, first) = app.get("/v1/customers?size=3").await;
    assert_eq!(first["totalCount"], 3);
    let token = first["continuationToken"].as_str().unwrap();
    assert!(!token.is_empty());
    let next = app
        .req(reqwest::Method::GET, "/v1/customers?seekOperation=Next")
        .header("MS-ContinuationToken", token)
        .send()
        .await
        .unwrap();
    let (status, second) = into_parts(next).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["totalCount"], 1);
    assert_eq!(second["continuationToken"], "");
}
on_both_backends!(customer_filter_and_paging);

async fn domains_and_user_domain_types() {
    let app = TestApp::start().await;
    let cid = app.customer("contoso.onmicrosoft.com").await;
    let (s, d) = app
        .post(
            &format!("/v1/customers/{cid}/domains"),
            json!({"name": "contoso.com"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(d["authenticationType"], "managed");
    let (s, _) = app
        .post(
            &format!("/v1/customers/{cid}/domains"),
            json!({"name": "fed.contoso.com", "authenticationType": "Federated"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, list) = app.get(&format!("/v1/customers/{cid}/domains")).await;
    assert_eq!(list["totalCount"], 3);
    assert_eq!(list["items"][0]["authenticationType"], "initial");
    // A domain belongs to at most one tenant.
    let other = app.customer("other.com").await;
    assert_error(
        &app.post(
            &format!("/v1/customers/{other}/domains"),
            json!({"name": "Contoso.com"}),
        )
        .await,
        StatusCode::CONFLICT,
        3000,
    );
    assert_error(
        &app.post(
            &format!("/v1/customers/{other}/domains"),
            json!({"name": "x.com", "authenticationType": "initial"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        3000,
    );

    let initial = app.user(&cid, "a@contoso.onmicrosoft.com", "A").await;
    assert_eq!(initial["userDomainType"], "none");
    let managed = app.user(&cid, "b@contoso.com", "B").await;
    assert_eq!(managed["userDomainType"], "managed");
    let federated = app
        .post(
            &format!("/v1/customers/{cid}/users"),
            json!({"userPrincipalName": "c@fed.contoso.com", "displayName": "C"}),
        )
        .await;
    assert_error(&federated, StatusCode::BAD_REQUEST, 3000);
    assert!(federated.1["description"]
        .as_str()
        .unwrap()
        .contains("user domain can't be a federated domain"));
    // A UPN on another customer's domain is refused.
    let foreign = app
        .post(
            &format!("/v1/customers/{cid}/users"),
            json!({"userPrincipalName": "d@other.com", "displayName": "D"}),
        )
        .await;
    assert_error(&foreign, StatusCode::BAD_REQUEST, 3000);
}
on_both_backends!(domains_and_user_domain_types);
