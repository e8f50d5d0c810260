//! `type = "stdout"`: one JSON line per send on standard output; a line
//! written is a send delivered (no receipts follow).

use super::{BoxFuture, Channel, Outcome, Outgoing};
use std::io::Write;

pub struct Stdout;

impl Channel for Stdout {
    fn deliver<'a>(&'a self, batch: Vec<Outgoing>) -> BoxFuture<'a, Vec<(Outgoing, Outcome)>> {
        Box::pin(async move {
            let mut text = String::new();
            for o in &batch {
                text.push_str(&o.payload);
                text.push('\n');
            }
            let written = {
                let stdout = std::io::stdout();
                let mut lock = stdout.lock();
                lock.write_all(text.as_bytes()).and_then(|_| lock.flush())
            };
            let outcome = match written {
                Ok(()) => Outcome::Delivered,
                Err(e) => Outcome::Retry(format!("cannot write to standard output: {e}")),
            };
            batch.into_iter().map(|o| (o, outcome.clone())).collect()
        })
    }
}
