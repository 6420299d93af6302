//! Malformed and mistyped bodies on every endpoint that takes one, and odd but valid text.

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::*;
use crate::common::*;

// ------------------------------------------------------------------ bodies

/// What a bad body must get.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Want {
    /// 400 code 800002: not JSON, not an object, or a wrong type.
    Malformed,
    /// 400 code 3000: well-formed, but a property fails validation.
    Invalid,
}

struct Case {
    name: String,
    body: Vec<u8>,
    want: Want,
    /// The `data` the error must carry, when the case pins it.
    data: Option<Vec<String>>,
}

fn case(name: impl Into<String>, body: impl Into<Vec<u8>>, want: Want) -> Case {
    Case {
        name: name.into(),
        body: body.into(),
        want,
        data: None,
    }
}

impl Case {
    /// Pins the `data` of the error to this one property.
    fn naming(mut self, field: &str) -> Self {
        self.data = Some(vec![field.to_string()]);
        self
    }
}

fn naming(name: impl Into<String>, body: &Value, want: Want, field: &str) -> Case {
    Case {
        name: name.into(),
        body: body.to_string().into_bytes(),
        want,
        data: Some(vec![field.to_string()]),
    }
}

/// `{"a": {"b": value}}` for the path `a.b`.
fn nest(path: &str, value: Value) -> Value {
    path.rsplit('.')
        .fold(value, |inner, key| json!({ key: inner }))
}

fn deep(open: &str, close: &str, depth: usize) -> Vec<u8> {
    format!("{}{}", open.repeat(depth), close.repeat(depth)).into_bytes()
}

