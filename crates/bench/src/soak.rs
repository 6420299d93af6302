//! The soak (`--soak`): the mixed workload on many keep-alive connections from 127.0.0.1 for
//! minutes, against a server with its default rate limits, beside a flood of wrong-password
//! sign-ins from other addresses of the loopback range (127.0.0.2 …), one legitimate
//! sign-in every few seconds, and the server's memory sampled every 10 s.
//!
//! Every answer is counted by its status. Under that load 2xx, 429 (a rate limit) and 503
//! (a full queue) are what the server may answer, and for the flood a 400 `invalid_grant`;
//! anything else, another status or a transport failure, is "other", and the goal is none.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::header::RETRY_AFTER;
use reqwest::{Client, RequestBuilder};
use serde::Serialize;
use serde_json::Value;

use crate::progress::Progress;
use crate::server;
use crate::workloads::{self, percentile_ms, Fixture, Load, Sent, TaskState, Workload};

/// The connections of the mixed workload, unless --connections says otherwise.
pub const DEFAULT_CONNECTIONS: usize = 500;
/// Seconds of the soak, unless --duration says otherwise.
pub const DEFAULT_SECONDS: f64 = 300.0;
/// Customers seeded for the soak (× 1,000 users), unless --customers says otherwise.
pub const DEFAULT_CUSTOMERS: usize = 100;
/// The flood's connections (requests at once), unless --flood-connections says otherwise.
pub const DEFAULT_FLOOD_CONNECTIONS: usize = 32;
/// The flood's source addresses at most: 127.0.0.2 to 127.0.0.254 (the default).
pub const FLOOD_ADDRESSES: usize = 253;
/// How often a legitimate sign-in starts.
pub const SIGN_IN_EVERY: Duration = Duration::from_secs(2);
/// A legitimate sign-in refused with 429 or 503 tries again after `Retry-After` (at most
/// [`RETRY_AFTER_AT_MOST`]), up to this many attempts in all.
pub const SIGN_IN_ATTEMPTS: usize = 5;
const RETRY_AFTER_AT_MOST: Duration = Duration::from_secs(5);
/// How often the server's memory is sampled.
pub const MEMORY_EVERY: Duration = Duration::from_secs(10);

/// What the soak runs.
pub struct Options {
    pub connections: usize,
    pub duration: Duration,
    pub flood_connections: usize,
    /// How many of the [`FLOOD_ADDRESSES`] the flood sends from, from 127.0.0.2 on.
    pub flood_addresses: usize,
    pub admin: String,
    pub admin_password: String,
    pub users: u64,
    pub backend: &'static str,
}

/// What an answer counts as.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Class {
    /// What the request is for: a 2xx of the workload, a 400 `invalid_grant` of the flood,
    /// a token for the legitimate sign-in.
    Expected,
    /// 429 with `Retry-After`: a rate limit.
    TooMany,
    /// 503 with `Retry-After`: a full queue.
    Unavailable,
    /// Anything else: another status, a 429 or 503 without `Retry-After`, a transport
    /// failure.
    Other,
}

/// An answer, or the failure to get one.
#[derive(Debug, Default)]
pub struct Answer {
    pub status: Option<u16>,
    /// `Retry-After` in seconds, when the answer has one.
    pub retry_after: Option<u64>,
    pub body: Vec<u8>,
    /// The kind of transport failure (`timeout`, `connect`, `body`, `request`) and its
    /// message.
    pub failure: Option<(&'static str, String)>,
}

impl Answer {
    /// The start of the body, or the failure's message: a sample for the report.
    fn describe(&self, label: &str) -> String {
        match &self.failure {
            Some((_, message)) => format!("{label}: {message}"),
            None => {
                let text = String::from_utf8_lossy(&self.body);
                let cut: String = text.chars().take(300).collect();
                format!("{label}: {cut}")
            }
        }
    }

    /// The `error` of a JSON body (OAuth's error code).
    fn oauth_error(&self) -> Option<String> {
        let body: Value = serde_json::from_slice(&self.body).ok()?;
        Some(body.get("error")?.as_str()?.to_string())
    }
}

/// Sends `request` and reads the whole answer (so that the connection is reused).
async fn exchange(request: RequestBuilder) -> Answer {
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return failed(&e),
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok()?.trim().parse().ok());
    match response.bytes().await {
        Ok(body) => Answer {
            status: Some(status),
            retry_after,
            body: body.into(),
            failure: None,
        },
        Err(e) => Answer {
            status: Some(status),
            ..failed(&e)
        },
    }
}

fn failed(e: &reqwest::Error) -> Answer {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    };
    Answer {
        failure: Some((kind, with_causes(e))),
        ..Answer::default()
    }
}

/// An error and its causes, `outer: inner: innermost` (reqwest's own message leaves them
/// out: "error sending request for url").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// A 429 or 503 is the server's refusal only with `Retry-After`; the rest is left to
/// `expected`.
fn classify(answer: &Answer, expected: impl FnOnce(u16) -> Option<String>) -> (String, Class) {
    if let Some((kind, _)) = &answer.failure {
        return (format!("transport: {kind}"), Class::Other);
    }
    let Some(status) = answer.status else {
        return ("transport: no answer".to_string(), Class::Other);
    };
    match (status, answer.retry_after.is_some()) {
        (429, true) => ("429".to_string(), Class::TooMany),
        (503, true) => ("503".to_string(), Class::Unavailable),
        (429 | 503, false) => (format!("{status} without Retry-After"), Class::Other),
        _ => match expected(status) {
            Some(label) => (label, Class::Expected),
            None => (status.to_string(), Class::Other),
        },
    }
}

/// An answer to a request of the workload: any 2xx is what it asked for.
pub fn classify_api(answer: &Answer) -> (String, Class) {
    classify(answer, |s| (200..300).contains(&s).then(|| s.to_string()))
}

