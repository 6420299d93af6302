//! SMTP delivery of the outbox. Every message is first written into `<data-dir>/outbox` (see
//! [`crate::mail`]); when `smtp_url` is configured, one background task per server sends each
//! `.eml` file found there and then moves it into `outbox/sent/`, so that the operator can see
//! what left. A failure leaves the file where it is and is retried with capped exponential
//! backoff. Delivery is at least once: a crash between the server's acceptance and the move
//! sends that message again on the next start.
//!
//! Messages carry secret links: neither their bodies nor the SMTP password are ever logged.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use percent_encoding::percent_decode_str;
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

/// Where delivered messages go, inside the outbox.
pub const SENT_DIR: &str = "sent";
/// How long one SMTP conversation may take.
const CONVERSATION_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the outbox is looked at without being woken (files put there by hand, or whose
/// wake-up was missed).
const IDLE_LOOK: Duration = Duration::from_secs(60);

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// `smtps://`: TLS from the first byte (port 465 by default).
    ImplicitTls,
    /// `smtp://`: STARTTLS, required before anything else is sent (port 587 by default).
    StartTls,
    /// `smtp://…?tls=none`: no encryption and no credentials, for a relay on the same machine
    /// or a test (port 25 by default).
    Plain,
}

/// The SMTP server of a parsed `smtp_url`. Its password never shows in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpServer {
    host: String,
    port: u16,
    security: Security,
    /// User name and password, percent-decoded.
    credentials: Option<(String, String)>,
}

impl SmtpServer {
    /// Parses `smtps://user:password@host[:port]` (implicit TLS),
    /// `smtp://user:password@host[:port]` (STARTTLS, required) or
    /// `smtp://host[:port]?tls=none` (no encryption, no credentials). The error never repeats
    /// the URL, which may hold a password.
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = url::Url::parse(text.trim()).map_err(|e| {
            format!(
                "smtp_url is not a URL ({e}): write it like smtps://user:password@mail.example.com"
            )
        })?;
        let mut tls = None;
        for (key, value) in url.query_pairs() {
            if key != "tls" {
                return Err(format!(
                    "smtp_url has an unknown parameter '{key}': the only one is tls (tls=none)"
                ));
            }
            if tls.replace(value.into_owned()).is_some() {
                return Err("smtp_url gives tls twice".into());
            }
        }
        let security = match (url.scheme(), tls.as_deref()) {
            ("smtps", None) => Security::ImplicitTls,
            ("smtp", None | Some("required")) => Security::StartTls,
            ("smtp", Some("none")) => Security::Plain,
            ("smtps", Some(v)) => {
                return Err(format!("smtp_url: smtps:// always uses TLS; drop ?tls={v}"))
            }
            ("smtp", Some(v)) => {
                return Err(format!(
                    "smtp_url: tls={v} is not known. Leave it out (STARTTLS, required), or give \
                     tls=none (no encryption, for a relay on this machine only)"
                ))
            }
            (other, _) => {
                return Err(format!(
                    "smtp_url must start with smtps:// (TLS) or smtp:// (STARTTLS), not {other}://"
                ))
            }
        };
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_ascii_lowercase(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            _ => return Err("smtp_url names no server, as in smtps://mail.example.com".into()),
        };
        if !matches!(url.path(), "" | "/") || url.fragment().is_some() {
            return Err(format!(
                "smtp_url has a path or fragment after {host}: give only the server, port and credentials"
            ));
        }
        let port = match url.port() {
            Some(0) => return Err("smtp_url: port 0 is not a port".into()),
            Some(p) => p,
            None => match security {
                Security::ImplicitTls => 465,
                Security::StartTls => 587,
                Security::Plain => 25,
            },
        };
        let decode = |s: &str, what: &str| {
            percent_decode_str(s)
                .decode_utf8()
                .map(|d| d.into_owned())
                .map_err(|_| format!("smtp_url: the {what} is not UTF-8 once percent-decoded"))
        };
        let user = decode(url.username(), "user name")?;
        let password = url.password().map(|p| decode(p, "password")).transpose()?;
        let credentials = match (user.is_empty(), password) {
            (true, None) => None,
            (false, Some(p)) if !p.is_empty() => Some((user, p)),
            (false, _) => {
                return Err("smtp_url has a user name but no password: give user:password@".into())
            }
            (true, Some(_)) => {
                return Err("smtp_url has a password but no user name: give user:password@".into())
            }
        };
        if credentials.is_some() && security == Security::Plain {
            return Err(
                "smtp_url: tls=none would send the password in the clear. Use smtps:// or \
                 STARTTLS (smtp:// without tls=none), or a relay on this machine that needs no \
                 password"
                    .into(),
            );
        }
        let server = Self {
            host,
            port,
            security,
            credentials,
        };
        server.transport()?;
        Ok(server)
    }

    pub fn security(&self) -> Security {
        self.security
    }

    /// The transport; it connects only when a message is sent.
    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let tls_parameters = || {
            TlsParameters::new(self.host.clone())
                .map_err(|e| format!("smtp_url: cannot set up TLS for {}: {e}", self.host))
        };
        let tls = match self.security {
            Security::ImplicitTls => Tls::Wrapper(tls_parameters()?),
            Security::StartTls => Tls::Required(tls_parameters()?),
            Security::Plain => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.port)
            .tls(tls)
            .timeout(Some(CONVERSATION_TIMEOUT));
        if let Some((user, password)) = &self.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(builder.build())
    }
}

