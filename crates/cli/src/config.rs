//! Configuration of `roster serve`: defaults, then an optional TOML file, then `ROSTER_*`
//! environment variables, then flags. Unknown keys in the file are refused; secrets are
//! redacted in `Debug`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use roster_domain::licence::Catalogue;
use roster_domain::Duration;
use roster_server::metrics::MetricsAccess;
use roster_server::tls::TlsFiles;
use roster_service::limits::Limits;
use roster_service::mail::Sender;
use roster_service::smtp::SmtpServer;
use roster_service::HashCost;
use serde::Deserialize;

/// Where the data is: what every command that opens the database takes.
#[derive(Args, Debug, Default, Clone)]
pub struct DatabaseArgs {
    /// A TOML file with any of the keys below (listen, data_dir, database_url, ...).
    #[arg(long, env = "ROSTER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Directory for the SQLite database and the outbox [default: ./roster-data].
    #[arg(long, env = "ROSTER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://... [default: SQLite in the data directory].
    #[arg(long, env = "ROSTER_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// A file holding the database URL (for containers' secrets), instead of --database-url.
    #[arg(long, env = "ROSTER_DATABASE_URL_FILE")]
    pub database_url_file: Option<PathBuf>,
}

/// Flags (and their environment variables) of `roster serve`.
#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "ROSTER_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// How long a deleted user can be restored, like 30d, 12h, 90m, 3s [default: 30d].
    #[arg(long, env = "ROSTER_SOFT_DELETE_RETENTION", value_parser = parse_duration)]
    pub soft_delete_retention: Option<Duration>,
    /// How often the purge of expired users runs [default: 1h].
    #[arg(long, env = "ROSTER_PURGE_INTERVAL", value_parser = parse_duration)]
    pub purge_interval: Option<Duration>,
    /// Domain of the partner tenant made on the first start [default: partner.local].
    #[arg(long, env = "ROSTER_PARTNER_DOMAIN")]
    pub partner_domain: Option<String>,
    /// Deliver the mail outbox over SMTP: smtps://USER:PASSWORD@HOST[:465] (TLS) or
    /// smtp://USER:PASSWORD@HOST[:587] (STARTTLS, required); smtp://HOST:PORT?tls=none only
    /// for a relay on this machine [default: none, mail stays in <data-dir>/outbox].
    #[arg(long, env = "ROSTER_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// A file holding the SMTP URL, instead of --smtp-url.
    #[arg(long, env = "ROSTER_SMTP_URL_FILE")]
    pub smtp_url_file: Option<PathBuf>,
    /// A file holding the first administrator's password, instead of
    /// ROSTER_BOOTSTRAP_ADMIN_PASSWORD (read on the first start only).
    #[arg(long, env = "ROSTER_BOOTSTRAP_ADMIN_PASSWORD_FILE")]
    pub bootstrap_admin_password_file: Option<PathBuf>,
    /// Who may read GET /metrics: off, loopback (this machine) or token [default: off; token
    /// when a metrics token is given].
    #[arg(long, env = "ROSTER_METRICS")]
    pub metrics: Option<String>,
    /// The bearer token that reads /metrics.
    #[arg(long, env = "ROSTER_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// A file holding the metrics token, instead of --metrics-token.
    #[arg(long, env = "ROSTER_METRICS_TOKEN_FILE")]
    pub metrics_token_file: Option<PathBuf>,
    /// The sender of Roster's mail, like 'Roster <no-reply@example.com>'
    /// [default: Roster <no-reply@roster.invalid>].
    #[arg(long, env = "ROSTER_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// The address users reach Roster at, for links in mail (invitations), like
    /// https://roster.example.com [default: http://<listen>].
    #[arg(long, env = "ROSTER_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// A JSON file of products (the shipped catalogue's shape) to add to the catalogue; one
    /// with the id of a shipped product replaces it [default: none].
    #[arg(long, env = "ROSTER_CATALOGUE_FILE")]
    pub catalogue_file: Option<PathBuf>,
    /// Serve HTTPS with this certificate (PEM, its chain leaf first), read again on SIGHUP;
    /// with --tls-key.
    #[arg(long, env = "ROSTER_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM), with --tls-cert.
    #[arg(long, env = "ROSTER_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The limits (docs/OPERATIONS.md); each also a key of the config file's `[limits]` table.
#[derive(Args, Debug, Default, Clone)]
pub struct LimitArgs {
    /// Open connections at most; one more is answered 503 and closed [default: 2048].
    #[arg(long, env = "ROSTER_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Requests handled at once at most; one more is answered 503 [default: 1024].
    #[arg(long, env = "ROSTER_MAX_REQUESTS_IN_FLIGHT")]
    pub max_requests_in_flight: Option<usize>,
    /// Password hashes waiting for a hashing thread at most; one more is answered 503
    /// [default: 64].
    #[arg(long, env = "ROSTER_HASH_QUEUE")]
    pub hash_queue: Option<usize>,
    /// Password sign-ins per minute from one source address (token endpoint, portal,
    /// password change); 0 for none [default: 60].
    #[arg(long, env = "ROSTER_SIGN_IN_PER_MINUTE_PER_ADDRESS")]
    pub sign_in_per_minute_per_address: Option<u32>,
    /// API requests per minute of one partner; 0 for no limit [default: 60000].
    #[arg(long, env = "ROSTER_API_PER_MINUTE_PER_PARTNER")]
    pub api_per_minute_per_partner: Option<u32>,
    /// API requests per minute through one application; 0 for no limit [default: 30000].
    #[arg(long, env = "ROSTER_API_PER_MINUTE_PER_APPLICATION")]
    pub api_per_minute_per_application: Option<u32>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    Duration::parse(s)
}

