//! SMTP delivery of the outbox, against a small SMTP server written here (enough of RFC 5321:
//! greeting, EHLO, MAIL, RCPT, DATA, QUIT) that records what it receives. Delivery does not
//! depend on the database, so these run on SQLite only. TLS itself is lettre's (rustls); what
//! is tested here is that Roster never lets credentials or mail go out without it.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use reqwest::StatusCode;
use roster_service::mail::Sender;
use roster_service::smtp::{Retry, SmtpServer};
use roster_service::{HashCost, Settings};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::common::*;

/// One message the server accepted.
#[derive(Clone, Debug)]
struct Received {
    from: String,
    to: Vec<String>,
    data: String,
}

#[derive(Default)]
struct Recorded {
    connections: usize,
    /// Every line a client sent outside DATA.
    commands: Vec<String>,
    received: Vec<Received>,
    /// How many RCPT TO were answered 451.
    deferred: usize,
}

#[derive(Default)]
struct Behaviour {
    /// Answer this many RCPT TO with 451 (try again later) first.
    defer_rcpts: usize,
    /// Recipients refused for good (550).
    reject: HashSet<String>,
}

struct FakeSmtp {
    port: u16,
    recorded: Arc<Mutex<Recorded>>,
}

impl FakeSmtp {
    async fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let recorded = Arc::new(Mutex::new(Recorded::default()));
        let behaviour = Arc::new(Mutex::new(behaviour));
        let r = recorded.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                r.lock().unwrap().connections += 1;
                tokio::spawn(converse(stream, r.clone(), behaviour.clone()));
            }
        });
        Self { port, recorded }
    }

    fn received(&self) -> Vec<Received> {
        self.recorded.lock().unwrap().received.clone()
    }
    fn commands(&self) -> Vec<String> {
        self.recorded.lock().unwrap().commands.clone()
    }
    fn deferred(&self) -> usize {
        self.recorded.lock().unwrap().deferred
    }
    fn connections(&self) -> usize {
        self.recorded.lock().unwrap().connections
    }
}

/// The envelope address of `MAIL FROM:<a@b>` or `RCPT TO:<a@b>`.
fn path_of(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line.rfind('>').unwrap_or(line.len());
    line[start..end].to_string()
}

async fn converse(
    stream: tokio::net::TcpStream,
    recorded: Arc<Mutex<Recorded>>,
    behaviour: Arc<Mutex<Behaviour>>,
) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let _ = write.write_all(b"220 fake.test ESMTP\r\n").await;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_string();
        recorded.lock().unwrap().commands.push(command.clone());
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: String = match verb.as_str() {
            // No STARTTLS offered: a client that requires it must give up here.
            "EHLO" => "250-fake.test\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n".into(),
            "HELO" | "NOOP" => "250 OK\r\n".into(),
            "RSET" => {
                (from, to) = (String::new(), Vec::new());
                "250 OK\r\n".into()
            }
            "MAIL" => {
                from = path_of(&command);
                "250 OK\r\n".into()
            }
            "RCPT" => {
                let rcpt = path_of(&command);
                let mut b = behaviour.lock().unwrap();
                if b.defer_rcpts > 0 {
                    b.defer_rcpts -= 1;
                    recorded.lock().unwrap().deferred += 1;
                    "451 4.3.0 try again later\r\n".into()
                } else if b.reject.contains(&rcpt) {
                    "550 5.1.1 no such mailbox\r\n".into()
                } else {
                    to.push(rcpt);
                    "250 OK\r\n".into()
                }
            }
            "DATA" => {
                let _ = write.write_all(b"354 go ahead\r\n").await;
                let mut data = String::new();
                loop {
                    line.clear();
                    if read.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let text = String::from_utf8_lossy(&line).to_string();
                    if text == ".\r\n" {
                        break;
                    }
                    // Undo the dot-stuffing of RFC 5321 §4.5.2.
                    data.push_str(text.strip_prefix('.').unwrap_or(&text));
                }
                recorded.lock().unwrap().received.push(Received {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data,
                });
                "250 OK queued\r\n".into()
            }
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            "STARTTLS" => "454 4.7.0 TLS not available\r\n".into(),
            _ => "502 5.5.2 not implemented\r\n".into(),
        };
        if write.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Waits (up to 10 s) until `done` holds.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(10);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

/// The `.eml` files directly in `dir`, by name.
fn emls(dir: PathBuf) -> Vec<PathBuf> {
    let mut found: Vec<_> = match std::fs::read_dir(dir) {
        Ok(d) => d
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect(),
        Err(_) => Vec::new(),
    };
    found.sort();
    found
}

fn waiting(app: &TestApp) -> Vec<PathBuf> {
    emls(app.dir.path().join("outbox"))
}
fn sent(app: &TestApp) -> Vec<PathBuf> {
    emls(app.dir.path().join("outbox").join("sent"))
}

async fn app_sending_to(url: &str, retry: Retry) -> TestApp {
    TestApp::start_with(Builder {
        settings: Settings {
            hash_cost: HashCost::TEST,
            smtp: Some(SmtpServer::parse(url).expect("a good smtp_url")),
            mail_from: Sender::parse("Contoso IT <it@contoso.example>").unwrap(),
            mail_retry: retry,
            ..Settings::default()
        },
        ..Builder::default()
    })
    .await
}

const QUICK: Retry = Retry {
    first: StdDuration::from_millis(200),
    max: StdDuration::from_millis(800),
};