/// An answer to a wrong password: 400 `invalid_grant` is the refusal asked for.
pub fn classify_flood(answer: &Answer) -> (String, Class) {
    let (label, class) = classify(answer, |s| {
        (s == 400 && answer.oauth_error().as_deref() == Some("invalid_grant"))
            .then(|| "400 invalid_grant".to_string())
    });
    match (class, answer.status) {
        (Class::Other, Some(400)) => (
            format!(
                "400 {}",
                answer
                    .oauth_error()
                    .unwrap_or_else(|| "(no error code)".to_string())
            ),
            Class::Other,
        ),
        _ => (label, class),
    }
}

/// An answer to the right password: a 200 with an access token.
pub fn classify_sign_in(answer: &Answer) -> (String, Class) {
    let token = || {
        serde_json::from_slice::<Value>(&answer.body)
            .ok()
            .and_then(|b| b.get("access_token")?.as_str().map(str::to_string))
            .is_some_and(|t| !t.is_empty())
    };
    let (label, class) = classify(answer, |s| (s == 200 && token()).then(|| "200".to_string()));
    match (class, answer.status) {
        (Class::Other, Some(200)) => ("200 without access_token".to_string(), Class::Other),
        _ => (label, class),
    }
}

/// Answers counted by class, and by label (a status, or a kind of transport failure).
#[derive(Default, Debug, Clone, PartialEq)]
pub struct Tally {
    pub answers: u64,
    pub expected: u64,
    pub too_many: u64,
    pub unavailable: u64,
    pub other: u64,
    pub by_status: BTreeMap<String, u64>,
    /// The first few answers of class `Other`, described.
    pub samples: Vec<String>,
    /// The first answer of each label that is not of class `Expected`, described (what a
    /// 429 or a 503 said).
    pub examples: BTreeMap<String, String>,
}

/// Samples kept of the answers of class `Other`.
const SAMPLES: usize = 10;

impl Tally {
    /// Counts one answer; `describe` is called only for the first of each label not of
    /// class `Expected`, and the first few of class `Other`.
    pub fn add(&mut self, label: &str, class: Class, describe: impl FnOnce() -> String) {
        self.answers += 1;
        match class {
            Class::Expected => self.expected += 1,
            Class::TooMany => self.too_many += 1,
            Class::Unavailable => self.unavailable += 1,
            Class::Other => self.other += 1,
        }
        let example = class != Class::Expected && !self.examples.contains_key(label);
        let sample = class == Class::Other && self.samples.len() < SAMPLES;
        if example || sample {
            let described = describe();
            if sample {
                self.samples.push(described.clone());
            }
            if example {
                self.examples.insert(label.to_string(), described);
            }
        }
        match self.by_status.get_mut(label) {
            Some(n) => *n += 1,
            None => {
                self.by_status.insert(label.to_string(), 1);
            }
        }
    }

    pub fn merge(&mut self, other: Tally) {
        self.answers += other.answers;
        self.expected += other.expected;
        self.too_many += other.too_many;
        self.unavailable += other.unavailable;
        self.other += other.other;
        for (label, n) in other.by_status {
            *self.by_status.entry(label).or_default() += n;
        }
        for s in other.samples {
            if self.samples.len() < SAMPLES {
                self.samples.push(s);
            }
        }
        for (label, e) in other.examples {
            self.examples.entry(label).or_insert(e);
        }
    }
}

/// Counts by class, for the progress line and the series while the soak runs.
#[derive(Default, Debug)]
struct Counters([AtomicU64; 4]);

