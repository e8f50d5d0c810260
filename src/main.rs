//! `camp`: check campaign files, explain diagnostic codes.

use camp::load::{self, Loaded};
use camp::output;
use camp_compiler::codes;
use camp_compiler::lower::{Dialect, Postgres, Sqlite};
use camp_compiler::program::Program;
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
    /// Rewrite `.camp` files in the canonical layout (`--check`: only list them).
    Fmt {
        /// Files or folders; defaults to the current workspace.
        paths: Vec<PathBuf>,
        /// Change nothing; list the files that would change and exit 1 if any.
        #[arg(long)]
        check: bool,
    },
    /// Parse and check a workspace: every problem, with its code.
    Check {
        /// Files or folders; defaults to the current workspace (`camp.toml` upward).
        paths: Vec<PathBuf>,
        /// `human` (default) or `json` (one object per line).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Compile every campaign to a versioned JSON plan in DIR (all or none).
    Compile {
        /// Files or folders; defaults to the current workspace.
        paths: Vec<PathBuf>,
        /// Where the plans go: one `<campaign>.plan.json` each.
        #[arg(long)]
        out: PathBuf,
        /// Print the indexes the queries want for this dialect (plans hold both).
        #[arg(long, value_enum)]
        dialect: Option<DialectArg>,
    },
    /// Explain a diagnostic code (`camp explain E0101`) or a campaign: its
    /// steps, its SQL per dialect and the indexes it wants.
    Explain {
        /// A code such as `E0101`, or a campaign name.
        name: String,
        /// Files or folders; defaults to the current workspace.
        paths: Vec<PathBuf>,
        /// `sqlite` or `postgres`; defaults to `camp.toml`'s dialect.
        #[arg(long, value_enum)]
        dialect: Option<DialectArg>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum DialectArg {
    Sqlite,
    Postgres,
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
        Command::Fmt { paths, check } => camp::fmt_cmd::run(&paths, check),
        Command::Check { paths, format } => check(&paths, format),
        Command::Compile { paths, out, dialect } => compile(&paths, &out, dialect),
        Command::Explain { name, paths, dialect } => {
            if codes::looks_like_code(&name) {
                explain(&name)
            } else {
                explain_campaign(&name, &paths, dialect)
            }
        }
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

/// Loads and checks a workspace for the commands that need it clean; on
/// errors prints them and returns the exit code.
fn checked(paths: &[PathBuf]) -> Result<(Loaded, camp_compiler::Analysis), ExitCode> {
    let loaded = load::load(paths).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_USAGE)
    })?;
    let analysis = camp_compiler::analyze(&loaded.workspace);
    if analysis.has_errors() {
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        for d in analysis.diagnostics.iter().filter(|d| d.is_error()) {
            eprint!("{}", output::human(d, &loaded.workspace, color));
        }
        eprintln!("error: the workspace does not check; fix the errors above first");
        return Err(ExitCode::from(if analysis.has_io_errors() { EXIT_USAGE } else { EXIT_ERRORS }));
    }
    Ok((loaded, analysis))
}

fn dialect_of(arg: Option<DialectArg>, config: &camp::config::Config) -> &'static dyn Dialect {
    match arg {
        Some(DialectArg::Postgres) => &Postgres,
        Some(DialectArg::Sqlite) => &Sqlite,
        None if config.workspace.dialect == "postgres" => &Postgres,
        None => &Sqlite,
    }
}

fn compile(paths: &[PathBuf], out: &std::path::Path, dialect: Option<DialectArg>) -> ExitCode {
    let (loaded, analysis) = match checked(paths) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(program) = Program::new(&analysis) else {
        return ExitCode::from(EXIT_ERRORS);
    };
    // Build every plan before writing any, so a failure leaves nothing half-done.
    let mut plans = Vec::new();
    for name in program.campaigns.keys() {
        match camp_compiler::plan::build(&program, name) {
            Ok(plan) => plans.push((name.to_string(), plan.to_json())),
            Err(e) => {
                eprintln!("error: cannot compile campaign `{name}`: {e}");
                return ExitCode::from(EXIT_ERRORS);
            }
        }
    }
    if let Err(e) = write_plans(out, &plans) {
        eprintln!("error: cannot write plans to `{}`: {e}", out.display());
        return ExitCode::from(EXIT_USAGE);
    }
    let dialect = dialect_of(dialect, &loaded.config);
    println!(
        "wrote {} plan{} to {} (SQL for sqlite and postgres)",
        plans.len(),
        if plans.len() == 1 { "" } else { "s" },
        out.display()
    );
    let mut indexes = std::collections::BTreeSet::new();
    for (_, c) in program.campaigns.values() {
        indexes.extend(camp_compiler::lower::queries::campaign_queries(&program, c, dialect).indexes);
    }
    if !indexes.is_empty() {
        println!("indexes the queries want ({}):", dialect.name());
        for i in indexes {
            println!("  {i}");
        }
    }
    ExitCode::SUCCESS
}

/// Writes each plan to a temporary file and renames it into place, so a
/// reader never sees a partial plan.
fn write_plans(out: &std::path::Path, plans: &[(String, String)]) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    let mut staged = Vec::new();
    for (name, json) in plans {
        let tmp = out.join(format!(".{name}.plan.json.tmp"));
        std::fs::write(&tmp, json)?;
        staged.push((tmp, out.join(format!("{name}.plan.json"))));
    }
    for (tmp, path) in staged {
        std::fs::rename(tmp, path)?;
    }
    Ok(())
}

fn explain_campaign(name: &str, paths: &[PathBuf], dialect: Option<DialectArg>) -> ExitCode {
    let (loaded, analysis) = match checked(paths) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(program) = Program::new(&analysis) else {
        return ExitCode::from(EXIT_ERRORS);
    };
    let dialect = dialect_of(dialect, &loaded.config);
    match camp::explain::campaign(&loaded.workspace, &program, name, dialect) {
        Some(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        None => {
            let names: Vec<&str> = program.campaigns.keys().copied().collect();
            eprintln!(
                "error: no campaign named `{name}`; {}",
                camp_compiler::suggest::help_for(name, names.iter().copied(), "campaign")
            );
            ExitCode::from(EXIT_USAGE)
        }
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