async fn invite(app: &TestApp, email: &str) {
    let (s, body) = app
        .post(
            "/v1/invitations",
            json!({"emails": email, "roles": ["Admin agent"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn an_invitation_goes_out_at_once_and_moves_to_sent() {
    let smtp = FakeSmtp::start(Behaviour::default()).await;
    let app = app_sending_to(
        &format!("smtp://127.0.0.1:{}?tls=none", smtp.port),
        Retry::default(),
    )
    .await;
    invite(&app, "ada@example.com").await;
    // Woken by the invitation, not by a poll (which would take a minute).
    eventually("the mail is delivered", || smtp.received().len() == 1).await;
    let got = smtp.received().remove(0);
    assert_eq!(got.from, "it@contoso.example");
    assert_eq!(got.to, ["ada@example.com"]);
    assert!(
        got.data
            .starts_with("From: Contoso IT <it@contoso.example>\r\n"),
        "{}",
        got.data
    );
    assert!(
        got.data.contains("\r\nTo: ada@example.com\r\n"),
        "{}",
        got.data
    );
    let link = "http://127.0.0.1:8080/invitations/redeem?token=";
    let start = got.data.find(link).expect("the redeem link") + link.len();
    let token: String = got.data[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    // The outbox is empty; the file is in outbox/sent, as it was sent.
    eventually("the file moves to outbox/sent", || {
        waiting(&app).is_empty() && sent(&app).len() == 1
    })
    .await;
    assert_eq!(std::fs::read_to_string(&sent(&app)[0]).unwrap(), got.data);
    // The link that left works.
    let (s, body) = into_parts(
        app.client
            .post(app.url("/v1/invitations/redeem"))
            .json(&json!({"token": token, "password": "Tq7#vLm2xR-guest"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // A second invitation goes out too.
    invite(&app, "grace@example.com").await;
    eventually("the second mail is delivered", || {
        smtp.received().len() == 2
    })
    .await;
    assert_eq!(smtp.received()[1].to, ["grace@example.com"]);
    eventually("both are in outbox/sent", || sent(&app).len() == 2).await;
}

#[tokio::test]
async fn a_deferred_message_stays_in_the_outbox_and_is_retried() {
    let smtp = FakeSmtp::start(Behaviour {
        defer_rcpts: 2,
        ..Behaviour::default()
    })
    .await;
    let app = app_sending_to(&format!("smtp://127.0.0.1:{}?tls=none", smtp.port), QUICK).await;
    invite(&app, "ada@example.com").await;
    eventually("the server defers the message", || smtp.deferred() >= 1).await;
    // Deferred twice: it cannot have left before the third try, at least 600 ms later.
    assert_eq!(waiting(&app).len(), 1);
    assert!(sent(&app).is_empty());
    assert!(smtp.received().is_empty());
    eventually("the retry delivers it", || smtp.received().len() == 1).await;
    assert_eq!(smtp.deferred(), 2);
    assert_eq!(smtp.received()[0].to, ["ada@example.com"]);
    eventually("the file moves to outbox/sent", || {
        waiting(&app).is_empty() && sent(&app).len() == 1
    })
    .await;
    // Nothing is sent twice.
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 1);
}

#[tokio::test]
async fn a_refused_message_does_not_hold_up_the_others() {
    let smtp = FakeSmtp::start(Behaviour {
        reject: HashSet::from(["nobody@example.com".to_string()]),
        ..Behaviour::default()
    })
    .await;
    let app = app_sending_to(&format!("smtp://127.0.0.1:{}?tls=none", smtp.port), QUICK).await;
    invite(&app, "nobody@example.com").await;
    invite(&app, "ada@example.com").await;
    eventually("the other mail is delivered", || smtp.received().len() == 1).await;
    assert_eq!(smtp.received()[0].to, ["ada@example.com"]);
    // The refused one stays in the outbox and is tried again.
    let rcpts_to_nobody = || {
        smtp.commands()
            .iter()
            .filter(|c| c.contains("<nobody@example.com>"))
            .count()
    };
    eventually("the refused mail is tried again", || rcpts_to_nobody() >= 2).await;
    let left = waiting(&app);
    assert_eq!(left.len(), 1);
    assert!(std::fs::read_to_string(&left[0])
        .unwrap()
        .contains("\r\nTo: nobody@example.com\r\n"));
    eventually("the delivered one is in outbox/sent", || {
        sent(&app).len() == 1
    })
    .await;
}

#[tokio::test]
async fn credentials_and_mail_never_go_out_without_tls() {
    for scheme in ["smtp", "smtps"] {
        // STARTTLS is required of a server that does not offer it; smtps:// meets a server
        // that speaks plain text. Either way the conversation must end before AUTH or MAIL.
        let smtp = FakeSmtp::start(Behaviour::default()).await;
        let app = app_sending_to(
            &format!("{scheme}://mailer:hunter2@127.0.0.1:{}", smtp.port),
            QUICK,
        )
        .await;
        invite(&app, "ada@example.com").await;
        // A second connection means the first try is over.
        eventually("a retry", || smtp.connections() >= 2).await;
        let commands = smtp.commands();
        assert!(
            !commands.iter().any(|c| {
                let c = c.to_ascii_uppercase();
                c.starts_with("AUTH") || c.starts_with("MAIL")
            }),
            "{scheme}: {commands:?}"
        );
        assert!(smtp.received().is_empty());
        assert_eq!(waiting(&app).len(), 1, "{scheme}");
        assert!(sent(&app).is_empty());
    }
}
