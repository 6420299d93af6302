//! Argon2id hashing, off the async runtime, on a few threads of its own.
//!
//! Each hash takes `memory_kib` of memory (19 MiB by default). The hashes run on
//! [`Hasher::threads`] long-lived threads (one per core), not on tokio's blocking pool:
//! glibc gives each thread that allocates a malloc arena of its own and keeps a freed 19 MiB
//! block in it for the next allocation, so hashing on the blocking pool's ever-changing
//! threads left such blocks in each of up to 8 × cores arenas (the peak memory this cost is
//! in docs/BENCHMARKS.md). Each of the few threads keeps its
//! block from one hash to the next ([`InThreadMemory`]) instead of asking the allocator for
//! 19 MiB of fresh pages each time: one block per thread, and no page faults on the way.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use argon2::password_hash::{
    self, Decimal, Ident, Output, ParamsString, PasswordHash, PasswordHasher, PasswordVerifier,
    Salt, SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::rngs::OsRng;
use roster_domain::password::Password;
use tokio::sync::oneshot;

use crate::error::{Result, ServiceError};

/// Argon2id cost. The defaults follow directory.md (19 MiB, 2 iterations, 1 lane).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub lanes: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            lanes: 1,
        }
    }
}

impl HashCost {
    /// The cheapest cost Argon2 accepts: for tests only.
    pub const TEST: HashCost = HashCost {
        memory_kib: 8,
        iterations: 1,
        lanes: 1,
    };
}

#[derive(Clone, Debug)]
pub struct Hasher {
    cost: HashCost,
    params: Params,
    workers: Arc<Workers>,
    /// A hash of nothing, verified against when an account does not exist, so that a
    /// failed sign-in takes as long whether or not the account is there.
    decoy: Arc<String>,
}

type Job = Box<dyn FnOnce() + Send>;

/// Which part of the hashing queue a job may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// Every hash but the ones below: the queue less its reserve.
    Shared,
    /// A sign-in from a network the account signed in from before (lockout's familiar
    /// networks): it may also take the last quarter of the queue, which a flood of sign-ins
    /// from elsewhere, or a burst of creates, cannot fill.
    Familiar,
}

/// The hashing threads. They take jobs from one bounded queue, in order, and end when the
/// last clone of the [`Hasher`] (and so the queue's sender) is gone.
#[derive(Debug)]
struct Workers {
    jobs: mpsc::SyncSender<Job>,
    threads: usize,
    /// Jobs sent and not yet taken by a thread.
    queued: Arc<AtomicUsize>,
    /// How many jobs the queue holds; the shared lane stops `reserve` short of it.
    capacity: usize,
    reserve: usize,
}

/// How long a caller refused by a full queue is told to wait: about what the queue takes to
/// drain at the default cost.
const QUEUE_FULL_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

impl Workers {
    fn start(threads: usize, queue_len: usize) -> Result<Self> {
        let capacity = queue_len.max(1);
        let (jobs, queue) = mpsc::sync_channel::<Job>(capacity);
        let queued = Arc::new(AtomicUsize::new(0));
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = Arc::clone(&queue);
            let taken = Arc::clone(&queued);
            std::thread::Builder::new()
                .name(format!("roster-hash-{i}"))
                .spawn(move || loop {
                    let job = match queue.lock() {
                        Ok(q) => q.recv(),
                        Err(_) => return,
                    };
                    if job.is_ok() {
                        taken.fetch_sub(1, Ordering::Relaxed);
                    }
                    match job {
                        // A panic fails that one job (its caller sees the answer dropped),
                        // not the thread.
                        Ok(job) => {
                            let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                        }
                        Err(_) => return,
                    }
                })
                .map_err(|e| {
                    ServiceError::internal(format!("cannot start a hashing thread: {e}"))
                })?;
        }
        Ok(Self {
            jobs,
            threads,
            queued,
            capacity,
            reserve: capacity / 4,
        })
    }
}