impl Counters {
    fn add(&self, class: Class) {
        let i = match class {
            Class::Expected => 0,
            Class::TooMany => 1,
            Class::Unavailable => 2,
            Class::Other => 3,
        };
        self.0[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Expected, 429, 503, other.
    fn get(&self) -> [u64; 4] {
        [0, 1, 2, 3].map(|i| self.0[i].load(Ordering::Relaxed))
    }
}

#[derive(Default, Debug)]
struct Live {
    mixed: Counters,
    flood: Counters,
    sign_ins: Counters,
    /// Sign-ins that got a token.
    signed_in: AtomicU64,
    rss: AtomicU64,
}

/// The server's memory at one moment of the soak, and the answers counted until then.
#[derive(Serialize, Debug, Clone, Default)]
pub struct MemorySample {
    pub seconds: f64,
    /// Resident memory now (`VmRSS`), its highest so far (`VmHWM`), and the resident memory
    /// in two parts: anonymous (`RssAnon`: heap and stacks) and file-backed (`RssFile`: the
    /// binary, SQLite's `mmap` of the database; the kernel's page cache). `None` when the
    /// harness did not start the server.
    pub vm_rss_bytes: Option<u64>,
    pub vm_hwm_bytes: Option<u64>,
    pub rss_anon_bytes: Option<u64>,
    pub rss_file_bytes: Option<u64>,
    /// Answers so far: the workload's 2xx, 429, 503, other; the flood's answers and its
    /// 429s; the legitimate sign-ins that got a token.
    pub mixed_2xx: u64,
    pub mixed_429: u64,
    pub mixed_503: u64,
    pub mixed_other: u64,
    pub flood_answers: u64,
    pub flood_429: u64,
    pub signed_in: u64,
}

impl MemorySample {
    /// Of the text of `/proc/<pid>/status` (`None`: unknown).
    pub fn with_status(seconds: f64, status: Option<&str>) -> Self {
        let field = |f: &str| status.and_then(|s| server::status_field_bytes(s, f));
        Self {
            seconds,
            vm_rss_bytes: field("VmRSS"),
            vm_hwm_bytes: field("VmHWM"),
            rss_anon_bytes: field("RssAnon"),
            rss_file_bytes: field("RssFile"),
            ..Self::default()
        }
    }
}

#[derive(Serialize, Debug)]
pub struct SoakReport {
    pub users: u64,
    pub backend: &'static str,
    pub connections: usize,
    pub flood_connections: usize,
    pub flood_addresses: String,
    pub rate_limits: &'static str,
    pub seconds: f64,
    pub mixed: MixedReport,
    pub flood: FloodReport,
    pub sign_ins: SignInReport,
    /// Every 10 s, from the start to the end.
    pub memory: Vec<MemorySample>,
    pub server_peak_rss_bytes: Option<u64>,
}

/// What one stream of answers had besides the expected ones: 429s, 503s and the others,
/// by status, with what the first of each said.
#[derive(Serialize, Debug)]
pub struct Refusals {
    pub too_many_429: u64,
    pub unavailable_503: u64,
    pub other: u64,
    pub by_status: BTreeMap<String, u64>,
    /// What the first answer of each status but the expected one said.
    pub examples: BTreeMap<String, String>,
    pub other_samples: Vec<String>,
}

impl From<&Tally> for Refusals {
    fn from(t: &Tally) -> Self {
        Self {
            too_many_429: t.too_many,
            unavailable_503: t.unavailable,
            other: t.other,
            by_status: t.by_status.clone(),
            examples: t.examples.clone(),
            other_samples: t.samples.clone(),
        }
    }
}

#[derive(Serialize, Debug)]
pub struct MixedReport {
    pub answers: u64,
    pub answers_per_sec: f64,
    pub ok_2xx: u64,
    pub ok_per_sec: f64,
    #[serde(flatten)]
    pub refusals: Refusals,
    /// Latencies of the 2xx answers: all of them, then the creates apart (each hashes a
    /// password, in the queue the flood fills) and the rest (reads, PATCH, DELETE).
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub creates_2xx: u64,
    pub create_p50_ms: f64,
    pub create_p99_ms: f64,
    pub rest_p50_ms: f64,
    pub rest_p99_ms: f64,
    /// Latencies of every answer (429s and 503s among them).
    pub all_p50_ms: f64,
    pub all_p99_ms: f64,
    pub all_max_ms: f64,
}

#[derive(Serialize, Debug)]
pub struct FloodReport {
    pub answers: u64,
    pub answers_per_sec: f64,
    pub invalid_grant_400: u64,
    #[serde(flatten)]
    pub refusals: Refusals,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Serialize, Debug)]
pub struct SignInReport {
    pub every_seconds: f64,
    pub max_attempts: usize,
    /// Sign-ins started; those that got a token (after how many attempts: attempts → how
    /// many), those that had none after the last attempt (or a refusal that is no 429 or
    /// 503), and those the end of the soak cut short.
    pub sign_ins: u64,
    pub signed_in: u64,
    pub by_attempts: BTreeMap<usize, u64>,
    pub gave_up: u64,
    pub cut_short: u64,
    /// From the first attempt to the token, waiting and retries included, of those that got
    /// one.
    pub time_to_token_p50_ms: f64,
    pub time_to_token_p99_ms: f64,
    pub time_to_token_max_ms: f64,
    /// The attempts, counted by answer.
    pub attempts: u64,
    pub attempts_signed_in: u64,
    #[serde(flatten)]
    pub refusals: Refusals,
    /// Latencies of the attempts that got a token.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The slowest attempt of all, refused ones among them.
    pub all_max_ms: f64,
}

/// What the legitimate sign-ins bring back.
#[derive(Default)]
struct SignIns {
    attempts: TaskOutcome,
    /// Microseconds from the first attempt to the token, and the attempts it took.
    signed_in: Vec<(u32, usize)>,
    gave_up: u64,
    cut_short: u64,
}

impl SoakReport {
    /// Answers that are none of 2xx, 429, 503 (and 400 `invalid_grant` for the flood).
    pub fn other(&self) -> u64 {
        self.mixed.refusals.other + self.flood.refusals.other + self.sign_ins.refusals.other
    }

    pub fn other_samples(&self) -> impl Iterator<Item = String> + '_ {
        self.mixed
            .refusals
            .other_samples
            .iter()
            .map(|s| format!("mixed: {s}"))
            .chain(
                self.flood
                    .refusals
                    .other_samples
                    .iter()
                    .map(|s| format!("flood: {s}")),
            )
            .chain(
                self.sign_ins
                    .refusals
                    .other_samples
                    .iter()
                    .map(|s| format!("sign-in: {s}")),
            )
    }
}

/// The clients of flood task `task` of `tasks`: indexes of the `addresses` it sends from,
/// in turn. Every address has one task; with more tasks than addresses, some share one.
pub fn addresses_of_task(task: usize, tasks: usize, addresses: usize) -> Vec<usize> {
    if addresses == 0 {
        return Vec::new();
    }
    let own: Vec<usize> = (task..addresses).step_by(tasks.max(1)).collect();
    if own.is_empty() {
        vec![task % addresses]
    } else {
        own
    }
}

/// The flood's `k`-th source address: 127.0.0.2, 127.0.0.3, … (k < 253).
pub fn flood_address(k: usize) -> Ipv4Addr {
    let last = u8::try_from(k + 2).unwrap_or(254).min(254);
    Ipv4Addr::new(127, 0, 0, last)
}

/// A client with one keep-alive connection from `address` (dropped after
/// [`workloads::IDLE_CONNECTION`] unused, as [`workloads::client`]'s).
fn client_from(address: Ipv4Addr) -> anyhow::Result<Client> {
    Ok(Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .pool_idle_timeout(workloads::IDLE_CONNECTION)
        .local_address(IpAddr::V4(address))
        .timeout(Duration::from_secs(60))
        .build()?)
}

fn password_grant(client: &Client, base: &str, user: &str, password: &str) -> RequestBuilder {
    client.post(format!("{base}/oauth2/token")).form(&[
        ("grant_type", "password"),
        ("username", user),
        ("password", password),
    ])
}