/// The URL without its password: `smtps://user:<redacted>@host:465`.
impl std::fmt::Display for SmtpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = match self.security {
            Security::ImplicitTls => "smtps",
            Security::StartTls | Security::Plain => "smtp",
        };
        write!(f, "{scheme}://")?;
        if let Some((user, _)) = &self.credentials {
            write!(f, "{user}:<redacted>@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)?;
        } else {
            write!(f, "{}:{}", self.host, self.port)?;
        }
        if self.security == Security::Plain {
            f.write_str("?tls=none")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for SmtpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpServer({self})")
    }
}

/// When a failed message is tried again: after `first`, doubling with each failure, at most
/// `max` apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    pub first: Duration,
    pub max: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(5),
            max: Duration::from_secs(10 * 60),
        }
    }
}

impl Retry {
    /// The wait after the `failures`-th failure in a row (1 or more).
    pub fn after(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        self.first.saturating_mul(1 << doublings).min(self.max)
    }
}

/// The service's handle on its delivery task: waking it, and ending it when the service is
/// dropped (the stop sender goes with it).
#[derive(Debug)]
pub(crate) struct Courier {
    wake: Arc<Notify>,
    _stop: oneshot::Sender<()>,
}

impl Courier {
    /// Starts delivering `outbox` to `server`.
    pub(crate) fn spawn(
        outbox: PathBuf,
        server: &SmtpServer,
        from: lettre::Address,
        retry: Retry,
    ) -> Result<Self, String> {
        let wake = Arc::new(Notify::new());
        let (stop_tx, stop_rx) = oneshot::channel();
        let deliverer = Deliverer {
            transport: server.transport()?,
            outbox,
            from,
            retry,
            failures: HashMap::new(),
            delivered: HashSet::new(),
            paused_until: None,
        };
        tracing::info!(server = %server, outbox = %deliverer.outbox.display(), "mail goes out over SMTP");
        tokio::spawn(deliverer.run(wake.clone(), stop_rx));
        Ok(Self {
            wake,
            _stop: stop_tx,
        })
    }

    /// A message was written: deliver it now (a wake-up during a delivery pass is kept and
    /// starts another pass).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }
}

struct Failure {
    count: u32,
    due: Instant,
}

/// Why a message did not go out.
struct NotSent {
    error: String,
    /// The server (or the way to it) is unwell rather than this message refused: stop the pass
    /// and wait before trying any message.
    server_trouble: bool,
}

struct Deliverer {
    outbox: PathBuf,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::Address,
    retry: Retry,
    /// Messages that failed, by file name.
    failures: HashMap<String, Failure>,
    /// Messages the server accepted that could not be moved into `sent/`: never sent again.
    delivered: HashSet<String>,
    /// No message is tried before this (the server was unwell).
    paused_until: Option<Instant>,
}

impl Deliverer {
    async fn run(mut self, wake: Arc<Notify>, mut stop: oneshot::Receiver<()>) {
        loop {
            let due = self.pass().await;
            let until = due.unwrap_or_else(|| Instant::now() + IDLE_LOOK);
            tokio::select! {
                _ = &mut stop => return,
                () = wake.notified() => {}
                () = tokio::time::sleep_until(until) => {}
            }
        }
    }

