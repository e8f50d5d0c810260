//! A daemon's registration and the leases that hang on it. A delivery
//! claimed by a daemon stays its own for as long as the daemon is
//! registered; the registration is renewed on the wall clock by a task of
//! its own, so however long a tick takes (slow webhooks, a large batch)
//! no other daemon takes its claims back. A daemon that cannot renew
//! (the database is out of reach, the process stalls) stops handing new
//! deliveries to its channels well before its registration can expire,
//! and a registration found gone is created again.

use crate::store::{wall_ms, DaemonId, Store};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What this daemon knows of its registration.
#[derive(Debug)]
pub struct Registration {
    /// Until when (wall clock, ms) the registration is known to hold: the
    /// expiry written by the last renewal that succeeded.
    until: AtomicI64,
    /// Bumped whenever the registration was found gone: what was claimed
    /// under an earlier one may have been taken by another daemon.
    generation: AtomicU64,
    ttl_ms: i64,
}

/// The registration under which deliveries were claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim(u64);

impl Registration {
    /// A registration just written, at `since` (wall clock), for `ttl_ms`.
    pub fn new(since: i64, ttl_ms: i64) -> Registration {
        Registration {
            until: AtomicI64::new(since + ttl_ms),
            generation: AtomicU64::new(0),
            ttl_ms,
        }
    }

    /// Taken before claiming: deliveries go out only under the same one.
    pub fn claim(&self) -> Claim {
        Claim(self.generation.load(Ordering::SeqCst))
    }

    /// Whether deliveries claimed under `claim` may be handed to a channel
    /// now: the registration has not been lost since, and it holds for at
    /// least half its lifetime more. Another daemon takes a lease only once
    /// the registration has expired, so this stops new deliveries well
    /// before that can happen.
    pub fn may_deliver(&self, claim: Claim) -> bool {
        self.generation.load(Ordering::SeqCst) == claim.0 && wall_ms() + self.ttl_ms / 2 < self.until.load(Ordering::SeqCst)
    }

    /// Until when the registration is known to hold (wall clock, ms).
    pub fn until(&self) -> i64 {
        self.until.load(Ordering::SeqCst)
    }

    /// How often the registration is renewed: five times a lifetime.
    pub fn interval(&self) -> Duration {
        Duration::from_millis((self.ttl_ms / 5).max(10) as u64)
    }

    /// Renews the registration once (registering again if it was gone);
    /// returns false when it had been lost.
    pub async fn renew(&self, store: &Store, me: &DaemonId) -> Result<bool, crate::DbError> {
        let started = wall_ms();
        let kept = store.heartbeat(me, self.ttl_ms).await?;
        if !kept {
            // Before the new expiry is known: nothing claimed before passes.
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        self.until.fetch_max(started + self.ttl_ms, Ordering::SeqCst);
        Ok(kept)
    }
}

/// The task that renews a registration; it ends when dropped.
pub struct Heartbeat {
    task: tokio::task::JoinHandle<()>,
}

impl Heartbeat {
    /// Renews `registration` every [`Registration::interval`] on the wall
    /// clock until stopped.
    pub fn spawn(store: Store, me: DaemonId, registration: Arc<Registration>) -> Heartbeat {
        let task = tokio::spawn(async move {
            let mut failing = false;
            loop {
                tokio::time::sleep(registration.interval()).await;
                match registration.renew(&store, &me).await {
                    Ok(true) => {
                        if failing {
                            tracing::info!("this daemon's registration is renewed again");
                        }
                        failing = false;
                    }
                    Ok(false) => {
                        failing = false;
                        tracing::warn!(
                            daemon = %me.name,
                            "this daemon's registration had expired and was removed; it is registered again (deliveries claimed before are left to whoever holds them)"
                        );
                    }
                    Err(e) => {
                        if !failing {
                            tracing::warn!(error = %e, "cannot renew this daemon's registration; no new deliveries until it is renewed");
                        }
                        failing = true;
                    }
                }
            }
        });
        Heartbeat { task }
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}
