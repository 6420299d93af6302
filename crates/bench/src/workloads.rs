//! The workloads: C tasks, each with one HTTP/1.1 keep-alive connection of its own, send
//! requests back to back for T seconds. Every request's latency is kept (in microseconds)
//! for the percentiles; any answer but a 2xx, and any transport failure, is an error.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Client, Method, RequestBuilder};
use serde_json::{json, Value};

use crate::progress::Progress;
use crate::seed::{Population, SeedCustomer, SeedUser};

/// The password of the users the create workloads make: Argon2id at the server's cost.
pub const CREATE_PASSWORD: &str = "Tq7#vLm2xR-9wKd";
/// The rows of one bulk upload: the most one upload may hold.
pub const BULK_ROWS: usize = 100;

#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Workload {
    #[value(name = "get_user")]
    GetUser,
    #[value(name = "list_first_page")]
    ListFirstPage,
    #[value(name = "list_deep_page")]
    ListDeepPage,
    #[value(name = "patch_user")]
    PatchUser,
    #[value(name = "create_user")]
    CreateUser,
    #[value(name = "bulk_upload")]
    BulkUpload,
    #[value(name = "delete_restore")]
    DeleteRestore,
    #[value(name = "mixed")]
    Mixed,
}

impl Workload {
    /// In the order they run: reads before writes, so that the reads see the seeded data.
    pub const ALL: [Workload; 8] = [
        Self::GetUser,
        Self::ListFirstPage,
        Self::ListDeepPage,
        Self::PatchUser,
        Self::CreateUser,
        Self::BulkUpload,
        Self::DeleteRestore,
        Self::Mixed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::GetUser => "get_user",
            Self::ListFirstPage => "list_first_page",
            Self::ListDeepPage => "list_deep_page",
            Self::PatchUser => "patch_user",
            Self::CreateUser => "create_user",
            Self::BulkUpload => "bulk_upload",
            Self::DeleteRestore => "delete_restore",
            Self::Mixed => "mixed",
        }
    }

    /// Users created, and so passwords hashed, by one request.
    pub fn hashes_per_request(self) -> usize {
        match self {
            Self::CreateUser => 1,
            Self::BulkUpload => BULK_ROWS,
            _ => 0,
        }
    }

    /// The connections this workload runs on, at most `connections`: an upload is a
    /// person's file of up to 100 users that keeps every hashing thread busy for a second
    /// or more, so two at once measure what one upload takes and fill the hashing threads;
    /// 32 would only queue behind each other.
    pub fn connections(self, connections: usize) -> usize {
        match self {
            Self::BulkUpload => connections.min(2),
            _ => connections,
        }
    }
}

/// What one run of requests measures: a workload, or the HTTP ceiling.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Load {
    Healthz,
    Work(Workload),
}

impl Load {
    pub fn name(self) -> &'static str {
        match self {
            Self::Healthz => "healthz",
            Self::Work(w) => w.name(),
        }
    }
}

/// The server and the data the workloads address.
pub struct Fixture {
    pub base: String,
    pub authorization: String,
    pub population: Population,
    /// Continuation tokens of a deep page: (customer index, token).
    pub deep: Vec<(usize, String)>,
    /// Unique to this run: the UPNs of created users carry it.
    pub run: String,
    /// The server the harness started, whose CPU time it reads.
    pub server_pid: Option<u32>,
}

/// CPU seconds (user and system) a process has used so far, from `/proc/<pid>/stat`.
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Linux counts in USER_HZ, which is 100 on every common platform.
    Some((utime + stime) / 100.0)
}

/// The outcome of one run of requests.
#[derive(Debug)]
pub struct Measured {
    pub requests: u64,
    pub seconds: f64,
    /// Latencies in microseconds, sorted.
    pub latencies: Vec<u32>,
    pub errors: u64,
    /// The first few errors, for the report.
    pub error_samples: Vec<String>,
    /// CPU seconds the server and the harness used meanwhile (when known).
    pub server_cpu: Option<f64>,
    pub harness_cpu: Option<f64>,
}

impl Measured {
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.requests as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// The latency at quantile `q` (0..1), in milliseconds.
    pub fn percentile_ms(&self, q: f64) -> f64 {
        percentile_ms(&self.latencies, q)
    }
}

/// The latency at quantile `q` (0..1) of `sorted` latencies in microseconds, in
/// milliseconds (0 when there are none).
pub fn percentile_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted.len()) - 1;
    f64::from(sorted[i]) / 1000.0
}