    /// Tries every message that is due, oldest first; returns when the next retry is due.
    async fn pass(&mut self) -> Option<Instant> {
        if let Some(until) = self.paused_until {
            if until > Instant::now() {
                return Some(until);
            }
            self.paused_until = None;
        }
        let names = match waiting(&self.outbox).await {
            Ok(names) => names,
            Err(e) => {
                tracing::warn!(outbox = %self.outbox.display(), error = %e, "cannot read the outbox");
                let until = Instant::now() + self.retry.first;
                self.paused_until = Some(until);
                return Some(until);
            }
        };
        // Forget files that are gone (removed by hand).
        self.failures.retain(|name, _| names.contains(name));
        self.delivered.retain(|name| names.contains(name));
        for name in &names {
            if self.delivered.contains(name) {
                self.move_to_sent(name).await;
                continue;
            }
            if self
                .failures
                .get(name)
                .is_some_and(|f| f.due > Instant::now())
            {
                continue;
            }
            match self.deliver(name).await {
                Ok(Some(to)) => {
                    self.failures.remove(name);
                    tracing::info!(file = %name, %to, "mail delivered");
                    self.delivered.insert(name.clone());
                    self.move_to_sent(name).await;
                }
                Ok(None) => {
                    self.failures.remove(name);
                }
                Err(not_sent) => {
                    let failure = self.failures.entry(name.clone()).or_insert(Failure {
                        count: 0,
                        due: Instant::now(),
                    });
                    failure.count += 1;
                    let wait = self.retry.after(failure.count);
                    failure.due = Instant::now() + wait;
                    tracing::warn!(
                        file = %name,
                        attempt = failure.count,
                        retry_in_secs = wait.as_secs_f64(),
                        error = %not_sent.error,
                        "could not deliver a mail; it stays in the outbox"
                    );
                    if not_sent.server_trouble {
                        self.paused_until = Some(failure.due);
                        break;
                    }
                }
            }
        }
        self.paused_until
            .into_iter()
            .chain(self.failures.values().map(|f| f.due))
            .min()
    }

    /// Sends one file; `Ok(None)` when it is gone meanwhile.
    async fn deliver(&self, name: &str) -> Result<Option<lettre::Address>, NotSent> {
        let local = |error: String| NotSent {
            error,
            server_trouble: false,
        };
        let eml = match tokio::fs::read(self.outbox.join(name)).await {
            Ok(eml) => eml,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(local(format!("cannot read the file: {e}"))),
        };
        let to = recipient(&eml)
            .ok_or_else(|| local("the file has no To: header with one valid address".into()))?;
        let envelope = Envelope::new(Some(self.from.clone()), vec![to.clone()])
            .map_err(|e| local(format!("no envelope: {e}")))?;
        match self.transport.send_raw(&envelope, &wire_form(&eml)).await {
            Ok(_) => Ok(Some(to)),
            // A refusal of this message (5xx) or one lettre makes itself (such as 8-bit text
            // to a server without 8BITMIME) must not hold up the others; anything else (no
            // connection, TLS, time-out, 4xx) is the server's and pauses delivery.
            Err(e) => Err(NotSent {
                server_trouble: !(e.is_permanent() || e.is_client()),
                error: e.to_string(),
            }),
        }
    }

    /// Moves a delivered message into `sent/`; on failure it stays in `delivered` (never sent
    /// again) and the move is tried on the next pass.
    async fn move_to_sent(&mut self, name: &str) {
        let sent = self.outbox.join(SENT_DIR);
        let moved = async {
            crate::files::create_private_dir(&sent)?;
            tokio::fs::rename(self.outbox.join(name), sent.join(name)).await
        }
        .await;
        match moved {
            Ok(()) => {
                self.delivered.remove(name);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.delivered.remove(name);
            }
            Err(e) => {
                tracing::error!(file = %name, error = %e, "a delivered mail cannot be moved into outbox/sent; it will not be sent again");
            }
        }
    }
}

