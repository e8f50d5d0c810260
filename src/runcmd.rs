//! The commands of the runtime: `camp run` (the daemon), `camp simulate`,
//! `camp report` and `camp demo`. Each prints a clear error and returns
//! the exit code.

use crate::config::Config;
use crate::load::{self, Loaded};
use crate::output;
use crate::{dbcmd, deploy};
use camp_compiler::plan::{Deployment, Op, Plan};
use camp_compiler::program::Program;
use camp_compiler::{Input, Workspace};
use camp_runtime::channels::{ChannelConfig, ChannelSet};
use camp_runtime::clock::{Clock, ShiftedClock, SystemClock};
use camp_runtime::engine::{Options, Runner};
use camp_runtime::{daemon, demo, logging, report, simulate, Database};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

const EXIT_ERRORS: u8 = 1;
const EXIT_USAGE: u8 = 2;

fn fail(message: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start the async runtime: {e}"), EXIT_USAGE))
}

/// The workspace, checked, and a plan for every campaign.
fn compiled(paths: &[PathBuf]) -> Result<(Loaded, camp_compiler::Analysis), ExitCode> {
    let loaded = load::load(paths).map_err(|e| fail(e, EXIT_USAGE))?;
    let analysis = camp_compiler::analyze(&loaded.workspace);
    if analysis.has_errors() {
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        for d in analysis.diagnostics.iter().filter(|d| d.is_error()) {
            eprint!("{}", output::human(d, &loaded.workspace, color));
        }
        return Err(fail(
            "the workspace does not check; fix the errors above first",
            if analysis.has_io_errors() { EXIT_USAGE } else { EXIT_ERRORS },
        ));
    }
    Ok((loaded, analysis))
}

/// What `camp run` and `camp simulate` execute, with the `camp.toml` and
/// folder of its workspace: the deployment that `camp compile --out DIR`
/// wrote (`--plans DIR`, verified; `camp.toml` from the current folder
/// upward), or the sources compiled into the same deployment in memory.
pub fn deployment(paths: &[PathBuf], plans: Option<&Path>) -> Result<(Config, PathBuf, Deployment), ExitCode> {
    let Some(dir) = plans else {
        let (loaded, analysis) = compiled(paths)?;
        let Some(program) = Program::new(&analysis) else {
            return Err(ExitCode::from(EXIT_ERRORS));
        };
        let deployment = Deployment::build(&program).map_err(|e| fail(format!("cannot compile: {e}"), EXIT_ERRORS))?;
        return Ok((loaded.config, loaded.root, deployment));
    };
    let deployment = deploy::read(dir).map_err(|e| fail(e, EXIT_USAGE))?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let root = load::find_root(&cwd).unwrap_or(cwd);
    let config = match std::fs::read_to_string(root.join("camp.toml")) {
        Err(_) => Config::default(),
        Ok(text) => Config::parse(&text).map_err(|e| fail(format!("{}: {e}", root.join("camp.toml").display()), EXIT_USAGE))?,
    };
    Ok((config, root, deployment))
}

/// Every channel a plan may send on.
fn channels_used(plans: &[Plan]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in plans {
        for s in &p.steps {
            if let Op::Send { channels, .. } = &s.op {
                for c in channels.all() {
                    if !out.iter().any(|x| x == c) {
                        out.push(c.to_string());
                    }
                }
            }
        }
    }
    out
}

/// `[channels.*]` of camp.toml, with `file` paths relative to the workspace.
pub fn channel_set(config: &BTreeMap<String, toml::Table>, root: &Path, plans: &[Plan]) -> Result<ChannelSet, String> {
    let mut configs = BTreeMap::new();
    for (name, table) in config {
        let mut c: ChannelConfig = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e| format!("camp.toml, [channels.{name}]: {e}"))?;
        if let Some(p) = &c.path {
            if Path::new(p).is_relative() {
                c.path = Some(root.join(p).display().to_string());
            }
        }
        configs.insert(name.clone(), c);
    }
    let set = ChannelSet::from_config(&configs)?;
    let missing: Vec<String> = channels_used(plans).into_iter().filter(|c| !set.has(c)).collect();
    if !missing.is_empty() {
        return Err(format!(
            "the campaigns send on {}, which camp.toml does not configure\n  help: add for each a section such as\n\n  [channels.{}]\n  type = \"stdout\"   # or \"file\" (path = ..) or \"webhook\" (url = .., secret_env = ..)\n",
            missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
            missing[0]
        ));
    }
    Ok(set)
}

