//! The report: a table on the terminal and JSON for tools, in the shape issue #6 fixed.

use serde::Serialize;

#[derive(Serialize, Debug)]
pub struct Report {
    pub ceilings: Ceilings,
    pub workloads: Vec<WorkloadReport>,
    pub server_peak_rss_bytes: u64,
    /// The most anonymous resident memory (`RssAnon`: heap, stacks) seen, sampled every
    /// 100 ms.
    pub server_peak_anon_bytes: u64,
    /// The most file-backed resident pages (`RssFile`: the binary, SQLite's `mmap` of the
    /// database; the kernel's page cache, shared and reclaimable) seen.
    pub server_peak_file_bytes: u64,
    pub database_bytes: u64,
    pub seed_seconds: f64,
    pub users: u64,
    pub backend: &'static str,
}

#[derive(Serialize, Debug)]
pub struct Ceilings {
    pub http_ops_per_sec: f64,
    pub hashes_per_sec: f64,
}

#[derive(Serialize, Debug)]
pub struct WorkloadReport {
    pub name: &'static str,
    pub ops_per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub errors: u64,
    /// Users created per second, for a workload whose requests create several (a bulk
    /// upload): the figure its ceiling ratio compares with the hashing ceiling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_per_sec: Option<f64>,
    pub ceiling_ratio: f64,
}

/// What the terminal shows besides the JSON's numbers.
pub struct Extras {
    pub http_ceiling: Option<WorkloadReport>,
    pub cold_start_seconds: Option<f64>,
    pub connections: usize,
    pub seconds: f64,
    pub hash_threads: usize,
    pub deep_page: usize,
    /// Per line of the table (the HTTP ceiling first): server and harness CPU µs per request.
    pub cpu_per_op: Vec<(Option<f64>, Option<f64>)>,
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn us(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.0}"))
}

fn row(w: &WorkloadReport, cpu: (Option<f64>, Option<f64>), ceiling: &str) -> String {
    format!(
        "{:<16} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>6} {:>7} {:>7} {:>6.1} % of {ceiling}",
        w.name,
        w.ops_per_sec,
        w.p50_ms,
        w.p90_ms,
        w.p99_ms,
        w.p999_ms,
        w.errors,
        us(cpu.0),
        us(cpu.1),
        w.ceiling_ratio * 100.0
    )
}

pub fn print(report: &Report, extras: &Extras) {
    println!();
    println!(
        "roster-bench: {} users on {}, {} connections, {:.0} s per workload",
        report.users, report.backend, extras.connections, extras.seconds
    );
    println!(
        "{:<16} {:>9} {:>8} {:>8} {:>8} {:>8} {:>6} {:>7} {:>7} {:>8}",
        "workload",
        "ops/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9ms",
        "errors",
        "srv µs",
        "cli µs",
        "of ceiling"
    );
    let cpu = |i: usize| extras.cpu_per_op.get(i).copied().unwrap_or((None, None));
    if let Some(h) = &extras.http_ceiling {
        println!("{}", row(h, cpu(0), "itself (HTTP ceiling: GET /healthz)"));
    }
    for (i, w) in report.workloads.iter().enumerate() {
        let ceiling = match w.rows_per_sec {
            Some(rows) => format!("hashing ({rows:.1} users created/s)"),
            None if w.name == "create_user" => "hashing".to_string(),
            None => "HTTP".to_string(),
        };
        let mut line = row(w, cpu(i + 1), &ceiling);
        if w.name == "list_deep_page" {
            line.push_str(&format!(" (page {})", extras.deep_page));
        }
        println!("{line}");
    }
    println!(
        "ceilings: HTTP {:.1} requests/s (GET /healthz); hashing {:.1} Argon2id hashes/s ({} threads, default cost)",
        report.ceilings.http_ops_per_sec, report.ceilings.hashes_per_sec, extras.hash_threads
    );
    match report.server_peak_rss_bytes {
        0 => println!("server peak memory: unknown (the harness did not start the server)"),
        b => println!(
            "server peak memory (VmHWM): {}; anonymous (RssAnon) {}, file-backed pages (RssFile) {}",
            mib(b),
            mib(report.server_peak_anon_bytes),
            mib(report.server_peak_file_bytes)
        ),
    }
    match report.database_bytes {
        0 => println!("database size: unknown (give --database-url)"),
        b => println!("database size on disk: {}", mib(b)),
    }
    if report.seed_seconds > 0.0 {
        println!(
            "seeding: {} users in {:.1} s ({:.0} users/s)",
            report.users,
            report.seed_seconds,
            report.users as f64 / report.seed_seconds
        );
    }
    println!("(srv µs, cli µs: CPU time of the server and of the harness per request)");
    if let Some(s) = extras.cold_start_seconds {
        println!("cold start to the first answered request: {:.3} s", s);
    }
}
