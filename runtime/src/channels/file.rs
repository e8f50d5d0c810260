//! `type = "file"`: JSON lines appended to a file, flushed and synced to
//! disk once per batch before the sends count as delivered (a file sends
//! no receipts: the write is the delivery, and no fallback follows it). The
//! file is created at the first send, so a daemon that refuses to start
//! leaves nothing.

use super::{BoxFuture, Channel, Outcome, Outgoing};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct FileChannel {
    path: PathBuf,
    out: Mutex<Option<BufWriter<File>>>,
}

impl FileChannel {
    /// Checks that the file can be made (its folder exists), without
    /// creating it yet.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<FileChannel> {
        let path = path.as_ref().to_path_buf();
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !std::fs::metadata(&parent)?.is_dir() {
            return Err(std::io::Error::other(format!("`{}` is not a folder", parent.display())));
        }
        if path.is_dir() {
            return Err(std::io::Error::other(format!("`{}` is a folder", path.display())));
        }
        Ok(FileChannel {
            path,
            out: Mutex::new(None),
        })
    }

    fn write(&self, batch: &[Outgoing]) -> std::io::Result<()> {
        let mut guard = self.out.lock().map_err(|_| std::io::Error::other("the file writer is poisoned"))?;
        let out = match &mut *guard {
            Some(out) => out,
            empty => {
                let file = OpenOptions::new().create(true).append(true).open(&self.path)?;
                empty.insert(BufWriter::with_capacity(1 << 20, file))
            }
        };
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