impl Hasher {
    /// A hasher whose queue holds the default number of waiting hashes.
    pub fn new(cost: HashCost) -> Result<Self> {
        Self::with_queue(cost, crate::limits::Limits::default().hash_queue)
    }

    /// A hasher with room for `queue` hashes waiting for a thread; one more is refused with
    /// [`ServiceError::Unavailable`] instead of waiting without end.
    pub fn with_queue(cost: HashCost, queue: usize) -> Result<Self> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.lanes, None)
            .map_err(|e| ServiceError::internal(format!("invalid Argon2 cost {cost:?}: {e}")))?;
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let salt = SaltString::generate(&mut OsRng);
        let decoy = argon
            .hash_password(b"roster decoy password", &salt)
            .map_err(|e| ServiceError::internal(format!("hashing failed: {e}")))?
            .to_string();
        Ok(Self {
            cost,
            params,
            workers: Arc::new(Workers::start(workers, queue)?),
            decoy: Arc::new(decoy),
        })
    }

    pub fn cost(&self) -> HashCost {
        self.cost
    }

    /// Hashes waiting for a thread now.
    pub fn queued(&self) -> usize {
        self.workers.queued.load(Ordering::Relaxed)
    }

    /// How many hashes run at once (one per core).
    pub fn threads(&self) -> usize {
        self.workers.threads
    }

    /// A PHC string for `password` with the configured cost.
    pub async fn hash(&self, password: &Password) -> Result<String> {
        self.hash_in(Lane::Shared, password).await
    }

    /// [`Hasher::hash`] in `lane`.
    pub async fn hash_in(&self, lane: Lane, password: &Password) -> Result<String> {
        let params = self.params.clone();
        let text = password.clone();
        self.blocking(lane, move || {
            let salt = SaltString::generate(&mut OsRng);
            InThreadMemory
                .hash_password_customized(
                    text.expose().as_bytes(),
                    Some(Algorithm::Argon2id.ident()),
                    Some(Version::V0x13.into()),
                    params,
                    &salt,
                )
                .map(|h| h.to_string())
                .map_err(|e| ServiceError::internal(format!("hashing failed: {e}")))
        })
        .await
    }

    /// Whether `password` matches `phc`; `None` for `phc` verifies against the decoy and
    /// fails. The second value says whether the hash should be remade with today's cost.
    pub async fn verify(&self, password: &Password, phc: Option<&str>) -> Result<(bool, bool)> {
        self.verify_in(Lane::Shared, password, phc).await
    }

    /// [`Hasher::verify`] in `lane`.
    pub async fn verify_in(
        &self,
        lane: Lane,
        password: &Password,
        phc: Option<&str>,
    ) -> Result<(bool, bool)> {
        let (stored, real) = match phc {
            Some(h) => (h.to_string(), true),
            None => ((*self.decoy).clone(), false),
        };
        let text = password.clone();
        let want = self.params.clone();
        self.blocking(lane, move || {
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return Ok((false, false));
            };
            let ok = InThreadMemory
                .verify_password(text.expose().as_bytes(), &parsed)
                .is_ok();
            let current = parsed.algorithm.as_str() == "argon2id"
                && Params::try_from(&parsed).is_ok_and(|p| {
                    p.m_cost() == want.m_cost()
                        && p.t_cost() == want.t_cost()
                        && p.p_cost() == want.p_cost()
                });
            Ok((ok && real, ok && real && !current))
        })
        .await
    }

    /// Runs `work` on a hashing thread, after the jobs queued before it; refused when its
    /// lane of the queue is full.
    async fn blocking<T: Send + 'static>(
        &self,
        lane: Lane,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move || {
            // A caller that went away while queued (a dropped request) needs no hash.
            if !answer.is_closed() {
                let _ = answer.send(work());
            }
        });
        let full = || {
            metrics::counter!("roster_overloaded_total", "limit" => "hash_queue").increment(1);
            ServiceError::Unavailable {
                reason: "The server is busy checking passwords: try again in a moment.".into(),
                retry_after: crate::limits::RetryAfter(QUEUE_FULL_RETRY),
            }
        };
        let before = self.workers.queued.fetch_add(1, Ordering::Relaxed);
        if lane == Lane::Shared && before >= self.workers.capacity - self.workers.reserve {
            self.workers.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(full());
        }
        if let Err(e) = self.workers.jobs.try_send(job) {
            self.workers.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(match e {
                mpsc::TrySendError::Full(_) => full(),
                mpsc::TrySendError::Disconnected(_) => {
                    ServiceError::internal("the hasher is shut down")
                }
            });
        }
        answered
            .await
            .map_err(|_| ServiceError::internal("a hashing job failed"))?
    }
}