/// The `.eml` files waiting in the outbox, oldest first (their names start with the time).
/// Files being written (`.name.tmp`) and the `sent` directory are not messages.
async fn waiting(outbox: &Path) -> std::io::Result<Vec<String>> {
    let mut dir = match tokio::fs::read_dir(outbox).await {
        Ok(dir) => dir,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut names = Vec::new();
    while let Some(entry) = dir.next_entry().await? {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.ends_with(".eml") && !name.starts_with('.') && entry.file_type().await?.is_file() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// The message as lettre sends it: CRLF line ends (a file put into the outbox by hand may
/// have bare LFs, which servers refuse), without the last one, since lettre ends the data with
/// CRLF `.` CRLF itself: the server then receives exactly the file.
fn wire_form(eml: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(eml.len() + 64);
    let mut previous = 0u8;
    for &b in eml {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    if out.ends_with(b"\r\n") {
        out.truncate(out.len() - 2);
    }
    out
}

/// Whether the courier can deliver to `address`: mail to it gets a `To:` header from which
/// [`recipient`] (lettre's address parser) reads back exactly this address. Invitations
/// check it when they are made, so that none waits in the outbox for ever.
pub(crate) fn deliverable(address: &str) -> bool {
    recipient(format!("To: {address}\r\n\r\n").as_bytes())
        .is_some_and(|found| AsRef::<str>::as_ref(&found) == address)
}

/// The one address of the message's `To:` header.
fn recipient(eml: &[u8]) -> Option<lettre::Address> {
    let text = std::str::from_utf8(eml).ok()?;
    let mut found = None;
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("to") {
                if found.is_some() {
                    return None;
                }
                let value = value.trim();
                let address = match value.rsplit_once('<') {
                    Some((_, rest)) => rest.strip_suffix('>')?,
                    None => value,
                };
                found = Some(lettre::Address::from_str(address.trim()).ok()?);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let s = SmtpServer::parse("smtps://ann:s3cr%40t@Mail.Example.com").unwrap();
        assert_eq!(s.security(), Security::ImplicitTls);
        assert_eq!((s.host.as_str(), s.port), ("mail.example.com", 465));
        assert_eq!(
            s.credentials,
            Some(("ann".to_string(), "s3cr@t".to_string()))
        );
        let s = SmtpServer::parse("smtp://a%40b.com:pw@mail.example.com").unwrap();
        assert_eq!((s.security(), s.port), (Security::StartTls, 587));
        assert_eq!(s.credentials.unwrap().0, "a@b.com");
        let s = SmtpServer::parse("smtp://u:p@mail.example.com:2525?tls=required").unwrap();
        assert_eq!((s.security(), s.port), (Security::StartTls, 2525));
        let s = SmtpServer::parse("smtp://127.0.0.1?tls=none").unwrap();
        assert_eq!((s.security(), s.port), (Security::Plain, 25));
        assert_eq!(s.credentials, None);
        let s = SmtpServer::parse("smtp://[::1]:1025/?tls=none").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("::1", 1025));
        assert_eq!(s.to_string(), "smtp://[::1]:1025?tls=none");
        // No credentials: a relay that trusts the network, still over STARTTLS.
        assert!(SmtpServer::parse("smtp://relay.internal").is_ok());
    }

    #[test]
    fn bad_urls_are_refused_without_repeating_the_password() {
        for (bad, says) in [
            ("mail.example.com", "not a URL"),
            ("http://u:hunter2@mail.example.com", "smtps://"),
            (
                "smtps://u:hunter2@mail.example.com?tls=none",
                "always uses TLS",
            ),
            (
                "smtp://u:hunter2@mail.example.com?tls=opportunistic",
                "not known",
            ),
            ("smtp://u:hunter2@mail.example.com?tls=none", "in the clear"),
            (
                "smtp://u:hunter2@mail.example.com?tls=none&tls=none",
                "twice",
            ),
            (
                "smtp://u:hunter2@mail.example.com?helo=x",
                "unknown parameter",
            ),
            ("smtp://u:hunter2@mail.example.com/roster", "path"),
            ("smtp://u:hunter2@mail.example.com#x", "path or fragment"),
            ("smtps://u@mail.example.com", "no password"),
            ("smtps://u:@mail.example.com", "no password"),
            ("smtps://:hunter2@mail.example.com", "no user name"),
            ("smtps://u:hunter2@mail.example.com:0", "port 0"),
            ("smtps://u:hunter2@:465", "URL"),
            ("smtps://u:hunter2@mail.example.com:99999", "URL"),
        ] {
            let err = SmtpServer::parse(bad).expect_err(bad);
            assert!(err.contains(says), "{bad}: {err}");
            assert!(!err.contains("hunter2"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_password_never_shows() {
        let s = SmtpServer::parse("smtps://ann:hunter2@mail.example.com:2465").unwrap();
        assert_eq!(
            s.to_string(),
            "smtps://ann:<redacted>@mail.example.com:2465"
        );
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn retries_back_off_to_a_cap() {
        let r = Retry::default();
        let secs: Vec<u64> = (1..=10).map(|n| r.after(n).as_secs()).collect();
        assert_eq!(secs, [5, 10, 20, 40, 80, 160, 320, 600, 600, 600]);
        assert_eq!(r.after(u32::MAX).as_secs(), 600);
    }

    #[test]
    fn the_wire_form_has_crlf_and_leaves_the_last_one_to_lettre() {
        assert_eq!(
            wire_form(b"To: a@b.com\r\n\r\nhi\r\n"),
            b"To: a@b.com\r\n\r\nhi"
        );
        assert_eq!(
            wire_form(b"To: a@b.com\n\nhi\n.\n"),
            b"To: a@b.com\r\n\r\nhi\r\n."
        );
        assert_eq!(wire_form(b"hi"), b"hi");
    }

    #[test]
    fn the_recipient_comes_from_the_to_header() {
        let eml =
            b"From: R <r@x.com>\r\nTo: ann@contoso.com\r\nSubject: Hi\r\n\r\nTo: evil@y.com\r\n";
        assert_eq!(recipient(eml).unwrap().to_string(), "ann@contoso.com");
        let eml = b"to: Ann <ann@contoso.com>\r\n\r\n";
        assert_eq!(recipient(eml).unwrap().to_string(), "ann@contoso.com");
        assert!(recipient(b"Subject: Hi\r\n\r\nTo: ann@contoso.com\r\n").is_none());
        assert!(recipient(b"To: a@b.com\r\nTo: c@d.com\r\n\r\n").is_none());
        assert!(recipient(b"To: not an address\r\n\r\n").is_none());
    }
}
