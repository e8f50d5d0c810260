//! A local webhook endpoint for tests, benchmarks and trials: it records
//! every request (idempotency key, signature, body) and answers as told.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Router;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request received.
#[derive(Debug, Clone)]
pub struct Hit {
    pub key: String,
    pub timestamp: Option<String>,
    pub signature: Option<String>,
    pub body: String,
    /// 1 for the first request with this key, 2 for the second, ..
    pub attempt: usize,
}

/// How to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Status(u16),
    /// Answer this status after a pause (longer than a client's timeout: a hanging receiver).
    After(Duration, u16),
    /// Answer this status with this body.
    Body(u16, &'static str),
    /// Answer this status with the request's own body (a provider that
    /// quotes what it was sent, recipient included).
    Echo(u16),
}

pub type Behaviour = Arc<dyn Fn(&Hit) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Shared {
    hits: Arc<Mutex<Vec<Hit>>>,
    seen: Arc<Mutex<HashMap<String, usize>>>,
    behaviour: Behaviour,
}

pub struct Receiver {
    pub url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Listens on 127.0.0.1 on a free port.
    pub async fn start(behaviour: impl Fn(&Hit) -> Reply + Send + Sync + 'static) -> Result<Receiver, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let shared = Shared {
            hits: Arc::new(Mutex::new(Vec::new())),
            seen: Arc::new(Mutex::new(HashMap::new())),
            behaviour: Arc::new(behaviour),
        };
        let hits = shared.hits.clone();
        let app = Router::new().fallback(handle).with_state(shared);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Receiver {
            url: format!("http://{addr}/hook"),
            hits,
            task,
        })
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let key = header("idempotency-key").unwrap_or_default();
    let attempt = match s.seen.lock() {
        Ok(mut seen) => {
            let n = seen.entry(key.clone()).or_insert(0);
            *n += 1;
            *n
        }
        Err(_) => 1,
    };
    let hit = Hit {
        key,
        timestamp: header("x-camp-timestamp"),
        signature: header("x-camp-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
        attempt,
    };
    let reply = (s.behaviour)(&hit);
    let echo = hit.body.clone();
    if let Ok(mut hits) = s.hits.lock() {
        hits.push(hit);
    }
    let (code, text) = match reply {
        Reply::Status(c) => (c, String::new()),
        Reply::After(pause, c) => {
            tokio::time::sleep(pause).await;
            (c, String::new())
        }
        Reply::Body(c, text) => (c, text.to_string()),
        Reply::Echo(c) => (c, echo),
    };
    (StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), text)
}