/// What one task of the soak brings back.
#[derive(Default)]
struct TaskOutcome {
    tally: Tally,
    /// Microseconds, of every answer and of the expected ones; of those, the ones that
    /// hashed a password (the workload's creates).
    all: Vec<u32>,
    expected: Vec<u32>,
    hashed: Vec<u32>,
}

impl TaskOutcome {
    fn count(&mut self, answer: &Answer, (label, class): (String, Class), micros: u32) {
        self.all.push(micros);
        if class == Class::Expected {
            self.expected.push(micros);
        }
        self.tally.add(&label, class, || answer.describe(&label));
    }

    fn merge(&mut self, other: TaskOutcome) {
        self.tally.merge(other.tally);
        self.all.extend(other.all);
        self.expected.extend(other.expected);
        self.hashed.extend(other.hashed);
    }

    fn sort(&mut self) {
        self.all.sort_unstable();
        self.expected.sort_unstable();
        self.hashed.sort_unstable();
    }

    /// The expected answers' latencies that did not hash, sorted (after [`Self::sort`]).
    fn unhashed(&self) -> Vec<u32> {
        let mut rest = Vec::with_capacity(self.expected.len());
        let mut hashed = self.hashed.iter().peekable();
        for &x in &self.expected {
            if hashed.peek() == Some(&&x) {
                hashed.next();
            } else {
                rest.push(x);
            }
        }
        rest
    }
}

fn micros_since(t0: Instant) -> u32 {
    u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX)
}

/// One connection of the mixed workload.
async fn mixed_task(mut state: TaskState, deadline: Instant, live: Arc<Live>) -> TaskOutcome {
    let mut out = TaskOutcome {
        all: Vec::with_capacity(16 * 1024),
        expected: Vec::with_capacity(16 * 1024),
        ..TaskOutcome::default()
    };
    while Instant::now() < deadline {
        let (request, sent) = state.next();
        let t0 = Instant::now();
        let answer = exchange(request).await;
        let micros = micros_since(t0);
        let classified = classify_api(&answer);
        live.mixed.add(classified.1);
        if classified.1 == Class::Expected {
            if matches!(sent, Sent::Created(_)) {
                out.hashed.push(micros);
            }
            state.follow_up(sent, &answer.body);
        }
        out.count(&answer, classified, micros);
    }
    out
}

/// One connection's worth of the flood: wrong passwords for user names no account has, a
/// new name every time (no name is tried twice, so no lockout is reached), from each of its
/// source addresses in turn, back to back, never waiting for `Retry-After`.
async fn flood_task(
    clients: Vec<Client>,
    base: String,
    name: String,
    deadline: Instant,
    live: Arc<Live>,
) -> TaskOutcome {
    let mut out = TaskOutcome::default();
    let mut n = 0u64;
    'flood: loop {
        for client in &clients {
            if Instant::now() >= deadline {
                break 'flood;
            }
            n += 1;
            let user = format!("{name}-{n}@partner.local");
            let password = format!("Wrong-Pa55word-{n}");
            let t0 = Instant::now();
            let answer = exchange(password_grant(client, &base, &user, &password)).await;
            let micros = micros_since(t0);
            let classified = classify_flood(&answer);
            live.flood.add(classified.1);
            out.count(&answer, classified, micros);
        }
    }
    out
}

