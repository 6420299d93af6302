//! The customer users list, `GET /v1/customers/{cid}/users` (rest-api.md §5): paging by
//! `links.next`, by `seekOperation=Next` with the `MS-ContinuationToken` header and by the
//! `continuationToken` parameter; keyset stability under concurrent inserts and deletes;
//! sorting; filters; page sizes; and the integrity of continuation tokens.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use roster_domain::Duration;
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::common::*;

const DOMAIN: &str = "contoso.onmicrosoft.com";

fn users(cid: &str) -> String {
    format!("/v1/customers/{cid}/users")
}

fn user(cid: &str, uid: &str) -> String {
    format!("/v1/customers/{cid}/users/{uid}")
}

fn upn(alias: &str) -> String {
    format!("{alias}@{DOMAIN}")
}

/// The list path with a URL-encoded `filter` and any further query text.
fn filtered(cid: &str, filter: &Value, rest: &str) -> String {
    format!(
        "{}?filter={}{rest}",
        users(cid),
        urlencode(&filter.to_string())
    )
}

/// Asserts the invariants every page of the users collection keeps, and returns its body:
/// `totalCount` is the number of items in this page, `continuationToken` is always present
/// (`""` on the last page), and `links.next` is there exactly when there is a next page,
/// carrying the same token in an `MS-ContinuationToken` header.
#[track_caller]
fn checked(cid: &str, (status, body): (StatusCode, Value)) -> Value {
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["items"].as_array().expect("items is an array");
    assert_eq!(
        body["totalCount"].as_u64(),
        Some(items.len() as u64),
        "{body}"
    );
    assert_eq!(body["attributes"]["objectType"], "Collection", "{body}");
    assert_eq!(
        body["links"]["self"]["uri"],
        format!("/customers/{cid}/users"),
        "{body}"
    );
    let token = body["continuationToken"]
        .as_str()
        .unwrap_or_else(|| panic!("continuationToken is always present: {body}"));
    match body["links"].get("next") {
        None => assert_eq!(token, "", "no links.next but a token: {body}"),
        Some(next) => {
            assert!(!token.is_empty(), "links.next without a token: {body}");
            assert_eq!(
                next["uri"],
                format!("/customers/{cid}/users?seekOperation=Next"),
                "{body}"
            );
            assert_eq!(next["method"], "GET", "{body}");
            assert_eq!(
                next["headers"],
                json!([{"key": "MS-ContinuationToken", "value": token}]),
                "{body}"
            );
        }
    }
    for u in items {
        assert_eq!(u["attributes"]["objectType"], "CustomerUser", "{u}");
        assert!(u.get("passwordProfile").is_none(), "{u}");
    }
    body
}

/// How a client asks for the next page.
#[derive(Clone, Copy, Debug)]
enum Follow {
    /// `links.next`: its uri (under `/v1`) with the headers it lists.
    Link,
    /// `?seekOperation=Next` with the `MS-ContinuationToken` header.
    Header,
    /// `?continuationToken=<token>` and nothing else.
    Query,
}

const ALL_WAYS: [Follow; 3] = [Follow::Link, Follow::Header, Follow::Query];

fn token_of(page: &Value) -> &str {
    page["continuationToken"].as_str().unwrap()
}

async fn with_token_header(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    let r = app
        .req(Method::GET, path)
        .header("MS-ContinuationToken", token)
        .send()
        .await
        .unwrap();
    into_parts(r).await
}

async fn next_page(app: &TestApp, cid: &str, page: &Value, how: Follow) -> (StatusCode, Value) {
    let token = token_of(page);
    match how {
        Follow::Link => {
            let next = &page["links"]["next"];
            let mut r = app.req(
                Method::GET,
                &format!("/v1{}", next["uri"].as_str().expect("links.next.uri")),
            );
            for h in next["headers"].as_array().unwrap() {
                r = r.header(h["key"].as_str().unwrap(), h["value"].as_str().unwrap());
            }
            into_parts(r.send().await.unwrap()).await
        }
        Follow::Header => {
            with_token_header(app, &format!("{}?seekOperation=Next", users(cid)), token).await
        }
        Follow::Query => {
            app.get(&format!(
                "{}?continuationToken={}",
                users(cid),
                urlencode(token)
            ))
            .await
        }
    }
}

/// All pages from the first one at `first` on, following the tokens `how`.
async fn walk(app: &TestApp, cid: &str, first: &str, how: Follow) -> Vec<Vec<Value>> {
    let mut page = checked(cid, app.get(first).await);
    let mut pages = Vec::new();
    loop {
        pages.push(page["items"].as_array().unwrap().clone());
        if token_of(&page).is_empty() {
            return pages;
        }
        assert!(pages.len() < 1000, "the walk does not end");
        page = checked(cid, next_page(app, cid, &page, how).await);
    }
}

fn sizes(pages: &[Vec<Value>]) -> Vec<usize> {
    pages.iter().map(Vec::len).collect()
}

fn field(items: &[Value], name: &str) -> Vec<String> {
    items
        .iter()
        .map(|u| u[name].as_str().unwrap().to_string())
        .collect()
}

fn upns(items: &[Value]) -> Vec<String> {
    field(items, "userPrincipalName")
}

fn ids(items: &[Value]) -> Vec<String> {
    field(items, "id")
}

fn id_of(u: &Value) -> String {
    u["id"].as_str().unwrap().to_string()
}

/// `items` in the order Roster must list them: by the lower-cased sort field, then by id,
/// both ascending or both descending.
fn sorted(mut items: Vec<Value>, by: &str, descending: bool) -> Vec<Value> {
    items.sort_by(|a, b| {
        let o = key_of(a, by).cmp(&key_of(b, by));
        if descending {
            o.reverse()
        } else {
            o
        }
    });
    items
}

