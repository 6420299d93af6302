//! `roster-bench`: seeds a database with N customers × M users, starts `roster serve` on it
//! (or targets a running server), drives each workload over HTTP/1.1 keep-alive with C
//! connections for T seconds, and reports throughput, latency percentiles and errors, each
//! against its ceiling measured in the same run (docs/BENCHMARKS.md). With `--soak`, it runs
//! the mixed workload for minutes against the server's default rate limits beside a sign-in
//! flood, and reports the answers by status and the server's memory over time.

mod progress;
mod report;
mod seed;
mod server;
mod soak;
mod workloads;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use roster_domain::password::Password;
use roster_service::startup::{self, Options};
use roster_service::{HashCost, Hasher, Settings, SystemClock};
use roster_store::{Backend, Store};
use serde_json::Value;

use crate::report::{Ceilings, Extras, Report, WorkloadReport};
use crate::seed::{Population, SeedCustomer, SeedUser};
use crate::workloads::{Fixture, Load, Measured, Workload};

/// The administrator's password on a database the harness creates.
const DEFAULT_ADMIN_PASSWORD: &str = "Roster-Bench-Pa55word!";
const PARTNER_DOMAIN: &str = "partner.local";

#[derive(Parser, Debug)]
#[command(
    name = "roster-bench",
    version,
    about = "Seeds a Roster database, drives the server over HTTP and reports throughput and latency against their ceilings"
)]
struct Args {
    /// A running server to measure instead of starting one (seeding it needs --database-url,
    /// the database it uses; or give --no-seed to work on the users it has).
    #[arg(long)]
    url: Option<String>,
    /// The database: sqlite://PATH or postgres://... (default: SQLite in the data directory).
    /// Give an empty database (or one seeded by an earlier run, with --no-seed).
    #[arg(long)]
    database_url: Option<String>,
    /// The server's data directory (default: a temporary directory, removed at the end).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The `roster` binary to start (default: the one next to this executable).
    #[arg(long)]
    server_binary: Option<PathBuf>,
    /// Customers to seed [default: 1000; 10 with --quick; 100 with --soak].
    #[arg(long)]
    customers: Option<usize>,
    /// Users per customer [default: 1000].
    #[arg(long)]
    users_per_customer: Option<usize>,
    /// Concurrent HTTP/1.1 keep-alive connections [default: 32; 500 with --soak].
    #[arg(long)]
    connections: Option<usize>,
    /// Seconds per workload [default: 20; 5 with --quick; 300 with --soak].
    #[arg(long)]
    duration: Option<f64>,
    /// A small run: 10 customers × 1,000 users, 5 s per workload.
    #[arg(long)]
    quick: bool,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Run only these workloads (repeat the flag or separate with commas); the ceilings
    /// always run.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Workload>,
    /// Seed nothing: work on the customers and users the database has (found through the API).
    #[arg(long)]
    no_seed: bool,
    /// The partner administrator to sign in as.
    #[arg(long, default_value = "admin@partner.local")]
    admin: String,
    /// Its password (on a database the harness creates, the one it is created with).
    #[arg(long, env = "ROSTER_BENCH_ADMIN_PASSWORD", default_value = DEFAULT_ADMIN_PASSWORD, hide_default_value = true)]
    admin_password: String,
    /// Exit 0 even when requests failed (by default any error fails the run).
    #[arg(long)]
    allow_errors: bool,
    /// The soak instead of the workloads: the mixed workload on 500 connections for 300 s
    /// against the server's default rate limits, beside a flood of wrong-password sign-ins
    /// from 127.0.0.2 … 127.0.0.254 and a legitimate sign-in every 2 s; reports the answers
    /// by status, the sign-ins' latency and the server's memory every 10 s.
    #[arg(long)]
    soak: bool,
    /// With --soak: the flood's connections, each sending from its share of the 253
    /// addresses in turn, back to back.
    #[arg(long, default_value_t = soak::DEFAULT_FLOOD_CONNECTIONS)]
    flood_connections: usize,
    /// With --soak: the flood's source addresses, from 127.0.0.2 on (1 to 253).
    #[arg(long, default_value_t = soak::FLOOD_ADDRESSES)]
    flood_addresses: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("roster-bench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("roster-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the whole benchmark; `false` when requests failed (and that is not allowed).
async fn run(args: Args) -> anyhow::Result<bool> {
    let customers = args.customers.unwrap_or(match (args.quick, args.soak) {
        (true, _) => 10,
        (false, true) => soak::DEFAULT_CUSTOMERS,
        (false, false) => 1000,
    });
    let per_customer = args.users_per_customer.unwrap_or(1000);
    let seconds = args.duration.unwrap_or(match (args.quick, args.soak) {
        (true, _) => 5.0,
        (false, true) => soak::DEFAULT_SECONDS,
        (false, false) => 20.0,
    });
    let connections = args.connections.unwrap_or(if args.soak {
        soak::DEFAULT_CONNECTIONS
    } else {
        32
    });
    anyhow::ensure!(seconds > 0.0, "--duration must be positive");
    anyhow::ensure!(connections > 0, "--connections must be at least 1");
    if args.soak {
        anyhow::ensure!(
            args.only.is_empty(),
            "--soak runs the mixed workload only: leave out --only"
        );
        anyhow::ensure!(
            args.flood_connections > 0,
            "--flood-connections must be at least 1"
        );
        anyhow::ensure!(
            (1..=soak::FLOOD_ADDRESSES).contains(&args.flood_addresses),
            "--flood-addresses must be 1 to {}",
            soak::FLOOD_ADDRESSES
        );
    }
    let duration = Duration::from_secs_f64(seconds);
    let selected: Vec<Workload> = Workload::ALL
        .into_iter()
        .filter(|w| args.only.is_empty() || args.only.contains(w))
        .collect();
    if args.url.is_some() && args.database_url.is_none() && !args.no_seed {
        bail!("--url: give --database-url (the server's database) to seed it, or --no-seed to work on the users it has");
    }
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();

    // The database, seeded, and the server on it.
    let temp = tempfile::tempdir()?;
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| temp.path().join("data"));
    let database_url = match &args.url {
        Some(_) => args.database_url.clone(),
        None => Some(startup::database_url(
            &data_dir,
            args.database_url.as_deref(),
        )),
    };
    let backend = match &database_url {
        Some(url) => Backend::of_url(url)?,
        None => Backend::Sqlite,
    };
    let mut population = Population::default();
    let mut seed_seconds = 0.0;
    if !args.no_seed {
        let url = database_url.clone().context("no database to seed")?;
        let store = if args.url.is_some() {
            Store::open(&url)
                .await
                .with_context(|| format!("cannot open {}", roster_store::redact_url(&url)))?
        } else {
            // As `roster serve` opens it: schema, signing key, partner and administrator.
            let opened = startup::open(Options {
                data_dir: data_dir.clone(),
                database_url: args.database_url.clone(),
                partner_domain: PARTNER_DOMAIN.into(),
                bootstrap_password: Some(args.admin_password.clone()),
                settings: Settings::default(),
                clock: Arc::new(SystemClock),
            })
            .await?;
            opened.roster.store().clone()
        };
        let partner = store
            .read_job(|db| db.first_partner())
            .await?
            .context("the database has no partner: start roster serve on it once")?
            .0;
        let hasher = Hasher::new(HashCost::default())?;
        let hash = hasher.hash(&Password::new(seed::SEED_PASSWORD)).await?;
        let (seeded, secs) =
            seed::seed(&store, partner, customers, per_customer, &hash, &run_id).await?;
        population = seeded;
        seed_seconds = secs;
        store.close().await;
    }
    let server = match &args.url {
        Some(_) => None,
        None => {
            let binary = match &args.server_binary {
                Some(b) => b.clone(),
                None => std::env::current_exe()?.with_file_name("roster"),
            };
            let log = temp.path().join("server.log");
            let server = server::start(
                &binary,
                &data_dir,
                args.database_url.as_deref(),
                &args.admin_password,
                if args.soak {
                    server::RateLimits::Defaults
                } else {
                    server::RateLimits::Off
                },
                log,
            )
            .await?;
            eprintln!(
                "server: {} answered {:.3} s after its start",
                server.base,
                server.cold_start.as_secs_f64()
            );
            Some(server)
        }
    };
    let base = match (&args.url, &server) {
        (Some(url), _) => url.trim_end_matches('/').to_string(),
        (None, Some(s)) => s.base.clone(),
        (None, None) => bail!("no server"),
    };

    // Sign in, and find what the workloads address.
    let client = workloads::client()?;
    let token = sign_in(&client, &base, &args.admin, &args.admin_password).await?;
    let authorization = format!("Bearer {token}");
    if args.no_seed {
        population = discover(&client, &base, &authorization, customers).await?;
    }
    let users = population.users.len() as u64;
    let deep_depth = if args.no_seed {
        50
    } else {
        per_customer.div_ceil(100)
    };
    let (deep, deep_page) = if selected.contains(&Workload::ListDeepPage) && !args.soak {
        deep_tokens(&client, &base, &authorization, &population, deep_depth).await?
    } else {
        (Vec::new(), 0)
    };
    let fixture = Arc::new(Fixture {
        base: base.clone(),
        authorization,
        population,
        deep,
        run: run_id,
        server_pid: server.as_ref().map(server::Server::pid),
    });
    if args.soak {
        let options = soak::Options {
            connections,
            duration,
            flood_connections: args.flood_connections,
            flood_addresses: args.flood_addresses,
            admin: args.admin.clone(),
            admin_password: args.admin_password.clone(),
            users,
            backend: backend.as_str(),
        };
        return run_soak(&args, fixture, &options, server).await;
    }

    let memory = server.as_ref().map(server::Server::watch_memory);
    // The HTTP ceiling, then the workloads.
    let ceiling =
        workloads::run(Load::Healthz, Arc::clone(&fixture), connections, duration).await?;
    let http_ops_per_sec = ceiling.per_second();
    let mut results = Vec::new();
    let mut costs = vec![cpu_per_op(&ceiling)];
    let mut samples = Vec::new();
    // The hashing ceiling right before and right after each workload bound by it (or at the
    // end), while the server is idle: on a shared machine the load of others changes from
    // minute to minute, and the mean of the two is nearer to what the workload had.
    let hash_threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut hash_ceilings = Vec::new();
    for w in &selected {
        let hash_bound = w.hashes_per_request() > 0;
        let before = if hash_bound {
            hashing_ceiling(hash_threads, seconds.min(5.0)).await?
        } else {
            0.0
        };
        let m = workloads::run(
            Load::Work(*w),
            Arc::clone(&fixture),
            w.connections(connections),
            duration,
        )
        .await?;
        let against = if hash_bound {
            // Measured right before and right after, and the mean taken; against it, the
            // passwords hashed per second (one a user created).
            let after = hashing_ceiling(hash_threads, seconds.min(5.0)).await?;
            let mean = (before + after) / 2.0;
            hash_ceilings.push(mean);
            mean / w.hashes_per_request() as f64
        } else {
            http_ops_per_sec
        };
        for s in &m.error_samples {
            samples.push(format!("{}: {s}", w.name()));
        }
        costs.push(cpu_per_op(&m));
        let mut report = workload_report(w.name(), &m, against);
        if w.hashes_per_request() > 1 {
            report.rows_per_sec = Some(report.ops_per_sec * w.hashes_per_request() as f64);
        }
        results.push(report);
    }

    let hashes_per_sec = if hash_ceilings.is_empty() {
        hashing_ceiling(hash_threads, seconds.min(5.0)).await?
    } else {
        hash_ceilings.iter().sum::<f64>() / hash_ceilings.len() as f64
    };

    // What the server and the database weigh.
    let peak = server
        .as_ref()
        .and_then(server::Server::peak_rss_bytes)
        .unwrap_or(0);
    let (peak_anon, peak_file) = memory.map_or((0, 0), |m| {
        (
            m.anon.load(std::sync::atomic::Ordering::Relaxed),
            m.file.load(std::sync::atomic::Ordering::Relaxed),
        )
    });
    let database_bytes = match (&database_url, backend) {
        (Some(url), Backend::Sqlite) => server::sqlite_path(url)
            .map(|p| server::sqlite_bytes(&p))
            .unwrap_or(0),
        (Some(url), Backend::Postgres) => {
            let store = Store::open(url).await?;
            let bytes = store.database_bytes().await?;
            store.close().await;
            u64::try_from(bytes).unwrap_or(0)
        }
        (None, _) => 0,
    };
    let cold_start = server.as_ref().map(|s| s.cold_start.as_secs_f64());
    if let Some(s) = server {
        s.stop().await?;
    }

    let report = Report {
        ceilings: Ceilings {
            http_ops_per_sec,
            hashes_per_sec,
        },
        workloads: results,
        server_peak_rss_bytes: peak,
        server_peak_anon_bytes: peak_anon,
        server_peak_file_bytes: peak_file,
        database_bytes,
        seed_seconds,
        users,
        backend: backend.as_str(),
    };
    report::print(
        &report,
        &Extras {
            http_ceiling: Some(workload_report("healthz", &ceiling, http_ops_per_sec)),
            cold_start_seconds: cold_start,
            connections,
            seconds,
            hash_threads,
            deep_page,
            cpu_per_op: costs,
        },
    );
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let errors: u64 = report.workloads.iter().map(|w| w.errors).sum::<u64>() + ceiling.errors;
    if errors > 0 {
        eprintln!("roster-bench: {errors} requests failed; the first ones:");
        for s in samples.iter().chain(&ceiling.error_samples).take(10) {
            eprintln!("  {s}");
        }
        return Ok(args.allow_errors);
    }
    Ok(true)
}

/// The soak on the server it started (if any), which it stops at the end; `false` when
/// answers other than 2xx, 429 and 503 (and the flood's 400) came (and that is not allowed).
async fn run_soak(
    args: &Args,
    fixture: Arc<Fixture>,
    options: &soak::Options,
    server: Option<server::Server>,
) -> anyhow::Result<bool> {
    eprintln!(
        "soak: the mixed workload on {} connections for {:.0} s, a sign-in flood on {} connections from {} addresses, the server's default rate limits",
        options.connections,
        options.duration.as_secs_f64(),
        options.flood_connections,
        options.flood_addresses
    );
    let report = soak::run(fixture, options).await;
    if let Some(s) = server {
        s.stop().await?;
    }
    let report = report?;
    soak::print(&report);
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let other = report.other();
    if other > 0 {
        eprintln!("roster-bench: {other} answers were none of 2xx, 429, 503 (and the flood's 400 invalid_grant); the first ones:");
        for s in report.other_samples().take(10) {
            eprintln!("  {s}");
        }
        return Ok(args.allow_errors);
    }
    Ok(true)
}

/// Microseconds of server and harness CPU per request: comparable across runs on a busy
/// machine, where requests per second are not.
fn cpu_per_op(m: &Measured) -> (Option<f64>, Option<f64>) {
    let per = |cpu: Option<f64>| {
        cpu.filter(|_| m.requests > 0)
            .map(|c| c * 1e6 / m.requests as f64)
    };
    (per(m.server_cpu), per(m.harness_cpu))
}

fn workload_report(name: &'static str, m: &Measured, ceiling: f64) -> WorkloadReport {
    let ops = m.per_second();
    WorkloadReport {
        name,
        ops_per_sec: ops,
        p50_ms: m.percentile_ms(0.50),
        p90_ms: m.percentile_ms(0.90),
        p99_ms: m.percentile_ms(0.99),
        p999_ms: m.percentile_ms(0.999),
        errors: m.errors,
        rows_per_sec: None,
        ceiling_ratio: if ceiling > 0.0 { ops / ceiling } else { 0.0 },
    }
}

/// Argon2id hashes per second at the default cost, on `threads` threads at once, through
/// the service's own hasher (the blocking pool the server hashes on).
async fn hashing_ceiling(threads: usize, seconds: f64) -> anyhow::Result<f64> {
    let hasher = Hasher::new(HashCost::default())?;
    let password = Password::new(workloads::CREATE_PASSWORD);
    let mut progress = progress::Progress::new("hashing ceiling");
    progress.show(0.0, &format!("{seconds:.0} s on {threads} threads"));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds.max(1.0));
    let mut tasks = Vec::new();
    for _ in 0..threads {
        let (hasher, password) = (hasher.clone(), password.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                hasher.hash(&password).await?;
                n += 1;
            }
            Ok::<u64, roster_service::ServiceError>(n)
        }));
    }
    let mut hashes = 0;
    for t in tasks {
        hashes += t.await??;
    }
    let per_second = hashes as f64 / started.elapsed().as_secs_f64();
    progress.done(&format!(
        "{per_second:.1} Argon2id hashes/s on {threads} threads"
    ));
    Ok(per_second)
}

