//! The daemon's HTTP side (`--listen`): `POST /v1/events`, `POST
//! /v1/receipts`, `GET /metrics`, `GET /healthz`. Whatever a client sends,
//! the answer is a status and a JSON body; nothing a request holds can
//! stop the daemon.

use crate::clock::Clock;
use crate::engine::outbox::{self, Receipt};
use crate::engine::{events, Runner};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value as Json};
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone)]
pub struct AppState {
    pub runner: Arc<Runner>,
    pub clock: Arc<dyn Clock>,
    /// Wakes the daemon loop to take new events at once.
    pub wake: Arc<Notify>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/events", post(post_events))
        .route("/v1/receipts", post(post_receipts))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .layer(DefaultBodyLimit::max(16 << 20))
        .with_state(state)
}

fn json_response(status: StatusCode, body: Json) -> Response {
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

async fn post_events(State(s): State<AppState>, body: Bytes) -> Response {
    match events::ingest(&s.runner, s.clock.now(), &body).await {
        Ok(done) => {
            s.wake.notify_one();
            // 200 once the body is read, whatever became of each event (the
            // answer says it by index); 400 when nothing in it is an event.
            let status = if done.error.is_some() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            json_response(status, json!(done))
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot store events");
            json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "the database is unavailable; try again"}),
            )
        }
    }
}

async fn post_receipts(State(s): State<AppState>, body: Bytes) -> Response {
    let items = match serde_json::from_slice::<Json>(&body) {
        Ok(Json::Array(items)) => items,
        Ok(item @ Json::Object(_)) => vec![item],
        _ => {
            return json_response(
                StatusCode::BAD_REQUEST,
                json!({"error": "the body must be a receipt object {\"id\", \"status\"} or an array of them"}),
            )
        }
    };
    let now = s.clock.now();
    let (mut applied, mut unknown, mut invalid) = (0, Vec::new(), Vec::new());
    for (index, item) in items.iter().enumerate() {
        let id = item.get("id").and_then(Json::as_str);
        let what = match item.get("status").and_then(Json::as_str) {
            Some("delivered") => Some(Receipt::Delivered),
            Some("failed") => Some(Receipt::Failed),
            Some("clicked") => Some(Receipt::Clicked),
            _ => None,
        };
        let at = item
            .get("time")
            .and_then(Json::as_str)
            .and_then(|t| crate::binds::parse_instant_in(t, s.runner.zone()));
        let (Some(id), Some(what)) = (id, what) else {
            invalid.push(json!({"index": index, "reason": "needs `id` and `status` (delivered, failed or clicked)"}));
            continue;
        };
        match outbox::receipt(&s.runner, now, id, what, at).await {
            Ok(true) => applied += 1,
            Ok(false) => unknown.push(json!(id)),
            Err(e) => {
                tracing::error!(error = %e, "cannot apply a receipt");
                return json_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({"error": "the database is unavailable; try again"}),
                );
            }
        }
    }
    s.wake.notify_one();
    let status = if applied == 0 && !(unknown.is_empty() && invalid.is_empty()) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    json_response(status, json!({"applied": applied, "unknown": unknown, "invalid": invalid}))
}

async fn metrics(State(s): State<AppState>) -> Response {
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        s.runner.metrics.render(),
    )
        .into_response()
}

/// Healthy when the database answers within two seconds: a daemon that
/// cannot reach its store cannot send, and a load balancer should know.
async fn healthz(State(s): State<AppState>) -> Response {
    let probe = tokio::time::timeout(std::time::Duration::from_secs(2), s.runner.store.db.rows("SELECT 1", &[])).await;
    match probe {
        Ok(Ok(_)) => (StatusCode::OK, "ok\n").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "the database does not answer\n").into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "the database did not answer within 2s\n").into_response(),
    }
}