thread_local! {
    /// The Argon2 memory of a hashing thread, kept from one hash to the next.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Argon2 that works in its thread's [`MEMORY`] instead of allocating it for every hash:
/// the same computation and the same PHC string as `argon2::Argon2`'s own `PasswordHasher`
/// (a test compares the two). The first pass of Argon2 writes every block before reading
/// it, so what an earlier hash left in the memory plays no part.
struct InThreadMemory;

impl PasswordHasher for InThreadMemory {
    type Params = Params;

    fn hash_password_customized<'a>(
        &self,
        password: &[u8],
        algorithm: Option<Ident<'a>>,
        version: Option<Decimal>,
        params: Params,
        salt: impl Into<Salt<'a>>,
    ) -> password_hash::Result<PasswordHash<'a>> {
        let algorithm = algorithm
            .map(Algorithm::try_from)
            .transpose()?
            .unwrap_or_default();
        let version = version
            .map(Version::try_from)
            .transpose()?
            .unwrap_or_default();
        let salt = salt.into();
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
        let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let argon = Argon2::new(algorithm, version, params.clone());
        let output = MEMORY.with(|memory| {
            let mut memory = memory.borrow_mut();
            memory.resize(params.block_count(), Block::default());
            Output::init_with(output_len, |out| {
                Ok(argon.hash_password_into_with_memory(
                    password,
                    salt_bytes,
                    out,
                    &mut memory[..],
                )?)
            })
        })?;
        Ok(PasswordHash {
            algorithm: algorithm.ident(),
            version: Some(version.into()),
            params: ParamsString::try_from(&params)?,
            salt: Some(salt),
            hash: Some(output),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify_with_the_default_cost() {
        let h = Hasher::new(HashCost::default()).unwrap();
        let pw = Password::new("Tq7#vLm2xR");
        let phc = h.hash(&pw).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!phc.contains("Tq7#vLm2xR"));
        assert_eq!(h.verify(&pw, Some(&phc)).await.unwrap(), (true, false));
        assert_eq!(
            h.verify(&Password::new("wrong"), Some(&phc)).await.unwrap(),
            (false, false)
        );
        assert_eq!(h.verify(&pw, None).await.unwrap(), (false, false));
    }

    #[test]
    fn reusing_the_memory_gives_argon2s_own_hashes() {
        let salt = SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").unwrap();
        let stock = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default());
        let ours = |pw: &[u8], params: Params| {
            InThreadMemory
                .hash_password_customized(
                    pw,
                    Some(Algorithm::Argon2id.ident()),
                    Some(Version::V0x13.into()),
                    params,
                    &salt,
                )
                .unwrap()
                .to_string()
        };
        // Twice in the same memory, with another password and a smaller cost in between.
        let first = ours(b"Tq7#vLm2xR", Params::default());
        let small = Params::new(64, 1, 1, None).unwrap();
        assert_eq!(
            ours(b"other", small.clone()),
            Argon2::new(Algorithm::Argon2id, Version::V0x13, small)
                .hash_password(b"other", &salt)
                .unwrap()
                .to_string()
        );
        let second = ours(b"Tq7#vLm2xR", Params::default());
        let expected = stock
            .hash_password(b"Tq7#vLm2xR", &salt)
            .unwrap()
            .to_string();
        assert_eq!(first, expected);
        assert_eq!(second, expected);
        // Verifying reads the cost from the hash, as Argon2's own verifier does.
        let parsed = PasswordHash::new(&expected).unwrap();
        assert!(InThreadMemory
            .verify_password(b"Tq7#vLm2xR", &parsed)
            .is_ok());
        assert!(InThreadMemory
            .verify_password(b"Tq7#vLm2xr", &parsed)
            .is_err());
    }

    #[tokio::test]
    async fn many_hashes_at_once_all_finish_on_the_few_threads() {
        let h = Hasher::new(HashCost::TEST).unwrap();
        assert!(h.threads() >= 1);
        let jobs: Vec<_> = (0..16)
            .map(|i| {
                let h = h.clone();
                tokio::spawn(async move {
                    let pw = Password::new(format!("Tq7#vLm2xR{i}"));
                    let phc = h.hash(&pw).await.unwrap();
                    h.verify(&pw, Some(&phc)).await.unwrap()
                })
            })
            .collect();
        for job in jobs {
            assert_eq!(job.await.unwrap(), (true, false));
        }
    }

    /// A job that holds its hashing thread (or its place in the queue) until `release` is
    /// dropped or sent to.
    fn held(
        h: &Hasher,
        lane: Lane,
        release: &std::sync::Arc<std::sync::Mutex<std::sync::mpsc::Receiver<()>>>,
    ) -> tokio::task::JoinHandle<Result<()>> {
        let (h, release) = (h.clone(), release.clone());
        tokio::spawn(async move {
            h.blocking(lane, move || {
                let _ = release.lock().unwrap().recv();
                Ok(())
            })
            .await
        })
    }

    async fn settle(h: &Hasher, queued: usize) {
        for _ in 0..500 {
            if h.queued() == queued {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("the queue holds {} jobs, not {queued}", h.queued());
    }

    /// The last quarter of the queue is kept for sign-ins from familiar networks: shared jobs
    /// are refused when only the reserve is left, a familiar one still gets in, and only a
    /// full queue refuses it.
    #[tokio::test(flavor = "multi_thread")]
    async fn the_queues_reserve_is_for_familiar_sign_ins() {
        let h = Hasher::with_queue(HashCost::TEST, 8).unwrap();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = std::sync::Arc::new(std::sync::Mutex::new(hold));
        // Every thread busy, then the queue's shared part (8 less a reserve of 2) filled.
        let mut jobs: Vec<_> = (0..h.threads())
            .map(|_| held(&h, Lane::Shared, &hold))
            .collect();
        settle(&h, 0).await;
        for n in 1..=6 {
            jobs.push(held(&h, Lane::Shared, &hold));
            settle(&h, n).await;
        }
        let refused = held(&h, Lane::Shared, &hold).await.unwrap();
        assert!(
            matches!(refused, Err(ServiceError::Unavailable { .. })),
            "{refused:?}"
        );
        for n in 7..=8 {
            jobs.push(held(&h, Lane::Familiar, &hold));
            settle(&h, n).await;
        }
        let full = held(&h, Lane::Familiar, &hold).await.unwrap();
        assert!(
            matches!(full, Err(ServiceError::Unavailable { .. })),
            "{full:?}"
        );
        // Every admitted job runs once the threads are free.
        drop(release);
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        assert_eq!(h.queued(), 0);
    }

    #[tokio::test]
    async fn old_cost_asks_for_a_rehash() {
        let old = Hasher::new(HashCost::TEST).unwrap();
        let pw = Password::new("Tq7#vLm2xR");
        let phc = old.hash(&pw).await.unwrap();
        let new = Hasher::new(HashCost {
            memory_kib: 16,
            iterations: 1,
            lanes: 1,
        })
        .unwrap();
        assert_eq!(new.verify(&pw, Some(&phc)).await.unwrap(), (true, true));
    }
}
