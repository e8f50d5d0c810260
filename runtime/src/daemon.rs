//! `camp run`: the engine on the clock, the HTTP side beside it, and a
//! clean stop. On SIGTERM (or Ctrl-C) the tick in progress finishes, its
//! deliveries included, the HTTP side stops taking requests, and the
//! daemon's registration and leases are released.

use crate::clock::Clock;
use crate::engine::Runner;
use crate::http::{self, AppState};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

pub struct DaemonOptions {
    /// Time between ticks when nothing wakes the loop.
    pub interval: Duration,
}

impl Default for DaemonOptions {
    fn default() -> Self {
        let ms = std::env::var("CAMP_TICK_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(1_000);
        DaemonOptions {
            interval: Duration::from_millis(ms.clamp(10, 60_000)),
        }
    }
}

/// Runs until `shutdown` completes.
pub async fn run(
    runner: Arc<Runner>,
    clock: Arc<dyn Clock>,
    listener: Option<tokio::net::TcpListener>,
    options: DaemonOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), crate::DbError> {
    let wake = Arc::new(Notify::new());
    let stop = Arc::new(Notify::new());
    let server = listener.map(|l| {
        let app = http::router(AppState {
            runner: runner.clone(),
            clock: clock.clone(),
            wake: wake.clone(),
        });
        let stop = stop.clone();
        tokio::spawn(async move {
            let served = axum::serve(l, app)
                .with_graceful_shutdown(async move { stop.notified().await })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "the HTTP server stopped");
            }
        })
    });
    tokio::pin!(shutdown);
    let mut failures = 0u32;
    // The registration is renewed by the runner's own task on the wall
    // clock, however long a tick takes.
    loop {
        match runner.tick(clock.now()).await {
            Ok(t) => {
                failures = 0;
                if t.sends + t.enrolled + t.events > 0 {
                    tracing::info!(
                        events = t.events,
                        enrolled = t.enrolled,
                        sends = t.sends,
                        delivered = t.delivered,
                        "tick"
                    );
                }
            }
            Err(e) => {
                failures += 1;
                runner.metrics.error();
                tracing::error!(error = %e, "tick failed; retrying");
            }
        }
        let pause = options.interval * (1 << failures.min(5));
        tokio::select! {
            _ = &mut shutdown => break,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(pause) => {}
        }
    }
    tracing::info!("stopping: the last tick has finished");
    stop.notify_one();
    if let Some(server) = server {
        let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    }
    runner.stop().await
}

/// SIGTERM or Ctrl-C. The handler is installed when this is called, not
/// when the future is first polled: a SIGTERM during the first tick must
/// drain, not kill. Call it inside the runtime.
pub fn signal() -> impl Future<Output = ()> + Send {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
