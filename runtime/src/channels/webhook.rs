//! `type = "webhook"`: an HTTP POST of the JSON payload per send, with
//! `Idempotency-Key`, `X-Camp-Timestamp` and `X-Camp-Signature: sha256=HEX`
//! (HMAC-SHA256 of `TIMESTAMP.BODY` with the channel's secret). A 2xx is
//! delivered, or, with `receipts = true` (the provider posts receipts to
//! `/v1/receipts`), sent and waiting for its receipt; a 5xx, 408, 429,
//! timeout or connection error is retried later
//! with backoff (by the outbox); any other 4xx is refused at once. Sends
//! go out at most `rate_per_second`, `max_in_flight` at a time.

use super::{BoxFuture, Channel, Outcome, Outgoing};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Semaphore};

pub struct WebhookConfig {
    pub name: String,
    pub url: String,
    pub secret: Option<Vec<u8>>,
    pub rate_per_second: Option<f64>,
    pub timeout: Duration,
    pub max_in_flight: usize,
    /// The provider posts `delivered` / `failed` receipts: a 2xx is only
    /// sent, and the fallback waits for the receipt. Without, a 2xx is
    /// delivered.
    pub receipts: bool,
}

pub struct Webhook {
    inner: Arc<Inner>,
}

struct Inner {
    config: WebhookConfig,
    client: reqwest::Client,
    bucket: Mutex<Bucket>,
    slots: Semaphore,
}

/// A token bucket: `rate` tokens a second, at most `rate` (and one) saved.
struct Bucket {
    rate: f64,
    tokens: f64,
    at: Instant,
}

impl Webhook {
    pub fn new(config: WebhookConfig) -> Result<Webhook, String> {
        let url = reqwest::Url::parse(&config.url).map_err(|e| format!("channel `{}`: `{}` is not a URL: {e}", config.name, config.url))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("channel `{}`: a webhook URL starts with http:// or https://", config.name));
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| format!("channel `{}`: cannot build an HTTP client: {e}", config.name))?;
        let rate = config
            .rate_per_second
            .filter(|r| r.is_finite() && *r > 0.0)
            .unwrap_or(f64::INFINITY);
        let slots = Semaphore::new(config.max_in_flight.clamp(1, 1024));
        Ok(Webhook {
            inner: Arc::new(Inner {
                client,
                bucket: Mutex::new(Bucket {
                    rate,
                    tokens: rate.clamp(1.0, 1e9),
                    at: Instant::now(),
                }),
                slots,
                config,
            }),
        })
    }
}

/// `sha256=HEX` of HMAC-SHA256(secret, "TIMESTAMP.BODY").
pub fn signature(secret: &[u8], timestamp: &str, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

impl Inner {
    async fn take_token(&self) {
        loop {
            let wait = {
                let mut b = self.bucket.lock().await;
                if b.rate.is_infinite() {
                    return;
                }
                let now = Instant::now();
                let refill = now.duration_since(b.at).as_secs_f64() * b.rate;
                b.tokens = (b.tokens + refill).min(b.rate.max(1.0));
                b.at = now;
                if b.tokens >= 1.0 {
                    b.tokens -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - b.tokens) / b.rate)
            };
            tokio::time::sleep(wait).await;
        }
    }

    async fn post(&self, o: &Outgoing) -> Outcome {
        self.take_token().await;
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let mut request = self
            .client
            .post(&self.config.url)
            .header("content-type", "application/json")
            .header("idempotency-key", &o.key)
            .header("x-camp-timestamp", &timestamp)
            .body(o.payload.clone());
        if let Some(secret) = &self.config.secret {
            request = request.header("x-camp-signature", signature(secret, &timestamp, &o.payload));
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                if status.is_success() && self.config.receipts {
                    return Outcome::Sent;
                }
                if status.is_success() {
                    return Outcome::Delivered;
                }
                // The provider's answer may quote the recipient: masked
                // before it is cut, so no cut shows a phone or email.
                let body = response.text().await.unwrap_or_default();
                let answer = match crate::logging::excerpt(body.trim(), 200) {
                    e if e.is_empty() => format!("HTTP {status}"),
                    e => format!("HTTP {status}: {e}"),
                };
                if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
                    Outcome::Retry(answer)
                } else {
                    Outcome::Refused(answer)
                }
            }
            Err(e) if e.is_timeout() => Outcome::Retry(format!("timed out after {:?}", self.config.timeout)),
            Err(e) => Outcome::Retry(format!("cannot reach the endpoint: {e}")),
        }
    }
}

impl Channel for Webhook {
    /// Eight rounds of `max_in_flight` requests: a crash sends again at
    /// most that many, and a batch's slowest request holds up little.
    fn batch_size(&self) -> usize {
        self.inner.config.max_in_flight.clamp(1, 1024) * 8
    }

    fn deliver<'a>(&'a self, batch: Vec<Outgoing>) -> BoxFuture<'a, Vec<(Outgoing, Outcome)>> {
        Box::pin(async move {
            let mut tasks = tokio::task::JoinSet::new();
            let count = batch.len();
            for (i, o) in batch.into_iter().enumerate() {
                let inner = self.inner.clone();
                tasks.spawn(async move {
                    let outcome = match inner.slots.acquire().await {
                        Ok(_permit) => inner.post(&o).await,
                        Err(_) => Outcome::Retry("the channel is shutting down".into()),
                    };
                    (i, o, outcome)
                });
            }
            let mut out: Vec<(usize, Outgoing, Outcome)> = Vec::with_capacity(count);
            while let Some(joined) = tasks.join_next().await {
                if let Ok(r) = joined {
                    out.push(r);
                }
            }
            // A task that panicked leaves its send pending: its lease runs out
            // and it is tried again.
            out.sort_by_key(|(i, _, _)| *i);
            out.into_iter().map(|(_, o, outcome)| (o, outcome)).collect()
        })
    }
}