/// Bodies that no endpoint can take as JSON: 800002 everywhere.
fn malformed_everywhere() -> Vec<Case> {
    use Want::Malformed as M;
    let mut cases = vec![
        case("empty", "", M),
        case("white space", " \r\n\t ", M),
        case("null", "null", M),
        case("empty array", "[]", M),
        case("array of objects", "[{}]", M),
        case("string", "\"hello\"", M),
        case("empty string", "\"\"", M),
        case("integer", "42", M),
        case("float", "-1.5e3", M),
        case("bool", "true", M),
        case("truncated object", "{", M),
        case("truncated string", "{\"displayName\": \"Ad", M),
        case("truncated after key", "{\"displayName\":", M),
        case("missing value", "{\"a\":}", M),
        case("trailing comma", "{\"a\": 1,}", M),
        case("trailing garbage", "{} x", M),
        case("two objects", "{}{}", M),
        case("single quotes", "{'displayName': 'x'}", M),
        case("unquoted key", "{displayName: \"x\"}", M),
        case("comment", "{/* hi */}", M),
        case("NaN", "{\"x\": NaN}", M),
        case("Infinity", "{\"x\": Infinity}", M),
        case("number too big for f64", "{\"x\": 1e999}", M),
        case("negative number too big", "{\"x\": -1e999}", M),
        case("NUL byte", "\0", M),
        case("NUL in an object", "{\0}", M),
        case("UTF-16 encoded object", b"{\0}\0".to_vec(), M),
        case("invalid UTF-8 outside strings", b"\xff\xfe{}".to_vec(), M),
        case(
            "invalid UTF-8 in a string",
            b"{\"displayName\": \"\xff\xfe\xc3\"}".to_vec(),
            M,
        ),
        case(
            "invalid UTF-8 in a key",
            b"{\"\xc3\x28\": \"x\"}".to_vec(),
            M,
        ),
        case("overlong UTF-8", b"{\"x\": \"\xc0\xaf\"}".to_vec(), M),
        case(
            "UTF-8 encoded surrogate",
            b"{\"x\": \"\xed\xa0\x80\"}".to_vec(),
            M,
        ),
        case(
            "raw control character in a string",
            "{\"displayName\": \"a\u{1}b\"}",
            M,
        ),
        case("raw newline in a string", "{\"displayName\": \"a\nb\"}", M),
        case("lone leading surrogate", r#"{"displayName": "\ud800"}"#, M),
        case(
            "lone trailing surrogate",
            r#"{"displayName": "\udc00x"}"#,
            M,
        ),
        case("reversed surrogate pair", r#"{"x": "\ude00\ud83d"}"#, M),
        case("bad escape", r#"{"displayName": "\q"}"#, M),
        case("short unicode escape", r#"{"displayName": "\u12"}"#, M),
        case("10,000 nested arrays", deep("[", "]", 10_000), M),
        case("10,000 unclosed arrays", "[".repeat(10_000), M),
        case("10,000 nested objects", deep("{\"a\":", "}", 10_000), M),
        case(
            "10,000 nested arrays in a property",
            [
                b"{\"displayName\": ".to_vec(),
                deep("[", "]", 10_000),
                b"}".to_vec(),
            ]
            .concat(),
            M,
        ),
        case(
            "10,000 nested arrays in an unknown property",
            [b"{\"x\": ".to_vec(), deep("[", "]", 10_000), b"}".to_vec()].concat(),
            M,
        ),
    ];
    // A long run of garbage, and a huge number literal.
    cases.push(case("100 KB of garbage", vec![b'#'; 100 * 1024], M));
    cases.push(case(
        "a 100 KB number",
        format!("{{\"x\": 1{}}}", "0".repeat(100 * 1024)),
        M,
    ));
    cases
}

/// Every wrong JSON type for a string property.
fn not_strings() -> Vec<(&'static str, Value)> {
    vec![
        ("integer", json!(5)),
        ("negative", json!(-1)),
        ("float", json!(1.5)),
        ("huge integer", json!(1e300)),
        ("u64::MAX", json!(u64::MAX)),
        ("bool", json!(true)),
        ("empty array", json!([])),
        ("array of strings", json!(["x"])),
        ("empty object", json!({})),
        ("object", json!({"value": "x"})),
    ]
}

/// Every wrong JSON type for an object property.
fn not_objects() -> Vec<(&'static str, Value)> {
    vec![
        ("string", json!("x")),
        ("empty string", json!("")),
        ("integer", json!(5)),
        ("bool", json!(false)),
        ("array", json!([])),
        ("array of objects", json!([{}])),
        ("array of strings", json!(["a.example.com", "A"])),
        ("array of its fields", json!(["Abcdef12!x", true])),
    ]
}

/// Wrong types at each property: 800002 naming the property.
fn wrong_types(strings: &[&str], objects: &[&str], bools: &[&str]) -> Vec<Case> {
    let mut cases = vec![];
    for path in strings {
        for (what, v) in not_strings() {
            cases.push(naming(
                format!("{path} as {what}"),
                &nest(path, v),
                Want::Malformed,
                path,
            ));
        }
    }
    for path in objects {
        for (what, v) in not_objects() {
            cases.push(naming(
                format!("{path} as {what}"),
                &nest(path, v),
                Want::Malformed,
                path,
            ));
        }
    }
    for path in bools {
        let values = [
            ("string yes", json!("yes")),
            ("string true", json!("true")),
            ("integer 1", json!(1)),
            ("integer 0", json!(0)),
            ("array", json!([true])),
            ("object", json!({})),
        ];
        for (what, v) in values {
            cases.push(naming(
                format!("{path} as {what}"),
                &nest(path, v),
                Want::Malformed,
                path,
            ));
        }
    }
    cases
}

const USER_STRINGS: [&str; 9] = [
    "userPrincipalName",
    "displayName",
    "firstName",
    "lastName",
    "usageLocation",
    "immutableId",
    "phoneNumber",
    "state",
    "passwordProfile.password",
];

fn long(n: usize) -> String {
    "a".repeat(n)
}

fn user_cases(create: bool) -> Vec<Case> {
    use Want::{Invalid as I, Malformed as M};
    let mut cases = malformed_everywhere();
    cases.extend(wrong_types(
        &USER_STRINGS,
        &["passwordProfile"],
        &["passwordProfile.forceChangePassword"],
    ));
    // PascalCase names are the same properties, and errors name them in camelCase.
    cases.push(naming(
        "PascalCase wrong type",
        &json!({"PasswordProfile": {"ForceChangePassword": "yes"}}),
        M,
        "passwordProfile.forceChangePassword",
    ));
    cases.push(naming(
        "upper-case wrong type",
        &json!({"DISPLAYNAME": 5}),
        M,
        "displayName",
    ));
    // A property given twice, in any casing, is refused whatever each spelling holds.
    cases.push(case(
        "duplicate keys in different cases, first mistyped",
        format!("{{\"displayName\": 5, \"DisplayName\": \"Ada\", \"userPrincipalName\": \"ada@{DOMAIN}\"}}"),
        M,
    )
    .naming("displayName"));
    cases.push(case(
        "duplicate keys in different cases, second mistyped",
        format!("{{\"DisplayName\": \"Ada\", \"displayName\": 5, \"userPrincipalName\": \"ada@{DOMAIN}\"}}"),
        M,
    )
    .naming("displayName"));
    cases.push(case(
        "duplicate keys in different cases, both strings",
        format!("{{\"displayName\": \"Ada\", \"DISPLAYNAME\": \"Bob\", \"userPrincipalName\": \"ada@{DOMAIN}\"}}"),
        M,
    )
    .naming("displayName"));
    cases.push(case(
        "duplicate keys, same case",
        format!("{{\"displayName\": \"Ada\", \"displayName\": \"Bob\", \"userPrincipalName\": \"ada@{DOMAIN}\"}}"),
        M,
    )
    .naming("displayName"));
    cases.push(case(
        "duplicate nested keys in different cases",
        format!("{{\"displayName\": \"Ada\", \"userPrincipalName\": \"ada@{DOMAIN}\", \"passwordProfile\": {{\"password\": \"{GOOD_PASSWORD}\", \"Password\": \"x\"}}}}"),
        M,
    )
    .naming("passwordProfile.password"));

    // Well-formed JSON whose values fail validation.
    let upn = format!("ada@{DOMAIN}");
    let valid = |extra: Value| -> Value {
        let mut base = json!({"userPrincipalName": upn, "displayName": "Ada"});
        for (k, v) in extra.as_object().into_iter().flatten() {
            base[k] = v.clone();
        }
        base
    };
    let invalid: Vec<(&str, Value, &str)> = vec![
        (
            "100 KB displayName",
            valid(json!({"displayName": long(100 * 1024)})),
            "displayName",
        ),
        (
            "empty displayName",
            valid(json!({"displayName": ""})),
            "displayName",
        ),
        (
            "blank displayName",
            valid(json!({"displayName": " \t "})),
            "displayName",
        ),
        (
            "NUL in displayName",
            valid(json!({"displayName": "A\u{0}da"})),
            "displayName",
        ),
        (
            "BEL in displayName",
            valid(json!({"displayName": "A\u{7}da"})),
            "displayName",
        ),
        (
            "newline in displayName",
            valid(json!({"displayName": "A\nda"})),
            "displayName",
        ),
        (
            "DEL in displayName",
            valid(json!({"displayName": "A\u{7f}da"})),
            "displayName",
        ),
        (
            "100 KB firstName",
            valid(json!({"firstName": long(100 * 1024)})),
            "firstName",
        ),
        (
            "100 KB lastName",
            valid(json!({"lastName": long(100 * 1024)})),
            "lastName",
        ),
        (
            "100 KB immutableId",
            valid(json!({"immutableId": long(100 * 1024)})),
            "immutableId",
        ),
        (
            "100 KB phoneNumber",
            valid(json!({"phoneNumber": long(100 * 1024)})),
            "phoneNumber",
        ),
        (
            "control character in phoneNumber",
            valid(json!({"phoneNumber": "+1\u{1b}555"})),
            "phoneNumber",
        ),
        (
            "UPN without a domain",
            valid(json!({"userPrincipalName": "ada"})),
            "userPrincipalName",
        ),
        (
            "UPN with emoji",
            valid(json!({"userPrincipalName": format!("ada😀@{DOMAIN}")})),
            "userPrincipalName",
        ),
        (
            "UPN with a right-to-left mark",
            valid(json!({"userPrincipalName": format!("\u{200f}ada@{DOMAIN}")})),
            "userPrincipalName",
        ),
        (
            "UPN with a right-to-left override",
            valid(json!({"userPrincipalName": format!("ada\u{202e}@{DOMAIN}")})),
            "userPrincipalName",
        ),
        (
            "UPN with a NUL",
            valid(json!({"userPrincipalName": format!("ada\u{0}@{DOMAIN}")})),
            "userPrincipalName",
        ),
        (
            "UPN with an emoji domain",
            valid(json!({"userPrincipalName": "ada@😀.com"})),
            "userPrincipalName",
        ),
        (
            "100 KB UPN",
            valid(json!({"userPrincipalName": format!("{}@{DOMAIN}", long(100 * 1024))})),
            "userPrincipalName",
        ),
        (
            "UPN on another customer's domain",
            valid(json!({"userPrincipalName": "ada@fabrikam.com"})),
            "userPrincipalName",
        ),
        (
            "emoji usageLocation",
            valid(json!({"usageLocation": "🇬🇧"})),
            "usageLocation",
        ),
        (
            "unknown usageLocation",
            valid(json!({"usageLocation": "XX"})),
            "usageLocation",
        ),
        (
            "100 KB usageLocation",
            valid(json!({"usageLocation": long(100 * 1024)})),
            "usageLocation",
        ),
        (
            "weak password",
            valid(json!({"passwordProfile": {"password": "x"}})),
            "passwordProfile.password",
        ),
        (
            "100 KB password",
            valid(json!({"passwordProfile": {"password": format!("Aa1*{}", long(100 * 1024))}})),
            "passwordProfile.password",
        ),
    ];
    for (name, body, field) in invalid {
        cases.push(naming(name, &body, I, field));
    }
    if create {
        cases.push(case("empty object", "{}", I));
        cases.push(case(
            "everything null",
            "{\"userPrincipalName\": null, \"displayName\": null, \"passwordProfile\": null}",
            I,
        ));
        cases.push(naming(
            "no displayName",
            &json!({"userPrincipalName": upn}),
            I,
            "displayName",
        ));
    } else {
        cases.push(naming(
            "state inactive",
            &json!({"state": "inactive"}),
            I,
            "state",
        ));
        cases.push(naming(
            "unknown state",
            &json!({"state": "deleted😀"}),
            I,
            "state",
        ));
    }
    cases
}

fn customer_cases() -> Vec<Case> {
    use Want::{Invalid as I, Malformed as M};
    let mut cases = malformed_everywhere();
    cases.extend(wrong_types(
        &[
            "companyProfile.domain",
            "companyProfile.companyName",
            "billingProfile.companyName",
            "billingProfile.email",
            "billingProfile.culture",
            "billingProfile.language",
            "billingProfile.defaultAddress.country",
            "billingProfile.defaultAddress.region",
            "billingProfile.defaultAddress.city",
            "billingProfile.defaultAddress.addressLine1",
            "billingProfile.defaultAddress.postalCode",
            "billingProfile.defaultAddress.phoneNumber",
        ],
        &[
            "companyProfile",
            "billingProfile",
            "billingProfile.defaultAddress",
        ],
        &[],
    ));
    cases.push(case(
        "duplicate keys in different cases",
        "{\"companyProfile\": {\"domain\": \"a.com\", \"companyName\": \"A\"}, \"CompanyProfile\": {\"domain\": \"b.com\", \"companyName\": \"B\"}}",
        M,
    )
    .naming("companyProfile"));
    let valid = |company: Value, address: Value| {
        let mut c = json!({"domain": "new.example.com", "companyName": "New"});
        for (k, v) in company.as_object().into_iter().flatten() {
            c[k] = v.clone();
        }
        json!({"companyProfile": c, "billingProfile": {"defaultAddress": address}})
    };
    let invalid: Vec<(&str, Value, &str)> = vec![
        (
            "no domain",
            json!({"companyProfile": {"companyName": "X"}}),
            "companyProfile.domain",
        ),
        (
            "not a domain",
            valid(json!({"domain": "nope"}), json!({})),
            "companyProfile.domain",
        ),
        (
            "emoji domain",
            valid(json!({"domain": "😀.example.com"}), json!({})),
            "companyProfile.domain",
        ),
        (
            "domain with a right-to-left mark",
            valid(json!({"domain": "new\u{200f}.example.com"}), json!({})),
            "companyProfile.domain",
        ),
        (
            "domain with a NUL",
            valid(json!({"domain": "new\u{0}.example.com"}), json!({})),
            "companyProfile.domain",
        ),
        (
            "100 KB domain",
            valid(
                json!({"domain": format!("{}.com", long(100 * 1024))}),
                json!({}),
            ),
            "companyProfile.domain",
        ),
        (
            "100 KB companyName",
            valid(json!({"companyName": long(100 * 1024)}), json!({})),
            "companyProfile.companyName",
        ),
        (
            "control character in companyName",
            valid(json!({"companyName": "Con\u{8}toso"}), json!({})),
            "companyProfile.companyName",
        ),
        (
            "blank companyName",
            valid(json!({"companyName": "   "}), json!({})),
            "companyProfile.companyName",
        ),
        (
            "unknown country",
            valid(json!({}), json!({"country": "ZZ"})),
            "billingProfile.defaultAddress.country",
        ),
        (
            "emoji country",
            valid(json!({}), json!({"country": "🇩🇪"})),
            "billingProfile.defaultAddress.country",
        ),
        (
            "100 KB city",
            valid(json!({}), json!({"city": long(100 * 1024)})),
            "billingProfile.defaultAddress.city",
        ),
    ];
    for (name, body, field) in invalid {
        cases.push(naming(name, &body, I, field));
    }
    cases.push(case("empty object", "{}", I));
    cases.push(case(
        "everything null",
        "{\"companyProfile\": null, \"billingProfile\": null}",
        I,
    ));
    cases
}

fn domain_cases() -> Vec<Case> {
    use Want::{Invalid as I, Malformed as M};
    let mut cases = malformed_everywhere();
    cases.extend(wrong_types(&["name", "authenticationType"], &[], &[]));
    cases.push(
        case(
            "duplicate keys in different cases",
            "{\"name\": \"a.example.com\", \"Name\": \"b.example.com\"}",
            M,
        )
        .naming("name"),
    );
    let invalid: Vec<(&str, Value, &str)> = vec![
        ("no name", json!({}), "name"),
        ("null name", json!({"name": null}), "name"),
        ("not a domain", json!({"name": "nope"}), "name"),
        ("emoji domain", json!({"name": "😀.example.com"}), "name"),
        (
            "domain with a right-to-left mark",
            json!({"name": "\u{200f}x.example.com"}),
            "name",
        ),
        (
            "domain with a NUL",
            json!({"name": "x\u{0}.example.com"}),
            "name",
        ),
        (
            "100 KB domain",
            json!({"name": format!("{}.com", long(100 * 1024))}),
            "name",
        ),
        (
            "unknown authenticationType",
            json!({"name": "x.example.com", "authenticationType": "magic"}),
            "authenticationType",
        ),
    ];
    for (name, body, field) in invalid {
        cases.push(naming(name, &body, I, field));
    }
    cases
}

/// Sends every case and returns a line per mismatch.
async fn run_cases(app: &TestApp, method: Method, path: &str, cases: &[Case]) -> Vec<String> {
    let mut failures = vec![];
    for c in cases {
        let a = answer(
            app.req(method.clone(), path)
                .header(CONTENT_TYPE, "application/json")
                .body(c.body.clone()),
        )
        .await;
        let code = match c.want {
            Want::Malformed => 800002,
            Want::Invalid => 3000,
        };
        let shape_ok = a.status == StatusCode::BAD_REQUEST
            && a.body["code"].as_u64() == Some(code)
            && a.body["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty() && d.chars().count() <= 1024)
            && a.body["data"].is_array()
            && a.body["source"] == "Roster"
            && a.header("content-type") == Some("application/json; charset=utf-8");
        let data_ok = match &c.data {
            None => true,
            Some(fields) => fields.iter().all(|f| {
                a.body["data"]
                    .as_array()
                    .is_some_and(|d| d.contains(&json!(f)))
            }),
        };
        // No internal names: neither Rust types nor library names.
        let description = a.body["description"].as_str().unwrap_or_default();
        let clean = [
            "struct ", "Request", "enum ", "serde", "::", "Option<", "panicked",
        ]
        .iter()
        .all(|word| !description.contains(word));
        if !shape_ok || !data_ok || !clean {
            let mut shown = a.body.to_string();
            shown.truncate(300);
            failures.push(format!(
                "{method} {path} [{}]: want 400 {code} {:?}, got {} {shown}",
                c.name,
                c.data.as_deref().unwrap_or_default(),
                a.status
            ));
        }
    }
    failures
}

async fn malformed_bodies_get_400_on_every_endpoint_that_takes_a_body() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    app.customer("fabrikam.com").await;
    let user = app.user(&cid, &format!("grace@{DOMAIN}"), "Grace").await;
    let uid = user["id"].as_str().unwrap().to_string();

    let mut failures = vec![];
    failures.extend(run_cases(&app, Method::POST, "/v1/customers", &customer_cases()).await);
    failures.extend(
        run_cases(
            &app,
            Method::POST,
            &format!("/v1/customers/{cid}/users"),
            &user_cases(true),
        )
        .await,
    );
    failures.extend(
        run_cases(
            &app,
            Method::PATCH,
            &format!("/v1/customers/{cid}/users/{uid}"),
            &user_cases(false),
        )
        .await,
    );
    failures.extend(
        run_cases(
            &app,
            Method::POST,
            &format!("/v1/customers/{cid}/domains"),
            &domain_cases(),
        )
        .await,
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Nothing was created or changed by any of them.
    let (_, list) = app.get("/v1/customers").await;
    assert_eq!(list["totalCount"], 2, "{list}");
    let (_, users) = app.get(&format!("/v1/customers/{cid}/users")).await;
    assert_eq!(users["totalCount"], 1, "{users}");
    let (_, got) = app.get(&format!("/v1/customers/{cid}/users/{uid}")).await;
    assert_eq!(got["displayName"], "Grace");
    assert_eq!(got["attributes"]["etag"], user["attributes"]["etag"]);
    let (_, domains) = app.get(&format!("/v1/customers/{cid}/domains")).await;
    assert_eq!(domains["totalCount"], 1, "{domains}");
}
on_both_backends!(malformed_bodies_get_400_on_every_endpoint_that_takes_a_body);

async fn odd_but_valid_unicode_is_kept_exactly() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let name = "Ada 😀 \u{200f}שלום\u{200e} Łódź 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 e\u{301}";
    let a = answer(app.req(Method::POST, &format!("/v1/customers/{cid}/users")).json(
        &json!({"userPrincipalName": format!("ada@{DOMAIN}"), "displayName": name, "lastName": "\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}"}),
    ))
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.body["displayName"], name);
    // Escaped surrogate pairs are one character, as JSON says.
    let uid = a.body["id"].as_str().unwrap();
    let a = answer(
        app.req(Method::PATCH, &format!("/v1/customers/{cid}/users/{uid}"))
            .header(CONTENT_TYPE, "application/json")
            .body(r#"{"displayName": "\ud83d\ude00 smile"}"#),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["displayName"], "😀 smile");
    // A read-only property may hold anything; unknown properties too, when well-formed.
    let a = answer(
        app.req(Method::PATCH, &format!("/v1/customers/{cid}/users/{uid}"))
            .json(&json!({"id": 5, "links": "x", "attributes": [1, 2], "lastDirectorySyncTime": {"a": true}, "whatever": [[[[[[["deep"]]]]]]], "firstName": "Ada"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["firstName"], "Ada");
}
on_both_backends!(odd_but_valid_unicode_is_kept_exactly);
