//! The commands that talk to a database: `audience`, `preview`,
//! `schema pull` and `check --database`. Each prints a clear error and
//! returns the exit code; nothing here panics on what a database returns.

use camp_compiler::program::Program;
use camp_compiler::Diagnostic;
use camp_runtime::dryrun::{self, Preview};
use camp_runtime::{introspect, Database};
use chrono::{DateTime, Utc};
use std::path::Path;

/// The database URL: `--database`, else `camp.toml`'s `database` (a
/// relative SQLite path is relative to the workspace folder).
pub fn database_url(arg: Option<&str>, config: &crate::config::Config, root: &Path) -> Result<String, String> {
    if let Some(url) = arg {
        return Ok(url.to_string());
    }
    let Some(url) = config.workspace.database.as_deref() else {
        return Err(
            "no database: pass `--database URL` (`sqlite://shop.db`, `postgres://user@host/db`) or set `database` in camp.toml".into(),
        );
    };
    match url.strip_prefix("sqlite://") {
        Some(path) if !Path::new(path).is_absolute() => Ok(format!("sqlite://{}", root.join(path).display())),
        _ => Ok(url.to_string()),
    }
}

/// `--now`: RFC 3339, or the language's `2026-12-01 11:00` in the policy's
/// zone (of the current workspace; Asia/Seoul without one), or the clock.
pub fn parse_now(arg: Option<&str>) -> Result<DateTime<Utc>, String> {
    let Some(text) = arg else { return Ok(Utc::now()) };
    if let Ok(t) = DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    parse_local(text, &workspace_zone())
}

/// `2026-12-01 11:00` (or with seconds, or a `T`) in `zone`.
pub fn parse_local(text: &str, zone: &str) -> Result<DateTime<Utc>, String> {
    use chrono::TimeZone;
    let help = "help: write it like `2026-11-23 10:00` (in the policy's zone) or in RFC 3339, `2026-11-23T10:00:00+09:00`";
    let formats = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"];
    let Some(naive) = formats
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text.trim(), f).ok())
    else {
        return Err(format!("`--now {text}` is not a time\n  {help}"));
    };
    let tz: chrono_tz::Tz = zone
        .parse()
        .map_err(|_| format!("the policy's zone `{zone}` is not an IANA zone"))?;
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        // A fold (the hour repeated when clocks go back): the first one.
        chrono::LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        chrono::LocalResult::None => Err(format!("`--now {text}` does not exist in {zone} (the clocks skip it)\n  {help}")),
    }
}

