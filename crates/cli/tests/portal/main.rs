//! The web portal, end to end: the real `roster serve` and Debian's headless Chromium,
//! clicked through as a person would. Without a browser the tests say SKIPPED and pass; with
//! `CI` set they fail instead. A failing test leaves a screenshot and prints its path.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/server.rs"]
mod server;
mod webdriver;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};
use server::{start, Server};
use webdriver::{Browser, Driver};

const ADMIN: &str = "admin@partner.local";
const PASSWORD: &str = "Correct-Horse-42-Battery";

/// One browser test at a time: each starts a Chromium, and the machine has two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Whether the browser is here; on CI it must be.
fn browser_installed() -> bool {
    let here =
        Path::new(webdriver::CHROMIUM).exists() && Path::new(webdriver::CHROMEDRIVER).exists();
    if !here {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but {} or {} is missing: .ci/run installs them (apt-get install chromium chromium-driver)",
            webdriver::CHROMIUM,
            webdriver::CHROMEDRIVER
        );
        eprintln!(
            "SKIPPED: no {} / {}",
            webdriver::CHROMIUM,
            webdriver::CHROMEDRIVER
        );
    }
    here
}

pub fn shots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("portal-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A started server, a driver and a browser signed in as nobody yet.
struct Portal {
    server: Server,
    driver: Driver,
    data: tempfile::TempDir,
}

impl Portal {
    async fn start() -> Self {
        let data = tempfile::tempdir().unwrap();
        let server = start(data.path(), Some(PASSWORD)).expect("roster serve");
        let driver = Driver::start().await.expect("chromedriver");
        Self {
            server,
            driver,
            data,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    /// A customer made through the REST door: its id.
    async fn customer(&self, token: &str, domain: &str, name: &str) -> String {
        let r: Value = reqwest::Client::new()
            .post(self.url("/v1/customers"))
            .bearer_auth(token)
            .json(&json!({
                "companyProfile": {"domain": domain},
                "billingProfile": {"companyName": name, "defaultAddress": {"country": "US"}},
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["id"].as_str().unwrap().to_string()
    }

    /// A partner account user made through the REST door (`body` as POST /v1/users takes
    /// it): the created user.
    async fn partner_user(&self, token: &str, body: Value) -> Value {
        let r = reqwest::Client::new()
            .post(self.url("/v1/users"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json().await.unwrap()
    }

    /// An access token of the administrator, for the REST door.
    async fn admin_token(&self) -> String {
        let r: Value = reqwest::Client::new()
            .post(self.url("/oauth2/token"))
            .form(&[
                ("grant_type", "password"),
                ("username", ADMIN),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["access_token"].as_str().unwrap().to_string()
    }
}

/// Runs a test's steps with a browser; when they fail, the page is kept as a screenshot and
/// its path printed, and the test fails with the steps' message.
async fn with_browser<F, Fut>(name: &str, javascript: bool, steps: F)
where
    F: FnOnce(Arc<Portal>, Arc<Browser>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if !browser_installed() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().await;
    let portal = Arc::new(Portal::start().await);
    let browser = Arc::new(portal.driver.browser(javascript).await);
    let run = tokio::spawn(steps(portal.clone(), browser.clone())).await;
    if let Err(e) = run {
        let path = shots_dir().join(format!("FAILED-{name}.png"));
        std::fs::write(&path, browser.screenshot().await).unwrap();
        eprintln!("screenshot of the failure: {}", path.display());
        eprintln!("at {}", browser.url().await);
        std::panic::resume_unwind(e.into_panic());
    }
    if let Ok(b) = Arc::try_unwrap(browser) {
        b.quit().await;
    }
}

/// Keeps the page as a PNG (for the docs and for a person to look at).
async fn shot(browser: &Browser, name: &str) {
    std::fs::write(
        shots_dir().join(format!("{name}.png")),
        browser.screenshot().await,
    )
    .unwrap();
}

const AXE: &str = include_str!("axe.min.js");

/// axe-core on the page as it is: no violation of impact "serious" or "critical".
async fn accessible(browser: &Browser, page: &str) {
    let script = format!(
        "{AXE}\nreturn axe.run(document, {{resultTypes: ['violations']}}).then(r => r.violations\
         .filter(v => v.impact === 'serious' || v.impact === 'critical')\
         .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', ')));"
    );
    let violations = browser.script(&script, json!([])).await;
    assert_eq!(
        violations,
        json!([]),
        "accessibility violations on {page}: {violations:#}"
    );
}

async fn sign_in(portal: &Portal, browser: &Browser, user: &str, password: &str) {
    browser.goto(&portal.url("/signin")).await;
    browser.fill("#email", user).await;
    browser.fill("#password", password).await;
    browser.click_text("button", "Sign in").await;
}

/// The temporary passwords a page shows, by username.
async fn passwords_on_page(browser: &Browser) -> Vec<(String, String)> {
    let rows = browser
        .script(
            "return [...document.querySelectorAll('table.passwords tbody tr')].map(tr => [tr.cells[1].innerText.trim(), tr.querySelector('code.secret').innerText.trim()]);",
            json!([]),
        )
        .await;
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_string(),
                r[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

/// The id in a URL after `/customers/`.
fn customer_in(url: &str) -> String {
    url.split("/customers/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_admin_manages_a_customers_users() {
    with_browser("manage-users", true, |portal, b| async move {
        // A wrong password says so, and keeps the email.
        sign_in(&portal, &b, ADMIN, "not-the-password").await;
        b.wait_for_text("The email or password is incorrect").await;
        assert_eq!(
            b.attribute(&b.find("#email").await, "value").await.as_deref(),
            Some(ADMIN)
        );
        shot(&b, "signin-error").await;
        accessible(&b, "sign in (error)").await;

        sign_in(&portal, &b, ADMIN, PASSWORD).await;
        b.wait_for_text("Signed in as").await;
        assert!(b.text().await.contains(ADMIN));
        shot(&b, "dashboard").await;
        accessible(&b, "dashboard").await;

        // "Account settings" opens on the account's users.
        b.click_text("a", "Account settings").await;
        b.wait_for_text("Create new users").await;

        // Add customer.
        b.click_text("a", "Customers").await;
        b.wait_for_url("/customers").await;
        b.click_text("a", "Add customer").await;
        b.fill("#company_name", "Contoso").await;
        b.fill("#domain", "contoso.onmicrosoft.com").await;
        b.select("#country", "GB").await;
        shot(&b, "customer-new").await;
        accessible(&b, "add customer").await;
        b.click_text("button", "Add customer").await;
        b.wait_for_text("No users yet").await;
        let customer = customer_in(&b.url().await);
        accessible(&b, "users (empty)").await;

        // The customers' table, with its search.
        b.goto(&portal.url("/customers")).await;
        b.wait_for_text("contoso.onmicrosoft.com").await;
        b.fill("#q", "nothing-like-it").await;
        b.wait_for_text("No customer matches").await;
        b.fill("#q", "conto").await;
        b.wait_for_text("contoso.onmicrosoft.com").await;
        assert!(b.url().await.contains("q=conto"), "the search is in the URL");
        shot(&b, "customers").await;
        accessible(&b, "customers").await;

        // Add two users with "Add another user", and read their temporary passwords.
        b.goto(&portal.url(&format!("/customers/{customer}/users/new"))).await;
        b.fill("#first_name-0", "Ada").await;
        b.fill("#last_name-0", "Lovelace").await;
        b.fill("#display_name-0", "Ada Lovelace").await;
        b.fill("#alias-0", "ada").await;
        b.click_text("button", "Add another user").await;
        b.fill("#display_name-1", "Grace Hopper").await;
        b.fill("#alias-1", "grace").await;
        assert_eq!(
            b.attribute(&b.find("#display_name-0").await, "value").await.as_deref(),
            Some("Ada Lovelace"),
            "the first user is kept"
        );
        shot(&b, "user-new").await;
        accessible(&b, "add user").await;
        b.click_text("button", "Complete").await;
        b.wait_for_text("2 users were added").await;
        let passwords = passwords_on_page(&b).await;
        assert_eq!(
            passwords.iter().map(|(u, _)| u.as_str()).collect::<Vec<_>>(),
            ["ada@contoso.onmicrosoft.com", "grace@contoso.onmicrosoft.com"]
        );
        assert!(passwords.iter().all(|(_, p)| p.len() == 16));
        let csv = b.find("a[download]").await;
        let href = b.attribute(&csv, "href").await.unwrap();
        assert!(href.starts_with("data:text/csv"), "{href}");
        shot(&b, "user-created").await;
        accessible(&b, "users added").await;

        // The users' table: both, with sort and search in the URL.
        b.click_text("a", "Back to users").await;
        b.wait_for_text("Grace Hopper").await;
        b.click_text("a", "Display name").await;
        b.wait_for_url("dir=desc").await;
        let names = b
            .script(
                "return [...document.querySelectorAll('table.users tbody tr')].map(tr => tr.querySelector('a').innerText.trim());",
                json!([]),
            )
            .await;
        assert_eq!(names, json!(["Grace Hopper", "Ada Lovelace"]));
        shot(&b, "users").await;
        accessible(&b, "users").await;

        // Edit.
        b.click_text("a", "Grace Hopper").await;
        b.wait_for_text("grace@contoso.onmicrosoft.com").await;
        shot(&b, "user").await;
        accessible(&b, "a user").await;
        b.click_text("a", "Edit").await;
        b.fill("#display_name", "Rear Admiral Grace Hopper").await;
        accessible(&b, "edit").await;
        b.click_text("button", "Submit").await;
        b.wait_for_text("Your changes were saved").await;
        assert!(b.text().await.contains("Rear Admiral Grace Hopper"));

        // Reset password → Yes → shown once.
        b.click_text("a", "Reset password").await;
        accessible(&b, "reset password").await;
        b.click_text("button", "Yes").await;
        b.wait_for_text("The password was reset").await;
        let reset = passwords_on_page(&b).await;
        assert_eq!(reset.len(), 1);
        assert_ne!(reset[0].1, passwords[1].1);
        shot(&b, "user-reset").await;
        accessible(&b, "password reset").await;
        // Not on any later page.
        b.click_text("a", "Back to the user").await;
        b.wait_for_text("Rear Admiral").await;
        assert!(!b.source().await.contains(&reset[0].1));

        // Delete, then restore from "Deleted users (1)".
        b.click_text("a", "Delete user").await;
        accessible(&b, "delete user").await;
        b.click_text("button", "Delete user").await;
        b.wait_for_text("The user was deleted").await;
        b.click_text("a", "Deleted users (1)").await;
        b.wait_for_text("30 days left").await;
        shot(&b, "users-deleted").await;
        accessible(&b, "deleted users").await;
        b.click(&b.find("table.users tbody input[type=checkbox]").await).await;
        b.click_text("button", "Restore").await;
        b.wait_for_text("Restored: 1 user(s)").await;
        assert!(b.text().await.contains("Deleted users (0)"));

        // Upload users: a file with one bad row, then a good one; the passwords once.
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.csv");
        std::fs::write(
            &bad,
            "First name,Last name,Display name,Email,Status update\r\n\
             Alan,Turing,Alan Turing,alan@contoso.onmicrosoft.com,\r\n\
             Bad,Row,Bad Row,bad@elsewhere.example,\r\n",
        )
        .unwrap();
        let good = dir.path().join("good.csv");
        std::fs::write(
            &good,
            "First name;Last name;Display name;Email;Status update\r\n\
             Alan;Turing;Alan Turing;alan@contoso.onmicrosoft.com;\r\n\
             Edsger;Dijkstra;Edsger Dijkstra;edsger@contoso.onmicrosoft.com;\r\n",
        )
        .unwrap();
        b.goto(&portal.url(&format!("/customers/{customer}/users"))).await;
        b.click_text("a", "Upload users").await;
        b.wait_for_text("Download template").await;
        accessible(&b, "upload users").await;
        let template = b.find("a[download][href$='/template']").await;
        let href = b.attribute(&template, "href").await.unwrap();
        let body = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(portal.url(&href))
            .send()
            .await
            .unwrap();
        assert_eq!(body.status(), 303, "the template needs a session too");
        b.type_into(&b.find("#file").await, bad.to_str().unwrap()).await;
        b.click_text("button", "Validate").await;
        b.wait_for_text("The file has 1 problem(s)").await;
        let problems = b
            .script(
                "return [...document.querySelectorAll('table.problems tbody tr')].map(tr => [...tr.cells].map(c => c.innerText.trim()));",
                json!([]),
            )
            .await;
        assert_eq!(problems[0][0], "3", "{problems}");
        assert_eq!(problems[0][1], "Email", "{problems}");
        shot(&b, "upload-problems").await;
        accessible(&b, "upload problems").await;
        b.type_into(&b.find("#file").await, good.to_str().unwrap()).await;
        b.select("#location", "GB").await;
        b.click_text("button", "Validate").await;
        b.wait_for_text("The file is valid: 2 user(s) will be created").await;
        // "Save" uploads the file that was validated, kept in the form.
        b.click_text("button", "Save").await;
        b.wait_for_text("2 user(s) were created").await;
        let uploaded = passwords_on_page(&b).await;
        assert_eq!(uploaded.len(), 2);
        let result = b.find("a[download='upload-result.csv']").await;
        let href = b.attribute(&result, "href").await.unwrap();
        let decoded = percent_decode(&href);
        assert!(decoded.contains("First name;Last name;Display name;Email;Status update;Temporary password"), "{decoded}");
        assert!(decoded.contains(&uploaded[1].1), "the result file has the passwords");
        shot(&b, "upload-done").await;
        accessible(&b, "upload done").await;
        b.click_text("a", "Back to users").await;
        b.wait_for_text("Edsger Dijkstra").await;

        // Restoring a user whose username was taken meanwhile says exactly that.
        let token = portal.admin_token().await;
        let http = reqwest::Client::new();
        let users_url = portal.url(&format!("/v1/customers/{customer}/users"));
        let dup = json!({"userPrincipalName": "dup@contoso.onmicrosoft.com", "displayName": "Dup One", "usageLocation": "GB"});
        let first: Value = http.post(&users_url).bearer_auth(&token).json(&dup).send().await.unwrap().json().await.unwrap();
        let first_id = first["id"].as_str().unwrap();
        let r = http
            .delete(format!("{users_url}/{first_id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let r = http.post(&users_url).bearer_auth(&token).json(&dup).send().await.unwrap();
        assert_eq!(r.status(), 201);
        b.goto(&portal.url(&format!("/customers/{customer}/users?tab=deleted"))).await;
        b.wait_for_text("Dup One").await;
        b.click(&b.find(&format!("#select-{first_id}")).await).await;
        b.click_text("button", "Restore").await;
        b.wait_for_text("its username dup@contoso.onmicrosoft.com is now used by another active user").await;
        shot(&b, "restore-conflict").await;
        accessible(&b, "restore refused").await;

        // Sign out ends the session.
        b.click_text("button", "Sign out").await;
        b.wait_for_text("You signed out").await;
        b.goto(&portal.url("/customers")).await;
        b.wait_for_url("/signin").await;

        // Ada signs in with the temporary password she was given, and must change it first.
        sign_in(&portal, &b, &passwords[0].0, &passwords[0].1).await;
        b.wait_for_url("/changepassword").await;
        b.fill("#current", &passwords[0].1).await;
        b.fill("#new", "Tq7#vLm2x-Analytical").await;
        b.fill("#confirm", "Tq7#vLm2x-Analytical").await;
        b.click_text("button", "Change password").await;
        b.wait_for_text("Signed in as").await;
        assert!(b.text().await.contains("Ada Lovelace"));
    })
    .await;
}

const E3: &str = "05e9a617-0261-4cee-bb44-138d3ef5d965";

/// The numbers of the Licenses page's row of a product: total, assigned, available.
async fn seats_on_page(b: &Browser, product: &str) -> Vec<String> {
    let v = b
        .script(
            "return [...document.querySelectorAll('tbody tr')].filter(tr => tr.cells[0].innerText.includes(arguments[0])).map(tr => [...tr.cells].slice(1).map(c => c.innerText.trim()))[0];",
            json!([product]),
        )
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_and_licenses_are_given_on_add_and_edit() {
    with_browser("licenses", true, |portal, b| async move {
        let token = portal.admin_token().await;
        let http = reqwest::Client::new();
        let cid = portal.customer(&token, "tailspin.onmicrosoft.com", "Tailspin").await;
        let r = http
            .put(portal.url(&format!("/v1/customers/{cid}/subscribedskus/{E3}")))
            .bearer_auth(&token)
            .json(&json!({"totalUnits": 2}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        sign_in(&portal, &b, ADMIN, PASSWORD).await;
        b.wait_for_text("Signed in as").await;
        b.goto(&portal.url(&format!("/customers/{cid}/licenses"))).await;
        b.wait_for_text("Microsoft 365 E3").await;
        assert_eq!(seats_on_page(&b, "Microsoft 365 E3").await, ["2", "0", "2"]);
        shot(&b, "licenses").await;
        accessible(&b, "licenses").await;

        // Add user with a permission and a license.
        b.goto(&portal.url(&format!("/customers/{cid}/users/new"))).await;
        b.fill("#display_name-0", "Una Admin").await;
        b.fill("#alias-0", "una").await;
        b.select("#location-0", "US").await;
        b.click(&b.find("#role-fe930be7-5e62-47db-91af-98c3a49a38b1").await).await;
        b.click(&b.find(&format!("#sku-{E3}")).await).await;
        b.click_text("button", "Complete").await;
        b.wait_for_text("The user was added").await;
        assert!(!b.text().await.contains("Not every permission"), "{}", b.text().await);
        b.click_text("a", "Back to users").await;
        b.click_text("a", "Una Admin").await;
        b.wait_for_text("User Administrator").await;
        assert!(b.text().await.contains("Microsoft 365 E3"));
        b.goto(&portal.url(&format!("/customers/{cid}/licenses"))).await;
        b.wait_for_text("Microsoft 365 E3").await;
        assert_eq!(seats_on_page(&b, "Microsoft 365 E3").await, ["2", "1", "1"]);

        // A second user through Edit takes the last seat; the seat count moves again.
        b.goto(&portal.url(&format!("/customers/{cid}/users/new"))).await;
        b.fill("#display_name-0", "Vic").await;
        b.fill("#alias-0", "vic").await;
        b.select("#location-0", "US").await;
        b.click_text("button", "Complete").await;
        b.wait_for_text("The user was added").await;
        b.click_text("a", "Back to users").await;
        b.click_text("a", "Vic").await;
        b.click_text("a", "Edit").await;
        b.wait_for_text("1 of 2 available").await;
        shot(&b, "user-edit").await;
        accessible(&b, "edit with licenses").await;
        b.click(&b.find(&format!("#sku-{E3}")).await).await;
        b.click_text("button", "Submit").await;
        b.wait_for_text("Your changes were saved").await;
        b.goto(&portal.url(&format!("/customers/{cid}/licenses"))).await;
        b.wait_for_text("Microsoft 365 E3").await;
        assert_eq!(seats_on_page(&b, "Microsoft 365 E3").await, ["2", "2", "0"]);
        // The users' table lists the license.
        b.goto(&portal.url(&format!("/customers/{cid}/users"))).await;
        b.wait_for_text("Vic").await;
        let rows = b
            .script(
                "return [...document.querySelectorAll('table.users tbody tr')].map(tr => tr.cells[4].innerText.trim());",
                json!([]),
            )
            .await;
        assert_eq!(rows, json!(["Microsoft 365 E3", "Microsoft 365 E3"]));
        // Deleting a user frees its seat.
        b.click_text("a", "Vic").await;
        b.click_text("a", "Delete user").await;
        b.click_text("button", "Delete user").await;
        b.wait_for_text("The user was deleted").await;
        b.goto(&portal.url(&format!("/customers/{cid}/licenses"))).await;
        b.wait_for_text("Microsoft 365 E3").await;
        assert_eq!(seats_on_page(&b, "Microsoft 365 E3").await, ["2", "1", "1"]);
    })
    .await;
}

/// The display names the users' table shows, in order.
async fn names_on_page(b: &Browser) -> Vec<String> {
    b.script(
        "return [...document.querySelectorAll('table.users tbody tr')].map(tr => tr.querySelector('a').innerText.trim());",
        json!([]),
    )
    .await
    .as_array()
    .unwrap()
    .iter()
    .map(|v| v.as_str().unwrap().to_string())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_go_both_ways_and_the_size_is_remembered() {
    with_browser("paging", true, |portal, b| async move {
        let token = portal.admin_token().await;
        let http = reqwest::Client::new();
        let cid = portal
            .customer(&token, "pages.onmicrosoft.com", "Pages")
            .await;
        let mut csv = String::from("First name,Last name,Display name,Email,Status update\r\n");
        for i in 1..=45 {
            csv.push_str(&format!(
                "U,{i:02},User {i:02},u{i:02}@pages.onmicrosoft.com,\r\n"
            ));
        }
        let r = http
            .post(portal.url(&format!(
                "/v1/customers/{cid}/users/bulkupload?usageLocation=US"
            )))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        sign_in(&portal, &b, ADMIN, PASSWORD).await;
        b.wait_for_text("Signed in as").await;
        b.goto(&portal.url(&format!("/customers/{cid}/users")))
            .await;
        b.wait_for_text("User 01").await;
        b.click_text("a", "20").await;
        b.wait_for_url("size=20").await;
        let first: Vec<String> = (1..=20).map(|i| format!("User {i:02}")).collect();
        assert_eq!(names_on_page(&b).await, first);
        assert!(!b.exists("a[rel=prev]").await);
        b.click_text("a", "Next page").await;
        b.wait_for_text("User 21").await;
        let second: Vec<String> = (21..=40).map(|i| format!("User {i:02}")).collect();
        assert_eq!(names_on_page(&b).await, second);
        // The last page is the last 20 (keyset pages are not numbered), and back from it.
        b.click_text("a", "Last page").await;
        b.wait_for_text("User 45").await;
        let last: Vec<String> = (26..=45).map(|i| format!("User {i:02}")).collect();
        assert_eq!(names_on_page(&b).await, last);
        assert!(!b.exists("a[rel=next]").await, "the last page has no next");
        b.click_text("a", "Previous page").await;
        b.wait_for_text("User 06").await;
        let before_last: Vec<String> = (6..=25).map(|i| format!("User {i:02}")).collect();
        assert_eq!(names_on_page(&b).await, before_last);
        b.click_text("a", "Previous page").await;
        b.wait_for_text("User 01").await;
        let start: Vec<String> = (1..=5).map(|i| format!("User {i:02}")).collect();
        assert_eq!(names_on_page(&b).await, start);
        assert!(!b.exists("a[rel=prev]").await, "nothing before the first");
        // The back button brings the same view back: the state is in the URL.
        b.click_text("a", "Next page").await;
        b.wait_for_text("User 25").await;
        let here = b.url().await;
        let shown = names_on_page(&b).await;
        assert_eq!(
            shown,
            (6..=25).map(|i| format!("User {i:02}")).collect::<Vec<_>>()
        );
        b.click_text("a", "First page").await;
        b.wait_for_text("User 01").await;
        assert_eq!(names_on_page(&b).await, first);
        b.goto(&here).await;
        b.wait_for_text("User 25").await;
        assert_eq!(names_on_page(&b).await, shown);
        // Descending, the last page holds the first users.
        b.click_text("a", "Display name").await;
        b.wait_for_url("dir=desc").await;
        b.click_text("a", "Last page").await;
        b.wait_for_text("User 01").await;
        let reversed: Vec<String> = (1..=20).rev().map(|i| format!("User {i:02}")).collect();
        assert_eq!(names_on_page(&b).await, reversed);
        // The size is remembered for the next list.
        b.goto(&portal.url(&format!("/customers/{cid}/users")))
            .await;
        b.wait_for_text("User 01").await;
        assert_eq!(names_on_page(&b).await.len(), 20);
        shot(&b, "users-paged").await;
        accessible(&b, "a paged list").await;

        // "All 45 users that match", beyond the page of 20: deleted, then restored.
        b.fill("#q", "user").await;
        b.click_text("button", "Search").await;
        b.wait_for_url("q=user").await;
        b.click(&b.find("#bulk-all").await).await;
        assert!(b.text().await.contains("All 45 users that match"));
        b.click_text("button", "Delete").await;
        b.accept_alert().await;
        b.wait_for_text("Deleted: 45 user(s)").await;
        assert!(b.text().await.contains("Deleted users (45)"));
        b.click_text("a", "Deleted users (45)").await;
        b.wait_for_text("30 days left").await;
        // The header's box ticks the whole page (with JavaScript).
        b.click(&b.find("input.select-page").await).await;
        let ticked = b
            .script(
                "return document.querySelectorAll('tbody input[name=user]:checked').length;",
                json!([]),
            )
            .await;
        assert_eq!(ticked, json!(20));
        b.click_text("button", "Restore").await;
        b.wait_for_text("Restored: 20 user(s)").await;
        assert!(b.text().await.contains("Deleted users (25)"));
        b.click(&b.find("#bulk-all").await).await;
        b.click_text("button", "Restore").await;
        b.wait_for_text("Restored: 25 user(s)").await;
        assert!(b.text().await.contains("Deleted users (0)"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helpdesk_agent_sees_only_what_it_may_do() {
    with_browser("helpdesk", true, |portal, b| async move {
        let token = portal.admin_token().await;
        let http = reqwest::Client::new();
        portal.partner_user(&token, json!({
                "userPrincipalName": "helen@partner.local", "firstName": "Helen", "lastName": "Desk",
                "roles": ["Helpdesk agent"],
                "passwordProfile": {"password": "Tq7#vLm2xR-agent", "forceChangePassword": false},
            })).await;
        let cid = portal.customer(&token, "desk.onmicrosoft.com", "Desk").await;
        let user: Value = http
            .post(portal.url(&format!("/v1/customers/{cid}/users")))
            .bearer_auth(&token)
            .json(&json!({"userPrincipalName": "pat@desk.onmicrosoft.com", "displayName": "Pat"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let uid = user["id"].as_str().unwrap().to_string();

        sign_in(&portal, &b, "helen@partner.local", "Tq7#vLm2xR-agent").await;
        b.wait_for_text("Signed in as").await;
        assert!(!b.text().await.contains("Add customer"));
        b.goto(&portal.url(&format!("/customers/{cid}/users"))).await;
        b.wait_for_text("Pat").await;
        let text = b.text().await;
        for absent in ["Add user", "Upload users"] {
            assert!(!text.contains(absent), "{absent} shown to a Helpdesk agent:\n{text}");
        }
        assert!(!b.exists("button[value=delete]").await, "Delete shown");
        assert!(!b.exists("input[name=user]").await, "nothing to tick");
        b.click_text("a", "Pat").await;
        b.wait_for_text("pat@desk.onmicrosoft.com").await;
        let text = b.text().await;
        assert!(text.contains("Reset password"), "{text}");
        assert!(!text.contains("Delete user") && !text.contains("Edit"), "{text}");
        accessible(&b, "a user, as a Helpdesk agent").await;
        // The service still decides: a delete sent anyway is refused with its sentence.
        b.goto(&portal.url(&format!("/customers/{cid}/users/{uid}/delete"))).await;
        b.click_text("button", "Delete user").await;
        b.wait_for_text("does not have the rights to perform the requested operation").await;
        accessible(&b, "the error page").await;
        assert!(!b.text().await.contains("900150"), "no codes on a page");
        // What it may do works.
        b.goto(&portal.url(&format!("/customers/{cid}/users/{uid}"))).await;
        b.click_text("a", "Reset password").await;
        b.click_text("button", "Yes").await;
        b.wait_for_text("The password was reset").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temporary_password_must_be_changed_and_a_reset_ends_the_session() {
    with_browser("temporary-password", true, |portal, b| async move {
        let token = portal.admin_token().await;
        let http = reqwest::Client::new();
        let cid = portal.customer(&token, "fabrikam.onmicrosoft.com", "Fabrikam").await;
        let user: Value = http
            .post(portal.url(&format!("/v1/customers/{cid}/users")))
            .bearer_auth(&token)
            .json(&json!({
                "userPrincipalName": "ada@fabrikam.onmicrosoft.com",
                "displayName": "Ada",
                "usageLocation": "US",
                "passwordProfile": {"password": "Temporary-Pass-123", "forceChangePassword": true},
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let uid = user["id"].as_str().unwrap().to_string();

        // A temporary password leads to "Change password" before anything else.
        sign_in(&portal, &b, "ada@fabrikam.onmicrosoft.com", "Temporary-Pass-123").await;
        b.wait_for_url("/changepassword").await;
        b.wait_for_text("Your password is temporary").await;
        shot(&b, "change-password").await;
        accessible(&b, "change password").await;
        b.goto(&portal.url("/")).await;
        b.wait_for_url("/signin").await;
        b.goto(&portal.url("/changepassword?email=ada%40fabrikam.onmicrosoft.com")).await;
        b.fill("#current", "Temporary-Pass-123").await;
        b.fill("#new", "Tq7#vLm2x-Own").await;
        b.fill("#confirm", "Tq7#vLm2x-0wn").await;
        b.click_text("button", "Change password").await;
        b.wait_for_text("not the same as the new password").await;
        accessible(&b, "change password (error)").await;
        b.fill("#current", "Temporary-Pass-123").await;
        b.fill("#new", "Tq7#vLm2x-Own").await;
        b.fill("#confirm", "Tq7#vLm2x-Own").await;
        b.click_text("button", "Change password").await;
        b.wait_for_text("Signed in as").await;
        // A customer's user without a directory role has nothing to manage, and is told so.
        b.wait_for_text("You have no administrator role").await;
        assert!(!b.exists("a[href$='/users']").await);
        accessible(&b, "dashboard of a customer's user").await;

        // A password reset through the REST door ends the portal session at once.
        let r = http
            .patch(portal.url(&format!("/v1/customers/{cid}/users/{uid}")))
            .bearer_auth(&token)
            .json(&json!({"passwordProfile": {"password": "Another-Pass-456", "forceChangePassword": false}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        b.goto(&portal.url("/")).await;
        b.wait_for_url("/signin").await;
        b.wait_for_text("Sign in").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_escape_names_and_send_their_headers() {
    with_browser("escaping", true, |portal, b| async move {
        sign_in(&portal, &b, ADMIN, PASSWORD).await;
        b.wait_for_text("Signed in as").await;
        b.goto(&portal.url("/customers/new")).await;
        b.fill("#company_name", "<img src=x onerror=alert(1)>")
            .await;
        b.fill("#domain", "xss.onmicrosoft.com").await;
        b.click_text("button", "Add customer").await;
        b.wait_for_text("No users yet").await;
        let customer = customer_in(&b.url().await);
        b.goto(&portal.url(&format!("/customers/{customer}/users/new")))
            .await;
        b.fill(
            "#display_name-0",
            "<script>alert(2)</script><img src=x onerror=alert(3)>",
        )
        .await;
        b.fill("#alias-0", "x").await;
        b.click_text("button", "Complete").await;
        b.wait_for_text("The user was added").await;
        b.goto(&portal.url(&format!("/customers/{customer}/users")))
            .await;
        b.wait_for_text("<script>alert(2)</script>").await;
        assert!(b.text().await.contains("<img src=x onerror=alert(1)>"));
        assert!(!b.exists("img").await, "a name became an element");
        assert!(!b.exists("main script").await, "a name became a script");

        // The headers of every page.
        let r = reqwest::get(portal.url("/signin")).await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert_eq!(h["cache-control"], "no-store");
        // No inline script or style anywhere on the pages walked.
        let source = b.source().await;
        assert!(
            !source.contains("<script>") && !source.contains("style="),
            "inline code"
        );

        // The session cookie.
        let cookies = b.cookies().await;
        let session = cookies
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "roster_session")
            .expect("a session cookie")
            .clone();
        assert_eq!(session["httpOnly"], true);
        assert_eq!(session["sameSite"], "Lax");
        assert_eq!(session["path"], "/");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_sign_in_and_add_user_work() {
    with_browser("no-javascript", false, |portal, b| async move {
        sign_in(&portal, &b, ADMIN, PASSWORD).await;
        b.wait_for_text("Signed in as").await;
        b.goto(&portal.url("/customers/new")).await;
        b.fill("#company_name", "Northwind").await;
        b.fill("#domain", "northwind.onmicrosoft.com").await;
        b.click_text("button", "Add customer").await;
        b.wait_for_text("No users yet").await;
        b.click_text("a", "Add user").await;
        b.fill("#display_name-0", "Nancy Davolio").await;
        b.fill("#alias-0", "nancy").await;
        b.click_text("button", "Add another user").await;
        b.fill("#display_name-1", "Andrew Fuller").await;
        b.fill("#alias-1", "andrew").await;
        b.click_text("button", "Complete").await;
        b.wait_for_text("2 users were added").await;
        assert_eq!(passwords_on_page(&b).await.len(), 2);
        // The search works as a plain form.
        b.click_text("a", "Back to users").await;
        b.fill("#q", "nancy").await;
        b.click_text("button", "Search").await;
        b.wait_for_url("q=nancy").await;
        let text = b.text().await;
        assert!(
            text.contains("Nancy Davolio") && !text.contains("Andrew Fuller"),
            "{text}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_is_added_with_the_keyboard_alone() {
    with_browser("keyboard", true, |portal, b| async move {
        // Sign in by keyboard: the email field has the focus.
        b.goto(&portal.url("/signin")).await;
        b.find("#email").await;
        b.keys(ADMIN).await;
        b.keys("\u{E004}").await;
        b.keys(PASSWORD).await;
        b.keys("\u{E007}").await;
        b.wait_for_text("Signed in as").await;
        let token = portal.admin_token().await;
        let cid = portal
            .customer(&token, "keys.onmicrosoft.com", "Keys")
            .await;
        b.goto(&portal.url(&format!("/customers/{cid}/users/new")))
            .await;
        b.find("#first_name-0").await;
        // Tab from the top of the page to the first field, counting the stops.
        let mut stops = 0;
        loop {
            b.keys("\u{E004}").await;
            stops += 1;
            let id = b
                .attribute(&b.active().await, "id")
                .await
                .unwrap_or_default();
            if id == "first_name-0" {
                break;
            }
            assert!(stops < 30, "the first field is not reachable by Tab");
        }
        b.keys("Kay").await;
        b.keys("\u{E004}").await;
        b.keys("Board").await;
        b.keys("\u{E004}").await;
        b.keys("Kay Board").await;
        b.keys("\u{E004}").await;
        b.keys("kay").await;
        // Domain, location, then "Complete" is the next button.
        loop {
            b.keys("\u{E004}").await;
            let active = b.active().await;
            if b.text_of(&active).await.trim() == "Complete" {
                break;
            }
            stops += 1;
            assert!(stops < 60, "Complete is not reachable by Tab");
        }
        // A visible focus on the button.
        let outline = b
            .script(
                "return getComputedStyle(document.activeElement).outlineStyle;",
                json!([]),
            )
            .await;
        assert_eq!(outline, json!("solid"), "the focus is visible");
        b.keys("\u{E007}").await;
        b.wait_for_text("The user was added").await;
        assert_eq!(passwords_on_page(&b).await[0].0, "kay@keys.onmicrosoft.com");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_its_token_is_refused_and_changes_nothing() {
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path(), Some(PASSWORD)).expect("roster serve");
    let base = server.base.clone();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let session = |r: &reqwest::Response| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("roster_session="))
            .map(|v| v.split(';').next().unwrap().to_string())
    };
    let sign_in = || async {
        let r = http
            .post(format!("{base}/signin"))
            .form(&[("email", ADMIN), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        session(&r).expect("a session")
    };
    let mine = sign_in().await;
    let other = sign_in().await;
    assert_ne!(mine, other, "a new session id at every sign-in");
    let token_of = |page: String| {
        page.split("name=\"csrf-token\" content=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    let page = |cookie: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            http.get(format!("{base}/customers/new"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let my_token = token_of(page(mine.clone()).await);
    let other_token = token_of(page(other.clone()).await);
    assert_ne!(my_token, other_token);
    let add = |cookie: String, token: Option<String>, domain: &'static str| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let mut form = vec![
                ("company_name".to_string(), "Forged".to_string()),
                ("domain".to_string(), domain.to_string()),
                ("country".to_string(), "US".to_string()),
            ];
            if let Some(t) = token {
                form.push(("csrf".into(), t));
            }
            http.post(format!("{base}/customers/new"))
                .header("cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let none = add(mine.clone(), None, "forged1.onmicrosoft.com").await;
    let status = none.status();
    let body = none.text().await.unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("Reload it and try again"));
    let another = add(mine.clone(), Some(other_token), "forged2.onmicrosoft.com").await;
    assert_eq!(another.status(), 403);
    // From another site, even with the right token.
    let cross = http
        .post(format!("{base}/customers/new"))
        .header("cookie", mine.clone())
        .header("origin", "http://evil.example")
        .form(&[
            ("company_name", "Forged"),
            ("domain", "forged3.onmicrosoft.com"),
            ("csrf", &my_token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    // Nothing was created.
    let list = http
        .get(format!("{base}/customers"))
        .header("cookie", mine.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!list.contains("forged"), "a refused form changed something");
    // With its own token it works.
    let ok = add(mine.clone(), Some(my_token), "real.onmicrosoft.com").await;
    assert_eq!(ok.status(), 303);
    // Signed out, the session is gone on the server too.
    let out = http
        .post(format!("{base}/signout"))
        .header("cookie", mine.clone())
        .form(&[("csrf", token_of(page(mine.clone()).await))])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let after = http
        .get(format!("{base}/customers"))
        .header("cookie", mine)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 303);
    assert!(after.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/signin"));

    // The portal's requests are in the admin's history, as API requests are.
    let token: Value = http
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", ADMIN),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    let users: Value = http
        .get(format!("{base}/v1/users"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["userPrincipalName"] == ADMIN)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let history: Value = http
        .get(format!("{base}/v1/users/{admin}/activity"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lines: Vec<(String, String, u64)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["method"].as_str().unwrap().to_string(),
                a["path"].as_str().unwrap().to_string(),
                a["status"].as_u64().unwrap(),
            )
        })
        .collect();
    for line in [
        ("POST".to_string(), "/customers/new".to_string(), 403),
        ("POST".to_string(), "/customers/new".to_string(), 303),
        ("GET".to_string(), "/customers".to_string(), 200),
        ("POST".to_string(), "/signout".to_string(), 303),
    ] {
        assert!(
            lines.contains(&line),
            "{line:?} is not in the history: {lines:?}"
        );
    }
    drop(server);
}

/// The invitation tokens in the outbox's mails to `email`, oldest first.
fn invitation_tokens(portal: &Portal, email: &str) -> Vec<String> {
    let dir = portal.data.path().join("outbox");
    let mut mails: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| {
                    let text = std::fs::read_to_string(e.path()).ok()?;
                    let at = e.metadata().ok()?.modified().ok()?;
                    Some((at, text))
                })
                .collect()
        })
        .unwrap_or_default();
    mails.sort_by_key(|(at, _)| *at);
    mails
        .into_iter()
        .filter(|(_, text)| text.contains(&format!("To: {email}")))
        .filter_map(|(_, text)| {
            let start = text.find("redeem?token=")? + "redeem?token=".len();
            let token: String = text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            Some(token)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partners_own_users_are_managed_in_account_settings() {
    with_browser("account-users", true, |portal, b| async move {
        let token = portal.admin_token().await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        // Una, an Admin agent with a password of her own, signed in through the REST door
        // and through the portal (a session of her own, beside the admin's browser).
        let una = portal.partner_user(&token, json!({
                "userPrincipalName": "una@partner.local", "firstName": "Una", "lastName": "Agent",
                "roles": ["Admin agent"],
                "passwordProfile": {"password": "Tq7#vLm2xR-unaa", "forceChangePassword": false},
            })).await;
        let una_id = una["id"].as_str().unwrap().to_string();
        let una_token: Value = http
            .post(portal.url("/oauth2/token"))
            .form(&[
                ("grant_type", "password"),
                ("username", "una@partner.local"),
                ("password", "Tq7#vLm2xR-unaa"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let una_token = una_token["access_token"].as_str().unwrap().to_string();
        let r = http
            .post(portal.url("/signin"))
            .form(&[
                ("email", "una@partner.local"),
                ("password", "Tq7#vLm2xR-unaa"),
            ])
            .send()
            .await
            .unwrap();
        let una_cookie = r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let una_get = |path: &str| {
            http.get(portal.url(path))
                .header("cookie", una_cookie.clone())
                .send()
        };
        assert_eq!(una_get("/customers").await.unwrap().status(), 200);

        sign_in(&portal, &b, ADMIN, PASSWORD).await;
        b.wait_for_text("Signed in as").await;
        b.click_text("a", "Account settings").await;
        b.wait_for_url("/account/users").await;
        b.wait_for_text("Una Agent").await;
        assert!(b.text().await.contains("Global admin"));
        shot(&b, "account-users").await;
        accessible(&b, "account users").await;
        // The search, as you type (htmx) and in the URL.
        b.fill("#q", "agent").await;
        b.wait_for_url("q=agent").await;
        b.wait_for_text("Una Agent").await;
        let shown = b
            .script("return [...document.querySelectorAll('table.account-users tbody tr')].map(tr => tr.cells[1].innerText.trim());", json!([]))
            .await;
        assert_eq!(shown, json!(["una@partner.local"]));
        b.fill("#q", "nobody-like-this").await;
        b.wait_for_text("No user matches").await;

        // Add existing users: two directory users without access, one role set for both.
        for (upn, name) in [("kim@partner.local", "Kim Existing"), ("lee@partner.local", "Lee Existing")] {
            let u = portal.partner_user(&token, json!({"userPrincipalName": upn, "displayName": name, "roles": ["Sales agent"]})).await;
            let r = http
                .delete(portal.url(&format!("/v1/users/{}", u["id"].as_str().unwrap())))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 204);
        }
        b.goto(&portal.url("/account/users")).await;
        assert!(!b.text().await.contains("Kim Existing"), "no access, not listed");
        b.click_text("a", "Add existing users").await;
        b.wait_for_text("Kim Existing").await;
        b.fill("#q", "existing").await;
        b.click_text("button", "Search").await;
        b.wait_for_url("q=existing").await;
        for cell in b.all("tbody input[name=user]").await {
            b.click(&cell).await;
        }
        b.click(&b.find("#role-billing_admin").await).await;
        shot(&b, "account-add-existing").await;
        accessible(&b, "add existing users").await;
        b.click_text("button", "Add selected").await;
        b.wait_for_text("The selected users were added").await;
        let rows = b
            .script("return [...document.querySelectorAll('table.account-users tbody tr')].filter(tr => tr.innerText.includes('Existing')).map(tr => tr.cells[2].innerText.trim());", json!([]))
            .await;
        assert_eq!(rows, json!(["Billing admin", "Billing admin"]));

        // Create new users: a Global administrator of the directory; the password once.
        b.click_text("a", "Create new users").await;
        b.fill("#first_name", "Grace").await;
        b.fill("#last_name", "Hopper").await;
        b.fill("#username", "grace@partner.local").await;
        b.click(&b.find("#global_admin").await).await;
        b.fill("#recovery_email", "grace@example.org").await;
        b.click(&b.find("#role-admin_agent").await).await;
        shot(&b, "account-user-new").await;
        accessible(&b, "create new users").await;
        b.click_text("button", "Create").await;
        b.wait_for_text("Temporary password").await;
        let grace = passwords_on_page(&b).await;
        assert_eq!(grace[0].0, "grace@partner.local");
        assert_eq!(grace[0].1.len(), 16);
        accessible(&b, "the new user's password").await;

        // Invite two outside users separated by a semicolon.
        b.goto(&portal.url("/account/users/invite")).await;
        b.fill("#emails", "ann@outside.example; bob@outside.example")
            .await;
        b.click(&b.find("#role-helpdesk_agent").await).await;
        accessible(&b, "invite outside users").await;
        b.click_text("button", "Save").await;
        b.wait_for_text("The invitations were sent").await;
        let text = b.text().await;
        assert_eq!(text.matches("Invitation pending").count(), 2, "{text}");
        let first = invitation_tokens(&portal, "bob@outside.example");
        assert_eq!(first.len(), 1);
        assert_eq!(invitation_tokens(&portal, "ann@outside.example").len(), 1);
        // Resend Bob's: the old link is refused, the new one accepted.
        b.click_text("a", "bob@outside.example").await;
        b.wait_for_text("Invitation pending").await;
        accessible(&b, "an invited user").await;
        b.click_text("button", "Resend invitation").await;
        b.wait_for_text("The invitation was sent again").await;
        let both = invitation_tokens(&portal, "bob@outside.example");
        assert_eq!(both.len(), 2);
        assert_ne!(both[0], both[1]);

        // Edit Una to custom permissions: her rights change at her next request.
        b.goto(&portal.url(&format!("/account/users/{una_id}/edit")))
            .await;
        b.click(&b.find("#mode-custom").await).await;
        b.select("#area-customers", "no_access").await;
        b.select("#area-customerUsers", "no_access").await;
        b.select("#area-accountUsers", "read").await;
        shot(&b, "account-user-edit").await;
        accessible(&b, "edit an account user").await;
        b.click_text("button", "Submit").await;
        b.wait_for_text("Your changes were saved").await;
        assert!(b.text().await.contains("Custom permissions"));
        let r = http
            .get(portal.url("/v1/customers"))
            .bearer_auth(&una_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "the same token, the new rights");

        // Una's history shows the portal page she opened.
        b.goto(&portal.url(&format!("/account/users/{una_id}/history")))
            .await;
        b.wait_for_text("/customers").await;
        assert!(b.text().await.contains("/v1/customers"));
        shot(&b, "account-history").await;
        accessible(&b, "history").await;

        // Reset a password: shown once.
        b.goto(&portal.url(&format!("/account/users/{una_id}")))
            .await;
        b.click_text("a", "Reset password").await;
        accessible(&b, "reset an account user's password").await;
        b.click_text("button", "Yes").await;
        b.wait_for_text("Temporary password").await;
        let reset = passwords_on_page(&b).await;
        assert_eq!(reset[0].0, "una@partner.local");
        // The reset ended her portal session.
        assert_eq!(una_get("/").await.unwrap().status(), 303);

        // Remove Grace, whose session is open: it ends.
        let r = http
            .post(portal.url("/changepassword"))
            .form(&[
                ("email", "grace@partner.local"),
                ("current", grace[0].1.as_str()),
                ("new", "Tq7#vLm2x-Compiler"),
                ("confirm", "Tq7#vLm2x-Compiler"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let grace_cookie = r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let grace_home = || {
            http.get(portal.url("/"))
                .header("cookie", grace_cookie.clone())
                .send()
        };
        assert_eq!(grace_home().await.unwrap().status(), 200);
        b.goto(&portal.url("/account/users")).await;
        b.click_text("a", "Grace Hopper").await;
        b.click_text("a", "Remove").await;
        accessible(&b, "remove").await;
        b.click_text("button", "Remove").await;
        b.wait_for_text("The user's access was removed").await;
        assert!(!b.text().await.contains("Grace Hopper"));
        assert_eq!(
            grace_home().await.unwrap().status(),
            303,
            "her session ended"
        );

        // The audit log finds these changes by date and operation, and downloads them.
        b.click_text("a", "Audit log").await;
        b.wait_for_text("create_partner_user").await;
        shot(&b, "audit").await;
        accessible(&b, "audit log").await;
        b.select("#operation", "remove_partner_user_access").await;
        b.click_text("button", "Show").await;
        b.wait_for_url("operation=remove_partner_user_access").await;
        let rows = b
            .script("return [...document.querySelectorAll('table.audit tbody tr')].map(tr => tr.cells[1].innerText.trim());", json!([]))
            .await;
        // Grace's, and Kim's and Lee's before they were added back.
        assert_eq!(
            rows,
            json!(["remove_partner_user_access", "remove_partner_user_access", "remove_partner_user_access"])
        );
        let download = b.attribute(&b.by_text("a", "Download").await, "href").await.unwrap();
        let csv = http
            .get(portal.url(&download))
            .header("cookie", b.cookies().await.as_array().unwrap().iter().find(|c| c["name"] == "roster_session").map(|c| format!("roster_session={}", c["value"].as_str().unwrap())).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(csv.status(), 200);
        let csv = csv.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4, "a header and the three records: {csv}");
        assert!(
            lines[1..]
                .iter()
                .all(|l| l.contains("\"remove_partner_user_access\",\"\",\"admin@partner.local\"")),
            "{csv}"
        );
        assert!(!csv.contains("create_partner_user"), "the download keeps the search: {csv}");
        // A date range without the changes finds none.
        b.goto(&portal.url("/account/audit?from=2020-01-01&to=2020-01-31")).await;
        b.wait_for_text("No records for this search").await;
        b.goto(&portal.url("/account/audit?from=2020-02-01&to=2020-01-01")).await;
        b.wait_for_text("From must be on or before To").await;

        // Applications: the secret once, reset, delete.
        b.click_text("a", "Applications").await;
        b.fill("#name", "Billing sync").await;
        b.click_text("button", "Register application").await;
        b.wait_for_text("shown only this once").await;
        let secret = b.text_of(&b.find("#client-secret").await).await;
        assert_eq!(secret.trim().len(), 43);
        shot(&b, "applications").await;
        accessible(&b, "applications").await;
        b.click_text("button", "Reset secret").await;
        b.wait_for_text("shown only this once").await;
        let second = b.text_of(&b.find("#client-secret").await).await;
        assert_ne!(second, secret);
        b.goto(&portal.url("/account/applications")).await;
        assert!(!b.source().await.contains(second.trim()), "the secret on a later page");
        b.click_text("button", "Delete").await;
        b.accept_alert().await;
        b.wait_for_text("The application was deleted").await;
        assert!(!b.text().await.contains("Billing sync"));

        // Bob's old link is refused; the new one lets him in.
        b.click_text("button", "Sign out").await;
        b.wait_for_text("You signed out").await;
        b.goto(&portal.url(&format!("/invitations/redeem?token={}", both[0])))
            .await;
        b.fill("#password", "Tq7#vLm2x-Outsider").await;
        b.fill("#confirm", "Tq7#vLm2x-Outsider").await;
        b.click_text("button", "Accept and sign in").await;
        b.wait_for_text("was replaced by a newer one").await;
        accessible(&b, "a refused invitation link").await;
        b.goto(&portal.url(&format!("/invitations/redeem?token={}", both[1])))
            .await;
        shot(&b, "redeem").await;
        accessible(&b, "the invitation link").await;
        b.fill("#password", "Tq7#vLm2x-Outsider").await;
        b.fill("#confirm", "Tq7#vLm2x-Outsider").await;
        b.click_text("button", "Accept and sign in").await;
        b.wait_for_text("Signed in as").await;
        assert!(b.text().await.contains("bob"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_management_admin_and_a_sales_agent_see_only_their_pages() {
    with_browser("account-roles", true, |portal, b| async move {
        let token = portal.admin_token().await;
        for (upn, role) in [("uma@partner.local", "User management admin"), ("sal@partner.local", "Sales agent")] {
            portal.partner_user(&token, json!({
                    "userPrincipalName": upn, "displayName": role, "roles": [role],
                    "passwordProfile": {"password": "Tq7#vLm2xR-staff", "forceChangePassword": false},
                })).await;
        }
        sign_in(&portal, &b, "uma@partner.local", "Tq7#vLm2xR-staff").await;
        b.wait_for_text("Signed in as").await;
        b.click_text("a", "Account settings").await;
        b.wait_for_url("/account/users").await;
        let text = b.text().await;
        assert!(text.contains("Invite outside users"), "{text}");
        assert!(!text.contains("Create new users"), "{text}");
        b.goto(&portal.url("/account/users/invite")).await;
        assert!(!b.exists("#role-global_admin").await, "no Global admin role to grant");
        assert!(b.exists("#role-admin_agent").await);
        b.goto(&portal.url("/account/users/new")).await;
        b.wait_for_text("Only a Global admin creates new users").await;
        b.click_text("a", "Back to the dashboard").await;
        b.click_text("button", "Sign out").await;
        b.wait_for_text("You signed out").await;

        sign_in(&portal, &b, "sal@partner.local", "Tq7#vLm2xR-staff").await;
        b.wait_for_text("Signed in as").await;
        b.click_text("a", "Account settings").await;
        b.wait_for_url("/account").await;
        assert!(!b.url().await.contains("/account/users"));
        assert!(!b.exists("a[href='/account/users']").await, "{}", b.text().await);
        b.wait_for_text("does not give you access to your account's users").await;
        accessible(&b, "account settings of a Sales agent").await;
        b.goto(&portal.url("/account/users")).await;
        b.wait_for_text("does not have the rights").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegated_access_through_a_security_group() {
    with_browser("delegated", true, |portal, b| async move {
        let token = portal.admin_token().await;
        portal.partner_user(&token, json!({
                "userPrincipalName": "sam@partner.local", "firstName": "Sam", "lastName": "Seller",
                "roles": ["Sales agent"],
                "passwordProfile": {"password": "Tq7#vLm2xR-sell", "forceChangePassword": false},
            })).await;
        let cid = portal.customer(&token, "wingtip.onmicrosoft.com", "Wingtip").await;
        sign_in(&portal, &b, ADMIN, PASSWORD).await;
        b.wait_for_text("Signed in as").await;

        // Its own "Account": legacy delegated access on, and who may turn it off.
        b.goto(&portal.url(&format!("/customers/{cid}/account"))).await;
        b.wait_for_text("Allow delegated access").await;
        accessible(&b, "a customer's account").await;
        b.click_text("button", "Turn off delegated access").await;
        b.wait_for_text("Delegated access is no longer allowed").await;

        // A security group with Sam in it.
        b.goto(&portal.url("/account/groups")).await;
        b.fill("#name", "Wingtip helpers").await;
        b.click_text("button", "Create group").await;
        b.wait_for_text("The group was created").await;
        let add = b.find("select[name=user]").await;
        let id = b.attribute(&add, "id").await.unwrap();
        let sam = b
            .script(
                "return [...document.querySelectorAll('#' + arguments[0] + ' option')].find(o => o.innerText.includes('sam@')).value;",
                json!([id]),
            )
            .await;
        b.select(&format!("#{id}"), sam.as_str().unwrap()).await;
        b.click_text("button", "Add").await;
        b.wait_for_text("The member was added").await;
        assert!(b.text().await.contains("Sam Seller"));
        shot(&b, "groups").await;
        accessible(&b, "security groups").await;

        // Request a relationship, approve it, assign the group with one of its roles.
        b.goto(&portal.url(&format!("/customers/{cid}/delegatedaccess"))).await;
        b.wait_for_text("No relationships with this customer yet").await;
        b.fill("#rel-name", "Wingtip support").await;
        b.fill("#rel-duration", "365").await;
        b.click(&b.find("#rel-role-fe930be7-5e62-47db-91af-98c3a49a38b1").await).await;
        b.click(&b.find("#rel-role-729827e3-9c14-49f7-bb1b-9608f156bbb8").await).await;
        b.click_text("button", "Request relationship").await;
        b.wait_for_text("The relationship was requested").await;
        b.click_text("button", "Approve").await;
        b.wait_for_text("The relationship is active").await;
        assert!(b.text().await.contains("Active"));
        let user_admin = b.find("input[id$='-fe930be7-5e62-47db-91af-98c3a49a38b1'][name=role]").await;
        b.click(&user_admin).await;
        b.click_text("button", "Assign security group").await;
        b.wait_for_text("The security group was assigned").await;
        assert!(b.text().await.contains("Wingtip helpers: User Administrator"));
        shot(&b, "delegated").await;
        accessible(&b, "delegated access").await;

        // Sam acts through it: a Sales agent who may now add users to Wingtip.
        b.click_text("button", "Sign out").await;
        b.wait_for_text("You signed out").await;
        sign_in(&portal, &b, "sam@partner.local", "Tq7#vLm2xR-sell").await;
        b.wait_for_text("Signed in as").await;
        b.goto(&portal.url(&format!("/customers/{cid}/users"))).await;
        b.click_text("a", "Add user").await;
        b.fill("#display_name-0", "Through Group").await;
        b.fill("#alias-0", "through").await;
        b.click_text("button", "Complete").await;
        b.wait_for_text("The user was added").await;

        // Terminated, the access is gone at Sam's next request.
        b.click_text("button", "Sign out").await;
        b.wait_for_text("You signed out").await;
        sign_in(&portal, &b, ADMIN, PASSWORD).await;
        b.wait_for_text("Signed in as").await;
        b.goto(&portal.url(&format!("/customers/{cid}/delegatedaccess"))).await;
        b.click_text("button", "Terminate").await;
        b.accept_alert().await;
        b.wait_for_text("The relationship was terminated").await;
        b.click_text("button", "Sign out").await;
        b.wait_for_text("You signed out").await;
        sign_in(&portal, &b, "sam@partner.local", "Tq7#vLm2xR-sell").await;
        b.wait_for_text("Signed in as").await;
        // (A Sales agent still sees the customer, so it is refused rather than hidden.)
        b.goto(&portal.url(&format!("/customers/{cid}/users/new"))).await;
        b.wait_for_text("does not have the rights").await;
    })
    .await;
}
