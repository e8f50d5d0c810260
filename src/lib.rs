//! The `camp` command line: finding a workspace's files, and printing what
//! the compiler says about them.

pub mod config;
pub mod dbcmd;
pub mod deploy;
pub mod explain;
pub mod fixture;
pub mod fmt_cmd;
pub mod load;
pub mod output;
pub mod progress;
pub mod review;
pub mod runcmd;
pub mod sendtest;
