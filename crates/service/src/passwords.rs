//! Argon2id hashing, off the async runtime and with bounded concurrency.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use roster_domain::password::Password;
use tokio::sync::Semaphore;

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
    permits: Arc<Semaphore>,
    /// A hash of nothing, verified against when an account does not exist, so that a
    /// failed sign-in takes as long whether or not the account is there.
    decoy: Arc<String>,
}

impl Hasher {
    pub fn new(cost: HashCost) -> Result<Self> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.lanes, None)
            .map_err(|e| ServiceError::Internal(format!("invalid Argon2 cost {cost:?}: {e}")))?;
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let salt = SaltString::generate(&mut OsRng);
        let decoy = argon
            .hash_password(b"roster decoy password", &salt)
            .map_err(|e| ServiceError::Internal(format!("hashing failed: {e}")))?
            .to_string();
        Ok(Self {
            cost,
            params,
            permits: Arc::new(Semaphore::new(workers)),
            decoy: Arc::new(decoy),
        })
    }

    pub fn cost(&self) -> HashCost {
        self.cost
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC string for `password` with the configured cost.
    pub async fn hash(&self, password: &Password) -> Result<String> {
        let argon = self.argon();
        let text = password.clone();
        self.blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon
                .hash_password(text.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| ServiceError::Internal(format!("hashing failed: {e}")))
        })
        .await
    }

    /// Whether `password` matches `phc`; `None` for `phc` verifies against the decoy and
    /// fails. The second value says whether the hash should be remade with today's cost.
    pub async fn verify(&self, password: &Password, phc: Option<&str>) -> Result<(bool, bool)> {
        let (stored, real) = match phc {
            Some(h) => (h.to_string(), true),
            None => ((*self.decoy).clone(), false),
        };
        let text = password.clone();
        let want = self.params.clone();
        self.blocking(move || {
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return Ok((false, false));
            };
            let ok = Argon2::default()
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

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ServiceError::Internal("the hasher is shut down".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ServiceError::Internal(format!("hashing task failed: {e}")))?
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