/// The administrator signing in with the right password from 127.0.0.1, a sign-in every
/// [`SIGN_IN_EVERY`] (or right after the one before, when it took longer), as a client
/// does: refused with 429 or 503, it tries again after `Retry-After`, up to
/// [`SIGN_IN_ATTEMPTS`] attempts (none after the end of the soak).
async fn sign_in_task(
    base: String,
    admin: String,
    password: String,
    deadline: Instant,
    live: Arc<Live>,
) -> anyhow::Result<SignIns> {
    let client = workloads::client()?;
    let mut out = SignIns::default();
    let mut every = tokio::time::interval(SIGN_IN_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if Instant::now() >= deadline {
            break;
        }
        let t0 = Instant::now();
        for attempt in 1..=SIGN_IN_ATTEMPTS {
            let ta = Instant::now();
            let answer = exchange(password_grant(&client, &base, &admin, &password)).await;
            let micros = micros_since(ta);
            let classified = classify_sign_in(&answer);
            let class = classified.1;
            live.sign_ins.add(class);
            out.attempts.count(&answer, classified, micros);
            match class {
                Class::Expected => {
                    out.signed_in.push((micros_since(t0), attempt));
                    live.signed_in.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Class::TooMany | Class::Unavailable if attempt < SIGN_IN_ATTEMPTS => {
                    let wait = Duration::from_secs(answer.retry_after.unwrap_or(1))
                        .min(RETRY_AFTER_AT_MOST);
                    if Instant::now() + wait >= deadline {
                        out.cut_short += 1;
                        break;
                    }
                    tokio::time::sleep(wait).await;
                }
                _ => {
                    out.gave_up += 1;
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// The server's memory every [`MEMORY_EVERY`] from the start to the deadline (the last
/// sample at the deadline), with the answers counted until then.
async fn sample_memory(
    pid: Option<u32>,
    started: Instant,
    deadline: Instant,
    live: Arc<Live>,
) -> Vec<MemorySample> {
    let mut samples = Vec::new();
    let mut k = 0u32;
    loop {
        let status = pid.and_then(server::read_status);
        let mut s = MemorySample::with_status(started.elapsed().as_secs_f64(), status.as_deref());
        let [m2xx, m429, m503, mother] = live.mixed.get();
        let flood = live.flood.get();
        (s.mixed_2xx, s.mixed_429, s.mixed_503, s.mixed_other) = (m2xx, m429, m503, mother);
        s.flood_answers = flood.iter().sum();
        s.flood_429 = flood[1];
        s.signed_in = live.signed_in.load(Ordering::Relaxed);
        if let Some(rss) = s.vm_rss_bytes {
            live.rss.store(rss, Ordering::Relaxed);
        }
        samples.push(s);
        if Instant::now() >= deadline {
            break;
        }
        k += 1;
        let next = (started + MEMORY_EVERY * k).min(deadline);
        tokio::time::sleep_until(next.into()).await;
    }
    samples
}

/// Runs the soak on the server of `fixture` (the one the harness started when
/// `fixture.server_pid` is set).
pub async fn run(fixture: Arc<Fixture>, options: &Options) -> anyhow::Result<SoakReport> {
    anyhow::ensure!(
        !fixture.population.users.is_empty(),
        "there are no users to work on"
    );
    let host = reqwest::Url::parse(&fixture.base)?
        .host_str()
        .unwrap_or_default()
        .to_string();
    anyhow::ensure!(
        host == "127.0.0.1" || host == "localhost",
        "--soak floods from 127.0.0.2 … 127.0.0.254: the server must listen on 127.0.0.1 (it is at {host})"
    );
    let live = Arc::new(Live::default());
    let started = Instant::now();
    let deadline = started + options.duration;

    let memory = tokio::spawn(sample_memory(
        fixture.server_pid,
        started,
        deadline,
        Arc::clone(&live),
    ));
    let mut mixed = Vec::with_capacity(options.connections);
    for task in 0..options.connections {
        let state = TaskState::new(
            Load::Work(Workload::Mixed),
            Arc::clone(&fixture),
            task,
            options.connections,
        )?;
        mixed.push(tokio::spawn(mixed_task(state, deadline, Arc::clone(&live))));
    }
    let addresses = options.flood_addresses.clamp(1, FLOOD_ADDRESSES);
    let clients: Vec<Client> = (0..addresses)
        .map(|k| client_from(flood_address(k)))
        .collect::<anyhow::Result<_>>()?;
    let mut flood = Vec::with_capacity(options.flood_connections);
    for task in 0..options.flood_connections {
        let own = addresses_of_task(task, options.flood_connections, addresses)
            .into_iter()
            .map(|k| clients[k].clone())
            .collect();
        flood.push(tokio::spawn(flood_task(
            own,
            fixture.base.clone(),
            format!("flood-{}-{task}", fixture.run),
            deadline,
            Arc::clone(&live),
        )));
    }
    let sign_ins = tokio::spawn(sign_in_task(
        fixture.base.clone(),
        options.admin.clone(),
        options.admin_password.clone(),
        deadline,
        Arc::clone(&live),
    ));

    let mut progress = Progress::new("soak");
    let watcher = {
        let live = Arc::clone(&live);
        let total = options.duration.as_secs_f64();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let t = started.elapsed().as_secs_f64();
                let [ok, too_many, unavailable, other] = live.mixed.get();
                let f = live.flood.get();
                let s = live.sign_ins.get();
                let signed_in = live.signed_in.load(Ordering::Relaxed);
                progress.show(
                    t / total,
                    &format!(
                        "{:.0}/{total:.0} s; mixed 2xx {ok}, 429 {too_many}, 503 {unavailable}, other {other}; flood {} (429 {}, 503 {}, other {}); signed in {signed_in} ({} of {} attempts); RSS {:.0} MiB",
                        t.min(total),
                        f.iter().sum::<u64>(),
                        f[1],
                        f[2],
                        f[3],
                        s[0],
                        s.iter().sum::<u64>(),
                        live.rss.load(Ordering::Relaxed) as f64 / MIB
                    ),
                );
            }
        })
    };

    let mut m = TaskOutcome::default();
    for t in mixed {
        m.merge(t.await.context("a task of the mixed workload failed")?);
    }
    let mut f = TaskOutcome::default();
    for t in flood {
        f.merge(t.await.context("a task of the flood failed")?);
    }
    let mut sign_ins = sign_ins.await.context("the sign-in task failed")??;
    let seconds = started.elapsed().as_secs_f64();
    let memory = memory.await.context("the memory sampler failed")?;
    watcher.abort();
    let peak = fixture
        .server_pid
        .and_then(server::read_status)
        .and_then(|st| server::status_field_bytes(&st, "VmHWM"));
    m.sort();
    f.sort();
    sign_ins.attempts.sort();
    let rest = m.unhashed();
    let mut to_token: Vec<u32> = sign_ins.signed_in.iter().map(|&(t, _)| t).collect();
    to_token.sort_unstable();
    let mut by_attempts = BTreeMap::new();
    for &(_, n) in &sign_ins.signed_in {
        *by_attempts.entry(n).or_default() += 1;
    }
    let s = &sign_ins.attempts;
    Progress::new("soak").done(&format!(
        "{} answers of the mixed workload, {} of the flood, {} sign-in attempts in {seconds:.1} s",
        m.tally.answers, f.tally.answers, s.tally.answers
    ));

    let per_sec = |n: u64| {
        if seconds > 0.0 {
            n as f64 / seconds
        } else {
            0.0
        }
    };
    let max = |v: &[u32]| v.last().map_or(0.0, |&x| f64::from(x) / 1000.0);
    Ok(SoakReport {
        users: options.users,
        backend: options.backend,
        connections: options.connections,
        flood_connections: options.flood_connections,
        flood_addresses: format!(
            "{} addresses, {}-{}",
            addresses,
            flood_address(0),
            flood_address(addresses - 1)
        ),
        rate_limits: "the server's defaults",
        seconds,
        mixed: MixedReport {
            answers: m.tally.answers,
            answers_per_sec: per_sec(m.tally.answers),
            ok_2xx: m.tally.expected,
            ok_per_sec: per_sec(m.tally.expected),
            p50_ms: percentile_ms(&m.expected, 0.50),
            p90_ms: percentile_ms(&m.expected, 0.90),
            p99_ms: percentile_ms(&m.expected, 0.99),
            p999_ms: percentile_ms(&m.expected, 0.999),
            max_ms: max(&m.expected),
            creates_2xx: m.hashed.len() as u64,
            create_p50_ms: percentile_ms(&m.hashed, 0.50),
            create_p99_ms: percentile_ms(&m.hashed, 0.99),
            rest_p50_ms: percentile_ms(&rest, 0.50),
            rest_p99_ms: percentile_ms(&rest, 0.99),
            all_p50_ms: percentile_ms(&m.all, 0.50),
            all_p99_ms: percentile_ms(&m.all, 0.99),
            all_max_ms: max(&m.all),
            refusals: Refusals::from(&m.tally),
        },
        flood: FloodReport {
            answers: f.tally.answers,
            answers_per_sec: per_sec(f.tally.answers),
            invalid_grant_400: f.tally.expected,
            p50_ms: percentile_ms(&f.all, 0.50),
            p99_ms: percentile_ms(&f.all, 0.99),
            max_ms: max(&f.all),
            refusals: Refusals::from(&f.tally),
        },
        sign_ins: SignInReport {
            every_seconds: SIGN_IN_EVERY.as_secs_f64(),
            max_attempts: SIGN_IN_ATTEMPTS,
            sign_ins: sign_ins.signed_in.len() as u64 + sign_ins.gave_up + sign_ins.cut_short,
            signed_in: sign_ins.signed_in.len() as u64,
            by_attempts,
            gave_up: sign_ins.gave_up,
            cut_short: sign_ins.cut_short,
            time_to_token_p50_ms: percentile_ms(&to_token, 0.50),
            time_to_token_p99_ms: percentile_ms(&to_token, 0.99),
            time_to_token_max_ms: max(&to_token),
            attempts: s.tally.answers,
            attempts_signed_in: s.tally.expected,
            p50_ms: percentile_ms(&s.expected, 0.50),
            p99_ms: percentile_ms(&s.expected, 0.99),
            max_ms: max(&s.expected),
            all_max_ms: max(&s.all),
            refusals: Refusals::from(&s.tally),
        },
        memory,
        server_peak_rss_bytes: peak,
    })
}

const MIB: f64 = 1024.0 * 1024.0;

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "-".to_string(), |b| format!("{:.1}", b as f64 / MIB))
}

fn statuses(by_status: &BTreeMap<String, u64>) -> String {
    by_status
        .iter()
        .map(|(label, n)| format!("{label}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the first 429, 503 and other answer said, on one line each.
fn examples(examples: &BTreeMap<String, String>) {
    for (label, said) in examples {
        let said = said.strip_prefix(&format!("{label}: ")).unwrap_or(said);
        let line: String = said.chars().take(150).collect();
        println!("    the first {label} said: {line}");
    }
}

fn share(n: u64, of: u64) -> String {
    if of == 0 {
        return "-".to_string();
    }
    format!("{:.1} %", n as f64 * 100.0 / of as f64)
}

/// The report on the terminal.
pub fn print(r: &SoakReport) {
    let (m, f, s) = (&r.mixed, &r.flood, &r.sign_ins);
    println!();
    println!(
        "roster-bench --soak: {} users on {}, {:.0} s, the server's default rate limits",
        r.users, r.backend, r.seconds
    );
    println!();
    println!(
        "mixed workload: {} keep-alive connections from 127.0.0.1",
        r.connections
    );
    println!(
        "  answers        {:>10}  {:>9.1}/s",
        m.answers, m.answers_per_sec
    );
    println!(
        "  2xx            {:>10}  {:>9.1}/s  {:>7}",
        m.ok_2xx,
        m.ok_per_sec,
        share(m.ok_2xx, m.answers)
    );
    println!(
        "  429            {:>10}  {:>9.1}/s  {:>7}",
        m.refusals.too_many_429,
        m.refusals.too_many_429 as f64 / r.seconds.max(f64::MIN_POSITIVE),
        share(m.refusals.too_many_429, m.answers)
    );
    println!(
        "  503            {:>10}  {:>9.1}/s  {:>7}",
        m.refusals.unavailable_503,
        m.refusals.unavailable_503 as f64 / r.seconds.max(f64::MIN_POSITIVE),
        share(m.refusals.unavailable_503, m.answers)
    );
    println!("  other          {:>10}", m.refusals.other);
    println!(
        "  latency of 2xx answers: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        m.p50_ms, m.p90_ms, m.p99_ms, m.p999_ms, m.max_ms
    );
    println!(
        "    creates ({}, each hashes a password): p50 {:.2} ms, p99 {:.2} ms; the rest: p50 {:.2} ms, p99 {:.2} ms",
        m.creates_2xx, m.create_p50_ms, m.create_p99_ms, m.rest_p50_ms, m.rest_p99_ms
    );
    println!(
        "  latency of all answers: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        m.all_p50_ms, m.all_p99_ms, m.all_max_ms
    );
    println!("  by status: {}", statuses(&m.refusals.by_status));
    examples(&m.refusals.examples);
    println!();
    println!(
        "sign-in flood: wrong passwords for unknown accounts, {} connections from {} (a new user name each time, no waiting for Retry-After)",
        r.flood_connections, r.flood_addresses
    );
    println!(
        "  answers        {:>10}  {:>9.1}/s",
        f.answers, f.answers_per_sec
    );
    println!(
        "  400 invalid_grant {:>7}  {:>9}   {:>7}",
        f.invalid_grant_400,
        "",
        share(f.invalid_grant_400, f.answers)
    );
    println!(
        "  429            {:>10}  {:>9}   {:>7}",
        f.refusals.too_many_429,
        "",
        share(f.refusals.too_many_429, f.answers)
    );
    println!(
        "  503            {:>10}  {:>9}   {:>7}",
        f.refusals.unavailable_503,
        "",
        share(f.refusals.unavailable_503, f.answers)
    );
    println!("  other          {:>10}", f.refusals.other);
    println!(
        "  latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        f.p50_ms, f.p99_ms, f.max_ms
    );
    println!("  by status: {}", statuses(&f.refusals.by_status));
    examples(&f.refusals.examples);
    println!();
    println!(
        "legitimate sign-ins: the administrator, right password, from 127.0.0.1, one every {:.0} s; refused 429 or 503, it tries again after Retry-After, {} attempts at most",
        s.every_seconds, s.max_attempts
    );
    let after: Vec<String> = s
        .by_attempts
        .iter()
        .map(|(n, k)| format!("{k} at attempt {n}"))
        .collect();
    println!(
        "  {} sign-ins: {} got a token ({}), {} none after {} attempts, {} cut short by the end",
        s.sign_ins,
        s.signed_in,
        after.join(", "),
        s.gave_up,
        s.max_attempts,
        s.cut_short
    );
    println!(
        "  time to the token (waits and retries included): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        s.time_to_token_p50_ms, s.time_to_token_p99_ms, s.time_to_token_max_ms
    );
    println!(
        "  {} attempts: {} signed in, {} refused 429, {} refused 503, {} other; a successful attempt took p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        s.attempts, s.attempts_signed_in, s.refusals.too_many_429, s.refusals.unavailable_503, s.refusals.other, s.p50_ms, s.p99_ms, s.max_ms
    );
    println!();
    println!(
        "server memory every {:.0} s (MiB), and the answers per second since the sample before:",
        MEMORY_EVERY.as_secs_f64()
    );
    println!(
        "{:>6} {:>8} {:>8} {:>8} {:>8} | {:>8} {:>8} {:>7} {:>6} | {:>8} {:>7} | {:>8}",
        "t s",
        "VmRSS",
        "VmHWM",
        "RssAnon",
        "RssFile",
        "2xx/s",
        "429/s",
        "503/s",
        "other",
        "flood/s",
        "429/s",
        "sign-ins"
    );
    let mut before: Option<&MemorySample> = None;
    for x in &r.memory {
        let rate = |now: u64, then: u64| match before {
            Some(b) if x.seconds > b.seconds => {
                format!("{:.0}", (now - then) as f64 / (x.seconds - b.seconds))
            }
            _ => "-".to_string(),
        };
        let b = before.cloned().unwrap_or_default();
        println!(
            "{:>6.0} {:>8} {:>8} {:>8} {:>8} | {:>8} {:>8} {:>7} {:>6} | {:>8} {:>7} | {:>8}",
            x.seconds,
            mib(x.vm_rss_bytes),
            mib(x.vm_hwm_bytes),
            mib(x.rss_anon_bytes),
            mib(x.rss_file_bytes),
            rate(x.mixed_2xx, b.mixed_2xx),
            rate(x.mixed_429, b.mixed_429),
            rate(x.mixed_503, b.mixed_503),
            x.mixed_other - b.mixed_other,
            rate(x.flood_answers, b.flood_answers),
            rate(x.flood_429, b.flood_429),
            x.signed_in
        );
        before = Some(x);
    }
    match r.server_peak_rss_bytes {
        Some(b) => println!(
            "server peak memory (VmHWM) at the end: {} MiB",
            mib(Some(b))
        ),
        None => println!("server memory: unknown (the harness did not start the server)"),
    }
    println!("(other: answers that are none of 2xx, 429, 503 (the flood: 400 invalid_grant), or a transport failure)");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, retry_after: bool, body: &str) -> Answer {
        Answer {
            status: Some(status),
            retry_after: retry_after.then_some(1),
            body: body.as_bytes().to_vec(),
            failure: None,
        }
    }

    fn failure(kind: &'static str) -> Answer {
        Answer {
            failure: Some((kind, "connection reset".to_string())),
            ..Answer::default()
        }
    }

    #[test]
    fn the_workload_counts_2xx_429_and_503_and_everything_else_as_other() {
        let c = |a: &Answer| classify_api(a);
        assert_eq!(
            c(&answer(200, false, "{}")),
            ("200".into(), Class::Expected)
        );
        assert_eq!(
            c(&answer(201, false, "{}")),
            ("201".into(), Class::Expected)
        );
        assert_eq!(c(&answer(204, false, "")), ("204".into(), Class::Expected));
        assert_eq!(c(&answer(429, true, "")), ("429".into(), Class::TooMany));
        assert_eq!(
            c(&answer(503, true, "")),
            ("503".into(), Class::Unavailable)
        );
        assert_eq!(
            c(&answer(429, false, "")),
            ("429 without Retry-After".into(), Class::Other)
        );
        assert_eq!(
            c(&answer(503, false, "")),
            ("503 without Retry-After".into(), Class::Other)
        );
        assert_eq!(c(&answer(404, false, "{}")), ("404".into(), Class::Other));
        assert_eq!(c(&answer(500, true, "")), ("500".into(), Class::Other));
        assert_eq!(
            c(&failure("timeout")),
            ("transport: timeout".into(), Class::Other)
        );
        assert_eq!(
            c(&Answer::default()),
            ("transport: no answer".into(), Class::Other)
        );
    }

    #[test]
    fn the_flood_expects_invalid_grant() {
        let c = |a: &Answer| classify_flood(a);
        assert_eq!(
            c(&answer(400, false, r#"{"error":"invalid_grant"}"#)),
            ("400 invalid_grant".into(), Class::Expected)
        );
        assert_eq!(
            c(&answer(400, false, r#"{"error":"invalid_request"}"#)),
            ("400 invalid_request".into(), Class::Other)
        );
        assert_eq!(
            c(&answer(400, false, "not json")),
            ("400 (no error code)".into(), Class::Other)
        );
        assert_eq!(c(&answer(429, true, "{}")), ("429".into(), Class::TooMany));
        assert_eq!(
            c(&answer(503, true, "{}")),
            ("503".into(), Class::Unavailable)
        );
        // A wrong password that signs in is the worst "other".
        assert_eq!(
            c(&answer(200, false, r#"{"access_token":"x"}"#)),
            ("200".into(), Class::Other)
        );
        assert_eq!(
            c(&failure("connect")),
            ("transport: connect".into(), Class::Other)
        );
    }

    #[test]
    fn a_legitimate_sign_in_needs_a_token() {
        let c = |a: &Answer| classify_sign_in(a);
        assert_eq!(
            c(&answer(
                200,
                false,
                r#"{"access_token":"eyJ","token_type":"Bearer"}"#
            )),
            ("200".into(), Class::Expected)
        );
        assert_eq!(
            c(&answer(200, false, r#"{"access_token":""}"#)),
            ("200 without access_token".into(), Class::Other)
        );
        assert_eq!(
            c(&answer(200, false, "")),
            ("200 without access_token".into(), Class::Other)
        );
        assert_eq!(
            c(&answer(400, false, r#"{"error":"invalid_grant"}"#)),
            ("400".into(), Class::Other)
        );
        assert_eq!(
            c(&answer(503, true, "")),
            ("503".into(), Class::Unavailable)
        );
    }

    #[test]
    fn the_tally_counts_by_class_and_label_and_keeps_a_few_samples() {
        let mut t = Tally::default();
        t.add("200", Class::Expected, || unreachable!());
        t.add("200", Class::Expected, || unreachable!());
        t.add("429", Class::TooMany, || "429: slow down".to_string());
        t.add("503", Class::Unavailable, || "503: busy".to_string());
        for i in 0..12 {
            t.add("404", Class::Other, || format!("404 number {i}"));
        }
        assert_eq!(t.answers, 16);
        assert_eq!(
            (t.expected, t.too_many, t.unavailable, t.other),
            (2, 1, 1, 12)
        );
        assert_eq!(t.by_status["200"], 2);
        assert_eq!(t.by_status["404"], 12);
        assert_eq!(t.samples.len(), SAMPLES);
        assert_eq!(t.samples[0], "404 number 0");
        // The first of each label but the expected ones, described once.
        assert_eq!(t.examples.len(), 3);
        assert_eq!(t.examples["404"], "404 number 0");
        assert_eq!(t.examples["429"], "429: slow down");
        t.add("429", Class::TooMany, || unreachable!());
        assert_eq!(t.too_many, 2);
        assert!(!t.samples.iter().any(|s| s.contains("slow down")));

        let mut u = Tally::default();
        u.add("200", Class::Expected, || unreachable!());
        u.add("transport: timeout", Class::Other, || "late".to_string());
        let mut both = u.clone();
        both.merge(t.clone());
        assert_eq!(both.answers, 19);
        assert_eq!((both.expected, both.other), (3, 13));
        assert_eq!(both.by_status["200"], 3);
        assert_eq!(both.by_status["transport: timeout"], 1);
        assert_eq!(both.samples.len(), SAMPLES);
        assert_eq!(both.samples[0], "late");
        assert_eq!(both.examples["transport: timeout"], "late");
        assert_eq!(both.examples["503"], "503: busy");

        let mut empty = Tally::default();
        empty.merge(Tally::default());
        assert_eq!(empty, Tally::default());
    }

    #[test]
    fn the_latencies_that_did_not_hash_are_the_rest() {
        let mut out = TaskOutcome {
            expected: vec![5, 1, 9, 3, 3, 7],
            hashed: vec![9, 3],
            ..TaskOutcome::default()
        };
        out.sort();
        assert_eq!(out.unhashed(), vec![1, 3, 5, 7]);
        out.hashed.clear();
        assert_eq!(out.unhashed(), vec![1, 3, 3, 5, 7, 9]);
    }

    #[test]
    fn an_error_is_told_with_its_causes() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("error sending request")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Outer(std::io::Error::other("connection reset by peer"));
        assert_eq!(
            with_causes(&e),
            "error sending request: connection reset by peer"
        );
        assert_eq!(with_causes(&e.0), "connection reset by peer");
    }

    #[test]
    fn every_address_has_one_flood_task() {
        let tasks = 32;
        let mut seen = vec![0; FLOOD_ADDRESSES];
        for t in 0..tasks {
            let own = addresses_of_task(t, tasks, FLOOD_ADDRESSES);
            assert!(!own.is_empty());
            for k in own {
                seen[k] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n == 1));
        // More tasks than addresses: each has one, some shared.
        assert_eq!(addresses_of_task(5, 8, 3), vec![2]);
        assert_eq!(addresses_of_task(1, 8, 3), vec![1]);
        assert_eq!(addresses_of_task(0, 1, 3), vec![0, 1, 2]);
        assert!(addresses_of_task(0, 4, 0).is_empty());
    }

    #[test]
    fn the_flood_addresses_are_127_0_0_2_to_254() {
        assert_eq!(flood_address(0), Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(
            flood_address(FLOOD_ADDRESSES - 1),
            Ipv4Addr::new(127, 0, 0, 254)
        );
        assert_eq!(flood_address(1000), Ipv4Addr::new(127, 0, 0, 254));
    }

    #[test]
    fn a_memory_sample_reads_the_four_figures() {
        let status =
            "VmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nRssAnon:\t   768 kB\nRssFile:\t   256 kB\n";
        let s = MemorySample::with_status(10.0, Some(status));
        assert_eq!(s.seconds, 10.0);
        assert_eq!(s.vm_rss_bytes, Some(1024 * 1024));
        assert_eq!(s.vm_hwm_bytes, Some(2048 * 1024));
        assert_eq!(s.rss_anon_bytes, Some(768 * 1024));
        assert_eq!(s.rss_file_bytes, Some(256 * 1024));
        let unknown = MemorySample::with_status(0.0, None);
        assert_eq!(unknown.vm_rss_bytes, None);
    }
}