/// A keep-alive connection unused for this long is closed, not used again: the server
/// closes one idle for 10 s (its header timeout, which also runs between requests) without
/// a word, and a request sent at that moment gets no answer; the soak's first run lost two
/// sign-ins of the flood so.
pub const IDLE_CONNECTION: Duration = Duration::from_secs(5);

/// One client per task, so that each task has exactly one keep-alive connection.
pub fn client() -> anyhow::Result<Client> {
    Ok(Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .pool_idle_timeout(IDLE_CONNECTION)
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// Runs `load` with `connections` tasks for `duration`.
pub async fn run(
    load: Load,
    fixture: Arc<Fixture>,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Measured> {
    if load == Load::Work(Workload::ListDeepPage) && fixture.deep.is_empty() {
        bail!("no customer has more than one page of users: list_deep_page needs one");
    }
    if fixture.population.users.is_empty() && load != Load::Healthz {
        bail!("there are no users to work on");
    }
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let server_pid = fixture.server_pid.map(|p| p.to_string());
    let server_cpu = server_pid.as_deref().and_then(cpu_seconds);
    let harness_cpu = cpu_seconds("self");
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(connections);
    for task in 0..connections {
        let state = TaskState::new(load, Arc::clone(&fixture), task, connections)?;
        tasks.push(tokio::spawn(state.run(
            deadline,
            Arc::clone(&done),
            Arc::clone(&failed),
        )));
    }
    let mut progress = Progress::new(load.name());
    let watcher = {
        let (done, failed) = (Arc::clone(&done), Arc::clone(&failed));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                progress.show(
                    started.elapsed().as_secs_f64() / duration.as_secs_f64(),
                    &format!(
                        "{:.0}/{:.0} s, {} requests, {} errors",
                        started.elapsed().as_secs_f64().min(duration.as_secs_f64()),
                        duration.as_secs_f64(),
                        done.load(Ordering::Relaxed),
                        failed.load(Ordering::Relaxed)
                    ),
                );
            }
        })
    };
    let mut measured = Measured {
        requests: 0,
        seconds: 0.0,
        latencies: Vec::new(),
        errors: 0,
        error_samples: Vec::new(),
        server_cpu: None,
        harness_cpu: None,
    };
    let mut outcome = Ok(());
    for t in tasks {
        match t.await.context("a load task failed")? {
            Ok(r) => {
                measured.requests += r.latencies.len() as u64;
                measured.latencies.extend(r.latencies);
                measured.errors += r.errors;
                for s in r.error_samples {
                    if measured.error_samples.len() < 5 {
                        measured.error_samples.push(s);
                    }
                }
            }
            Err(e) => outcome = Err(e),
        }
    }
    measured.seconds = started.elapsed().as_secs_f64();
    measured.server_cpu = match (server_pid.as_deref().and_then(cpu_seconds), server_cpu) {
        (Some(after), Some(before)) => Some(after - before),
        _ => None,
    };
    measured.harness_cpu = cpu_seconds("self")
        .zip(harness_cpu)
        .map(|(after, before)| after - before);
    watcher.abort();
    outcome?;
    measured.latencies.sort_unstable();
    Progress::new(load.name()).done(&format!(
        "{} requests in {:.1} s, {} errors",
        measured.requests, measured.seconds, measured.errors
    ));
    Ok(measured)
}

struct TaskResult {
    latencies: Vec<u32>,
    errors: u64,
    error_samples: Vec<String>,
}

/// What a request was, so that its answer can be followed up.
pub(crate) enum Sent {
    Plain,
    /// A user was created in this customer.
    Created(u32),
    /// This user was deleted (and must be restored).
    Deleted(SeedUser),
    /// This user was restored.
    Restored,
}

/// One task's requests: what it sends next, and what it remembers of the answers.
pub(crate) struct TaskState {
    load: Load,
    fixture: Arc<Fixture>,
    client: Client,
    rng: StdRng,
    task: usize,
    tasks: usize,
    n: u64,
    /// The next of this task's own users (those whose index ≡ task mod tasks) to delete.
    next_own: usize,
    /// A user this task deleted and must restore.
    to_restore: Option<SeedUser>,
    /// Users this task created (mixed deletes only these, so that it never deletes a user
    /// another task is about to edit).
    created: Vec<SeedUser>,
    write_toggle: bool,
}