fn key_of(u: &Value, by: &str) -> (String, String) {
    (u[by].as_str().unwrap().to_lowercase(), id_of(u))
}

// ------------------------------------------------------------------------------ paging

/// A page arrives from the database as one JSON document: every property of a listed user,
/// text that JSON must escape, nulls and numbers included, equals the user read by id.
async fn listed_users_equal_the_users_read_by_id() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let awkward = json!({
        "userPrincipalName": upn("quote"),
        "displayName": "O'Brien \"Q\" \\ back/slash \u{1F600} 漢字 <b>&amp;",
        "firstName": "Zoë",
        "lastName": "\\\"",
        "usageLocation": "IE",
        "phoneNumber": "+353 1 234",
        "immutableId": "aW1tdXRhYmxl",
        "passwordProfile": {"password": "Fjord-Lantern-Quartz-77", "forceChangePassword": false},
    });
    let (status, _) = app.post(&users(&cid), awkward).await;
    assert_eq!(status, StatusCode::CREATED);
    app.user(&cid, &upn("plain"), "Plain").await;
    let listed = checked(&cid, app.get(&users(&cid)).await)["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(listed.len(), 2);
    for item in &listed {
        let id = item["id"].as_str().unwrap();
        let (status, one) = app.get(&user(&cid, id)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(item, &one);
    }
    let quoted = listed
        .iter()
        .find(|u| u["userPrincipalName"] == upn("quote"))
        .unwrap();
    assert_eq!(
        quoted["displayName"],
        "O'Brien \"Q\" \\ back/slash \u{1F600} 漢字 <b>&amp;"
    );
    assert_eq!(quoted["lastName"], "\\\"");
    // The soft-deleted list reads its rows the same way (a time where null was).
    let id = quoted["id"].as_str().unwrap().to_string();
    let (status, _) = app.delete(&user(&cid, &id)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let inactive = json!({"Field": "UserState", "Value": "Inactive", "Operator": "equals"});
    let deleted = checked(&cid, app.get(&filtered(&cid, &inactive, "")).await)["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["id"], id.as_str());
    assert!(deleted[0]["softDeletionTime"].is_string(), "{}", deleted[0]);
    let (_, one) = app.get(&user(&cid, &id)).await;
    assert_eq!(deleted[0], one);
}
on_both_backends!(listed_users_equal_the_users_read_by_id);

async fn pages_follow_links_next_the_header_and_the_query_token_alike() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let other = app.customer("fabrikam.com").await;
    app.user(&other, "aaa@fabrikam.com", "Not Contoso").await;
    let mut created = Vec::new();
    // Created out of order and in mixed case: the list is by UPN, case-insensitively.
    for alias in [
        "U07", "u02", "U09", "u00", "u05", "U01", "u08", "u03", "U06", "u04",
    ] {
        created.push(app.user(&cid, &upn(alias), alias).await);
    }
    let expected = upns(&sorted(created, "userPrincipalName", false));
    assert_eq!(expected[0], upn("u00"));
    assert_eq!(expected[1], upn("U01"));

    for how in ALL_WAYS {
        let pages = walk(&app, &cid, &format!("{}?size=3", users(&cid)), how).await;
        assert_eq!(sizes(&pages), vec![3, 3, 3, 1], "{how:?}");
        assert_eq!(upns(&pages.concat()), expected, "{how:?}");
        // A page size that divides the list: no empty page at the end.
        let pages = walk(&app, &cid, &format!("{}?size=5", users(&cid)), how).await;
        assert_eq!(sizes(&pages), vec![5, 5], "{how:?}");
        assert_eq!(upns(&pages.concat()), expected, "{how:?}");
    }

    // An empty list: no items, the token is "", no links.next.
    let empty = app.customer("empty.com").await;
    let page = checked(&empty, app.get(&format!("{}?size=3", users(&empty))).await);
    assert_eq!(page["items"], json!([]));
    assert_eq!(page["totalCount"], 0);
    assert_eq!(page["continuationToken"], "");
    assert!(page["links"].get("next").is_none(), "{page}");

    // One page holds everything: the token is "" and there is no links.next.
    let all = checked(&cid, app.get(&format!("{}?size=10", users(&cid))).await);
    assert_eq!(all["continuationToken"], "");
    assert!(all["links"].get("next").is_none(), "{all}");
    assert_eq!(upns(all["items"].as_array().unwrap()), expected);
    let all = checked(&cid, app.get(&users(&cid)).await);
    assert_eq!(all["totalCount"], 10);
    assert_eq!(all["continuationToken"], "");

    // Parameter names match case-insensitively; a token can be followed again (it is the
    // position, not a server-side cursor), and every way to send it gives the same page.
    let first = checked(&cid, app.get(&format!("{}?Size=4", users(&cid))).await);
    assert_eq!(first["totalCount"], 4);
    let token = token_of(&first).to_string();
    let mut seconds = Vec::new();
    for how in ALL_WAYS {
        seconds.push(checked(&cid, next_page(&app, &cid, &first, how).await));
    }
    seconds.push(checked(
        &cid,
        with_token_header(&app, &format!("{}?SeekOperation=next", users(&cid)), &token).await,
    ));
    seconds.push(checked(
        &cid,
        app.get(&format!(
            "{}?seekOperation=Next&ContinuationToken={}",
            users(&cid),
            urlencode(&token)
        ))
        .await,
    ));
    seconds.push(checked(
        &cid,
        with_token_header(
            &app,
            &format!("{}/?seekOperation=Next", users(&cid)),
            &token,
        )
        .await,
    ));
    for second in &seconds {
        assert_eq!(upns(second["items"].as_array().unwrap()), expected[4..8]);
        assert_eq!(second["continuationToken"], seconds[0]["continuationToken"]);
    }
}
on_both_backends!(pages_follow_links_next_the_header_and_the_query_token_alike);

async fn keyset_paging_neither_skips_nor_repeats_after_deletes_and_inserts() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let mut by_alias = HashMap::new();
    for alias in ["b02", "b04", "b06", "b08", "b10", "b12", "b14"] {
        by_alias.insert(alias, app.user(&cid, &upn(alias), alias).await);
    }
    let first = checked(&cid, app.get(&format!("{}?size=3", users(&cid))).await);
    assert_eq!(
        upns(first["items"].as_array().unwrap()),
        vec![upn("b02"), upn("b04"), upn("b06")]
    );
    // The last user of the page (where the token points) and the first one of the next
    // page are deleted; users are added before and after that position.
    for alias in ["b06", "b08"] {
        let (s, b) = app.delete(&user(&cid, &id_of(&by_alias[alias]))).await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    }
    for alias in ["b01", "b05", "b07", "b13"] {
        app.user(&cid, &upn(alias), alias).await;
    }
    for how in ALL_WAYS {
        let second = checked(&cid, next_page(&app, &cid, &first, how).await);
        assert_eq!(
            upns(second["items"].as_array().unwrap()),
            vec![upn("b07"), upn("b10"), upn("b12")],
            "{how:?}: an OFFSET would have skipped or repeated users"
        );
        let third = checked(&cid, next_page(&app, &cid, &second, how).await);
        assert_eq!(
            upns(third["items"].as_array().unwrap()),
            vec![upn("b13"), upn("b14")],
            "{how:?}"
        );
        assert_eq!(third["continuationToken"], "");
    }
}
on_both_backends!(keyset_paging_neither_skips_nor_repeats_after_deletes_and_inserts);

/// The display name of user number `k` of a concurrent walk.
fn churn_display_name(k: u32) -> String {
    // Mixed case and many ties: the display-name order is case-insensitive, then by id.
    let word = ["Name", "name", "NAME", "nAmE"][(k % 4) as usize];
    format!("{word} {:02}", k / 10)
}

struct Walk {
    sort: &'static str,
    by: &'static str,
    descending: bool,
}

async fn concurrent_round(app: &Arc<TestApp>, round: usize, walk: &Walk) {
    let domain = format!("round{round}.onmicrosoft.com");
    let cid = app.customer(&domain).await;
    let make = {
        let (app, cid, domain) = (app.clone(), cid.clone(), domain.clone());
        move |alias: String, k: u32| {
            let (app, cid, domain) = (app.clone(), cid.clone(), domain.clone());
            async move {
                app.user(&cid, &format!("{alias}@{domain}"), &churn_display_name(k))
                    .await
            }
        }
    };
    // 60 users that live through the whole walk, and 20 that get deleted during it.
    let mut lasting = HashSet::new();
    for i in 0..60u32 {
        lasting.insert(id_of(&make(format!("u{:03}s", i * 5), i * 5).await));
    }
    let mut doomed = Vec::new();
    for i in 0..20u32 {
        doomed.push(id_of(
            &make(format!("u{:03}d", i * 15 + 2), i * 15 + 2).await,
        ));
    }

    // Writers count their operations so that the reader can insist on writes between
    // every two pages; they also keep writing while pages are fetched.
    let (ops_tx, mut ops_rx) = watch::channel(0usize);
    let ops_tx = Arc::new(ops_tx);
    let done = Arc::new(AtomicBool::new(false));
    let mut writers = tokio::task::JoinSet::new();
    {
        // Creates users all over the key space, and deletes every other one it made.
        let (app, cid, ops, done, make) = (
            app.clone(),
            cid.clone(),
            ops_tx.clone(),
            done.clone(),
            make.clone(),
        );
        writers.spawn(async move {
            let mut mine = VecDeque::new();
            let mut n = 0u32;
            while !done.load(AtomicOrdering::SeqCst) {
                let k = (n * 37 + 11) % 300;
                mine.push_back(id_of(&make(format!("u{k:03}c{n}"), k).await));
                if n % 2 == 1 {
                    let gone = mine.pop_front().unwrap();
                    let (s, b) = app.delete(&user(&cid, &gone)).await;
                    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
                }
                n += 1;
                ops.send_modify(|c| *c += 1);
            }
            Vec::from(mine)
        });
    }
    {
        // Deletes the doomed users, then keeps restoring and deleting them again.
        let (app, cid, ops, done) = (app.clone(), cid.clone(), ops_tx.clone(), done.clone());
        let doomed = doomed.clone();
        writers.spawn(async move {
            let mut active: HashSet<String> = doomed.iter().cloned().collect();
            let mut turn = 0usize;
            while !done.load(AtomicOrdering::SeqCst) {
                let uid = &doomed[turn % doomed.len()];
                if active.remove(uid) {
                    let (s, b) = app.delete(&user(&cid, uid)).await;
                    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
                } else {
                    let (s, b) = app
                        .patch(&user(&cid, uid), json!({"state": "active"}))
                        .await;
                    assert_eq!(s, StatusCode::OK, "{b}");
                    active.insert(uid.clone());
                }
                turn += 1;
                ops.send_modify(|c| *c += 1);
            }
            active.into_iter().collect()
        });
    }

    let first = format!(
        "{}?size=7&sortField={}&sortDirection={}",
        users(&cid),
        walk.sort,
        if walk.descending {
            "Descending"
        } else {
            "Ascending"
        }
    );
    let mut seen: Vec<Value> = Vec::new();
    let mut page = checked(&cid, app.get(&first).await);
    let mut fetched = 0usize;
    loop {
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 7, "{page}");
        seen.extend(items.iter().cloned());
        if token_of(&page).is_empty() {
            break;
        }
        // At least four writes between this page and the next.
        let target = *ops_rx.borrow() + 4;
        ops_rx
            .wait_for(|c| *c >= target)
            .await
            .expect("the writers stopped");
        page = checked(
            &cid,
            next_page(app, &cid, &page, ALL_WAYS[fetched % ALL_WAYS.len()]).await,
        );
        fetched += 1;
        assert!(fetched < 500, "the walk does not end");
    }
    done.store(true, AtomicOrdering::SeqCst);
    // What is active now: the lasting users and what the writers left active.
    let mut active = lasting.clone();
    while let Some(w) = writers.join_next().await {
        active.extend(w.expect("a writer failed"));
    }
    // 60 lasting users in pages of 7: at least 9 pages, so at least 8 follow-ups.
    assert!(fetched >= 8, "only {fetched} pages");

    // No user twice; every lasting user once; the whole walk in order.
    let seen_ids = ids(&seen);
    let unique: HashSet<&String> = seen_ids.iter().collect();
    assert_eq!(unique.len(), seen_ids.len(), "a user was listed twice");
    let missed: Vec<&String> = lasting.iter().filter(|id| !unique.contains(id)).collect();
    assert!(missed.is_empty(), "lasting users missed: {missed:?}");
    for pair in seen.windows(2) {
        let o = key_of(&pair[0], walk.by).cmp(&key_of(&pair[1], walk.by));
        let want = if walk.descending {
            Ordering::Greater
        } else {
            Ordering::Less
        };
        assert_eq!(o, want, "out of order: {} then {}", pair[0], pair[1]);
    }

    // Once quiet, a walk lists exactly the active users, in the same order.
    let quiet = walk_all(app, &cid, &first).await;
    assert_eq!(quiet, sorted(quiet.clone(), walk.by, walk.descending));
    assert_eq!(quiet.len(), active.len());
    let quiet_ids: HashSet<String> = ids(&quiet).into_iter().collect();
    assert_eq!(quiet_ids, active);
}