/// The config file's keys.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    database_url_file: Option<PathBuf>,
    smtp_url_file: Option<PathBuf>,
    bootstrap_admin_password_file: Option<PathBuf>,
    metrics: Option<String>,
    metrics_token: Option<String>,
    metrics_token_file: Option<PathBuf>,
    soft_delete_retention: Option<String>,
    purge_interval: Option<String>,
    partner_domain: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    public_url: Option<String>,
    catalogue_file: Option<PathBuf>,
    argon2: Option<Argon2Config>,
    limits: Option<LimitsConfig>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct LimitsConfig {
    max_connections: Option<usize>,
    max_requests_in_flight: Option<usize>,
    hash_queue: Option<usize>,
    sign_in_per_minute_per_address: Option<u32>,
    api_per_minute_per_partner: Option<u32>,
    api_per_minute_per_application: Option<u32>,
}

#[derive(Deserialize, Debug, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct Argon2Config {
    memory_kib: u32,
    iterations: u32,
    lanes: u32,
}

/// The resolved configuration.
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub soft_delete_retention: Duration,
    pub purge_interval: Duration,
    pub partner_domain: String,
    pub bootstrap_password: Option<String>,
    pub hash_cost: HashCost,
    /// `None`: mail stays in the outbox.
    pub smtp: Option<SmtpServer>,
    pub mail_from: Sender,
    /// Where links in mail point, without a trailing `/`.
    pub public_url: String,
    /// The operator's products, read and checked at start.
    pub extra_catalogue: Option<Catalogue>,
    pub limits: Limits,
    /// Who may read `/metrics`.
    pub metrics: MetricsAccess,
    /// Serve HTTPS with these files.
    pub tls: Option<TlsFiles>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self
                    .database_url
                    .as_deref()
                    .map(roster_service::startup::redact_url),
            )
            .field(
                "soft_delete_retention",
                &self.soft_delete_retention.to_string(),
            )
            .field("purge_interval", &self.purge_interval.to_string())
            .field("partner_domain", &self.partner_domain)
            .field(
                "bootstrap_password",
                &self.bootstrap_password.as_ref().map(|_| "<redacted>"),
            )
            .field("hash_cost", &self.hash_cost)
            // SmtpServer's Debug leaves the password out.
            .field("smtp", &self.smtp)
            .field("mail_from", &self.mail_from)
            .field("public_url", &self.public_url)
            .field(
                "extra_catalogue",
                &self.extra_catalogue.as_ref().map(|c| c.products().len()),
            )
            .field("limits", &self.limits)
            .field("tls", &self.tls)
            .field(
                "metrics",
                &match &self.metrics {
                    MetricsAccess::Off => "off",
                    MetricsAccess::Loopback => "loopback",
                    MetricsAccess::Token(_) => "token (<redacted>)",
                },
            )
            .finish()
    }
}

impl Config {
    /// The configuration of a command that only opens the database.
    pub fn for_database(args: &DatabaseArgs) -> anyhow::Result<Self> {
        Self::resolve(
            &ServeArgs {
                db: args.clone(),
                ..Default::default()
            },
            None,
        )
    }

