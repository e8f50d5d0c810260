//! `camp`: check campaign files, explain diagnostic codes.

use camp::load::{self, Loaded};
use camp::output;
use camp_compiler::codes;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "camp", version, about = "A declarative language and compiler for CRM messaging campaigns")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and check a workspace: every problem, with its code.
    Check {
        /// Files or folders; defaults to the current workspace (`camp.toml` upward).
        paths: Vec<PathBuf>,
        /// `human` (default) or `json` (one object per line).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Print the documentation page of a diagnostic code, e.g. `camp explain E0101`.
    Explain {
        /// A code such as `E0101` or `W0404`.
        code: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
}

const EXIT_ERRORS: u8 = 1;
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { paths, format } => check(&paths, format),
        Command::Explain { code } => explain(&code),
    }
}

fn check(paths: &[PathBuf], format: Format) -> ExitCode {
    let Loaded { workspace, .. } = match load::load(paths) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let analysis = camp_compiler::analyze(&workspace);
    let io_errors = analysis.has_io_errors();
    let diagnostics = analysis.diagnostics;

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for d in &diagnostics {
        let text = match format {
            Format::Human => output::human(d, &workspace, color),
            Format::Json => output::json(d, &workspace) + "\n",
        };
        if out.write_all(text.as_bytes()).is_err() {
            return ExitCode::from(EXIT_USAGE);
        }
    }
    if let Format::Human = format {
        let files = workspace.files.len();
        let _ = writeln!(
            out,
            "checked {files} file{}: {}",
            if files == 1 { "" } else { "s" },
            output::summary(&diagnostics)
        );
    }
    if io_errors {
        ExitCode::from(EXIT_USAGE)
    } else if diagnostics.iter().any(|d| d.is_error()) {
        ExitCode::from(EXIT_ERRORS)
    } else {
        ExitCode::SUCCESS
    }
}

fn explain(code: &str) -> ExitCode {
    match codes::lookup(code) {
        Some(c) => {
            print!("{}", c.page);
            ExitCode::SUCCESS
        }
        None if codes::looks_like_code(code) => {
            eprintln!("error: `{code}` is not a camp diagnostic code; see docs/codes/ for the list");
            ExitCode::from(EXIT_USAGE)
        }
        None => {
            eprintln!("error: `{code}` is not a diagnostic code (codes look like `E0101` or `W0404`)");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
