//! Bad input always gets a clear answer in the API's error format: never a 500, a panic or a
//! hang. Malformed and mistyped bodies, bad path ids, oversized bodies, unknown paths and
//! methods, bad tokens, request ids, extra headers, and slow clients on a raw TCP socket.

use std::time::{Duration as StdDuration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, StatusCode};
use roster_server::{Timeouts, BODY_LIMIT};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

/// No single exchange in this file may take longer than this: a hang fails the test.
const BOUND: StdDuration = StdDuration::from_secs(30);

/// One answer with its headers.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn parts(&self) -> (StatusCode, Value) {
        (self.status, self.body.clone())
    }
}

async fn answer(r: RequestBuilder) -> Answer {
    let response = tokio::time::timeout(BOUND, r.send())
        .await
        .expect("the server answers in time")
        .expect("the server answers");
    let headers = response.headers().clone();
    let (status, body) = tokio::time::timeout(BOUND, into_parts(response))
        .await
        .expect("the body arrives in time");
    Answer {
        status,
        headers,
        body,
    }
}

/// Asserts an error in the API's format, with its content type.
#[track_caller]
fn assert_fault(a: &Answer, status: StatusCode, code: u64) {
    assert_error(&a.parts(), status, code);
    assert_eq!(
        a.header("content-type"),
        Some("application/json; charset=utf-8"),
        "{}",
        a.body
    );
}

fn is_guid(s: &str) -> bool {
    s.len() == 36 && roster_domain::ids::parse_guid(s).is_ok()
}

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

const DOMAIN: &str = "contoso.onmicrosoft.com";

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

// ------------------------------------------------------------------ path ids

async fn path_ids_must_be_guids() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let user = app.user(&cid, &format!("ada@{DOMAIN}"), "Ada").await;
    let uid = user["id"].as_str().unwrap().to_string();
    let long_id = "a".repeat(5000);
    let bad = [
        "abc",
        "1",
        "null",
        "62e9039469f542379190012177145e10",
        "62e90394-69f5-4237-9190-012177145e1",
        "62e90394-69f5-4237-9190-012177145e100",
        "g2e90394-69f5-4237-9190-012177145e10",
        "62e90394_69f5_4237_9190_012177145e10",
        "{62e90394-69f5-4237-9190-012177145e10",
        "(62e90394-69f5-4237-9190-012177145e10)",
        "urn:uuid:62e90394-69f5-4237-9190-012177145e10",
        "%2062e90394-69f5-4237-9190-012177145e10",
        "%7B%7D",
        "%00",
        "%FF",
        "%C3%28",
        "%E2%9C%93",
        "%F0%9F%98%80",
        "..%2F..%2Fetc",
        long_id.as_str(),
    ];
    for id in bad {
        let shown = &id[..id.len().min(40)];
        let checks: Vec<(Method, String, Option<Value>, &str)> = vec![
            (
                Method::GET,
                format!("/v1/customers/{id}"),
                None,
                "Tenant Id must be a GUID.",
            ),
            (
                Method::GET,
                format!("/v1/customers/{id}/users"),
                None,
                "Tenant Id must be a GUID.",
            ),
            (
                Method::GET,
                format!("/v1/customers/{id}/domains"),
                None,
                "Tenant Id must be a GUID.",
            ),
            (
                Method::POST,
                format!("/v1/customers/{id}/users"),
                Some(json!({"userPrincipalName": format!("x@{DOMAIN}"), "displayName": "X"})),
                "Tenant Id must be a GUID.",
            ),
            (
                Method::GET,
                format!("/v1/customers/{id}/users/{uid}"),
                None,
                "Tenant Id must be a GUID.",
            ),
            (
                Method::GET,
                format!("/v1/customers/{cid}/users/{id}"),
                None,
                "User Id must be a GUID.",
            ),
            (
                Method::PATCH,
                format!("/v1/customers/{cid}/users/{id}"),
                Some(json!({"displayName": "X"})),
                "User Id must be a GUID.",
            ),
            (
                Method::DELETE,
                format!("/v1/customers/{cid}/users/{id}"),
                None,
                "User Id must be a GUID.",
            ),
        ];
        for (method, path, body, description) in checks {
            let mut r = app.req(method.clone(), &path);
            if let Some(b) = body {
                r = r.json(&b);
            }
            let a = answer(r).await;
            assert_eq!(a.body["code"], 2000, "{method} {shown}: {}", a.body);
            assert_fault(&a, StatusCode::BAD_REQUEST, 2000);
            assert_eq!(a.body["description"], description, "{method} {shown}");
        }
    }

    // Braces and upper case are accepted, and answered in the canonical form.
    let forms = |id: &str| {
        [
            id.to_uppercase(),
            format!("{{{id}}}"),
            format!("{{{}}}", id.to_uppercase()),
            format!("%7B{id}%7D"),
        ]
    };
    for c in forms(&cid) {
        let a = answer(app.req(Method::GET, &format!("/v1/customers/{c}"))).await;
        assert_eq!(a.status, StatusCode::OK, "{c}: {}", a.body);
        assert_eq!(a.body["id"], cid.as_str());
        for u in forms(&uid) {
            let a = answer(app.req(Method::GET, &format!("/v1/customers/{c}/users/{u}"))).await;
            assert_eq!(a.status, StatusCode::OK, "{c} {u}: {}", a.body);
            assert_eq!(a.body["id"], uid.as_str());
        }
    }
    // A GUID that names nothing is a 404, not a 400.
    let nil = "00000000-0000-0000-0000-000000000000";
    let a = answer(app.req(Method::GET, &format!("/v1/customers/{nil}"))).await;
    assert_fault(&a, StatusCode::NOT_FOUND, 60003);
    let a = answer(app.req(Method::GET, &format!("/v1/customers/{cid}/users/{nil}"))).await;
    assert_fault(&a, StatusCode::NOT_FOUND, 60002);
}
on_both_backends!(path_ids_must_be_guids);