    pub fn resolve(args: &ServeArgs, bootstrap_password: Option<String>) -> anyhow::Result<Self> {
        let mut file = match &args.db.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let file_duration =
            |key: &str, value: &Option<String>| -> anyhow::Result<Option<Duration>> {
                value
                    .as_deref()
                    .map(|s| Duration::parse(s).map_err(|e| anyhow::anyhow!("{key}: {e}")))
                    .transpose()
            };
        let purge_interval = args
            .purge_interval
            .or(file_duration("purge_interval", &file.purge_interval)?)
            .unwrap_or(Duration::from_hours(1));
        if purge_interval.millis() <= 0 {
            bail!("purge_interval must be longer than 0");
        }
        // An empty value turns SMTP off (say, to override the file from the environment).
        let smtp_url = secret(
            "smtp_url",
            args.smtp_url.clone(),
            args.smtp_url_file.as_deref(),
        )?
        .or(secret(
            "smtp_url",
            file.smtp_url.clone(),
            file.smtp_url_file.as_deref(),
        )?);
        let smtp = match smtp_url.filter(|u| !u.trim().is_empty()) {
            Some(url) => Some(SmtpServer::parse(&url).map_err(anyhow::Error::msg)?),
            None => None,
        };
        let mail_from = match args.mail_from.clone().or(file.mail_from) {
            Some(from) => Sender::parse(&from).map_err(anyhow::Error::msg)?,
            None => Sender::default(),
        };
        let listen = args
            .listen
            .or(file.listen)
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
        let tls = match (
            args.tls_cert.clone().or(file.tls_cert.take()),
            args.tls_key.clone().or(file.tls_key.take()),
        ) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            _ => bail!("tls_cert and tls_key go together: give both, or neither"),
        };
        let public_url = match args.public_url.clone().or(file.public_url.take()) {
            Some(url) => public_url(&url)?,
            None if tls.is_some() => format!("https://{listen}"),
            None => format!("http://{listen}"),
        };
        let extra_catalogue = match args.catalogue_file.clone().or(file.catalogue_file) {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("catalogue_file: cannot read {}", path.display()))?;
                Some(
                    Catalogue::parse(&text)
                        .map_err(|e| anyhow::anyhow!("catalogue_file {}: {e}", path.display()))?,
                )
            }
            None => None,
        };
        let limits = resolve_limits(&args.limits, file.limits.take().unwrap_or_default())?;
        let metrics_token = secret(
            "metrics_token",
            args.metrics_token.clone(),
            args.metrics_token_file.as_deref(),
        )?
        .or(secret(
            "metrics_token",
            file.metrics_token.clone(),
            file.metrics_token_file.as_deref(),
        )?)
        .filter(|t| !t.trim().is_empty());
        let metrics = match (
            args.metrics.clone().or(file.metrics.clone()).as_deref(),
            metrics_token,
        ) {
            (None, None) | (Some("off"), _) => MetricsAccess::Off,
            (Some("loopback"), _) => MetricsAccess::Loopback,
            (None | Some("token"), Some(token)) => {
                if token.trim().len() < 16 {
                    bail!("metrics_token must be at least 16 characters");
                }
                MetricsAccess::token(&token)
            }
            (Some("token"), None) => {
                bail!("metrics = token needs a metrics_token (or metrics_token_file)")
            }
            (Some(other), _) => {
                bail!("metrics: '{other}' is not one of off, loopback, token")
            }
        };
        Ok(Self {
            limits,
            metrics,
            tls,
            listen,
            public_url,
            extra_catalogue,
            data_dir: args
                .db
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("roster-data")),
            database_url: secret(
                "database_url",
                args.db.database_url.clone(),
                args.db.database_url_file.as_deref(),
            )?
            .or(secret(
                "database_url",
                file.database_url.clone(),
                file.database_url_file.as_deref(),
            )?),
            soft_delete_retention: args
                .soft_delete_retention
                .or(file_duration(
                    "soft_delete_retention",
                    &file.soft_delete_retention,
                )?)
                .unwrap_or(Duration::from_days(30)),
            purge_interval,
            partner_domain: args
                .partner_domain
                .clone()
                .or(file.partner_domain)
                .unwrap_or_else(|| "partner.local".into()),
            bootstrap_password: secret(
                "bootstrap_admin_password",
                bootstrap_password.filter(|p| !p.is_empty()),
                args.bootstrap_admin_password_file
                    .as_deref()
                    .or(file.bootstrap_admin_password_file.as_deref()),
            )?
            .filter(|p| !p.is_empty()),
            hash_cost: file.argon2.map_or_else(HashCost::default, |a| HashCost {
                memory_kib: a.memory_kib,
                iterations: a.iterations,
                lanes: a.lanes,
            }),
            smtp,
            mail_from,
        })
    }
}

/// A secret given as a value or as a file holding it (one of the two); the file's content
/// without its trailing line break.
fn secret(key: &str, value: Option<String>, file: Option<&Path>) -> anyhow::Result<Option<String>> {
    match (value, file) {
        (Some(_), Some(_)) => bail!("{key} and {key}_file are both set: give one of them"),
        (Some(value), None) => Ok(Some(value)),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("{key}_file: cannot read {}", path.display()))?;
            Ok(Some(text.trim_end_matches(['\n', '\r']).to_string()))
        }
        (None, None) => Ok(None),
    }
}

/// Flags over the file over the defaults; the two sizes that bound work must be above 0.
fn resolve_limits(args: &LimitArgs, file: LimitsConfig) -> anyhow::Result<Limits> {
    let d = Limits::default();
    let limits = Limits {
        max_connections: args
            .max_connections
            .or(file.max_connections)
            .unwrap_or(d.max_connections),
        max_requests_in_flight: args
            .max_requests_in_flight
            .or(file.max_requests_in_flight)
            .unwrap_or(d.max_requests_in_flight),
        hash_queue: args.hash_queue.or(file.hash_queue).unwrap_or(d.hash_queue),
        sign_in_per_minute_per_address: args
            .sign_in_per_minute_per_address
            .or(file.sign_in_per_minute_per_address)
            .unwrap_or(d.sign_in_per_minute_per_address),
        api_per_minute_per_partner: args
            .api_per_minute_per_partner
            .or(file.api_per_minute_per_partner)
            .unwrap_or(d.api_per_minute_per_partner),
        api_per_minute_per_application: args
            .api_per_minute_per_application
            .or(file.api_per_minute_per_application)
            .unwrap_or(d.api_per_minute_per_application),
    };
    for (key, value) in [
        ("max_connections", limits.max_connections),
        ("max_requests_in_flight", limits.max_requests_in_flight),
        ("hash_queue", limits.hash_queue),
    ] {
        if value == 0 {
            bail!("limits.{key} must be at least 1");
        }
    }
    Ok(limits)
}

