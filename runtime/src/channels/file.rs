//! `type = "file"`: JSON lines appended to a file, flushed and synced to
//! disk once per batch before the sends count as delivered (a file sends
//! no receipts: the write is the delivery, and no fallback follows it).

use super::{BoxFuture, Channel, Outcome, Outgoing};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

pub struct FileChannel {
    out: Mutex<BufWriter<File>>,
}

impl FileChannel {
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<FileChannel> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(FileChannel {
            out: Mutex::new(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    fn write(&self, batch: &[Outgoing]) -> std::io::Result<()> {
        let mut out = self.out.lock().map_err(|_| std::io::Error::other("the file writer is poisoned"))?;
        for o in batch {
            out.write_all(o.payload.as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        out.get_ref().sync_data()
    }
}

impl Channel for FileChannel {
    fn deliver<'a>(&'a self, batch: Vec<Outgoing>) -> BoxFuture<'a, Vec<(Outgoing, Outcome)>> {
        Box::pin(async move {
            let outcome = match self.write(&batch) {
                Ok(()) => Outcome::Delivered,
                Err(e) => Outcome::Retry(format!("cannot write: {e}")),
            };
            batch.into_iter().map(|o| (o, outcome.clone())).collect()
        })
    }
}