async fn walk_all(app: &TestApp, cid: &str, first: &str) -> Vec<Value> {
    walk(app, cid, first, Follow::Header).await.concat()
}

async fn paging_under_concurrent_inserts_and_deletes_sees_every_lasting_user_once_in_order() {
    let app = Arc::new(TestApp::start().await);
    let walks = [
        Walk {
            sort: "UserPrincipalName",
            by: "userPrincipalName",
            descending: false,
        },
        Walk {
            sort: "DisplayName",
            by: "displayName",
            descending: true,
        },
        Walk {
            sort: "DisplayName",
            by: "displayName",
            descending: false,
        },
        Walk {
            sort: "UserPrincipalName",
            by: "userPrincipalName",
            descending: true,
        },
    ];
    for (round, walk) in walks.iter().enumerate() {
        concurrent_round(&app, round, walk).await;
    }
}
on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    paging_under_concurrent_inserts_and_deletes_sees_every_lasting_user_once_in_order
);

// ------------------------------------------------------------------------------ sorting

async fn sort_by_display_name_or_upn_in_either_direction() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let mut created = Vec::new();
    for (alias, name) in [
        ("delta", "bob"),
        ("Alpha", "Carol"),
        ("charlie", "alice"),
        ("Bravo", "Dave"),
        ("echo", "Émile"),
        ("foxtrot", "ann"),
        // Ties on the display name, in any case: broken by id.
        ("tie1", "Same"),
        ("tie2", "same"),
        ("tie3", "SAME"),
        ("tie4", "sAme"),
    ] {
        created.push(app.user(&cid, &upn(alias), name).await);
    }
    let by_upn = sorted(created.clone(), "userPrincipalName", false);
    let by_name = sorted(created.clone(), "displayName", false);
    assert_eq!(
        field(&by_name, "displayName")[..5],
        ["alice", "ann", "bob", "Carol", "Dave"],
        "case-insensitive, not byte order"
    );
    let ties: Vec<String> = by_name
        .iter()
        .filter(|u| {
            u["displayName"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("same")
        })
        .map(id_of)
        .collect();
    let mut tie_ids = ties.clone();
    tie_ids.sort();
    assert_eq!(ties, tie_ids);
    let reversed = |v: &[Value]| v.iter().rev().cloned().collect::<Vec<_>>();

    let list = |query: &str| {
        let app = &app;
        let path = format!("{}?{query}", users(&cid));
        let cid = cid.clone();
        async move {
            ids(checked(&cid, app.get(&path).await)["items"]
                .as_array()
                .unwrap())
        }
    };
    // The default is by UPN, ascending.
    assert_eq!(list("").await, ids(&by_upn));
    for q in [
        "sortField=UserPrincipalName",
        "sortField=UserPrincipalName&sortDirection=Ascending",
        "SortField=userprincipalname&SortDirection=ascending",
        "sortDirection=Ascending",
    ] {
        assert_eq!(list(q).await, ids(&by_upn), "{q}");
    }
    for q in [
        "sortField=UserPrincipalName&sortDirection=Descending",
        "SortField=USERPRINCIPALNAME&SortDirection=descending",
        "sortDirection=Descending",
    ] {
        assert_eq!(list(q).await, ids(&reversed(&by_upn)), "{q}");
    }
    for q in [
        "sortField=DisplayName",
        "SortField=displayName&sortDirection=Ascending",
        "sortfield=DISPLAYNAME&SORTDIRECTION=ASCENDING",
    ] {
        assert_eq!(list(q).await, ids(&by_name), "{q}");
    }
    for q in [
        "sortField=DisplayName&sortDirection=Descending",
        "SortField=displayname&SortDirection=DESCENDING",
    ] {
        assert_eq!(list(q).await, ids(&reversed(&by_name)), "{q}");
    }

    // Paging keeps the order in both directions, through the ties.
    for how in ALL_WAYS {
        for (query, want) in [
            (
                "sortField=DisplayName&sortDirection=Descending&size=2",
                reversed(&by_name),
            ),
            ("sortField=DisplayName&size=3", by_name.clone()),
            ("sortDirection=Descending&size=3", reversed(&by_upn)),
            (
                "sortField=DisplayName&sortDirection=Descending&size=1",
                reversed(&by_name),
            ),
        ] {
            let pages = walk(&app, &cid, &format!("{}?{query}", users(&cid)), how).await;
            assert_eq!(ids(&pages.concat()), ids(&want), "{query} {how:?}");
        }
    }

    for bad in [
        "sortField=City",
        "sortField=",
        "sortDirection=Sideways",
        "sortField=DisplayName&sortDirection=up",
    ] {
        assert_error(
            &app.get(&format!("{}?{bad}", users(&cid))).await,
            StatusCode::BAD_REQUEST,
            3000,
        );
    }
}
on_both_backends!(sort_by_display_name_or_upn_in_either_direction);