impl TaskState {
    pub(crate) fn new(
        load: Load,
        fixture: Arc<Fixture>,
        task: usize,
        tasks: usize,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            load,
            fixture,
            client: client()?,
            rng: StdRng::seed_from_u64(0x5eed ^ (task as u64)),
            task,
            tasks,
            n: 0,
            next_own: task,
            to_restore: None,
            created: Vec::new(),
            write_toggle: false,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.fixture.base)
    }

    fn customer(&self, index: u32) -> &SeedCustomer {
        &self.fixture.population.customers[index as usize]
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("Authorization", &self.fixture.authorization)
    }

    fn random_user(&mut self) -> SeedUser {
        let users = &self.fixture.population.users;
        users[self.rng.gen_range(0..users.len())]
    }

    fn get_user(&mut self) -> (RequestBuilder, Sent) {
        let u = self.random_user();
        let path = format!(
            "/v1/customers/{}/users/{}",
            self.customer(u.customer).id,
            u.id
        );
        (self.request(Method::GET, &path), Sent::Plain)
    }

    fn list_first_page(&mut self) -> (RequestBuilder, Sent) {
        let customers = self.fixture.population.customers.len();
        let c = self.rng.gen_range(0..customers);
        let path = format!(
            "/v1/customers/{}/users?size=100",
            self.fixture.population.customers[c].id
        );
        (self.request(Method::GET, &path), Sent::Plain)
    }

    fn list_deep_page(&mut self) -> (RequestBuilder, Sent) {
        let (c, token) = &self.fixture.deep[self.rng.gen_range(0..self.fixture.deep.len())];
        let path = format!(
            "/v1/customers/{}/users?seekOperation=Next",
            self.fixture.population.customers[*c].id
        );
        let request = self
            .request(Method::GET, &path)
            .header("MS-ContinuationToken", token.as_str());
        (request, Sent::Plain)
    }

    fn patch_user(&mut self) -> (RequestBuilder, Sent) {
        let u = self.random_user();
        let path = format!(
            "/v1/customers/{}/users/{}",
            self.customer(u.customer).id,
            u.id
        );
        let body = json!({
            "displayName": format!("Bench User {} {} {}", self.fixture.run, self.task, self.n),
        });
        (self.request(Method::PATCH, &path).json(&body), Sent::Plain)
    }

    fn create_user(&mut self) -> (RequestBuilder, Sent) {
        let customers = self.fixture.population.customers.len();
        let c = self.rng.gen_range(0..customers) as u32;
        let customer = self.customer(c);
        let path = format!("/v1/customers/{}/users", customer.id);
        let body = json!({
            // Unique across tasks, workloads and runs.
            "userPrincipalName": format!("new-{}-{}-{}-{}@{}", self.fixture.run, self.load.name(), self.task, self.n, customer.domain),
            "displayName": format!("New User {} {}", self.task, self.n),
            "firstName": "New",
            "lastName": format!("User {}", self.n),
            "usageLocation": "US",
            "passwordProfile": {"password": CREATE_PASSWORD, "forceChangePassword": false},
        });
        (
            self.request(Method::POST, &path).json(&body),
            Sent::Created(c),
        )
    }

    /// A file of 100 new users with generated addresses in one customer, each password
    /// generated by the server.
    fn bulk_upload(&mut self) -> (RequestBuilder, Sent) {
        let customers = self.fixture.population.customers.len();
        let c = self.rng.gen_range(0..customers) as u32;
        let customer = self.customer(c);
        let path = format!(
            "/v1/customers/{}/users/bulkupload?usageLocation=US",
            customer.id
        );
        let mut file = String::from("First name,Last name,Display name,Email,Status update\r\n");
        for i in 0..BULK_ROWS {
            file.push_str(&format!(
                "Bulk,User {i},Bulk User {} {} {i},bulk-{}-{}-{}-{i}@{},\r\n",
                self.task, self.n, self.fixture.run, self.task, self.n, customer.domain
            ));
        }
        let request = self
            .request(Method::POST, &path)
            .header("Content-Type", "text/csv")
            .body(file);
        (request, Sent::Plain)
    }

    fn delete(&mut self, u: SeedUser) -> (RequestBuilder, Sent) {
        let path = format!(
            "/v1/customers/{}/users/{}",
            self.customer(u.customer).id,
            u.id
        );
        (self.request(Method::DELETE, &path), Sent::Deleted(u))
    }

    fn restore(&mut self, u: SeedUser) -> (RequestBuilder, Sent) {
        let path = format!(
            "/v1/customers/{}/users/{}",
            self.customer(u.customer).id,
            u.id
        );
        let request = self
            .request(Method::PATCH, &path)
            .json(&json!({"state": "active"}));
        (request, Sent::Restored)
    }

    /// Delete one of this task's own users, then restore it, then the next.
    fn delete_restore(&mut self) -> (RequestBuilder, Sent) {
        if let Some(u) = self.to_restore {
            return self.restore(u);
        }
        let users = &self.fixture.population.users;
        if self.next_own >= users.len() {
            self.next_own = self.task % users.len();
        }
        let u = users[self.next_own];
        self.next_own += self.tasks;
        self.delete(u)
    }

    /// 80 % reads (70 % get, 10 % first page), 15 % PATCH, 5 % writes that alternate
    /// between a create and the delete of a user this task created.
    fn mixed(&mut self) -> (RequestBuilder, Sent) {
        let roll = self.rng.gen_range(0..100);
        if roll < 70 {
            self.get_user()
        } else if roll < 80 {
            self.list_first_page()
        } else if roll < 95 {
            self.patch_user()
        } else {
            self.write_toggle = !self.write_toggle;
            match self.created.pop() {
                Some(u) if !self.write_toggle => self.delete(u),
                Some(u) => {
                    self.created.push(u);
                    self.create_user()
                }
                None => self.create_user(),
            }
        }
    }

    /// The next request (not sent yet), and what it is.
    pub(crate) fn next(&mut self) -> (RequestBuilder, Sent) {
        self.n += 1;
        match self.load {
            Load::Healthz => (self.client.get(self.url("/healthz")), Sent::Plain),
            Load::Work(Workload::GetUser) => self.get_user(),
            Load::Work(Workload::ListFirstPage) => self.list_first_page(),
            Load::Work(Workload::ListDeepPage) => self.list_deep_page(),
            Load::Work(Workload::PatchUser) => self.patch_user(),
            Load::Work(Workload::CreateUser) => self.create_user(),
            Load::Work(Workload::BulkUpload) => self.bulk_upload(),
            Load::Work(Workload::DeleteRestore) => self.delete_restore(),
            Load::Work(Workload::Mixed) => self.mixed(),
        }
    }

    async fn run(
        mut self,
        deadline: Instant,
        done: Arc<AtomicU64>,
        failed: Arc<AtomicU64>,
    ) -> anyhow::Result<TaskResult> {
        let mut result = TaskResult {
            latencies: Vec::with_capacity(64 * 1024),
            errors: 0,
            error_samples: Vec::new(),
        };
        while Instant::now() < deadline {
            let (request, sent) = self.next();
            let t0 = Instant::now();
            let answer = send(request).await;
            let micros = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
            result.latencies.push(micros);
            done.fetch_add(1, Ordering::Relaxed);
            match answer {
                Ok(body) => self.follow_up(sent, body.as_ref()),
                Err(e) => {
                    result.errors += 1;
                    failed.fetch_add(1, Ordering::Relaxed);
                    if result.error_samples.len() < 5 {
                        result.error_samples.push(e);
                    }
                }
            }
        }
        // Leave no seeded user deleted: later workloads edit them.
        if let Some(u) = self.to_restore {
            let (request, _) = self.restore(u);
            if let Err(e) = send(request).await {
                result.errors += 1;
                result.error_samples.push(format!("(final restore) {e}"));
            }
        }
        Ok(result)
    }

    /// What a successful (2xx) answer to `sent` changes for the next requests.
    pub(crate) fn follow_up(&mut self, sent: Sent, body: &[u8]) {
        match sent {
            Sent::Plain => {}
            Sent::Deleted(u) => {
                if self.load == Load::Work(Workload::DeleteRestore) {
                    self.to_restore = Some(u);
                }
            }
            Sent::Restored => self.to_restore = None,
            Sent::Created(customer) => {
                if self.load == Load::Work(Workload::Mixed) {
                    let id = serde_json::from_slice::<Value>(body)
                        .ok()
                        .and_then(|v| v.get("id")?.as_str()?.parse().ok());
                    if let Some(id) = id {
                        self.created.push(SeedUser { customer, id });
                    }
                }
            }
        }
    }
}

/// Sends a request and reads the whole answer (so that the connection is reused); a
/// non-2xx answer or a failure is an error with a short description.
async fn send(request: RequestBuilder) -> Result<impl AsRef<[u8]>, String> {
    let response = request
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("reading the answer failed: {e}"))?;
    if status.is_success() {
        Ok(body)
    } else {
        let text = String::from_utf8_lossy(&body);
        let cut: String = text.chars().take(300).collect();
        Err(format!("{status}: {cut}"))
    }
}

#[cfg(test)]
mod tests {
    use super::percentile_ms;

    #[test]
    fn percentiles_take_the_rank_at_or_above_the_quantile() {
        let sorted: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile_ms(&sorted, 0.50), 50.0);
        assert_eq!(percentile_ms(&sorted, 0.99), 99.0);
        assert_eq!(percentile_ms(&sorted, 1.0), 100.0);
        assert_eq!(percentile_ms(&sorted, 0.0), 1.0);
        assert_eq!(percentile_ms(&[2500], 0.99), 2.5);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
    }
}