/// The policy's zone of the workspace of the current folder.
fn workspace_zone() -> String {
    let default = "Asia/Seoul".to_string();
    let Ok(loaded) = crate::load::load(&[]) else { return default };
    let analysis = camp_compiler::analyze(&loaded.workspace);
    Program::new(&analysis).and_then(|p| p.policy.timezone.clone()).unwrap_or(default)
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// Runs `f` with a connection; errors become messages.
pub fn with_database<T>(url: &str, f: impl AsyncFnOnce(&Database) -> Result<T, String>) -> Result<T, String> {
    runtime()?.block_on(async {
        let db = Database::connect(url).await.map_err(|e| e.to_string())?;
        let result = f(&db).await;
        db.close().await;
        result
    })
}

pub enum AudienceFormat {
    Human,
    Json,
}

pub fn audience(program: &Program, campaign: &str, url: &str, now: DateTime<Utc>, format: AudienceFormat) -> Result<String, String> {
    // A misspelt name is found before any connection is tried.
    if !program.campaigns.contains_key(campaign) {
        let help = camp_compiler::suggest::help_for(campaign, program.campaigns.keys().copied(), "campaign");
        return Err(format!("no campaign named `{campaign}`\n  help: {help}"));
    }
    let keys = with_database(url, async |db| {
        dryrun::audience(db, program, campaign, now).await.map_err(|e| e.to_string())
    })?;
    Ok(match format {
        AudienceFormat::Json => {
            let json = serde_json::json!({ "campaign": campaign, "count": keys.len(), "customers": keys });
            format!("{json}\n")
        }
        AudienceFormat::Human => {
            let mut out = format!(
                "{campaign}: {} customer{} at {}\n",
                keys.len(),
                if keys.len() == 1 { "" } else { "s" },
                now.to_rfc3339()
            );
            for key in keys.iter().take(50) {
                out.push_str(&format!("  {key}\n"));
            }
            if keys.len() > 50 {
                out.push_str(&format!("  … and {} more (use --format json for all)\n", keys.len() - 50));
            }
            out
        }
    })
}

pub fn preview(
    program: &Program,
    workspace: &camp_compiler::Workspace,
    name: &str,
    customer: &str,
    url: &str,
    now: DateTime<Utc>,
    all: bool,
) -> Result<String, String> {
    if !program.campaigns.contains_key(name) && !program.messages.contains_key(name) {
        let names = program.campaigns.keys().chain(program.messages.keys()).copied();
        let help = camp_compiler::suggest::help_for(name, names, "campaign or message");
        return Err(format!("no campaign or message named `{name}`\n  help: {help}"));
    }
    let mut out = String::new();
    let previews = match program.campaigns.get(name) {
        Some((file, _)) => {
            let cp = with_database(url, async |db| {
                dryrun::campaign_preview(db, program, name, customer, now, all)
                    .await
                    .map_err(|e| e.to_string())
            })?;
            let at = now.to_rfc3339();
            if cp.in_audience {
                out.push_str(&format!("customer {customer} is in the audience of `{name}` at {at}\n"));
            } else {
                out.push_str(&format!(
                    "customer {customer} is NOT in the audience of `{name}` at {at}; these do not hold:\n"
                ));
                let text = workspace.file(*file);
                for span in &cp.failing {
                    let (shown, line) = match text {
                        Some(f) => (
                            f.text
                                .get(span.start..span.end)
                                .unwrap_or("")
                                .split_whitespace()
                                .collect::<Vec<_>>()
                                .join(" "),
                            format!("{}:{}", f.path, f.line_col(span.start).line),
                        ),
                        None => (String::new(), String::new()),
                    };
                    out.push_str(&format!("  `{shown}` ({line})\n"));
                }
                if cp.failing.is_empty() {
                    out.push_str("  no triggering event yet\n");
                }
            }
            match cp.arm.as_str() {
                "" => {}
                "holdout" => out.push_str("arm: holdout (this customer gets nothing; shown: what the others get)\n"),
                arm => out.push_str(&format!("arm: variant `{arm}`\n")),
            }
            if !all && !cp.branches.is_empty() {
                let said: Vec<&str> = cp.branches.iter().map(|b| if *b { "then" } else { "else" }).collect();
                out.push_str(&format!("path: {} (`--all` shows every branch and variant)\n", said.join(", ")));
            }
            cp.previews
        }
        None => with_database(url, async |db| {
            dryrun::preview(db, program, name, customer, now).await.map_err(|e| e.to_string())
        })?,
    };
    for p in &previews {
        out.push_str(&describe(p, customer));
    }
    if previews.is_empty() {
        out.push_str(&format!("`{name}` sends no message on this path\n"));
    }
    Ok(out)
}

/// "123/2000 bytes, ok"
fn size_verdict(v: &camp_compiler::channel::Verdict) -> String {
    let limit = v.limit.map(|l| format!("/{l}")).unwrap_or_default();
    let verdict = if v.ok() { "ok".to_string() } else { v.problems.join("; ") };
    format!("{}{limit} {}, {verdict}", v.length, v.unit.name())
}

fn describe(p: &Preview, customer: &str) -> String {
    let mut out = format!(
        "── {} → customer {customer} via {} ({})\n",
        p.message,
        p.channel.name(),
        size_verdict(&p.verdict)
    );
    for (channel, rendered, verdict) in &p.fallbacks {
        let same = rendered.body == p.rendered.body;
        out.push_str(&format!(
            "   fallback {}: {}{}\n",
            channel.name(),
            size_verdict(verdict),
            if same { "" } else { " (text below differs)" }
        ));
    }
    if let Some(code) = &p.rendered.template_code {
        out.push_str(&format!("template: {code}\n"));
    }
    if let Some(subject) = &p.rendered.subject {
        out.push_str(&format!("subject: {subject}\n"));
    }
    if let Some(title) = &p.rendered.title {
        out.push_str(&format!("title: {title}\n"));
    }
    out.push_str(&p.rendered.body);
    if !p.rendered.body.ends_with('\n') {
        out.push('\n');
    }
    if let Some(image) = &p.rendered.image {
        out.push_str(&format!("image: {image}\n"));
    }
    for b in &p.rendered.buttons {
        out.push_str(&format!("[{}] {}\n", b.label, b.url));
    }
    for (channel, rendered, _) in &p.fallbacks {
        if rendered.body != p.rendered.body {
            out.push_str(&format!("── as sent on {}:\n{}\n", channel.name(), rendered.body.trim_end()));
        }
    }
    out
}

pub fn schema_pull(url: &str) -> Result<String, String> {
    with_database(url, async |db| introspect::pull(db).await.map_err(|e| e.to_string()))
}

/// Where the schema and the database disagree: tables, columns and their
/// types, and enum values the database holds that the schema lacks.
pub fn compare(schema: &camp_compiler::schema::SchemaModel, url: &str) -> Result<Vec<Diagnostic>, String> {
    with_database(url, async |db| {
        introspect::check_database(db, schema).await.map_err(|e| e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_are_read_in_the_zone() {
        let t = parse_local("2026-12-01 11:00", "Asia/Seoul").expect("a time");
        assert_eq!(t.to_rfc3339(), "2026-12-01T02:00:00+00:00");
        let t = parse_local("2026-12-01T11:00:30", "America/New_York").expect("a time");
        assert_eq!(t.to_rfc3339(), "2026-12-01T16:00:30+00:00");
        // 02:30 does not exist in New York on 2026-03-08 (spring forward).
        assert!(parse_local("2026-03-08 02:30", "America/New_York").is_err());
        // 01:30 happens twice on 2026-11-01: the first is EDT (UTC-4).
        let t = parse_local("2026-11-01 01:30", "America/New_York").expect("a time");
        assert_eq!(t.to_rfc3339(), "2026-11-01T05:30:00+00:00");
        assert!(parse_local("yesterday", "Asia/Seoul").is_err());
    }
}
