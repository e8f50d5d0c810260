//! `camp`: check campaign files, explain diagnostic codes.

use camp::dbcmd;
use camp::load::{self, Loaded};
use camp::output;
use camp_compiler::codes;
use camp_compiler::lower::{Dialect, Postgres, Sqlite};
use camp_compiler::plan::deployment::{self, Deployment};
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
    /// The daemon: executes the campaigns against the database and the channels of camp.toml.
    Run {
        /// Files or folders; defaults to the current workspace.
        paths: Vec<PathBuf>,
        /// Run the deployment that `camp compile --out DIR` wrote, instead of compiling sources.
        #[arg(long, value_name = "DIR", conflicts_with = "paths")]
        plans: Option<PathBuf>,
        #[arg(long)]
        database: Option<String>,
        /// Start the clock at this instant (RFC 3339); it then runs at wall-clock speed.
        #[arg(long)]
        now: Option<String>,
        /// Serve `POST /v1/events`, `POST /v1/receipts`, `/metrics`, `/healthz` here (`127.0.0.1:8080`).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Replay the stored events on a virtual clock: who would get what, and when. Nothing is sent.
    Simulate {
        paths: Vec<PathBuf>,
        /// Replay the deployment that `camp compile --out DIR` wrote, instead of compiling sources.
        #[arg(long, value_name = "DIR", conflicts_with = "paths")]
        plans: Option<PathBuf>,
        #[arg(long)]
        database: Option<String>,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// `human` (default) or `json`: totals, sends per campaign and the sends.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// How many sends to list (default 500 for `human`, all for `json`).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Sends, deliveries and conversions of a campaign per variant and holdout, with uplift.
    Report {
        campaign: String,
        #[arg(long)]
        database: Option<String>,
    },
    /// A self-contained demo: the example shop on an embedded SQLite database, a few simulated days.
    Demo,
    /// Dry run: who is in a campaign's audience now.
    Audience {
        campaign: String,
        /// Files or folders; defaults to the current workspace.
        paths: Vec<PathBuf>,
        /// `sqlite://shop.db` or `postgres://user@host/db`; defaults to camp.toml's.
        #[arg(long)]
        database: Option<String>,
        /// The instant to evaluate at (RFC 3339); defaults to the clock.
        #[arg(long)]
        now: Option<String>,
        /// `human` (default) or `json`: `{"campaign":..,"count":N,"customers":[..]}`.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// The rendered message(s) of a campaign or message for one customer.
    Preview {
        /// A campaign or a message name.
        name: String,
        /// Files or folders; defaults to the current workspace.
        paths: Vec<PathBuf>,
        /// The customer's key.
        #[arg(long)]
        customer: String,
        #[arg(long)]
        database: Option<String>,
        /// The instant to render at (RFC 3339); defaults to the clock.
        #[arg(long)]
        now: Option<String>,
        /// Render every branch and variant, not only this customer's path.
        #[arg(long)]
        all: bool,
    },
    /// What a change of deployment does, for a pull request: per campaign
    /// added/changed/removed, audiences, caps, sizes, ad-law facts, previews.
    /// Exit 1 when a `[review]` gate of camp.toml fails.
    Review {
        /// The deployment before (a `camp compile --out` directory, or a workspace folder).
        #[arg(long)]
        base: PathBuf,
        /// The deployment after (a `camp compile --out` directory, or a workspace folder).
        #[arg(long)]
        head: PathBuf,
        /// Measure audiences, caps and seed previews on this database.
        #[arg(long)]
        database: Option<String>,
        /// The instant to evaluate at (RFC 3339); defaults to the clock.
        #[arg(long)]
        now: Option<String>,
        /// `markdown` (default, for a pull-request comment) or `json`.
        #[arg(long, value_enum, default_value_t = ReviewFormatArg::Markdown)]
        format: ReviewFormatArg,
    },
    /// Send a message or a campaign's messages to the seeds of `[seeds.GROUP]`
    /// in camp.toml, on the real channels, marked as a test (no caps, not in reports).
    SendTest {
        /// A campaign or a message name.
        name: String,
        /// Files or folders; defaults to the current workspace.
        paths: Vec<PathBuf>,
        /// The seed group of camp.toml (`[seeds.GROUP]`).
        #[arg(long)]
        to: String,
        #[arg(long)]
        database: Option<String>,
        /// The instant to render at (RFC 3339); defaults to the clock.
        #[arg(long)]
        now: Option<String>,
    },
    /// Work with the schema and a database.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Serve the Language Server Protocol on stdin/stdout (editors start this).
    Lsp,
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
        /// `human` (default), `json` (one object per line), `github`
        /// (Actions annotations) or `sarif` (one SARIF 2.1.0 log).
        #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
        format: CheckFormat,
        /// Also compare the schema with this database (`sqlite://shop.db`, `postgres://..`).
        #[arg(long)]
        database: Option<String>,
    },
    /// Compile the workspace into a deployment directory: DIR/manifest.json and DIR/plans/<campaign>.json (all or none).
    Compile {
        /// Files or folders; defaults to the current workspace.
        paths: Vec<PathBuf>,
        /// The deployment directory; an earlier deployment there is replaced as a whole.
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

#[derive(Subcommand)]
enum SchemaCommand {
    /// Write `schema.camp` from the tables of a database.
    Pull {
        /// `sqlite://shop.db` or `postgres://user@host/db`; defaults to camp.toml's.
        #[arg(long)]
        database: Option<String>,
        /// Where to write; `-` for standard output.
        #[arg(long, default_value = "schema.camp")]
        out: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
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

#[derive(Clone, Copy, ValueEnum)]
enum ReviewFormatArg {
    Markdown,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum CheckFormat {
    Human,
    Json,
    Github,
    Sarif,
}

const EXIT_ERRORS: u8 = 1;
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            paths,
            plans,
            database,
            now,
            listen,
        } => camp::runcmd::run(&paths, plans.as_deref(), database.as_deref(), now.as_deref(), listen.as_deref()),
        Command::Simulate {
            paths,
            plans,
            database,
            from,
            to,
            format,
            limit,
        } => {
            let output = match format {
                Format::Human => camp::runcmd::SimOutput::Human(limit.unwrap_or(500)),
                Format::Json => camp::runcmd::SimOutput::Json(limit.unwrap_or(usize::MAX)),
            };
            camp::runcmd::simulate(&paths, plans.as_deref(), database.as_deref(), &from, &to, output)
        }
        Command::Report { campaign, database } => camp::runcmd::report(&campaign, database.as_deref()),
        Command::Demo => camp::runcmd::demo(),
        Command::Lsp => camp_lsp::run_stdio().map_or_else(|e| fail(e, EXIT_ERRORS), |()| ExitCode::SUCCESS),
        Command::Fmt { paths, check } => camp::fmt_cmd::run(&paths, check),
        Command::Check { paths, format, database } => check(&paths, format, database.as_deref()),
        Command::Audience {
            campaign,
            paths,
            database,
            now,
            format,
        } => audience(&campaign, &paths, database.as_deref(), now.as_deref(), format),
        Command::Preview {
            name,
            paths,
            customer,
            database,
            now,
            all,
        } => preview(&name, &paths, &customer, database.as_deref(), now.as_deref(), all),
        Command::Review {
            base,
            head,
            database,
            now,
            format,
        } => camp::review::run(
            &base,
            &head,
            database.as_deref(),
            now.as_deref(),
            match format {
                ReviewFormatArg::Markdown => camp::review::ReviewFormat::Markdown,
                ReviewFormatArg::Json => camp::review::ReviewFormat::Json,
            },
        ),
        Command::SendTest {
            name,
            paths,
            to,
            database,
            now,
        } => send_test(&name, &paths, &to, database.as_deref(), now.as_deref()),
        Command::Schema(SchemaCommand::Pull { database, out, force }) => schema_pull(database.as_deref(), &out, force),
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

fn check(paths: &[PathBuf], format: CheckFormat, database: Option<&str>) -> ExitCode {
    let Loaded {
        workspace, config, root, ..
    } = match load::load(paths) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let analysis = camp_compiler::analyze(&workspace);
    let io_errors = analysis.has_io_errors();
    let mut diagnostics = analysis.diagnostics.clone();
    if let Some(arg) = database {
        let compared = dbcmd::database_url(Some(arg), &config, &root)
            .and_then(|url| dbcmd::compare(&camp_compiler::program::schema_of(&analysis), &url));
        match compared {
            Ok(found) => diagnostics.extend(found),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    if let CheckFormat::Sarif = format {
        if out.write_all(output::sarif(&diagnostics, &workspace).as_bytes()).is_err() {
            return ExitCode::from(EXIT_USAGE);
        }
    }
    for d in &diagnostics {
        let text = match format {
            CheckFormat::Human => output::human(d, &workspace, color),
            CheckFormat::Json => output::json(d, &workspace) + "\n",
            CheckFormat::Github => output::github(d, &workspace),
            CheckFormat::Sarif => continue,
        };
        if out.write_all(text.as_bytes()).is_err() {
            return ExitCode::from(EXIT_USAGE);
        }
    }
    if let CheckFormat::Human = format {
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
    // Build every plan before writing anything, so a failure leaves nothing half-done.
    let deployment = match Deployment::build(&program) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot compile: {e}");
            return ExitCode::from(EXIT_ERRORS);
        }
    };
    if let Err(e) = camp::deploy::write(out, &deployment) {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_USAGE);
    }
    let dialect = dialect_of(dialect, &loaded.config);
    let count = deployment.plans.len();
    println!(
        "wrote deployment {} to {}: manifest.json and {count} plan{} (SQL for sqlite and postgres)",
        deployment::short(&deployment.hash),
        out.display(),
        if count == 1 { "" } else { "s" },
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

fn fail(message: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

/// What the dry-run commands start from: `--now`, and the workspace checked
/// clean (errors printed and turned into the exit code otherwise).
fn dry_run_inputs(
    paths: &[PathBuf],
    now: Option<&str>,
) -> Result<(chrono::DateTime<chrono::Utc>, Loaded, camp_compiler::Analysis), ExitCode> {
    let now = dbcmd::parse_now(now).map_err(|e| fail(e, EXIT_USAGE))?;
    let (loaded, analysis) = checked(paths)?;
    Ok((now, loaded, analysis))
}

fn audience(campaign: &str, paths: &[PathBuf], database: Option<&str>, now: Option<&str>, format: Format) -> ExitCode {
    let (now, loaded, analysis) = match dry_run_inputs(paths, now) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(program) = Program::new(&analysis) else {
        return ExitCode::from(EXIT_ERRORS);
    };
    let url = match dbcmd::database_url(database, &loaded.config, &loaded.root) {
        Ok(u) => u,
        Err(e) => return fail(e, EXIT_USAGE),
    };
    let format = match format {
        Format::Human => dbcmd::AudienceFormat::Human,
        Format::Json => dbcmd::AudienceFormat::Json,
    };
    match dbcmd::audience(&program, campaign, &url, now, format) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e, EXIT_ERRORS),
    }
}

fn preview(name: &str, paths: &[PathBuf], customer: &str, database: Option<&str>, now: Option<&str>, all: bool) -> ExitCode {
    let (now, loaded, analysis) = match dry_run_inputs(paths, now) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(program) = Program::new(&analysis) else {
        return ExitCode::from(EXIT_ERRORS);
    };
    let url = match dbcmd::database_url(database, &loaded.config, &loaded.root) {
        Ok(u) => u,
        Err(e) => return fail(e, EXIT_USAGE),
    };
    match dbcmd::preview(&program, &loaded.workspace, name, customer, &url, now, all) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e, EXIT_ERRORS),
    }
}

fn send_test(name: &str, paths: &[PathBuf], to: &str, database: Option<&str>, now: Option<&str>) -> ExitCode {
    let (now, loaded, analysis) = match dry_run_inputs(paths, now) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(program) = Program::new(&analysis) else {
        return ExitCode::from(EXIT_ERRORS);
    };
    camp::sendtest::run(name, to, &loaded, &program, database, now)
}

fn schema_pull(database: Option<&str>, out: &std::path::Path, force: bool) -> ExitCode {
    let cwd = std::env::current_dir().unwrap_or_default();
    let root = load::find_root(&cwd).unwrap_or(cwd);
    let config = load::config_at(&root).unwrap_or_default();
    let url = match dbcmd::database_url(database, &config, &root) {
        Ok(u) => u,
        Err(e) => return fail(e, EXIT_USAGE),
    };
    let spinner = camp::progress::spinner("reading the database's tables and sampling their values");
    let pulled = dbcmd::schema_pull(&url);
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let text = match pulled {
        Ok(t) => t,
        Err(e) => return fail(e, EXIT_ERRORS),
    };
    if out == std::path::Path::new("-") {
        print!("{text}");
        return ExitCode::SUCCESS;
    }
    if out.exists() && !force {
        return fail(
            format!("`{}` exists; pass `--force` to overwrite it, or `--out -` to print", out.display()),
            EXIT_USAGE,
        );
    }
    let tmp = out.with_extension("camp.tmp");
    match std::fs::write(&tmp, &text).and_then(|_| std::fs::rename(&tmp, out)) {
        Ok(()) => {
            println!("wrote {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("cannot write `{}`: {e}", out.display()), EXIT_USAGE),
    }
}
