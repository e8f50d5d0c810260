//! Logs go to stderr, never stdout (stdout carries the protocol).
//! `CAMP_LSP_LOG=debug|info|warn|off` sets how much; `warn` by default.

use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Off,
}

fn threshold() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| match std::env::var("CAMP_LSP_LOG").as_deref() {
        Ok("debug") => Level::Debug,
        Ok("info") => Level::Info,
        Ok("off") => Level::Off,
        _ => Level::Warn,
    })
}

pub fn log(level: Level, message: std::fmt::Arguments) {
    if level >= threshold() && level != Level::Off {
        eprintln!("[camp-lsp {level:?}] {message}");
    }
}

macro_rules! log_warn {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Warn, format_args!($($arg)*)) };
}
macro_rules! log_info {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Info, format_args!($($arg)*)) };
}
pub(crate) use {log_info, log_warn};
