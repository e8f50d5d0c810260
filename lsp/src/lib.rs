//! The camp language server: `camp lsp` speaks the Language Server
//! Protocol over stdio. This is the only crate that knows LSP types.
//!
//! - `world`: open documents over the workspace on disk, one analysis per
//!   workspace (`camp_compiler::analyze`);
//! - `ide`: completion, hover, navigation, outline and hints in byte
//!   offsets, with no protocol types;
//! - `handlers`, `to_proto`, `line_index`: the protocol side (UTF-16
//!   positions are converted in one place);
//! - `server`: the main loop (answers every request, survives panics);
//! - `transport`: frames over stdio (a bad frame gets an error answer and
//!   the server reads on).

mod diagnostics;
mod edit;
mod handlers;
pub mod ide;
pub mod line_index;
mod log;
mod server;
mod to_proto;
pub mod transport;
pub mod world;

pub use server::{capabilities, run};

/// Serves the protocol on stdin/stdout until the client says `exit` or
/// the input ends. Returns an error (for exit code 1) when the client says
/// `exit` without `shutdown`.
pub fn run_stdio() -> Result<(), String> {
    transport::run_io(std::io::stdin(), std::io::stdout())
}
