//! `roster`: the server and its admin commands.

mod account;
mod client;
mod config;
mod import;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use roster_server::Timeouts;
use roster_service::bootstrap::Bootstrapped;
use roster_service::startup::{self, Options};
use roster_service::{Settings, SystemClock};
use tokio::sync::watch;

use crate::config::{Config, DatabaseArgs, ServeArgs};

/// The exit codes of the client commands, by class (docs/CLI.md).
const EXIT_CODES: &str = "The client commands exit with 0 when done, 2 for a usage error (or a destructive command without --yes and without a terminal), 3 when not signed in or refused, 4 when not found, 5 on a conflict, 6 for invalid input, 1 for anything else. docs/CLI.md maps each Partner Center cmdlet to its command.";

#[derive(Parser)]
#[command(
    name = "roster",
    version,
    about = "User accounts for cloud resellers, wire-compatible with Partner Center",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (creates the data directory, database, key and admin on first start).
    Serve(Box<ServeArgs>),
    /// Bring the database schema up to this roster's version, and exit.
    Migrate(DatabaseArgs),
    /// Copy a SQLite database, consistently, while the server runs.
    Backup {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The file to write; it must not exist.
        #[arg(long)]
        to: PathBuf,
    },
    /// The token-signing keys that every server on the database shares.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Sign in to a Roster server and keep the login (Connect-PartnerCenter): a user, a user
    /// through an application (--client-id), or an application alone (--client-id and
    /// --client-secret-stdin, no --username).
    ///
    /// Example: roster login --url http://127.0.0.1:8080 --username admin@partner.local
    ///
    /// Example: roster login --url https://roster.example --client-id 8a1f… --client-secret-stdin < secret.txt
    Login {
        /// The server's address.
        #[arg(long, env = "ROSTER_URL")]
        url: String,
        /// Your user principal name.
        #[arg(long, required_unless_present = "client_id")]
        username: Option<String>,
        /// An application's client id: with --username, the user signs in through it
        /// (App+User, a public client); without, the application signs in alone (App-only).
        #[arg(long)]
        client_id: Option<String>,
        /// Read the password from standard input (else ROSTER_PASSWORD, else a prompt that
        /// does not echo).
        #[arg(long, conflicts_with = "client_secret_stdin")]
        password_stdin: bool,
        /// Read the application's secret from standard input (else ROSTER_CLIENT_SECRET,
        /// else a prompt that does not echo). The secret is never saved: an application's
        /// login lasts as long as its token.
        #[arg(long, requires = "client_id", conflicts_with = "username")]
        client_secret_stdin: bool,
        #[command(flatten)]
        common: client::Common,
    },
    /// Forget the saved login (Disconnect-PartnerCenter).
    ///
    /// Example: roster logout --profile staging
    Logout {
        #[command(flatten)]
        common: client::Common,
    },
    /// Who the saved login is, on which server (Get-PartnerContext).
    ///
    /// Example: roster whoami
    Whoami {
        #[command(flatten)]
        common: client::Common,
    },
    /// The partner's customers.
    Customer {
        #[command(subcommand)]
        command: client::CustomerCommand,
        #[command(flatten)]
        common: client::Common,
    },
    /// A customer's users.
    #[command(name = "customer-user")]
    CustomerUser {
        #[command(subcommand)]
        command: client::CustomerUserCommand,
        #[command(flatten)]
        common: client::Common,
    },
    /// The users of your own account (Get-PartnerUser).
    #[command(name = "partner-user")]
    PartnerUser {
        #[command(subcommand)]
        command: account::PartnerUserCommand,
        #[command(flatten)]
        common: client::Common,
    },
    /// Invite outside people to your account, with roles they get once they accept.
    ///
    /// Example: roster invite "ann@outside.example; bob@outside.example" --role "Helpdesk agent"
    Invite {
        #[command(flatten)]
        args: account::InviteArgs,
        #[command(flatten)]
        common: client::Common,
    },
    /// The invitations sent: list, resend, withdraw.
    Invitation {
        #[command(subcommand)]
        command: account::InvitationCommand,
        #[command(flatten)]
        common: client::Common,
    },
    /// Delegated admin relationships with a customer (granular delegated admin privileges).
    Relationship {
        #[command(subcommand)]
        command: account::RelationshipCommand,
        #[command(flatten)]
        common: client::Common,
    },
    /// The audit log (Get-PartnerAuditRecord).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
        #[command(flatten)]
        common: client::Common,
    },
    /// Shell completions.
    ///
    /// Example: roster completions bash > /etc/bash_completion.d/roster
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        shell: clap_complete::Shell,
    },
    /// A customer's directory roles and their members.
    #[command(name = "directory-role")]
    DirectoryRole {
        #[command(subcommand)]
        command: client::DirectoryRoleCommand,
        #[command(flatten)]
        common: client::Common,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Records from a date (RFC 3339 or YYYY-MM-DD) up to another (default: now), newest
    /// first.
    ///
    /// Example: roster audit list --from 2026-11-01 --to 2026-12-01
    List {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// List the keys (ids and ages; never the secrets).
    List(DatabaseArgs),
    /// Make a new signing key; the old ones keep verifying for 24 hours.
    Rotate {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Remove every other key now: all tokens signed so far stop working (for a leak).
        #[arg(long)]
        revoke_old: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ROSTER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("roster: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The client commands exit with the code of their failure's class (docs/CLI.md).
    let done = |r: Result<(), client::Failure>| {
        r.map_or_else(client::Failure::exit, |()| ExitCode::SUCCESS)
    };
    match cli.command {
        Command::Login {
            url,
            username,
            client_id,
            password_stdin,
            client_secret_stdin,
            common,
        } => done(runtime.block_on(client::login(
            &common,
            client::LoginArgs {
                url,
                username,
                client_id,
                password_stdin,
                client_secret_stdin,
            },
        ))),
        Command::Logout { common } => done(client::logout(&common)),
        Command::Whoami { common } => done(runtime.block_on(client::whoami(&common))),
        Command::Customer { command, common } => {
            done(runtime.block_on(client::customer(&common, command)))
        }
        Command::CustomerUser { command, common } => {
            done(runtime.block_on(client::customer_user(&common, command)))
        }
        Command::DirectoryRole { command, common } => {
            done(runtime.block_on(client::directory_role(&common, command)))
        }
        Command::PartnerUser { command, common } => {
            done(runtime.block_on(account::partner_user(&common, command)))
        }
        Command::Invite { args, common } => done(runtime.block_on(account::invite(&common, args))),
        Command::Invitation { command, common } => {
            done(runtime.block_on(account::invitation(&common, command)))
        }
        Command::Relationship { command, common } => {
            done(runtime.block_on(account::relationship(&common, command)))
        }
        Command::Audit {
            command: AuditCommand::List { from, to },
            common,
        } => done(runtime.block_on(account::audit(&common, &from, to.as_deref()))),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "roster", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        other => admin(runtime, other),
    }
}

/// The server and its admin commands.
fn admin(runtime: tokio::runtime::Runtime, command: Command) -> ExitCode {
    let result = runtime.block_on(async {
        match command {
            Command::Serve(args) => serve(*args).await,
            Command::Migrate(db) => migrate(&db).await,
            Command::Backup { db, to } => backup(&db, &to).await,
            Command::Keys {
                command: KeysCommand::List(db),
            } => list_keys(&db).await,
            Command::Keys {
                command: KeysCommand::Rotate { db, revoke_old },
            } => rotate_keys(&db, revoke_old).await,
            Command::Login { .. }
            | Command::Logout { .. }
            | Command::Whoami { .. }
            | Command::Customer { .. }
            | Command::CustomerUser { .. }
            | Command::DirectoryRole { .. }
            | Command::Completions { .. }
            | Command::PartnerUser { .. }
            | Command::Invite { .. }
            | Command::Invitation { .. }
            | Command::Relationship { .. }
            | Command::Audit { .. } => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roster: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let password = std::env::var("ROSTER_BOOTSTRAP_ADMIN_PASSWORD").ok();
    let config = Config::resolve(&args, password)?;
    tracing::debug!(?config, "configuration");
    if config.smtp.is_some() && config.mail_from == roster_service::mail::Sender::default() {
        tracing::warn!(
            "mail goes out over SMTP from {}; most servers refuse that sender: set mail_from",
            roster_service::mail::FROM
        );
    }
    let opened = startup::open(Options {
        data_dir: config.data_dir.clone(),
        database_url: config.database_url.clone(),
        partner_domain: config.partner_domain.clone(),
        bootstrap_password: config.bootstrap_password.clone(),
        settings: Settings {
            soft_delete_retention: config.soft_delete_retention,
            hash_cost: config.hash_cost,
            smtp: config.smtp.clone(),
            mail_from: config.mail_from.clone(),
            public_base_url: config.public_url.clone(),
            extra_catalogue: config.extra_catalogue.clone(),
            limits: config.limits,
            ..Settings::default()
        },
        clock: Arc::new(SystemClock),
    })
    .await?;
    let signals = StopSignals::install()?;
    let listener = roster_server::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    if let Bootstrapped::Created {
        admin_upn,
        generated_password,
        ..
    } = &opened.bootstrapped
    {
        announce_first_start(
            admin_upn,
            generated_password.as_ref().map(|p| p.expose()),
            &addr.to_string(),
        );
    }
    tracing::info!(%addr, data_dir = %config.data_dir.display(), "roster is listening");
    let tls = match &config.tls {
        Some(files) => Some(Arc::new(
            roster_server::tls::Tls::load(files.clone()).map_err(anyhow::Error::msg)?,
        )),
        None => None,
    };
    #[cfg(unix)]
    if let Some(tls) = tls.clone() {
        reload_certificate_on_sighup(tls)?;
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("Roster is listening on {scheme}://{addr}");

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let maintenance = tokio::spawn(roster_server::maintenance_loop(
        opened.roster.clone(),
        config.purge_interval.to_std(),
        stopped(stop_rx.clone()),
    ));
    // The web portal beside the REST door, on the same port.
    let server = tokio::spawn(roster_server::serve_with(
        listener,
        opened.roster.clone(),
        roster_server::ServeOptions {
            timeouts: Timeouts::default(),
            metrics: config.metrics.clone(),
            tls,
        },
        roster_portal::router(opened.roster.clone()),
        stopped(stop_rx),
    ));
    signals.wait().await;
    tracing::info!("stop requested");
    let _ = stop_tx.send(true);
    let _ = server.await;
    let _ = maintenance.await;
    // The activity history gathers lines for a moment before it writes them.
    opened.roster.flush_activity().await;
    opened.roster.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Opens the database of `args` (migrating it), refusing to make a new SQLite file.
async fn open_database(args: &DatabaseArgs) -> anyhow::Result<startup::Database> {
    let config = Config::for_database(args)?;
    startup::Database::open(&config.data_dir, config.database_url.as_deref()).await
}

async fn migrate(args: &DatabaseArgs) -> anyhow::Result<()> {
    let config = Config::for_database(args)?;
    let (url, version) = startup::migrate(&config.data_dir, config.database_url.as_deref()).await?;
    println!(
        "The database {url} is at schema version {version} (this roster knows versions up to {}).",
        startup::SCHEMA_VERSION
    );
    Ok(())
}

async fn backup(args: &DatabaseArgs, to: &Path) -> anyhow::Result<()> {
    let database = open_database(args).await?;
    database.backup_to(to).await?;
    database.close().await;
    let size = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
    println!("Backed up the database to {} ({size} bytes).", to.display());
    Ok(())
}

async fn list_keys(args: &DatabaseArgs) -> anyhow::Result<()> {
    let database = open_database(args).await?;
    for (i, key) in database.signing_keys().await?.iter().enumerate() {
        let role = if i == 0 {
            "signs and verifies"
        } else {
            "verifies until 24 h after the next key"
        };
        println!("{}  made {}  {role}", key.id, key.created_at);
    }
    database.close().await;
    Ok(())
}

async fn rotate_keys(args: &DatabaseArgs, revoke_old: bool) -> anyhow::Result<()> {
    let database = open_database(args).await?;
    let rotated = database.rotate_keys(&SystemClock, revoke_old).await?;
    println!(
        "New signing key {}: servers sign with it from their next key reload.",
        rotated.new_key
    );
    if revoke_old {
        println!(
            "Removed {} old key(s): every token signed before stopped working.",
            rotated.revoked
        );
    }
    database.close().await;
    Ok(())
}

/// Printed once, on standard output, on the first start: the only time the generated
/// password is ever shown.
fn announce_first_start(upn: &str, generated: Option<&str>, addr: &str) {
    println!("Roster set up a new partner. Its administrator is {upn}.");
    match generated {
        Some(password) => {
            println!("The administrator's password is: {password}");
            println!("It is shown this once and stored nowhere: keep it now.");
        }
        None => {
            println!("The administrator's password is the one given in ROSTER_BOOTSTRAP_ADMIN_PASSWORD (or its file).")
        }
    }
    println!("Sign in: curl -s http://{addr}/oauth2/token -d grant_type=password -d username={upn} --data-urlencode 'password=...'");
}

/// SIGHUP reads the certificate and key again (a renewed certificate, without a restart).
#[cfg(unix)]
fn reload_certificate_on_sighup(tls: Arc<roster_server::tls::Tls>) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            match tls.reload() {
                Ok(()) => tracing::info!("read the TLS certificate again"),
                Err(e) => tracing::error!(error = %e, "kept the TLS certificate served so far"),
            }
        }
    });
    Ok(())
}

/// SIGTERM and Ctrl-C, listened for from the moment this is made: a signal that arrives
/// once the server said it listens must stop it gracefully, not kill it.
struct StopSignals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Self {
                terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
                interrupt: signal(SignalKind::interrupt()).context("cannot listen for Ctrl-C")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.terminate.recv() => {},
            _ = self.interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// The commands of the server's host, which say what they do without a client example.
    const HOST: [&str; 4] = ["serve", "migrate", "backup", "keys"];

    fn leaves(c: &clap::Command, path: String, out: &mut Vec<(String, String)>) {
        let subs: Vec<&clap::Command> = c
            .get_subcommands()
            .filter(|s| s.get_name() != "help")
            .collect();
        if subs.is_empty() {
            let about = c
                .get_long_about()
                .map(ToString::to_string)
                .unwrap_or_default();
            out.push((path.clone(), about));
        }
        for s in subs {
            leaves(s, format!("{path} {}", s.get_name()), out);
        }
    }

    #[test]
    fn every_client_command_has_an_example_in_its_help() {
        let cli = Cli::command();
        cli.clone().debug_assert();
        let mut all = Vec::new();
        for top in cli
            .get_subcommands()
            .filter(|s| !HOST.contains(&s.get_name()))
        {
            leaves(top, format!("roster {}", top.get_name()), &mut all);
        }
        assert!(all.len() > 40, "{all:?}");
        for (path, about) in &all {
            assert!(
                about.contains(&format!("Example: {path}")),
                "{path}: no example in its help: {about}"
            );
        }
        let help = cli
            .get_after_help()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(help.contains("3 when not signed in"), "{help}");
    }
}