// ------------------------------------------------------------------------------ filters

async fn user_state_filter_lists_soft_deleted_users() {
    let mut app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let keep = app.user(&cid, &upn("keep"), "Keep").await;
    let gone1 = app.user(&cid, &upn("gone1"), "Gone One").await;
    let gone2 = app.user(&cid, &upn("Gone2"), "Gone Two").await;
    app.delete(&user(&cid, &id_of(&gone2))).await;
    app.advance(Duration::from_millis(3_600_000)).await;
    app.delete(&user(&cid, &id_of(&gone1))).await;

    for filter in [
        json!({"Field": "UserState", "Value": "Inactive", "Operator": "equals"}),
        json!({"Field": "UserStatus", "Value": "Inactive", "Operator": "equals"}),
        json!({"Field": "UserState", "Value": "inactive", "Operator": "Equals"}),
        json!({"field": "userstate", "value": "INACTIVE", "operator": "EQUALS"}),
        json!({"FIELD": "USERSTATUS", "VALUE": "InActive", "OPERATOR": "equals"}),
        json!({"fIeLd": "userStatus", "vAlUe": "inactive", "oPeRaToR": "equals"}),
    ] {
        let page = checked(&cid, app.get(&filtered(&cid, &filter, "")).await);
        let items = page["items"].as_array().unwrap();
        assert_eq!(
            upns(items),
            vec![upn("gone1"), upn("Gone2")],
            "{filter}: {page}"
        );
        assert!(items.iter().all(|u| u["state"] == "inactive"), "{page}");
        assert_eq!(items[0]["softDeletionTime"], "2026-01-05T10:00:00Z");
        assert_eq!(items[1]["softDeletionTime"], "2026-01-05T09:00:00Z");
    }
    for filter in [
        json!({"Field": "UserState", "Value": "Active", "Operator": "equals"}),
        json!({"field": "UserStatus", "value": "ACTIVE", "operator": "equals"}),
        json!({"Field": "userstate", "Value": "active", "Operator": "Equals"}),
    ] {
        let page = checked(&cid, app.get(&filtered(&cid, &filter, "")).await);
        assert_eq!(page["items"], json!([as_got(&app, &cid, &keep).await]));
    }
    // Without a state filter the list holds only active users.
    let page = checked(&cid, app.get(&users(&cid)).await);
    assert_eq!(ids(page["items"].as_array().unwrap()), vec![id_of(&keep)]);
    assert!(page["items"][0].get("softDeletionTime").is_none());
    assert_eq!(page["items"][0]["state"], "active");

    // Deleted users may share a UPN: the inactive list pages through them all, by id.
    let mut sams = Vec::new();
    for _ in 0..3 {
        let sam = app.user(&cid, &upn("sam"), "Sam").await;
        app.delete(&user(&cid, &id_of(&sam))).await;
        sams.push(id_of(&sam));
    }
    sams.sort();
    let inactive = json!({"Field": "UserState", "Value": "Inactive", "Operator": "equals"});
    for how in ALL_WAYS {
        let pages = walk(&app, &cid, &filtered(&cid, &inactive, "&size=2"), how).await;
        assert_eq!(sizes(&pages), vec![2, 2, 1], "{how:?}");
        let all = pages.concat();
        assert_eq!(ids(&all[2..]), sams, "{how:?}");
        assert_eq!(
            ids(&all[..2]),
            vec![id_of(&gone1), id_of(&gone2)],
            "{how:?}"
        );
        assert!(all.iter().all(|u| u["state"] == "inactive"));
        let pages = walk(
            &app,
            &cid,
            &filtered(&cid, &inactive, "&size=2&sortDirection=Descending"),
            how,
        )
        .await;
        let mut want = vec![id_of(&gone1), id_of(&gone2)];
        want.extend(sams.iter().cloned());
        want.reverse();
        assert_eq!(ids(&pages.concat()), want, "{how:?}");
    }

    for bad in [
        json!({"Field": "UserState", "Value": "Gone", "Operator": "equals"}),
        json!({"Field": "UserState", "Value": "", "Operator": "equals"}),
        json!({"Field": "UserState", "Value": "Inactive", "Operator": "not_a_thing"}),
    ] {
        let got = app.get(&filtered(&cid, &bad, "")).await;
        assert_error(&got, StatusCode::BAD_REQUEST, 3000);
        assert_eq!(got.1["data"], json!(["filter"]), "{bad}");
    }
}
on_both_backends!(user_state_filter_lists_soft_deleted_users);