/// An absolute http(s) URL without query or fragment, trailing `/` removed.
fn public_url(raw: &str) -> anyhow::Result<String> {
    let url = raw.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !host.contains(|c: char| {
                    matches!(c, '?' | '#' | '@') || c.is_whitespace() || c.is_control()
                }) =>
        {
            Ok(url.to_string())
        }
        _ => bail!(
            "public_url: '{raw}' is not an address such as https://roster.example.com (http or https, no query, no user)"
        ),
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    toml::from_str(&text)
        .with_context(|| format!("the config file {} is not valid", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_service::smtp::Security;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roster.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn defaults() {
        let c = Config::resolve(&ServeArgs::default(), None).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("roster-data"));
        assert_eq!(c.soft_delete_retention, Duration::from_days(30));
        assert_eq!(c.purge_interval, Duration::from_hours(1));
        assert_eq!(c.partner_domain, "partner.local");
        assert_eq!(c.hash_cost, HashCost::default());
        assert_eq!(c.smtp, None);
        assert_eq!(c.mail_from, Sender::default());
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.limits, Limits::default());
    }

    #[test]
    fn secrets_are_read_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let put = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let db = put("db", "postgres://u:hunter2@db/roster\n");
        let smtp = put("smtp", "smtps://m:Smtp-pa55@mail.example.com\r\n");
        let admin = put("admin", "Sup3r#Secret-first\n");
        let metrics = put("metrics", "a-metrics-token-of-some-length\n");
        let args = ServeArgs {
            db: DatabaseArgs {
                database_url_file: Some(db.clone()),
                ..Default::default()
            },
            smtp_url_file: Some(smtp),
            bootstrap_admin_password_file: Some(admin),
            metrics_token_file: Some(metrics),
            ..Default::default()
        };
        let c = Config::resolve(&args, None).unwrap();
        assert_eq!(
            c.database_url.as_deref(),
            Some("postgres://u:hunter2@db/roster")
        );
        assert_eq!(
            c.smtp.unwrap().to_string(),
            "smtps://m:<redacted>@mail.example.com:465"
        );
        assert_eq!(c.bootstrap_password.as_deref(), Some("Sup3r#Secret-first"));
        assert_eq!(
            c.metrics,
            MetricsAccess::token("a-metrics-token-of-some-length")
        );
        // The same keys in the config file.
        let (_d, path) = write(&format!(
            "database_url_file = {:?}\nmetrics = \"loopback\"\n",
            db.display().to_string()
        ));
        let c = Config::resolve(
            &ServeArgs {
                db: DatabaseArgs {
                    config: Some(path),
                    ..Default::default()
                },
                ..Default::default()
            },
            None,
        )
        .unwrap();
        assert_eq!(
            c.database_url.as_deref(),
            Some("postgres://u:hunter2@db/roster")
        );
        assert_eq!(c.metrics, MetricsAccess::Loopback);
        // A value and a file for one secret, or a file that is not there, are refused.
        let both = ServeArgs {
            db: DatabaseArgs {
                database_url: Some("sqlite://x.db".into()),
                database_url_file: Some(db),
                ..Default::default()
            },
            ..Default::default()
        };
        let err = Config::resolve(&both, None).unwrap_err().to_string();
        assert!(err.contains("database_url and database_url_file"), "{err}");
        let missing = ServeArgs {
            smtp_url_file: Some(dir.path().join("nope")),
            ..Default::default()
        };
        let err = format!("{:#}", Config::resolve(&missing, None).unwrap_err());
        assert!(err.contains("smtp_url_file: cannot read"), "{err}");
    }

    #[test]
    fn tls_files_go_together_and_make_the_public_url_https() {
        let (_d, path) = write("tls_cert = \"/etc/roster/cert.pem\"\n");
        let from_file = |path: PathBuf| ServeArgs {
            db: DatabaseArgs {
                config: Some(path),
                ..Default::default()
            },
            listen: Some("127.0.0.1:8443".parse().unwrap()),
            ..Default::default()
        };
        let err = Config::resolve(&from_file(path), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("tls_cert and tls_key go together"), "{err}");
        let (_d, path) = write("tls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n");
        let c = Config::resolve(&from_file(path), None).unwrap();
        assert_eq!(
            c.tls,
            Some(TlsFiles {
                cert: "c.pem".into(),
                key: "k.pem".into()
            })
        );
        assert_eq!(c.public_url, "https://127.0.0.1:8443");
    }

    #[test]
    fn metrics_settings() {
        let with = |metrics: Option<&str>, token: Option<&str>| {
            Config::resolve(
                &ServeArgs {
                    metrics: metrics.map(str::to_string),
                    metrics_token: token.map(str::to_string),
                    ..Default::default()
                },
                None,
            )
        };
        assert_eq!(with(None, None).unwrap().metrics, MetricsAccess::Off);
        assert_eq!(
            with(Some("loopback"), None).unwrap().metrics,
            MetricsAccess::Loopback
        );
        assert_eq!(
            with(Some("off"), Some("0123456789abcdef")).unwrap().metrics,
            MetricsAccess::Off
        );
        assert!(with(Some("token"), None).is_err());
        assert!(with(None, Some("short")).is_err());
        assert!(with(Some("public"), None).is_err());
        let c = with(None, Some("0123456789abcdef")).unwrap();
        assert_eq!(c.metrics, MetricsAccess::token("0123456789abcdef"));
        assert!(!format!("{c:?}").contains("0123456789abcdef"));
    }

    #[test]
    fn limits_from_file_then_flags_and_zero_sizes_refused() {
        let (_d, path) = write(
            "[limits]\nmax_connections = 10\nsign_in_per_minute_per_address = 0\nhash_queue = 5\n",
        );
        let args = |limits: LimitArgs| ServeArgs {
            db: DatabaseArgs {
                config: Some(path.clone()),
                ..Default::default()
            },
            limits,
            ..Default::default()
        };
        let c = Config::resolve(&args(LimitArgs::default()), None).unwrap();
        assert_eq!(c.limits.max_connections, 10);
        assert_eq!(c.limits.sign_in_per_minute_per_address, 0);
        assert_eq!(c.limits.hash_queue, 5);
        assert_eq!(
            c.limits.max_requests_in_flight,
            Limits::default().max_requests_in_flight
        );
        let c = Config::resolve(
            &args(LimitArgs {
                hash_queue: Some(7),
                ..Default::default()
            }),
            None,
        )
        .unwrap();
        assert_eq!(c.limits.hash_queue, 7);
        let err = Config::resolve(
            &args(LimitArgs {
                max_requests_in_flight: Some(0),
                ..Default::default()
            }),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("max_requests_in_flight"), "{err}");
        let (_d, path) = write("[limits]\nmax_conections = 10\n");
        let err = format!(
            "{:#}",
            Config::resolve(
                &ServeArgs {
                    db: DatabaseArgs {
                        config: Some(path),
                        ..Default::default()
                    },
                    ..Default::default()
                },
                None
            )
            .unwrap_err()
        );
        assert!(err.contains("max_conections"), "{err}");
    }

    #[test]
    fn file_then_flags() {
        let (_dir, path) = write(
            "listen = \"127.0.0.1:9000\"\nsoft_delete_retention = \"3s\"\npurge_interval = \"90m\"\n[argon2]\nmemory_kib = 8\niterations = 1\nlanes = 1\n",
        );
        let args = ServeArgs {
            db: DatabaseArgs {
                config: Some(path.clone()),
                ..Default::default()
            },
            ..Default::default()
        };
        let c = Config::resolve(&args, None).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(c.soft_delete_retention, Duration::from_secs(3));
        assert_eq!(c.purge_interval, Duration::from_mins(90));
        assert_eq!(c.hash_cost, HashCost::TEST);
        let flags = ServeArgs {
            db: DatabaseArgs {
                config: Some(path),
                ..Default::default()
            },
            listen: Some("127.0.0.1:9001".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(
            Config::resolve(&flags, None).unwrap().listen.to_string(),
            "127.0.0.1:9001"
        );
    }

    #[test]
    fn a_catalogue_file_is_read_and_checked_at_start() {
        let (_d, good) = write(
            r#"{"products": [{"id": "11111111-2222-4333-8444-555555555555", "name": "Ours", "skuPartNumber": "OURS", "targetType": "User", "licenseGroupId": "group1", "servicePlans": []}]}"#,
        );
        let args = |path: &Path| ServeArgs {
            catalogue_file: Some(path.to_path_buf()),
            ..Default::default()
        };
        let c = Config::resolve(&args(&good), None).unwrap();
        assert_eq!(c.extra_catalogue.unwrap().products().len(), 1);
        let (_d2, bad) = write(r#"{"products": [{"id": "nope"}]}"#);
        let err = Config::resolve(&args(&bad), None).unwrap_err().to_string();
        assert!(err.contains("catalogue_file"), "{err}");
        let err = Config::resolve(&args(Path::new("/nonexistent/products.json")), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("catalogue_file"), "{err}");
        assert!(Config::resolve(&ServeArgs::default(), None)
            .unwrap()
            .extra_catalogue
            .is_none());
    }

    #[test]
    fn public_url_is_checked_and_follows_listen_by_default() {
        let args = |url: Option<&str>| ServeArgs {
            listen: Some("127.0.0.1:9002".parse().unwrap()),
            public_url: url.map(str::to_string),
            ..Default::default()
        };
        let resolve = |url| Config::resolve(&args(url), None);
        assert_eq!(resolve(None).unwrap().public_url, "http://127.0.0.1:9002");
        assert_eq!(
            resolve(Some("https://roster.example.com/"))
                .unwrap()
                .public_url,
            "https://roster.example.com"
        );
        for bad in [
            "roster.example.com",
            "ftp://x",
            "https://",
            "https://a?b=1",
            "https://u@x",
            // Found by `public_urls_with_more_than_an_address_are_refused`: only ' ' was
            // refused of the white space and controls.
            "https://\tax",
            "https://roster.example.com/\nx",
            "https://roster\u{a0}example.com",
            "https://roster.example.com\u{0}",
        ] {
            let err = resolve(Some(bad)).unwrap_err().to_string();
            assert!(err.contains("public_url"), "{bad}: {err}");
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let (_d, path) = write("listn = \"127.0.0.1:9000\"\n");
        let err = Config::resolve(
            &ServeArgs {
                db: DatabaseArgs {
                    config: Some(path),
                    ..Default::default()
                },
                ..Default::default()
            },
            None,
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("listn"), "{err:#}");
        let (_d, path) = write("purge_interval = \"soon\"\n");
        assert!(Config::resolve(
            &ServeArgs {
                db: DatabaseArgs {
                    config: Some(path),
                    ..Default::default()
                },
                ..Default::default()
            },
            None
        )
        .is_err());
        let (_d, path) = write("purge_interval = \"0s\"\n");
        assert!(Config::resolve(
            &ServeArgs {
                db: DatabaseArgs {
                    config: Some(path),
                    ..Default::default()
                },
                ..Default::default()
            },
            None
        )
        .is_err());
    }

    #[test]
    fn debug_redacts_secrets() {
        let args = ServeArgs {
            db: DatabaseArgs {
                database_url: Some("postgres://u:hunter2@db/roster".into()),
                ..Default::default()
            },
            smtp_url: Some("smtps://mailer:Smtp-pa55@mail.example.com".into()),
            ..Default::default()
        };
        let c = Config::resolve(&args, Some("Sup3r#Secret".into())).unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("Sup3r") && !shown.contains("Smtp-pa55"),
            "{shown}"
        );
        assert!(
            shown.contains("smtps://mailer:<redacted>@mail.example.com:465"),
            "{shown}"
        );
    }

    #[test]
    fn smtp_from_file_then_flags() {
        let (_d, path) = write(
            "smtp_url = \"smtp://mailer:pw@mail.example.com\"\nmail_from = \"Contoso IT <it@contoso.com>\"\n",
        );
        let from_file = ServeArgs {
            db: DatabaseArgs {
                config: Some(path.clone()),
                ..Default::default()
            },
            ..Default::default()
        };
        let c = Config::resolve(&from_file, None).unwrap();
        let smtp = c.smtp.unwrap();
        assert_eq!(smtp.security(), Security::StartTls);
        assert_eq!(
            smtp.to_string(),
            "smtp://mailer:<redacted>@mail.example.com:587"
        );
        assert_eq!(c.mail_from.header(), "Contoso IT <it@contoso.com>");
        // A flag (or ROSTER_SMTP_URL) wins; an empty one turns SMTP off.
        let flag = |url: &str| ServeArgs {
            db: DatabaseArgs {
                config: Some(path.clone()),
                ..Default::default()
            },
            smtp_url: Some(url.into()),
            ..Default::default()
        };
        let c = Config::resolve(&flag("smtps://m:pw@smtp.example.org:2465"), None).unwrap();
        assert_eq!(
            c.smtp.unwrap().to_string(),
            "smtps://m:<redacted>@smtp.example.org:2465"
        );
        assert_eq!(Config::resolve(&flag(""), None).unwrap().smtp, None);
    }

    #[test]
    fn bad_smtp_settings_are_refused_at_start() {
        for (url, says) in [
            (
                "smtp://mailer:hunter2@mail.example.com?tls=none",
                "in the clear",
            ),
            ("imap://mailer:hunter2@mail.example.com", "smtps://"),
            ("mail.example.com:587", "must start with smtps://"),
            ("smtps://mailer:hunter2@", "empty host"),
            ("smtps://mailer@mail.example.com", "no password"),
        ] {
            let args = ServeArgs {
                smtp_url: Some(url.into()),
                ..Default::default()
            };
            let err = format!("{:#}", Config::resolve(&args, None).unwrap_err());
            assert!(
                err.contains(says) && !err.contains("hunter2"),
                "{url}: {err}"
            );
        }
        let (_d, path) = write("mail_from = \"Roster\"\n");
        let args = ServeArgs {
            db: DatabaseArgs {
                config: Some(path),
                ..Default::default()
            },
            ..Default::default()
        };
        let err = format!("{:#}", Config::resolve(&args, None).unwrap_err());
        assert!(err.contains("mail_from"), "{err}");
        let (_d, path) = write("smtp = \"smtps://m:p@mail.example.com\"\n");
        let args = ServeArgs {
            db: DatabaseArgs {
                config: Some(path),
                ..Default::default()
            },
            ..Default::default()
        };
        let err = format!("{:#}", Config::resolve(&args, None).unwrap_err());
        assert!(err.contains("unknown field `smtp`"), "{err}");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::net::IpAddr;

    /// The file's top-level keys and its tables' keys.
    const KEYS: [&str; 20] = [
        "listen",
        "data_dir",
        "database_url",
        "database_url_file",
        "smtp_url_file",
        "bootstrap_admin_password_file",
        "metrics",
        "metrics_token",
        "metrics_token_file",
        "soft_delete_retention",
        "purge_interval",
        "partner_domain",
        "smtp_url",
        "mail_from",
        "public_url",
        "catalogue_file",
        "argon2",
        "limits",
        "tls_cert",
        "tls_key",
    ];
    const LIMIT_KEYS: [&str; 6] = [
        "max_connections",
        "max_requests_in_flight",
        "hash_queue",
        "sign_in_per_minute_per_address",
        "api_per_minute_per_partner",
        "api_per_minute_per_application",
    ];

    /// `s` as a TOML basic string.
    fn toml_string(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    const UNITS: [(&str, i64); 5] = Duration::UNITS;

    fn duration(min: i64) -> impl Strategy<Value = (String, Duration)> {
        (min..=100_000i64, 0..UNITS.len()).prop_map(|(n, u)| {
            let (unit, size) = UNITS[u];
            (format!("{n}{unit}"), Duration::from_millis(n * size))
        })
    }

    /// A file's settings: what it says, and the limits it gives.
    #[derive(Debug, Clone)]
    struct Settings {
        listen: SocketAddr,
        data_dir: String,
        partner_domain: String,
        retention: Option<(String, Duration)>,
        purge: Option<(String, Duration)>,
        limits: Vec<Option<u64>>,
    }

    fn settings() -> impl Strategy<Value = Settings> {
        let limits = (
            proptest::collection::vec(proptest::option::of(1..=(i64::MAX as u64)), 3),
            proptest::collection::vec(proptest::option::of(0..=u64::from(u32::MAX)), 3),
        )
            .prop_map(|(sizes, rates)| sizes.into_iter().chain(rates).collect());
        (
            any::<IpAddr>(),
            any::<u16>(),
            any::<String>(),
            any::<String>(),
            proptest::option::of(duration(0)),
            proptest::option::of(duration(1)),
            limits,
        )
            .prop_map(
                |(ip, port, data_dir, partner_domain, retention, purge, limits)| Settings {
                    listen: SocketAddr::new(ip, port),
                    data_dir,
                    partner_domain,
                    retention,
                    purge,
                    limits,
                },
            )
    }

    /// The settings as TOML, the top-level keys in `order`, the limits as a table or an
    /// inline table.
    fn file(s: &Settings, order: &[usize], inline: bool) -> String {
        let mut top = vec![
            format!("listen = {}", toml_string(&s.listen.to_string())),
            format!("data_dir = {}", toml_string(&s.data_dir)),
            format!("partner_domain = {}", toml_string(&s.partner_domain)),
        ];
        if let Some((text, _)) = &s.retention {
            top.push(format!("soft_delete_retention = {}", toml_string(text)));
        }
        if let Some((text, _)) = &s.purge {
            top.push(format!("purge_interval = {}", toml_string(text)));
        }
        let limits: Vec<String> = LIMIT_KEYS
            .iter()
            .zip(&s.limits)
            .filter_map(|(k, v)| v.map(|v| format!("{k} = {v}")))
            .collect();
        let mut lines: Vec<String> = order.iter().filter_map(|i| top.get(*i).cloned()).collect();
        if inline {
            lines.push(format!("limits = {{ {} }}", limits.join(", ")));
        } else {
            lines.push("[limits]".into());
            lines.extend(limits);
        }
        lines.join("\n") + "\n"
    }

    fn resolve_file(text: &str) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("roster.toml");
        std::fs::write(&path, text)?;
        Config::resolve(
            &ServeArgs {
                db: DatabaseArgs {
                    config: Some(path),
                    ..Default::default()
                },
                ..Default::default()
            },
            None,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Any valid set of keys (listen address, paths and names of any text, durations,
        /// limits), written as TOML in any order, reads back to those values, and the
        /// configuration resolved from the file has them.
        #[test]
        fn generated_files_read_back_to_their_values(
            s in settings(),
            order in Just((0..5usize).collect::<Vec<_>>()).prop_shuffle(),
            inline in any::<bool>(),
        ) {
            let text = file(&s, &order, inline);
            let f: FileConfig = toml::from_str(&text)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(f.listen, Some(s.listen));
            prop_assert_eq!(f.data_dir.as_deref(), Some(Path::new(&s.data_dir)));
            prop_assert_eq!(f.partner_domain.as_deref(), Some(s.partner_domain.as_str()));
            prop_assert_eq!(f.soft_delete_retention, s.retention.clone().map(|r| r.0));
            prop_assert_eq!(f.purge_interval, s.purge.clone().map(|p| p.0));
            let l = f.limits.unwrap_or_default();
            let read = [
                l.max_connections.map(|v| v as u64),
                l.max_requests_in_flight.map(|v| v as u64),
                l.hash_queue.map(|v| v as u64),
                l.sign_in_per_minute_per_address.map(u64::from),
                l.api_per_minute_per_partner.map(u64::from),
                l.api_per_minute_per_application.map(u64::from),
            ];
            prop_assert_eq!(&read[..], &s.limits[..]);

            let c = resolve_file(&text).map_err(|e| TestCaseError::fail(format!("{e:#}\n{text}")))?;
            prop_assert_eq!(c.listen, s.listen);
            prop_assert_eq!(c.public_url, format!("http://{}", s.listen));
            prop_assert_eq!(&c.data_dir, Path::new(&s.data_dir));
            prop_assert_eq!(&c.partner_domain, &s.partner_domain);
            prop_assert_eq!(c.soft_delete_retention, s.retention.map_or(Duration::from_days(30), |r| r.1));
            prop_assert_eq!(c.purge_interval, s.purge.map_or(Duration::from_hours(1), |p| p.1));
            let d = Limits::default();
            let or = |v: Option<u64>, default: u64| v.unwrap_or(default);
            prop_assert_eq!(c.limits.max_connections as u64, or(s.limits[0], d.max_connections as u64));
            prop_assert_eq!(c.limits.max_requests_in_flight as u64, or(s.limits[1], d.max_requests_in_flight as u64));
            prop_assert_eq!(c.limits.hash_queue as u64, or(s.limits[2], d.hash_queue as u64));
            prop_assert_eq!(u64::from(c.limits.sign_in_per_minute_per_address), or(s.limits[3], d.sign_in_per_minute_per_address.into()));
            prop_assert_eq!(u64::from(c.limits.api_per_minute_per_partner), or(s.limits[4], d.api_per_minute_per_partner.into()));
            prop_assert_eq!(u64::from(c.limits.api_per_minute_per_application), or(s.limits[5], d.api_per_minute_per_application.into()));
        }

        /// Whatever the text, reading the file answers (no panic), and a file it takes
        /// holds no key but the known ones.
        #[test]
        fn arbitrary_text_never_panics_the_config_file(
            text in prop_oneof![
                any::<String>(),
                "([a-z_]{1,12} = (\"[^\"\\\\]{0,10}\"|[0-9]{1,5}|true|\\[\\]|\\{\\})\n|\\[[a-z]{1,8}\\]\n){0,6}",
            ],
        ) {
            if toml::from_str::<FileConfig>(&text).is_ok() {
                if let Ok(table) = toml::from_str::<toml::Table>(&text) {
                    for key in table.keys() {
                        prop_assert!(KEYS.contains(&key.as_str()), "{key} in {text:?}");
                    }
                }
            }
        }

        /// A key that is not one of the file's, at the top or in `[limits]` or `[argon2]`, is
        /// refused, and the error names it.
        #[test]
        fn unknown_keys_are_refused_and_named(
            key in "[a-z][a-z_]{0,20}",
            table in 0..3usize,
        ) {
            prop_assume!(!KEYS.contains(&key.as_str()) && !LIMIT_KEYS.contains(&key.as_str())
                && !["memory_kib", "iterations", "lanes"].contains(&key.as_str()));
            let text = match table {
                0 => format!("listen = \"127.0.0.1:8080\"\n{key} = 1\n"),
                1 => format!("[limits]\nhash_queue = 5\n{key} = 1\n"),
                _ => format!("[argon2]\nmemory_kib = 8\niterations = 1\nlanes = 1\n{key} = 1\n"),
            };
            let e = toml::from_str::<FileConfig>(&text).err()
                .ok_or_else(|| TestCaseError::fail(format!("taken: {text}")))?;
            prop_assert!(e.to_string().contains(&format!("`{key}`")), "{e}");
            let e = resolve_file(&text).err()
                .ok_or_else(|| TestCaseError::fail(format!("resolved: {text}")))?;
            prop_assert!(format!("{e:#}").contains(&key), "{e:#}");
        }

        /// A limit of 0 where work is bounded (connections, requests in flight, the hash
        /// queue) is refused, and named.
        #[test]
        fn zero_sizes_are_refused(which in 0..3usize) {
            let text = format!("[limits]\n{} = 0\n", LIMIT_KEYS[which]);
            let e = resolve_file(&text).err().ok_or_else(|| TestCaseError::fail("taken"))?;
            prop_assert!(e.to_string().contains(LIMIT_KEYS[which]), "{e}");
        }

        /// An http(s) address (a host, maybe a port and a path) is taken trimmed and without
        /// its trailing `/`.
        #[test]
        fn public_urls_are_taken_without_their_trailing_slash(
            scheme in prop_oneof![Just("http"), Just("https")],
            host in "[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,20}){0,3}",
            port in proptest::option::of(any::<u16>()),
            path in "(/[A-Za-z0-9._~%-]{0,10}){0,3}",
            slashes in "/{0,2}",
            before in "[ \t]{0,2}",
            after in "[ \t\n]{0,2}",
        ) {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let url = format!("{scheme}://{host}{port}{path}");
            let got = public_url(&format!("{before}{url}{slashes}{after}"))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(got, url.trim_end_matches('/'));
        }

        /// An address with a query, a fragment, a user, or white space or a control
        /// character anywhere after the scheme, is refused, and so is anything without
        /// http(s)://; arbitrary text never panics.
        #[test]
        fn public_urls_with_more_than_an_address_are_refused(
            host in "[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,20}){0,2}(/[a-z]{0,5})?",
            at in any::<prop::sample::Index>(),
            c in prop_oneof![
                prop::sample::select(vec!['?', '#', '@', ' ', '\t', '\n', '\r', '\u{0}', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}']),
                any::<char>().prop_filter("white space or control", |c| c.is_whitespace() || c.is_control()),
            ],
            other in any::<String>(),
        ) {
            let mut h = host.clone();
            // Not at the very end, where trimming takes white space off.
            h.insert(at.index(h.len()), c);
            let url = format!("https://{h}x");
            prop_assert!(public_url(&url).is_err(), "{url:?} taken");
            if let Ok(u) = public_url(&other) {
                prop_assert!(u.starts_with("http://") || u.starts_with("https://"), "{other:?}");
            }
        }
    }
}