/// `camp run`: the daemon, on the sources or on a compiled deployment (`--plans DIR`).
pub fn run(paths: &[PathBuf], plans: Option<&Path>, database: Option<&str>, now: Option<&str>, listen: Option<&str>) -> ExitCode {
    logging::init();
    let clock: Arc<dyn Clock> = match now {
        None => Arc::new(SystemClock),
        Some(_) => match dbcmd::parse_now(now) {
            Ok(t) => Arc::new(ShiftedClock::starting_at(t)),
            Err(e) => return fail(e, EXIT_USAGE),
        },
    };
    let (config, root, deployment) = match deployment(paths, plans) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let url = match dbcmd::database_url(database, &config, &root) {
        Ok(u) => u,
        Err(e) => return fail(e, EXIT_USAGE),
    };
    let channels = match channel_set(&config.channels, &root, &deployment.plans) {
        Ok(c) => c,
        Err(e) => return fail(e, EXIT_USAGE),
    };
    let listen: Option<std::net::SocketAddr> = match listen.map(str::parse) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(e)) => return fail(format!("`--listen` wants an address like 127.0.0.1:8080 ({e})"), EXIT_USAGE),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let count = deployment.plans.len();
    let hash = deployment.hash.clone();
    let result: Result<(), String> = rt.block_on(async move {
        // Before anything is awaited: a SIGTERM while connecting still stops cleanly.
        let shutdown = daemon::signal();
        let db = Database::connect(&url).await.map_err(|e| e.to_string())?;
        let runner = Runner::start(db, deployment, channels, Options::from_env(), clock.now())
            .await
            .map_err(|e| e.to_string())?;
        let listener = match listen {
            Some(addr) => Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|e| format!("cannot listen on {addr}: {e}"))?,
            ),
            None => None,
        };
        camp_runtime::tracing::info!(
            daemon = %runner.id.name,
            campaigns = count,
            deployment = %camp_compiler::plan::deployment::short(&hash),
            listen = ?listen,
            database = %camp_runtime::db::redact(&url),
            "camp daemon started"
        );
        daemon::run(Arc::new(runner), clock, listener, daemon::DaemonOptions::default(), shutdown)
            .await
            .map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e, EXIT_ERRORS),
    }
}

/// How `camp simulate` prints, with how many sends it lists.
pub enum SimOutput {
    Human(usize),
    Json(usize),
}