async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> anyhow::Result<String> {
    let response = client
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .context("cannot reach the token endpoint")?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match body.get("access_token").and_then(Value::as_str) {
        Some(token) if status.is_success() => Ok(token.to_string()),
        _ => bail!("cannot sign in as {user} ({status}): {body}"),
    }
}

/// GET `path` as JSON, with a continuation token if given; fails on anything but 2xx.
async fn get_json(
    client: &reqwest::Client,
    base: &str,
    authorization: &str,
    path: &str,
    continuation: Option<&str>,
) -> anyhow::Result<Value> {
    let mut request = client
        .get(format!("{base}{path}"))
        .header("Authorization", authorization);
    if let Some(token) = continuation {
        request = request.header("MS-ContinuationToken", token);
    }
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("GET {path}: {status}: {body}");
    }
    Ok(body)
}

/// The continuation token of a list answer, if there is a next page.
fn continuation(page: &Value) -> Option<String> {
    page.get("continuationToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// Without seeding: up to `max_customers` customers of the partner, and the first 500
/// users of each of the first 100 of them.
async fn discover(
    client: &reqwest::Client,
    base: &str,
    authorization: &str,
    max_customers: usize,
) -> anyhow::Result<Population> {
    let mut population = Population::default();
    let mut token: Option<String> = None;
    loop {
        let path = match token {
            None => "/v1/customers?size=500".to_string(),
            Some(_) => "/v1/customers?seekOperation=Next".to_string(),
        };
        let page = get_json(client, base, authorization, &path, token.as_deref()).await?;
        for item in page["items"].as_array().into_iter().flatten() {
            let (Some(id), Some(domain)) = (
                item["id"].as_str().and_then(|s| s.parse().ok()),
                item["companyProfile"]["domain"].as_str(),
            ) else {
                continue;
            };
            population.customers.push(SeedCustomer {
                id,
                domain: domain.to_string(),
            });
        }
        token = continuation(&page);
        if token.is_none() || population.customers.len() >= max_customers {
            break;
        }
    }
    population.customers.truncate(max_customers);
    for (i, c) in population.customers.iter().enumerate().take(100) {
        let path = format!("/v1/customers/{}/users?size=500", c.id);
        let page = get_json(client, base, authorization, &path, None).await?;
        for item in page["items"].as_array().into_iter().flatten() {
            if let Some(id) = item["id"].as_str().and_then(|s| s.parse().ok()) {
                population.users.push(SeedUser {
                    customer: u32::try_from(i)?,
                    id,
                });
            }
        }
    }
    eprintln!(
        "found {} customers and {} of their users",
        population.customers.len(),
        population.users.len()
    );
    Ok(population)
}

/// For up to 16 customers spread over all, the continuation token that leads to page
/// `depth` of 100 users (or to the last page, if a customer has fewer): the setup of
/// list_deep_page. Returns the tokens and the shallowest page they reach.
async fn deep_tokens(
    client: &reqwest::Client,
    base: &str,
    authorization: &str,
    population: &Population,
    depth: usize,
) -> anyhow::Result<(Vec<(usize, String)>, usize)> {
    let customers = population.customers.len();
    let want = customers.min(16);
    let mut tokens = Vec::new();
    let mut reached = usize::MAX;
    for k in 0..want {
        let c = k * customers / want;
        let path = format!(
            "/v1/customers/{}/users?size=100",
            population.customers[c].id
        );
        let first = get_json(client, base, authorization, &path, None).await?;
        let Some(mut token) = continuation(&first) else {
            continue;
        };
        // `token` leads to page `page + 1`.
        let mut page = 1;
        while page + 1 < depth {
            let path = format!(
                "/v1/customers/{}/users?seekOperation=Next",
                population.customers[c].id
            );
            let next = get_json(client, base, authorization, &path, Some(&token)).await?;
            match continuation(&next) {
                Some(t) => token = t,
                None => break,
            }
            page += 1;
        }
        reached = reached.min(page + 1);
        tokens.push((c, token));
    }
    let reached = if tokens.is_empty() { 0 } else { reached };
    Ok((tokens, reached))
}
