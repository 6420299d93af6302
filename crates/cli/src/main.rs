//! `roster`: the server and its admin commands.

mod config;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use roster_server::startup::{self, Options};
use roster_server::Timeouts;
use roster_service::bootstrap::Bootstrapped;
use roster_service::{Settings, SystemClock};
use tokio::sync::watch;

use crate::config::{Config, ServeArgs};

#[derive(Parser)]
#[command(
    name = "roster",
    version,
    about = "User accounts for cloud resellers, wire-compatible with Partner Center"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (creates the data directory, database, key and admin on first start).
    Serve(ServeArgs),
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
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
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
    let opened = startup::open(Options {
        data_dir: config.data_dir.clone(),
        database_url: config.database_url.clone(),
        partner_domain: config.partner_domain.clone(),
        bootstrap_password: config.bootstrap_password.clone(),
        settings: Settings {
            soft_delete_retention: config.soft_delete_retention,
            hash_cost: config.hash_cost,
            ..Settings::default()
        },
        clock: Arc::new(SystemClock),
    })
    .await?;
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
    println!("Roster is listening on http://{addr}");

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let maintenance = tokio::spawn(roster_server::maintenance_loop(
        opened.roster.clone(),
        config.purge_interval.to_std(),
        stopped(stop_rx.clone()),
    ));
    let server = tokio::spawn(roster_server::serve(
        listener,
        opened.roster.clone(),
        Timeouts::default(),
        stopped(stop_rx),
    ));
    shutdown_signal().await;
    tracing::info!("stop requested");
    let _ = stop_tx.send(true);
    let _ = server.await;
    let _ = maintenance.await;
    opened.roster.store().close().await;
    tracing::info!("stopped");
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
            println!("The administrator's password is the one in ROSTER_BOOTSTRAP_ADMIN_PASSWORD.")
        }
    }
    println!("Sign in: curl -s http://{addr}/oauth2/token -d grant_type=password -d username={upn} --data-urlencode 'password=...'");
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