/// `camp simulate --from T --to T`, on the sources or on a compiled deployment.
pub fn simulate(paths: &[PathBuf], plans: Option<&Path>, database: Option<&str>, from: &str, to: &str, output: SimOutput) -> ExitCode {
    let (from, to) = match (dbcmd::parse_now(Some(from)), dbcmd::parse_now(Some(to))) {
        (Ok(a), Ok(b)) if a < b => (a, b),
        (Ok(_), Ok(_)) => return fail("`--from` must be before `--to`", EXIT_USAGE),
        (Err(e), _) | (_, Err(e)) => return fail(e.replace("--now", "--from/--to"), EXIT_USAGE),
    };
    let (config, root, deployment) = match deployment(paths, plans) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let zone = deployment.policy.zone.clone();
    let url = match dbcmd::database_url(database, &config, &root) {
        Ok(u) => u,
        Err(e) => return fail(e, EXIT_USAGE),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    eprintln!(
        "simulating {} campaigns from {from} to {to} (every send taken as delivered; nothing is sent)",
        deployment.plans.len()
    );
    let span = (to - from).num_seconds().max(1) as u64;
    let mut bar = crate::progress::Progress::new("simulate", span);
    let result = rt.block_on(simulate::simulate(&url, deployment, from, to, |now, sim| {
        let done = (now - from).num_seconds().max(0) as u64;
        bar.set(done, &format!("{now}: {} events, {} enrollments", sim.events, sim.enrolled));
    }));
    bar.finish("");
    match result {
        Ok(sim) => {
            match output {
                SimOutput::Human(limit) => print!("{}", simulate::render(&sim, &zone, limit)),
                SimOutput::Json(limit) => print!("{}", simulate::render_json(&sim, from, to, limit)),
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e, EXIT_ERRORS),
    }
}

/// `camp report CAMPAIGN`.
pub fn report(campaign: &str, database: Option<&str>) -> ExitCode {
    let cwd = std::env::current_dir().unwrap_or_default();
    let root = load::find_root(&cwd).unwrap_or(cwd);
    let config = load::config_at(&root).unwrap_or_default();
    let url = match dbcmd::database_url(database, &config, &root) {
        Ok(u) => u,
        Err(e) => return fail(e, EXIT_USAGE),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result: Result<String, String> = rt.block_on(async {
        let db = Database::connect(&url).await.map_err(|e| e.to_string())?;
        let store = camp_runtime::store::Store::attach(db.clone(), camp_runtime::store::SCHEMA);
        let deployed = report::deployed_campaigns(&store)
            .await
            .map_err(|e| format!("{e}\n  help: does this database have a camp store? `camp run` creates it"))?;
        // A campaign of the workspace that never ran has "no enrollments
        // yet"; a name that is neither deployed nor in the workspace is a typo.
        let mut known = deployed;
        if let Ok(loaded) = load::load(&[]) {
            let analysis = camp_compiler::analyze(&loaded.workspace);
            for file in &analysis.asts {
                for item in &file.items {
                    if let camp_grammar::ast::Item::Campaign(c) = item {
                        known.push(c.name.name.clone());
                    }
                }
            }
        }
        if !known.iter().any(|k| k == campaign) {
            let help = camp_compiler::suggest::help_for(campaign, known.iter().map(String::as_str), "campaign");
            return Err(format!("unknown campaign `{campaign}`\n  help: {help}"));
        }
        let r = report::report(&store, campaign)
            .await
            .map_err(|e| format!("{e}\n  help: does this database have a camp store? `camp run` creates it"))?;
        db.close().await;
        Ok(report::render(&r))
    });
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e, EXIT_ERRORS),
    }
}

/// The example shop, compiled into the binary so `camp demo` runs from anywhere.
const SHOP: &[(&str, &str)] = &[
    ("examples/shop/schema.camp", include_str!("../examples/shop/schema.camp")),
    ("examples/shop/policy.camp", include_str!("../examples/shop/policy.camp")),
    ("examples/shop/alimtalk.camp", include_str!("../examples/shop/alimtalk.camp")),
    (
        "examples/shop/campaigns/birthday.camp",
        include_str!("../examples/shop/campaigns/birthday.camp"),
    ),
    (
        "examples/shop/campaigns/browse.camp",
        include_str!("../examples/shop/campaigns/browse.camp"),
    ),
    (
        "examples/shop/campaigns/cart.camp",
        include_str!("../examples/shop/campaigns/cart.camp"),
    ),
    (
        "examples/shop/campaigns/cart_digest.camp",
        include_str!("../examples/shop/campaigns/cart_digest.camp"),
    ),
    (
        "examples/shop/campaigns/coupon.camp",
        include_str!("../examples/shop/campaigns/coupon.camp"),
    ),
    (
        "examples/shop/campaigns/onboarding.camp",
        include_str!("../examples/shop/campaigns/onboarding.camp"),
    ),
    (
        "examples/shop/campaigns/price_drop.camp",
        include_str!("../examples/shop/campaigns/price_drop.camp"),
    ),
    (
        "examples/shop/campaigns/repurchase.camp",
        include_str!("../examples/shop/campaigns/repurchase.camp"),
    ),
    (
        "examples/shop/campaigns/restock.camp",
        include_str!("../examples/shop/campaigns/restock.camp"),
    ),
    (
        "examples/shop/campaigns/rfm.camp",
        include_str!("../examples/shop/campaigns/rfm.camp"),
    ),
    (
        "examples/shop/campaigns/vip.camp",
        include_str!("../examples/shop/campaigns/vip.camp"),
    ),
    (
        "examples/shop/campaigns/winback.camp",
        include_str!("../examples/shop/campaigns/winback.camp"),
    ),
    (
        "examples/shop/campaigns/year_end.camp",
        include_str!("../examples/shop/campaigns/year_end.camp"),
    ),
];

/// `camp demo`.
pub fn demo() -> ExitCode {
    let mut ws = Workspace::new();
    for (name, text) in SHOP {
        ws.add(name.to_string(), Input::Text(text.to_string()));
    }
    let analysis = camp_compiler::analyze(&ws);
    if analysis.has_errors() {
        return fail("the embedded example workspace does not check", EXIT_ERRORS);
    }
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-30T00:00:00+09:00")
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default();
    let opts = demo::DemoOptions {
        path: std::env::temp_dir().join("camp-demo").join("shop.db"),
        customers: 2_000,
        start,
        days: 5,
    };
    println!("camp demo: the example shop (examples/shop) on an embedded SQLite database");
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    // One bar per stage, shown only on a terminal; the demo's lines print
    // with the bar hidden.
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let bar: std::cell::RefCell<Option<(&'static str, crate::progress::Progress)>> = std::cell::RefCell::new(None);
    let mut progress = |stage: &'static str, done: u64, total: u64| {
        if !terminal {
            return;
        }
        let mut bar = bar.borrow_mut();
        if bar.as_ref().is_none_or(|(s, _)| *s != stage) {
            *bar = Some((stage, crate::progress::Progress::new(stage, total)));
        }
        if let Some((_, b)) = bar.as_mut() {
            b.set(done, "");
        }
    };
    let mut print = |line: String| match bar.borrow().as_ref() {
        Some((_, b)) => b.suspend(|| println!("{line}")),
        None => println!("{line}"),
    };
    let result = rt.block_on(demo::run(&analysis, &opts, &mut print, &mut progress));
    drop(bar);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e, EXIT_ERRORS),
    }
}
