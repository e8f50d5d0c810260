//! Channels: where a recorded send goes. `stdout` prints JSON lines,
//! `file` appends them to a file, `webhook` POSTs JSON with an HMAC
//! signature and the idempotency key; [`Recorder`] keeps them in memory
//! (simulations, the demo, tests). Each campaign channel (`sms`,
//! `friendtalk`, ..) is configured in `camp.toml` under `[channels.NAME]`.

pub mod file;
pub mod stdout;
pub mod webhook;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One send to deliver: its ledger row, idempotency key, channel and the
/// JSON payload recorded with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub ledger: i64,
    pub key: String,
    pub channel: String,
    pub payload: String,
    /// Tries so far.
    pub tries: i64,
}

/// What a channel made of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted by an endpoint that sends receipts: delivered or failed is
    /// told later, and the chain's fallback waits for it.
    Sent,
    /// Delivered: written to a file or standard output, or accepted by an
    /// endpoint that sends no receipts.
    Delivered,
    /// Failed in a way worth trying again (5xx, timeout, connection).
    Retry(String),
    /// Refused (4xx): trying again would not help.
    Refused(String),
}

pub trait Channel: Send + Sync {
    fn deliver<'a>(&'a self, batch: Vec<Outgoing>) -> BoxFuture<'a, Vec<(Outgoing, Outcome)>>;

    /// How many sends to hand over at once: the results of each such
    /// batch are recorded as soon as it is delivered, so a crash delivers
    /// at most this many again. Slow channels keep it small.
    fn batch_size(&self) -> usize {
        usize::MAX
    }
}

/// `[channels.NAME]` in `camp.toml`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: Option<String>,
    /// The environment variable that holds the HMAC secret.
    pub secret_env: Option<String>,
    pub rate_per_second: Option<f64>,
    /// `file`: where the JSON lines go.
    pub path: Option<String>,
    /// `webhook`: how long one request may take.
    pub timeout_ms: Option<u64>,
    /// `webhook`: requests in flight at once.
    pub max_in_flight: Option<usize>,
    /// The provider has certified the sender (전송자격인증): required for
    /// ads through a provider since 2026-07-07 (`camp check` says so).
    #[serde(default)]
    pub certified: bool,
    /// Whether the channel produces receipts (its provider posts them to
    /// `/v1/receipts`): a send it accepts waits for `delivered`, and its
    /// fallback goes out when none comes in time. Without (the default, and
    /// always for `stdout` and `file`), a successful write is delivered.
    pub receipts: Option<bool>,
}

/// The channels of a deployment, by campaign channel name.
#[derive(Clone, Default)]
pub struct ChannelSet {
    by_name: BTreeMap<String, Arc<dyn Channel>>,
    /// Used for any channel not named (simulations and the demo).
    fallback: Option<Arc<dyn Channel>>,
}

impl ChannelSet {
    pub fn new() -> ChannelSet {
        ChannelSet::default()
    }

    /// Every channel goes to `channel`.
    pub fn all(channel: Arc<dyn Channel>) -> ChannelSet {
        ChannelSet {
            by_name: BTreeMap::new(),
            fallback: Some(channel),
        }
    }

    pub fn insert(&mut self, name: &str, channel: Arc<dyn Channel>) {
        self.by_name.insert(name.to_string(), channel);
    }

    pub fn has(&self, name: &str) -> bool {
        self.fallback.is_some() || self.by_name.contains_key(name)
    }

