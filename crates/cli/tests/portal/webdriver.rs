//! A small W3C WebDriver client over reqwest, for the portal's browser tests: Debian's
//! chromium driven by its chromedriver, headless. Only what the tests use.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The browser and its driver, where Debian's packages put them.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Driver {
    child: Child,
    url: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser session.
pub struct Browser {
    http: reqwest::Client,
    session: String,
}

#[derive(Clone, Debug)]
pub struct Element(String);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9515)
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it is ready.
    pub async fn start() -> Result<Self, String> {
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {CHROMEDRIVER}: {e}"))?;
        let driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .map_err(|e| e.to_string())?,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = driver
                .http
                .get(format!("{}/status", driver.url))
                .send()
                .await
            {
                if let Ok(v) = r.json::<Value>().await {
                    if v["value"]["ready"] == json!(true) {
                        return Ok(driver);
                    }
                }
            }
            if Instant::now() > deadline {
                return Err("chromedriver did not get ready within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A new headless browser; `javascript: false` turns scripts off for the whole session.
    pub async fn browser(&self, javascript: bool) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir").keep();
        let mut options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--lang=en-US", format!("--user-data-dir={}", profile.display()),
            ],
        });
        if !javascript {
            options["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
        }
        let body = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
        }}});
        let r: Value = self
            .http
            .post(format!("{}/session", self.url))
            .json(&body)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("new session answer");
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_string();
        Browser {
            http: self.http.clone(),
            session: format!("{}/session/{id}", self.url),
        }
    }
}

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.session));
        if let Some(b) = body {
            req = req.json(&b);
        } else if method == reqwest::Method::POST {
            req = req.json(&json!({}));
        }
        let r: Value = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        if let Some(err) = r["value"]["error"].as_str() {
            panic!("{method} {path}: {err}: {}", r["value"]["message"]);
        }
        r["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.script("return document.body.innerText;", json!([]))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn find_now(&self, css: &str) -> Option<Element> {
        let r: Value = self
            .http
            .post(format!("{}/element", self.session))
            .json(&json!({"using": "css selector", "value": css}))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        r["value"][ELEMENT]
            .as_str()
            .map(|id| Element(id.to_string()))
    }

    /// The first element matching `css`, waited for up to 10 s (htmx swaps in place).
    pub async fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(e) = self.find_now(css).await {
                return e;
            }
            if Instant::now() > deadline {
                panic!("no element {css} on {}", self.url().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.find_now(css).await.is_some()
    }

    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.call(
            reqwest::Method::POST,
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .await
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e[ELEMENT].as_str().map(|id| Element(id.to_string())))
                .collect()
        })
        .unwrap_or_default()
    }

    /// The element a person reaches by its visible text (a link or a button).
    pub async fn by_text(&self, tag: &str, text: &str) -> Element {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            for e in self.all(tag).await {
                if self.text_of(&e).await.trim() == text {
                    return e;
                }
            }
            if Instant::now() > deadline {
                panic!("no {tag} \"{text}\" on {}", self.url().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, e: &Element) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/click", e.0),
            None,
        )
        .await;
    }

    pub async fn click_text(&self, tag: &str, text: &str) {
        let e = self.by_text(tag, text).await;
        self.click(&e).await;
    }

    /// Types into a field (after clearing it).
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/clear", e.0),
            None,
        )
        .await;
        self.type_into(&e, text).await;
    }

    pub async fn type_into(&self, e: &Element, text: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/value", e.0),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Chooses the option with this value in a `<select>`.
    pub async fn select(&self, css: &str, value: &str) {
        let option = self.find(&format!("{css} option[value=\"{value}\"]")).await;
        self.click(&option).await;
    }

    pub async fn text_of(&self, e: &Element) -> String {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{}/text", e.0),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    pub async fn attribute(&self, e: &Element, name: &str) -> Option<String> {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{}/attribute/{name}", e.0),
            None,
        )
        .await
        .as_str()
        .map(str::to_string)
    }

    /// The element that has the keyboard focus.
    pub async fn active(&self) -> Element {
        let v = self
            .call(reqwest::Method::GET, "/element/active", None)
            .await;
        Element(v[ELEMENT].as_str().unwrap_or_default().to_string())
    }

    /// Presses keys as a keyboard would, wherever the focus is (`\u{E004}` is Tab,
    /// `\u{E007}` Enter, `\u{E00D}` Space).
    pub async fn keys(&self, keys: &str) {
        let mut actions = Vec::new();
        for c in keys.chars() {
            actions.push(json!({"type": "keyDown", "value": c.to_string()}));
            actions.push(json!({"type": "keyUp", "value": c.to_string()}));
        }
        self.call(
            reqwest::Method::POST,
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        )
        .await;
        self.call(reqwest::Method::DELETE, "/actions", None).await;
    }

    /// Runs a script in the page; a promise it returns is waited for.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Accepts the page's `confirm()` dialog, waiting up to 10 s for it.
    pub async fn accept_alert(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r: Value = self
                .http
                .post(format!("{}/alert/accept", self.session))
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if r["value"].get("error").is_none() {
                return;
            }
            assert!(Instant::now() < deadline, "no dialog to accept: {r}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn cookies(&self) -> Value {
        self.call(reqwest::Method::GET, "/cookie", None).await
    }

    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let b64 = self
            .call(reqwest::Method::GET, "/screenshot", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string();
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap_or_default()
    }

    /// Waits until the page's URL contains `part`.
    pub async fn wait_for_url(&self, part: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = self.url().await;
            if url.contains(part) {
                return;
            }
            if Instant::now() > deadline {
                panic!("the page stayed at {url}, not {part}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page's text contains `part`.
    pub async fn wait_for_text(&self, part: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.text().await;
            if text.contains(part) {
                return;
            }
            if Instant::now() > deadline {
                panic!("\"{part}\" never showed on {}:\n{text}", self.url().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn quit(self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}
