//! A throwaway PostgreSQL server for tests and benchmarks: `initdb` into a
//! temporary folder, started on a private port, stopped and deleted on drop.
//!
//! PostgreSQL refuses to run as root; when we are root the server runs as
//! the `postgres` user (`runuser`). A watchdog stops the server if the
//! process that started it dies without dropping it (a killed test run).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct TestPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl TestPostgres {
    /// Starts a server; the error says what is missing.
    pub fn start() -> Result<TestPostgres, String> {
        let bin = find_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("camp-pg-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown").arg("postgres:postgres").arg(dir.path()))?;
        }
        let port = free_port()?;
        let server = TestPostgres {
            dir,
            bin,
            port,
            as_postgres,
        };
        let data = server.data_dir();
        server.pg("initdb", |c| {
            c.arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]);
        })?;
        server.resume()?;
        server.watchdog();
        Ok(server)
    }

    /// Stops the server, cutting every connection, as an outage looks to
    /// its clients; [`TestPostgres::resume`] brings it back. A fast stop,
    /// not an immediate one: this server runs without fsync and with
    /// asynchronous commit, so an immediate stop could lose committed work
    /// that a real server keeps.
    pub fn halt(&self) -> Result<(), String> {
        self.stop_with("fast")
    }

    fn stop_with(&self, mode: &str) -> Result<(), String> {
        let data = self.data_dir();
        self.pg("pg_ctl", |c| {
            c.arg("-D").arg(&data).args(["-m", mode, "-w", "stop"]);
        })
    }

    /// Starts the server (again) on its port and data.
    pub fn resume(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        let data = self.data_dir();
        self.pg("pg_ctl", |c| {
            c.arg("-D")
                .arg(&data)
                .arg("-o")
                .arg(&options)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "start"]);
        })
    }

    /// A URL for the given database (`postgres` always exists).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a fresh database and returns its URL.
    pub async fn create_database(&self, name: &str) -> Result<String, String> {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .map_err(|e| e.to_string())?;
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {quoted}"))
            .execute(&mut admin)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::raw_sql(&format!("CREATE DATABASE {quoted}"))
            .execute(&mut admin)
            .await
            .map_err(|e| e.to_string())?;
        Ok(self.url(name))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs a PostgreSQL program, as `postgres` when we are root.
    fn pg(&self, program: &str, args: impl FnOnce(&mut Command)) -> Result<(), String> {
        let exe = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        args(&mut command);
        run(&mut command)
    }

    /// Stops the server when this process goes away, however it goes.
    fn watchdog(&self) {
        let stop = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {runner}{pg_ctl} -D {data} -m immediate stop >/dev/null 2>&1",
            pid = std::process::id(),
            runner = if self.as_postgres { "runuser -u postgres -- " } else { "" },
            pg_ctl = self.bin.join("pg_ctl").display(),
            data = self.data_dir().display(),
        );
        let _ = Command::new("sh")
            .arg("-c")
            .arg(stop)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let _ = self.stop_with("immediate");
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// `CAMP_PG_BIN`, or the newest `/usr/lib/postgresql/*/bin`.
fn find_bin() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("CAMP_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            Path::new(&bin).join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); install `postgresql` or set CAMP_PG_BIN".to_string()
    })
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