    /// Builds the channels from configuration; secrets come from the
    /// environment. The error names the channel and what is wrong.
    pub fn from_config(configs: &BTreeMap<String, ChannelConfig>) -> Result<ChannelSet, String> {
        let mut set = ChannelSet::new();
        let mut files: BTreeMap<String, Arc<dyn Channel>> = BTreeMap::new();
        for (name, c) in configs {
            if c.receipts == Some(true) && c.kind != "webhook" {
                return Err(format!(
                    "channel `{name}`: a `{}` channel gets no receipts\n  help: remove `receipts = true`; only a webhook whose provider posts receipts to /v1/receipts has them",
                    c.kind
                ));
            }
            let channel: Arc<dyn Channel> = match c.kind.as_str() {
                "stdout" => Arc::new(stdout::Stdout),
                "file" => {
                    let path = c.path.clone().unwrap_or_else(|| format!("camp-{name}.jsonl"));
                    // Channels that share a file share one writer.
                    match files.get(&path) {
                        Some(f) => f.clone(),
                        None => {
                            let f: Arc<dyn Channel> = Arc::new(
                                file::FileChannel::open(&path).map_err(|e| format!("channel `{name}`: cannot open `{path}`: {e}"))?,
                            );
                            files.insert(path, f.clone());
                            f
                        }
                    }
                }
                "webhook" => {
                    let url = c.url.clone().ok_or_else(|| format!("channel `{name}`: a webhook needs `url`"))?;
                    let secret = match &c.secret_env {
                        Some(var) => Some(
                            std::env::var(var)
                                .map_err(|_| format!("channel `{name}`: the environment variable `{var}` (its HMAC secret) is not set"))?,
                        ),
                        None => None,
                    };
                    Arc::new(webhook::Webhook::new(webhook::WebhookConfig {
                        name: name.clone(),
                        url,
                        secret: secret.map(String::into_bytes),
                        rate_per_second: c.rate_per_second,
                        timeout: std::time::Duration::from_millis(c.timeout_ms.unwrap_or(10_000)),
                        max_in_flight: c.max_in_flight.unwrap_or(16),
                        receipts: c.receipts.unwrap_or(false),
                    })?)
                }
                other => {
                    return Err(format!(
                        "channel `{name}`: unknown type `{other}`\n  help: use `stdout`, `file` or `webhook`"
                    ))
                }
            };
            set.insert(name, channel);
        }
        Ok(set)
    }

    /// How many sends channel `name` takes at once (see [`Channel::batch_size`]).
    pub fn batch_size(&self, name: &str) -> usize {
        self.by_name
            .get(name)
            .or(self.fallback.as_ref())
            .map_or(usize::MAX, |c| c.batch_size())
            .max(1)
    }

    /// Hands each send to its channel; sends for a channel that is not
    /// configured are refused.
    pub async fn deliver(&self, outgoing: Vec<Outgoing>) -> Vec<(Outgoing, Outcome)> {
        let mut groups: BTreeMap<String, Vec<Outgoing>> = BTreeMap::new();
        for o in outgoing {
            groups.entry(o.channel.clone()).or_default().push(o);
        }
        let mut out = Vec::new();
        for (name, batch) in groups {
            match self.by_name.get(&name).or(self.fallback.as_ref()) {
                Some(channel) => out.extend(channel.deliver(batch).await),
                None => out.extend(
                    batch
                        .into_iter()
                        .map(|o| (o, Outcome::Refused(format!("channel `{name}` is not configured")))),
                ),
            }
        }
        out
    }
}

/// One send a [`Recorder`] kept.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub key: String,
    pub channel: String,
    pub payload: String,
}

type Policy = dyn Fn(&Outgoing) -> Outcome + Send + Sync;

/// Keeps every send in memory; what happens to each is decided by a
/// policy (by default: delivered).
#[derive(Clone)]
pub struct Recorder {
    pub sent: Arc<Mutex<Vec<Recorded>>>,
    policy: Arc<Policy>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new(|_| Outcome::Delivered)
    }
}

impl Recorder {
    pub fn new(policy: impl Fn(&Outgoing) -> Outcome + Send + Sync + 'static) -> Recorder {
        Recorder {
            sent: Arc::new(Mutex::new(Vec::new())),
            policy: Arc::new(policy),
        }
    }

    /// Everything kept so far.
    pub fn taken(&self) -> Vec<Recorded> {
        self.sent.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Channel for Recorder {
    fn deliver<'a>(&'a self, batch: Vec<Outgoing>) -> BoxFuture<'a, Vec<(Outgoing, Outcome)>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(batch.len());
            let mut kept = Vec::new();
            for o in batch {
                let outcome = (self.policy)(&o);
                if matches!(outcome, Outcome::Sent | Outcome::Delivered) {
                    kept.push(Recorded {
                        key: o.key.clone(),
                        channel: o.channel.clone(),
                        payload: o.payload.clone(),
                    });
                }
                out.push((o, outcome));
            }
            if let Ok(mut sent) = self.sent.lock() {
                sent.extend(kept);
            }
            out
        })
    }
}