// ------------------------------------------------------------------ body size

/// A JSON object of exactly `len` bytes: a valid user padded with white space.
fn padded_user(len: usize) -> Vec<u8> {
    let mut body = json!({"userPrincipalName": format!("big@{DOMAIN}"), "displayName": "Big"})
        .to_string()
        .into_bytes();
    assert!(body.len() <= len);
    body.resize(len, b' ');
    body
}

/// A raw HTTP/1.1 answer read from a socket.
#[derive(Debug)]
struct RawAnswer {
    status: u16,
    head: String,
    body: Value,
}

/// Parses the first final (non-1xx) response in `bytes`.
fn parse_raw(bytes: &[u8]) -> Option<RawAnswer> {
    let mut rest = bytes;
    loop {
        let end = rest.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = &rest[end + 4..];
        let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
        if (100..200).contains(&status) {
            continue;
        }
        let length = head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        });
        let body = &rest[..length.unwrap_or(rest.len()).min(rest.len())];
        let body = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
        };
        return Some(RawAnswer { status, head, body });
    }
}

/// Reads until the server closes the connection or `within` passes; returns what came and
/// whether the connection was closed.
async fn read_until_closed(stream: &mut TcpStream, within: StdDuration) -> (Vec<u8>, bool) {
    let deadline = tokio::time::Instant::now() + within;
    let mut got = vec![];
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (got, false),
            Ok(Ok(0)) | Ok(Err(_)) => return (got, true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Writes `head` then `body` (ignoring a server that stops reading early), and reads the
/// answer until the server closes.
async fn raw_exchange(app: &TestApp, head: String, body: Vec<u8>) -> RawAnswer {
    let addr = app.base.trim_start_matches("http://").to_string();
    let stream = TcpStream::connect(&addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let write = tokio::spawn(async move {
        if writer.write_all(head.as_bytes()).await.is_ok() {
            let _ = writer.write_all(&body).await;
        }
        writer
    });
    let mut got = vec![];
    let read = async {
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            if parse_raw(&got).is_some_and(|a| {
                a.body != Value::Null || a.head.to_ascii_lowercase().contains("content-length: 0")
            }) {
                break;
            }
        }
    };
    tokio::time::timeout(BOUND, read)
        .await
        .expect("the server answers in time");
    write.abort();
    parse_raw(&got).unwrap_or_else(|| {
        panic!(
            "no HTTP answer: {:?}",
            String::from_utf8_lossy(&got[..got.len().min(500)])
        )
    })
}

fn chunked(body: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = vec![];
    for part in body.chunks(chunk) {
        out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

async fn bodies_over_one_mebibyte_get_413() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let path = format!("/v1/customers/{cid}/users");
    let head = |extra: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nConnection: close\r\n{extra}\r\n",
            app.token
        )
    };
    // With Content-Length, one byte over the limit.
    let over = padded_user(BODY_LIMIT + 1);
    let a = raw_exchange(
        &app,
        head(&format!("Content-Length: {}\r\n", over.len())),
        over.clone(),
    )
    .await;
    assert_eq!(a.status, 413, "{a:?}");
    assert_eq!(a.body["code"], 800004, "{a:?}");
    assert_eq!(a.body["source"], "Roster", "{a:?}");
    assert!(
        a.head
            .to_ascii_lowercase()
            .contains("content-type: application/json; charset=utf-8"),
        "{a:?}"
    );
    // Chunked, without Content-Length.
    let a = raw_exchange(
        &app,
        head("Transfer-Encoding: chunked\r\n"),
        chunked(&over, 64 * 1024),
    )
    .await;
    assert_eq!(a.status, 413, "{a:?}");
    assert_eq!(a.body["code"], 800004, "{a:?}");
    // Much larger, with an MS-RequestId (the idempotency layer reads the body too).
    let huge = padded_user(8 * BODY_LIMIT);
    let a = raw_exchange(
        &app,
        head(&format!(
            "Content-Length: {}\r\nMS-RequestId: 5c0d0d43-3d2b-4a51-9d0f-2b8f4b1f0a01\r\n",
            huge.len()
        )),
        huge,
    )
    .await;
    assert_eq!(a.status, 413, "{a:?}");
    assert_eq!(a.body["code"], 800004, "{a:?}");
    // And through an ordinary client.
    let a = answer(
        app.req(Method::POST, &path)
            .header(CONTENT_TYPE, "application/json")
            .body(over),
    )
    .await;
    assert_fault(&a, StatusCode::PAYLOAD_TOO_LARGE, 800004);

    // Exactly at the limit is accepted: the body is read and the user is created.
    let exact = padded_user(BODY_LIMIT);
    let a = answer(
        app.req(Method::POST, &path)
            .header(CONTENT_TYPE, "application/json")
            .body(exact.clone()),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    // Chunked, exactly at the limit: read in full, then refused for the taken UPN, not the size.
    let a = raw_exchange(
        &app,
        head("Transfer-Encoding: chunked\r\n"),
        chunked(&exact, 10_000),
    )
    .await;
    assert_eq!(a.status, 409, "{a:?}");
    assert_eq!(a.body["code"], 60004, "{a:?}");
    // A limit-sized string is a validation error, not a size error.
    let mut big_name =
        format!("{{\"userPrincipalName\": \"x@{DOMAIN}\", \"displayName\": \"").into_bytes();
    big_name.resize(BODY_LIMIT - 2, b'a');
    big_name.extend_from_slice(b"\"}");
    let a = answer(
        app.req(Method::POST, &path)
            .header(CONTENT_TYPE, "application/json")
            .body(big_name),
    )
    .await;
    assert_fault(&a, StatusCode::BAD_REQUEST, 3000);
    assert_eq!(a.body["data"], json!(["displayName"]));
}
on_both_backends!(bodies_over_one_mebibyte_get_413);

// ------------------------------------------------------------------ routing

async fn unknown_paths_get_404_and_wrong_methods_get_405_with_a_body() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let unknown = [
        "/",
        "/v1",
        "/v1/",
        "/v2/customers",
        "/v1/nope",
        "/v1/customers/x/y/z/w/v",
        &format!("/v1/customers/{cid}/nope"),
        &format!("/v1/customers/{cid}/users/x/y/z"),
        "/v1/%FF",
        "/v1/customers%00",
        "/openapi.json/x",
    ];
    for path in unknown {
        for authed in [true, false] {
            let r = if authed {
                app.req(Method::GET, path)
            } else {
                app.client.get(app.url(path))
            };
            let a = answer(r).await;
            assert_fault(&a, StatusCode::NOT_FOUND, 1000);
        }
    }
    let wrong: Vec<(Method, String)> = vec![
        (Method::PUT, "/v1/customers".into()),
        (Method::DELETE, "/v1/customers".into()),
        (Method::PATCH, "/v1/customers/".into()),
        (Method::PUT, format!("/v1/customers/{cid}")),
        (Method::POST, format!("/v1/customers/{cid}")),
        (Method::DELETE, format!("/v1/customers/{cid}/users")),
        (Method::POST, format!("/v1/customers/{cid}/users/{cid}")),
        (Method::GET, "/oauth2/token".into()),
        (Method::POST, "/healthz".into()),
        (Method::from_bytes(b"BREW").unwrap(), "/v1/customers".into()),
    ];
    for (method, path) in wrong {
        let a = answer(app.req(method.clone(), &path).json(&json!({}))).await;
        assert_fault(&a, StatusCode::METHOD_NOT_ALLOWED, 405);
        assert!(
            a.header("allow").is_some(),
            "{method} {path}: no Allow header"
        );
    }
}
on_both_backends!(unknown_paths_get_404_and_wrong_methods_get_405_with_a_body);

// ------------------------------------------------------------------ authentication

async fn bad_tokens_get_401_with_www_authenticate() {
    let app = TestApp::start().await;
    let token = app.token.clone();
    let mut tampered_middle = token.clone().into_bytes();
    let mid = tampered_middle.len() / 2;
    tampered_middle[mid] = if tampered_middle[mid] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let mut tampered_end = token.clone().into_bytes();
    let last = tampered_end.len() - 1;
    tampered_end[last] = if tampered_end[last] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let tampered_middle = String::from_utf8(tampered_middle).unwrap();
    let tampered_end = String::from_utf8(tampered_end).unwrap();
    let huge = "x".repeat(16 * 1024);
    let values: Vec<Option<Vec<u8>>> = vec![
        None,
        Some(b"".to_vec()),
        Some(b"Bearer".to_vec()),
        Some(b"Bearer ".to_vec()),
        Some(b"Bearer    ".to_vec()),
        Some(b"Bearer garbage".to_vec()),
        Some(b"Bearer a.b.c".to_vec()),
        Some(b"Bearer ....".to_vec()),
        Some(b"Bearer \xff\xfe".to_vec()),
        Some(format!("Bearer {huge}").into_bytes()),
        Some(format!("Bearer {tampered_middle}").into_bytes()),
        Some(format!("Bearer {tampered_end}").into_bytes()),
        Some(format!("Bearer {token}x").into_bytes()),
        Some(format!("Bearer {}", &token[..token.len() - 1]).into_bytes()),
        Some(format!("Bearer {token} {token}").into_bytes()),
        Some(format!("Basic {token}").into_bytes()),
        Some(format!("Token {token}").into_bytes()),
        Some(token.clone().into_bytes()),
        Some(b"Basic YWRtaW5AcGFydG5lci5sb2NhbDpDb3JyZWN0LUhvcnNlLTQyLUJhdHRlcnk=".to_vec()),
    ];
    let cid = "62e90394-69f5-4237-9190-012177145e10";
    let targets: Vec<(Method, String, Option<&[u8]>)> = vec![
        (Method::GET, "/v1/customers".into(), None),
        // Authentication comes before the body and the path: nothing is revealed.
        (Method::POST, "/v1/customers".into(), Some(b"{not json")),
        (Method::GET, "/v1/customers/not-a-guid".into(), None),
        (
            Method::PATCH,
            format!("/v1/customers/{cid}/users/{cid}"),
            Some(b"[]"),
        ),
        (
            Method::DELETE,
            format!("/v1/customers/{cid}/users/{cid}"),
            None,
        ),
    ];
    for value in &values {
        for (method, path, body) in &targets {
            let mut r = app.client.request(method.clone(), app.url(path));
            if let Some(v) = value {
                r = r.header("authorization", HeaderValue::from_bytes(v).unwrap());
            }
            if let Some(b) = body {
                r = r.header(CONTENT_TYPE, "application/json").body(b.to_vec());
            }
            let a = answer(r).await;
            let shown = value
                .as_ref()
                .map(|v| String::from_utf8_lossy(&v[..v.len().min(40)]).into_owned());
            assert_eq!(
                a.status,
                StatusCode::UNAUTHORIZED,
                "{shown:?} {method} {path}: {}",
                a.body
            );
            assert_fault(&a, StatusCode::UNAUTHORIZED, 800001);
            assert!(
                a.header("www-authenticate")
                    .is_some_and(|v| v.starts_with("Bearer")),
                "{shown:?}: {:?}",
                a.header("www-authenticate")
            );
        }
    }
    // The scheme's case does not matter, and the real token still works.
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let a = answer(
            app.client
                .get(app.url("/v1/customers"))
                .header("authorization", format!("{scheme} {token}")),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{scheme}: {}", a.body);
    }
}
on_both_backends!(bad_tokens_get_401_with_www_authenticate);

// ------------------------------------------------------------------ request ids

async fn request_and_correlation_ids_are_echoed_or_generated() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let users = format!("/v1/customers/{cid}/users");
    // (request, expected status) pairs covering successes and every kind of error.
    let requests = |a: &TestApp| -> Vec<(RequestBuilder, StatusCode)> {
        vec![
            (a.req(Method::GET, "/v1/customers"), StatusCode::OK),
            (a.req(Method::GET, "/healthz"), StatusCode::OK),
            (
                a.req(Method::POST, &users)
                    .header(CONTENT_TYPE, "application/json")
                    .body("{"),
                StatusCode::BAD_REQUEST,
            ),
            (
                a.req(Method::POST, &users).json(&json!({})),
                StatusCode::BAD_REQUEST,
            ),
            (
                a.req(Method::GET, "/v1/customers/nope"),
                StatusCode::BAD_REQUEST,
            ),
            (
                a.client.get(a.url("/v1/customers")),
                StatusCode::UNAUTHORIZED,
            ),
            (a.req(Method::GET, "/v1/nope"), StatusCode::NOT_FOUND),
            (
                a.req(Method::PUT, "/v1/customers"),
                StatusCode::METHOD_NOT_ALLOWED,
            ),
            (
                a.req(Method::POST, &users)
                    .body(vec![b' '; BODY_LIMIT + 10]),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
        ]
    };

    // Sent: echoed as they are, on successes and errors alike.
    for (i, (r, status)) in requests(&app).into_iter().enumerate() {
        let request_id = format!("0f8fad5b-d9cb-469f-a165-70867728950{i}");
        let correlation_id = format!("7c9e6679-7425-40de-944b-e07fc1f9045{i}");
        let a = answer(
            r.header("MS-RequestId", &request_id)
                .header("MS-CorrelationId", &correlation_id),
        )
        .await;
        assert_eq!(a.status, status, "{}", a.body);
        assert_eq!(
            a.header("ms-requestid"),
            Some(request_id.as_str()),
            "{status}"
        );
        assert_eq!(
            a.header("ms-correlationid"),
            Some(correlation_id.as_str()),
            "{status}"
        );
        if status.is_client_error() {
            assert_eq!(a.body["source"], "Roster", "{status}: {}", a.body);
        }
    }

    // Not sent: generated, GUIDs, distinct, and fresh per request.
    let mut seen = std::collections::HashSet::new();
    for (r, status) in requests(&app) {
        let a = answer(r).await;
        assert_eq!(a.status, status, "{}", a.body);
        let request_id = a.header("ms-requestid").expect("MS-RequestId").to_string();
        let correlation_id = a
            .header("ms-correlationid")
            .expect("MS-CorrelationId")
            .to_string();
        assert!(is_guid(&request_id), "{request_id}");
        assert!(is_guid(&correlation_id), "{correlation_id}");
        assert!(seen.insert(request_id));
        assert!(seen.insert(correlation_id));
    }

    // Unusable values (too long, not printable) are replaced by generated GUIDs.
    let a = answer(
        app.req(Method::GET, "/v1/customers")
            .header("MS-RequestId", "r".repeat(1000))
            .header(
                "MS-CorrelationId",
                HeaderValue::from_bytes(b"caf\xc3\xa9 id").unwrap(),
            ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(is_guid(a.header("ms-requestid").unwrap()));
    assert!(is_guid(a.header("ms-correlationid").unwrap()));
}
on_both_backends!(request_and_correlation_ids_are_echoed_or_generated);

// ------------------------------------------------------------------ tolerance

async fn unknown_query_parameters_and_extra_headers_are_accepted() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let extra = |r: RequestBuilder| {
        r.header("MS-Contract-Version", "v1")
            .header("X-Locale", "fr-FR")
            .header("MS-PartnerCenter-Client", "Partner Center .NET SDK")
            .header("MS-PartnerCenter-Application", "Robustness tests")
            .header("MS-CV", "uNHy3h8y+0a2VJm1.1")
            .header("MS-SdkVersion", "3.4.0")
            .header("x-ms-client-request-id", "anything at all")
            .header("Accept-Language", "de-DE,de;q=0.9")
            .header("Accept", "application/json")
            .header("X-Something-Else", "1")
    };
    for path in [
        "/v1/customers?foo=bar&api-version=2&x=".to_string(),
        format!("/v1/customers/{cid}?expand=everything&&&=&a=%20"),
        format!("/v1/customers/{cid}/users?unknown=1&SIZE=5&sortfield=displayName"),
        format!("/v1/customers/{cid}/domains?x=y"),
    ] {
        let a = answer(extra(app.req(Method::GET, &path)).header(CONTENT_TYPE, "application/json"))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.body);
        assert_eq!(
            a.header("content-type"),
            Some("application/json; charset=utf-8")
        );
    }
    // A body with Expect: 100-continue, through a client...
    let a = answer(
        extra(app.req(Method::POST, &format!("/v1/customers/{cid}/users?foo=bar")))
            .header("Expect", "100-continue")
            .json(&json!({"userPrincipalName": format!("ada@{DOMAIN}"), "displayName": "Ada"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    // ...and on the wire: the server says 100 Continue before the client sends the body.
    let body =
        json!({"userPrincipalName": format!("bob@{DOMAIN}"), "displayName": "Bob"}).to_string();
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/customers/{cid}/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        app.token,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(BOUND, stream.read(&mut buf))
        .await
        .expect("100 Continue in time")
        .unwrap();
    let interim = String::from_utf8_lossy(&buf[..n]);
    assert!(
        interim.starts_with("HTTP/1.1 100 Continue\r\n"),
        "{interim}"
    );
    stream.write_all(body.as_bytes()).await.unwrap();
    let (got, closed) = read_until_closed(&mut stream, BOUND).await;
    assert!(closed);
    let a = parse_raw(&got).expect("an answer");
    assert_eq!(a.status, 201, "{a:?}");
    // Any content type, or none, on a body.
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/json; charset=utf-8"),
    ] {
        let mut r = app
            .req(
                Method::PATCH,
                &format!(
                    "/v1/customers/{cid}/users/{}",
                    a.body["id"].as_str().unwrap()
                ),
            )
            .body(json!({"firstName": "Bob"}).to_string());
        if let Some(t) = content_type {
            r = r.header(CONTENT_TYPE, t);
        }
        let a = answer(r).await;
        assert_eq!(a.status, StatusCode::OK, "{content_type:?}: {}", a.body);
    }
}
on_both_backends!(unknown_query_parameters_and_extra_headers_are_accepted);

// ------------------------------------------------------------------ slow clients

async fn impatient_app() -> TestApp {
    TestApp::start_with(Builder {
        timeouts: Timeouts {
            headers: StdDuration::from_secs(1),
            request: StdDuration::from_secs(2),
            drain: StdDuration::from_secs(1),
        },
        ..Default::default()
    })
    .await
}

const CLOSE_WITHIN: StdDuration = StdDuration::from_secs(10);

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Asserts that the server still answers ordinary requests.
async fn still_serves(app: &TestApp) {
    let a = answer(app.req(Method::GET, "/v1/customers")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

async fn a_client_that_stops_in_the_request_line_is_cut_off() {
    let app = impatient_app().await;
    let mut stream = connect(&app).await;
    stream.write_all(b"GET /v1/cust").await.unwrap();
    let started = Instant::now();
    let (got, closed) = read_until_closed(&mut stream, CLOSE_WITHIN).await;
    assert!(closed, "still open after {:?}", started.elapsed());
    // Whatever came back is not a success.
    if let Some(a) = parse_raw(&got) {
        assert!(a.status >= 400, "{a:?}");
    }
    still_serves(&app).await;
}
on_both_backends!(a_client_that_stops_in_the_request_line_is_cut_off);

async fn a_client_that_stops_in_the_headers_is_cut_off() {
    let app = impatient_app().await;
    let mut stream = connect(&app).await;
    let head = format!(
        "GET /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nX-Slow: ",
        app.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (_, closed) = read_until_closed(&mut stream, CLOSE_WITHIN).await;
    assert!(closed);
    still_serves(&app).await;
}
on_both_backends!(a_client_that_stops_in_the_headers_is_cut_off);

async fn a_client_that_drips_its_headers_is_cut_off() {
    let app = impatient_app().await;
    let stream = connect(&app).await;
    let (mut reader, mut writer) = stream.into_split();
    // One byte every 200 ms: each arrives well within any per-read time-out, but the
    // headers as a whole never finish (this would take a minute).
    let dripper = tokio::spawn(async move {
        for b in b"GET /v1/customers HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if writer.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(StdDuration::from_millis(200)).await;
        }
    });
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(CLOSE_WITHIN, async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    dripper.abort();
    assert!(closed.is_ok(), "a dripping client kept its connection");
    still_serves(&app).await;
}
on_both_backends!(a_client_that_drips_its_headers_is_cut_off);

async fn a_silent_connection_is_cut_off() {
    let app = impatient_app().await;
    let mut stream = connect(&app).await;
    let (got, closed) = read_until_closed(&mut stream, CLOSE_WITHIN).await;
    assert!(closed, "a connection that sends nothing stays open");
    if let Some(a) = parse_raw(&got) {
        assert!(a.status >= 400, "{a:?}");
    }
    still_serves(&app).await;
}
on_both_backends!(a_silent_connection_is_cut_off);

async fn an_idle_keep_alive_connection_is_cut_off() {
    let app = impatient_app().await;
    let mut stream = connect(&app).await;
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        app.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (got, closed) = read_until_closed(&mut stream, CLOSE_WITHIN).await;
    let a = parse_raw(&got).expect("an answer");
    assert_eq!(a.status, 200, "{a:?}");
    assert!(closed, "an idle keep-alive connection stays open");
}
on_both_backends!(an_idle_keep_alive_connection_is_cut_off);

async fn a_client_that_stops_in_the_body_gets_408_or_is_cut_off() {
    let app = impatient_app().await;
    let cid = app.customer(DOMAIN).await;
    for (method, path) in [
        ("POST", format!("/v1/customers/{cid}/users")),
        ("POST", "/v1/customers".to_string()),
        ("POST", "/oauth2/token".to_string()),
    ] {
        for request_id in [None, Some("8f1e6a52-9d55-4b3e-a0a5-3c1f8c5e2b11")] {
            let mut stream = connect(&app).await;
            let head = format!(
                "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n{}\r\n{{\"displayN",
                app.token,
                request_id.map(|id| format!("MS-RequestId: {id}\r\n")).unwrap_or_default()
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            let started = Instant::now();
            let (got, closed) = read_until_closed(&mut stream, CLOSE_WITHIN).await;
            match parse_raw(&got) {
                Some(a) => {
                    assert_eq!(a.status, 408, "{path}: {a:?}");
                    assert_eq!(a.body["code"], 408, "{path}: {a:?}");
                    assert_eq!(a.body["source"], "Roster", "{path}: {a:?}");
                }
                None => assert!(
                    closed,
                    "{path}: neither an answer nor a close after {:?}",
                    started.elapsed()
                ),
            }
        }
    }
    still_serves(&app).await;
}
on_both_backends!(a_client_that_stops_in_the_body_gets_408_or_is_cut_off);

async fn garbage_on_the_wire_gets_a_4xx_or_a_close_never_a_hang() {
    let app = TestApp::start().await;
    let auth = format!("Authorization: Bearer {}\r\n", app.token);
    let big_header = format!("X-Big: {}\r\n", "a".repeat(1024 * 1024));
    let requests: Vec<String> = vec![
        "NOT HTTP AT ALL\r\n\r\n".into(),
        "\r\n\r\n\r\n\r\n".into(),
        "GET\r\n\r\n".into(),
        "GET /v1/customers HTTP/9.9\r\n\r\n".into(),
        "GET /v1/customers HTTP/1.1\r\nNo colon here\r\n\r\n".into(),
        format!("GET /v1/customers HTTP/1.1\r\nHost: x\r\n{auth}{big_header}\r\n"),
        format!("POST /v1/customers HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: abc\r\n\r\n{{}}"),
        format!("POST /v1/customers HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: -5\r\n\r\n{{}}"),
        format!("POST /v1/customers HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{{}}"),
        format!("POST /v1/customers HTTP/1.1\r\nHost: x\r\n{auth}Transfer-Encoding: gzip\r\n\r\n{{}}"),
        format!("GET /v1/customers\u{0} HTTP/1.1\r\nHost: x\r\n{auth}\r\n"),
        format!("GET /v1/cust omers HTTP/1.1\r\nHost: x\r\n{auth}\r\n"),
        format!("GET /v1/customers HTTP/1.1\r\nHost: x\r\n{auth}X-Bad: a\u{0}b\r\n\r\n"),
    ];
    for request in requests {
        let shown: String = request.chars().take(60).collect();
        let mut stream = connect(&app).await;
        // The server may close before it has read everything: that is an answer too.
        let _ = stream.write_all(request.as_bytes()).await;
        let (got, closed) = read_until_closed(&mut stream, BOUND).await;
        match parse_raw(&got) {
            Some(a) => assert!((400..500).contains(&a.status), "{shown:?}: {a:?}"),
            None => assert!(closed, "{shown:?}: no answer and no close"),
        }
    }
    // A broken chunked body is a malformed request, not a time-out (clients retry those).
    for body in [
        "zz\r\n{}\r\n0\r\n\r\n",
        "2\r\n{}}\r\n0\r\n\r\n",
        "5\r\n{}\r\n0\r\n\r\n",
    ] {
        let a = raw_exchange(
            &app,
            format!("POST /v1/customers HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"),
            body.as_bytes().to_vec(),
        )
        .await;
        assert_eq!(a.status, 400, "{body:?}: {a:?}");
        assert_eq!(a.body["code"], 800002, "{body:?}: {a:?}");
    }
    still_serves(&app).await;
}
on_both_backends!(garbage_on_the_wire_gets_a_4xx_or_a_close_never_a_hang);