/// A user as `GET` returns it, which is how the list shows it too (the create response
/// also carries `passwordProfile`).
async fn as_got(app: &TestApp, cid: &str, created: &Value) -> Value {
    let (s, got) = app.get(&user(cid, &id_of(created))).await;
    assert_eq!(s, StatusCode::OK);
    got
}

async fn text_filters_search_active_users_case_insensitively() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    for (alias, name) in [
        ("ann.smith", "Ann Smith"),
        ("anna", "ANNA Karenina"),
        ("joanne", "Joanne Bright"),
        ("bob", "Bob Annandale"),
        ("emile", "Émile Zola"),
        ("zed", "Zed"),
    ] {
        app.user(&cid, &upn(alias), name).await;
    }
    let annie = app.user(&cid, &upn("annie"), "Annie Deleted").await;
    app.delete(&user(&cid, &id_of(&annie))).await;

    let search = |field: &str, op: &str, value: &str, rest: &str| {
        let filter = json!({"Field": field, "Value": value, "Operator": op});
        let path = filtered(&cid, &filter, rest);
        let (app, cid) = (&app, cid.clone());
        async move {
            checked(&cid, app.get(&path).await)["items"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    let aliases = |items: Vec<Value>| -> Vec<String> {
        upns(&items)
            .into_iter()
            .map(|u| u.split('@').next().unwrap().to_string())
            .collect()
    };
    for (field, op, value, want) in [
        (
            "DisplayName",
            "starts_with",
            "ann",
            vec!["ann.smith", "anna"],
        ),
        (
            "DisplayName",
            "starts_with",
            "ANN",
            vec!["ann.smith", "anna"],
        ),
        ("DisplayName", "Starts_With", "aNn s", vec!["ann.smith"]),
        (
            "displayname",
            "STARTS_WITH",
            "ann",
            vec!["ann.smith", "anna"],
        ),
        (
            "DisplayName",
            "substring",
            "ANN",
            vec!["ann.smith", "anna", "bob", "joanne"],
        ),
        ("DisplayName", "SubString", "nne", vec!["joanne"]),
        ("DisplayName", "starts_with", "émi", vec!["emile"]),
        ("DisplayName", "starts_with", "ÉMILE", vec!["emile"]),
        ("DisplayName", "substring", "zola", vec!["emile"]),
        ("DisplayName", "starts_with", "Karenina", vec![]),
        (
            "UserPrincipalName",
            "starts_with",
            "AN",
            vec!["ann.smith", "anna"],
        ),
        (
            "userPrincipalName",
            "starts_with",
            "Ann.",
            vec!["ann.smith"],
        ),
        ("UserPrincipalName", "substring", "NNE", vec!["joanne"]),
        (
            "USERPRINCIPALNAME",
            "substring",
            "@CONTOSO",
            vec!["ann.smith", "anna", "bob", "emile", "joanne", "zed"],
        ),
        ("UserPrincipalName", "starts_with", "smith", vec![]),
        ("UserPrincipalName", "substring", "annie", vec![]),
    ] {
        let got = aliases(search(field, op, value, "").await);
        assert_eq!(got, want, "{field} {op} {value}");
    }
    // With a sort, and paged: the token keeps the search.
    let got = search("DisplayName", "substring", "ann", "&sortField=DisplayName").await;
    assert_eq!(
        field(&got, "displayName"),
        [
            "Ann Smith",
            "ANNA Karenina",
            "Bob Annandale",
            "Joanne Bright"
        ]
    );
    for how in ALL_WAYS {
        let filter = json!({"Field": "DisplayName", "Value": "ANN", "Operator": "substring"});
        let pages = walk(
            &app,
            &cid,
            &filtered(&cid, &filter, "&sortField=DisplayName&size=1"),
            how,
        )
        .await;
        assert_eq!(sizes(&pages), vec![1, 1, 1, 1], "{how:?}");
        assert_eq!(
            field(&pages.concat(), "displayName"),
            [
                "Ann Smith",
                "ANNA Karenina",
                "Bob Annandale",
                "Joanne Bright"
            ]
        );
    }
}
on_both_backends!(text_filters_search_active_users_case_insensitively);

async fn like_metacharacters_in_a_filter_match_literally() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    for (alias, name) in [
        ("pct", "100% Pure"),
        ("pct2", "1000 Pure"),
        ("und_er", "a_b"),
        ("undxer", "axb"),
        ("back", r"back\slash"),
        ("backx", "backxslash"),
        ("plain", "Plain"),
    ] {
        app.user(&cid, &upn(alias), name).await;
    }
    let search = |field: &str, op: &str, value: &str| {
        let filter = json!({"Field": field, "Value": value, "Operator": op});
        let path = filtered(&cid, &filter, "");
        let (app, cid) = (&app, cid.clone());
        async move {
            let items = checked(&cid, app.get(&path).await)["items"]
                .as_array()
                .unwrap()
                .clone();
            upns(&items)
                .into_iter()
                .map(|u| u.split('@').next().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    for (field, op, value, want) in [
        ("DisplayName", "substring", "%", vec!["pct"]),
        ("DisplayName", "substring", "0%", vec!["pct"]),
        ("DisplayName", "starts_with", "100%", vec!["pct"]),
        ("DisplayName", "starts_with", "%", vec![]),
        ("DisplayName", "substring", "%%", vec![]),
        ("DisplayName", "substring", "_", vec!["und_er"]),
        ("DisplayName", "starts_with", "a_", vec!["und_er"]),
        ("DisplayName", "starts_with", "_", vec![]),
        ("DisplayName", "substring", r"\", vec!["back"]),
        ("DisplayName", "starts_with", r"back\", vec!["back"]),
        ("DisplayName", "substring", r"k\s", vec!["back"]),
        ("DisplayName", "substring", r"\%", vec![]),
        ("UserPrincipalName", "starts_with", "und_", vec!["und_er"]),
        ("UserPrincipalName", "substring", "d_e", vec!["und_er"]),
        ("UserPrincipalName", "substring", "_", vec!["und_er"]),
        ("UserPrincipalName", "substring", "%", vec![]),
    ] {
        assert_eq!(
            search(field, op, value).await,
            want,
            "{field} {op} {value:?}"
        );
    }
}
on_both_backends!(like_metacharacters_in_a_filter_match_literally);

async fn bad_filters_are_400_3000() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    app.user(&cid, &upn("ann"), "Ann").await;
    let raw_filters = [
        // Unknown fields and operators.
        json!({"Field": "City", "Value": "x", "Operator": "equals"}).to_string(),
        json!({"Field": "Id", "Value": "x", "Operator": "starts_with"}).to_string(),
        json!({"Field": "DisplayName", "Value": "x", "Operator": "ends_with"}).to_string(),
        json!({"Field": "DisplayName", "Value": "x", "Operator": "like"}).to_string(),
        json!({"Field": "UserPrincipalName", "Value": "x", "Operator": ""}).to_string(),
        json!({"Field": "", "Value": "x", "Operator": "substring"}).to_string(),
        // Malformed or incomplete.
        "{not json".into(),
        "".into(),
        "[]".into(),
        "\"UserState\"".into(),
        "null".into(),
        json!({"Field": "UserState", "Operator": "equals"}).to_string(),
        json!({"Value": "Inactive", "Operator": "equals"}).to_string(),
        json!({"Field": "UserState", "Value": "Inactive"}).to_string(),
        json!({"Field": "UserState", "Value": 5, "Operator": "equals"}).to_string(),
        json!({"Field": "DisplayName", "Value": null, "Operator": "substring"}).to_string(),
    ];
    for raw in raw_filters {
        let got = app
            .get(&format!("{}?filter={}", users(&cid), urlencode(&raw)))
            .await;
        assert_error(&got, StatusCode::BAD_REQUEST, 3000);
        assert_eq!(got.1["data"], json!(["filter"]), "{raw}");
    }
}
on_both_backends!(bad_filters_are_400_3000);

// ------------------------------------------------------------------------------ page size

async fn page_size_zero_or_absent_is_100_and_at_most_500() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    for i in 0..101 {
        app.user(&cid, &upn(&format!("p{i:03}")), "P").await;
    }
    for query in ["", "?size=0", "?Size=0", "?size=100"] {
        let first = checked(&cid, app.get(&format!("{}{query}", users(&cid))).await);
        assert_eq!(first["totalCount"], 100, "{query}");
        let rest = checked(&cid, next_page(&app, &cid, &first, Follow::Link).await);
        assert_eq!(rest["totalCount"], 1, "{query}");
        assert_eq!(rest["items"][0]["userPrincipalName"], upn("p100"));
        assert_eq!(rest["continuationToken"], "");
    }
    // The default size travels in the token as well.
    let first = checked(&cid, app.get(&format!("{}?size=0", users(&cid))).await);
    assert_eq!(first["items"][99]["userPrincipalName"], upn("p099"));
    for query in ["?size=500", "?size=101", "?SIZE=500"] {
        let all = checked(&cid, app.get(&format!("{}{query}", users(&cid))).await);
        assert_eq!(all["totalCount"], 101, "{query}");
        assert_eq!(all["continuationToken"], "");
    }
    let one = checked(&cid, app.get(&format!("{}?size=1", users(&cid))).await);
    assert_eq!(one["totalCount"], 1);
    assert_eq!(one["items"][0]["userPrincipalName"], upn("p000"));
    for bad in [
        "",
        "501",
        "-1",
        "abc",
        "1.5",
        "1e2",
        "100000000000000000000",
        "0x10",
        "5%200",
    ] {
        let got = app.get(&format!("{}?size={bad}", users(&cid))).await;
        assert_error(&got, StatusCode::BAD_REQUEST, 3000);
        assert_eq!(got.1["data"], json!(["size"]), "size={bad}");
    }
    assert_error(
        &app.get(&format!("{}?Size=501", users(&cid))).await,
        StatusCode::BAD_REQUEST,
        3000,
    );
}
on_both_backends!(page_size_zero_or_absent_is_100_and_at_most_500);

// ------------------------------------------------------------------------------ tokens

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64_decode(s: &str) -> Vec<u8> {
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in s.bytes() {
        let v = B64URL
            .iter()
            .position(|&b| b == c)
            .unwrap_or_else(|| panic!("not base64url: {s}"));
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn b64_encode(bytes: &[u8]) -> String {
    let (mut out, mut acc, mut bits) = (String::new(), 0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(B64URL[((acc >> bits) & 63) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(B64URL[((acc << (6 - bits)) & 63) as usize] as char);
    }
    out
}

/// `token` with its sealed state edited and its signature kept: a forgery.
fn forged(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let [kid, body, sig] = parts[..] else {
        panic!("not kid.body.signature: {token}")
    };
    let mut state: Value = serde_json::from_slice(&b64_decode(body)).expect("sealed JSON");
    edit(&mut state);
    format!(
        "{kid}.{}.{sig}",
        b64_encode(&serde_json::to_vec(&state).unwrap())
    )
}

/// Sends `token` for the next page of `cid` both ways a client can.
async fn refused(app: &TestApp, cid: &str, token: &str) {
    for got in [
        with_token_header(app, &format!("{}?seekOperation=Next", users(cid)), token).await,
        app.get(&format!(
            "{}?continuationToken={}",
            users(cid),
            urlencode(token)
        ))
        .await,
    ] {
        assert_error(&got, StatusCode::BAD_REQUEST, 3000);
        assert_eq!(got.1["data"], json!(["continuationToken"]), "{token}");
    }
}

async fn forged_foreign_and_garbage_tokens_are_400_3000() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let other = app.customer("fabrikam.com").await;
    for alias in ["a", "b", "c"] {
        app.user(&cid, &upn(alias), alias).await;
        app.user(&other, &format!("{alias}@fabrikam.com"), alias)
            .await;
    }
    let mine = checked(&cid, app.get(&format!("{}?size=1", users(&cid))).await);
    let theirs = checked(&other, app.get(&format!("{}?size=1", users(&other))).await);
    let (mine, theirs) = (token_of(&mine).to_string(), token_of(&theirs).to_string());
    // Control: the genuine token works.
    let ok = checked(
        &cid,
        with_token_header(&app, &format!("{}?seekOperation=Next", users(&cid)), &mine).await,
    );
    assert_eq!(ok["items"][0]["userPrincipalName"], upn("b"));

    // Another customer's token, as is and with its scope rewritten to this customer.
    refused(&app, &cid, &theirs).await;
    refused(
        &app,
        &cid,
        &forged(&theirs, |s| {
            let text = s.to_string().replace(&other, &cid);
            *s = serde_json::from_str(&text).unwrap();
        }),
    )
    .await;
    let body = theirs.split('.').nth(1).unwrap();
    assert_eq!(b64_encode(&b64_decode(body)), body, "the codec is faithful");
    // The customers list's token on a users list.
    let customers = checked_any(app.get("/v1/customers?size=1").await);
    refused(&app, &cid, token_of(&customers)).await;

    // Tampered: any change to the signature or the sealed state.
    let (kid, rest) = mine.split_once('.').unwrap();
    let (body, sig) = rest.split_once('.').unwrap();
    let flip = |s: &str, at: usize| {
        let mut b = s.as_bytes().to_vec();
        b[at] = if b[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    };
    for tampered in [
        format!("{kid}.{body}.{}", flip(sig, 0)),
        format!("{kid}.{body}.{}", flip(sig, sig.len() - 1)),
        format!("{kid}.{}.{sig}", flip(body, body.len() / 2)),
        format!("{kid}.{body}.{}", &sig[..sig.len() - 2]),
        format!("{kid}.{body}.{sig}AA"),
        format!("{kid}.{body}{sig}"),
        format!("{body}.{sig}"),
        format!("{}.{body}.{sig}", flip(kid, 0)),
        format!("{kid}.{kid}.{body}.{sig}"),
        forged(&mine, |s| s["query"]["size"] = json!(500)),
        forged(&mine, |s| s["query"]["descending"] = json!(true)),
        forged(&mine, |s| s["query"]["state"] = json!("inactive")),
        forged(&mine, |s| s["id"] = json!("")),
    ] {
        refused(&app, &cid, &tampered).await;
    }
    // Garbage.
    for garbage in [
        "garbage",
        "a.b",
        ".",
        "eyJ9.AAAA",
        "%%%",
        "null",
        &"x".repeat(4000),
    ] {
        refused(&app, &cid, garbage).await;
    }
    // seekOperation=Next needs a token.
    for path in [
        format!("{}?seekOperation=Next", users(&cid)),
        format!("{}?seekOperation=Next&continuationToken=", users(&cid)),
    ] {
        assert_error(&app.get(&path).await, StatusCode::BAD_REQUEST, 3000);
    }
    assert_error(
        &app.get(&format!("{}?seekOperation=Sideways", users(&cid)))
            .await,
        StatusCode::BAD_REQUEST,
        3000,
    );
}
on_both_backends!(forged_foreign_and_garbage_tokens_are_400_3000);

/// A 200 collection of any kind.
fn checked_any((status, body): (StatusCode, Value)) -> Value {
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!token_of(&body).is_empty(), "{body}");
    body
}

async fn a_token_alone_carries_filter_sort_and_size() {
    let app = TestApp::start().await;
    let cid = app.customer(DOMAIN).await;
    let mut matching = Vec::new();
    for (alias, name) in [
        ("m1", "Anna"),
        ("m2", "hannah"),
        ("m3", "JOANNE"),
        ("m4", "Dan"),
        ("m5", "ann"),
        ("m6", "Anne"),
        ("m7", "Roxanne"),
        ("x1", "Bob"),
        ("x2", "Carol"),
        ("x3", "Eve"),
    ] {
        let u = app.user(&cid, &upn(alias), name).await;
        if alias.starts_with('m') {
            matching.push(u);
        }
    }
    // Deleted users that match the search stay out of every page.
    let gone = app.user(&cid, &upn("m8"), "Annabel").await;
    app.delete(&user(&cid, &id_of(&gone))).await;
    let want = ids(&sorted(matching, "displayName", true));
    assert_eq!(want.len(), 7);

    let filter = json!({"Field": "DisplayName", "Value": "AN", "Operator": "substring"});
    let first_path = filtered(
        &cid,
        &filter,
        "&sortField=DisplayName&sortDirection=Descending&size=2",
    );
    for how in ALL_WAYS {
        let pages = walk(&app, &cid, &first_path, how).await;
        assert_eq!(sizes(&pages), vec![2, 2, 2, 1], "{how:?}");
        assert_eq!(ids(&pages.concat()), want, "{how:?}");
    }
    // A client that sends its query again with the token gets the same pages.
    let first = checked(&cid, app.get(&first_path).await);
    let again = checked(
        &cid,
        with_token_header(
            &app,
            &format!("{first_path}&seekOperation=Next"),
            token_of(&first),
        )
        .await,
    );
    assert_eq!(ids(again["items"].as_array().unwrap()), want[2..4]);

    // And the state filter with a small page, by token alone.
    for alias in ["d1", "d2", "d3"] {
        let u = app.user(&cid, &upn(alias), alias).await;
        app.delete(&user(&cid, &id_of(&u))).await;
    }
    let inactive = json!({"Field": "UserStatus", "Value": "inactive", "Operator": "equals"});
    let pages = walk(
        &app,
        &cid,
        &filtered(&cid, &inactive, "&size=1&sortDirection=Descending"),
        Follow::Query,
    )
    .await;
    assert_eq!(
        upns(&pages.concat()),
        vec![upn("m8"), upn("d3"), upn("d2"), upn("d1")]
    );
    assert_eq!(sizes(&pages), vec![1, 1, 1, 1]);
}
on_both_backends!(a_token_alone_carries_filter_sort_and_size);
