//! `camp review --base DIR --head DIR`: what a change of deployment does,
//! campaign by campaign, as markdown for a pull request or as one JSON
//! object, with the gates of `[review]` in camp.toml (exit 1 when one
//! fails). Each side is a compiled deployment directory (it holds
//! `manifest.json`) or a source workspace folder, compiled in memory.

use crate::config::{Config, ReviewConfig};
use crate::load;
use camp_compiler::plan::deployment::{self, Deployment};
use camp_compiler::plan::{Kind, Plan, QuietMode, Scope};
use camp_compiler::program::Program;
use camp_compiler::templating::{Part, Source};
use camp_runtime::dryrun::Preview;
use camp_runtime::{review, Key};
use chrono::{DateTime, Utc};
use serde_json::{json, Value as Json};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// How many ids each way a review lists.
const SAMPLES: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewFormat {
    Markdown,
    Json,
}

/// One side of the review: the deployment and, for a source folder, its
/// workspace root (where its camp.toml is).
pub struct Side {
    pub deployment: Deployment,
    pub root: Option<PathBuf>,
}

/// Reads a side: a compiled directory (verified), or a source folder
/// compiled in memory. The error says what is wrong and the fix.
pub fn side(path: &Path, which: &str) -> Result<Side, String> {
    if path.join(deployment::MANIFEST).is_file() {
        return Ok(Side {
            deployment: crate::deploy::read(path)?,
            root: None,
        });
    }
    if !path.is_dir() {
        return Err(format!(
            "`--{which} {}` is neither a deployment directory nor a workspace folder\n  help: pass the folder `camp compile --out DIR` wrote, or a folder of `.camp` files",
            path.display()
        ));
    }
    let loaded = load::load(&[path.to_path_buf()]).map_err(|e| e.to_string())?;
    if loaded.workspace.files.is_empty() {
        return Err(format!(
            "`--{which} {}` holds no `manifest.json` and no `.camp` file\n  help: pass the folder `camp compile --out DIR` wrote, or a folder of `.camp` files",
            path.display()
        ));
    }
    let analysis = camp_compiler::analyze(&loaded.workspace);
    let Some(program) = Program::new(&analysis) else {
        let errors = analysis.diagnostics.iter().filter(|d| d.is_error()).count();
        return Err(format!(
            "the workspace `{}` (--{which}) does not check ({errors} error{})\n  help: `camp check {}` lists them",
            path.display(),
            if errors == 1 { "" } else { "s" },
            path.display()
        ));
    };
    let deployment = Deployment::build(&program).map_err(|e| format!("--{which}: cannot compile: {e}"))?;
    Ok(Side {
        deployment,
        root: Some(loaded.root),
    })
}

/// The camp.toml a review reads: from the current folder upward, else the
/// head's workspace (when it is a source folder); defaults without one.
pub fn config(head: &Side) -> Result<(Config, PathBuf), String> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let root = load::find_root(&cwd)
        .or_else(|| head.root.clone().filter(|r| r.join("camp.toml").is_file()))
        .unwrap_or(cwd);
    let path = root.join("camp.toml");
    let config = match std::fs::read_to_string(&path) {
        Err(_) => Config::default(),
        Ok(text) => Config::parse(&text).map_err(|e| format!("`{}` is not a valid camp.toml: {e}", path.display()))?,
    };
    Ok((config, root))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Added,
    Changed,
    Removed,
    Unchanged,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Changed => "changed",
            Status::Removed => "removed",
            Status::Unchanged => "unchanged",
        }
    }
}

/// The audience of one campaign under base and head.
#[derive(Debug, Clone, Default)]
pub struct AudienceDelta {
    pub base: usize,
    pub head: usize,
    /// In head, not in base (the first [`SAMPLES`], ascending).
    pub joined: Vec<Key>,
    pub joined_count: usize,
    /// In base, not in head.
    pub left: Vec<Key>,
    pub left_count: usize,
}

impl AudienceDelta {
    pub fn delta(&self) -> i64 {
        self.head as i64 - self.base as i64
    }

    /// The change relative to base, in percent; `None` when base is empty.
    pub fn percent(&self) -> Option<f64> {
        (self.base > 0).then(|| self.delta() as f64 * 100.0 / self.base as f64)
    }
}

/// A rendered message of a seed, or why it could not be rendered.
#[derive(Debug, Clone)]
pub struct SeedPreview {
    pub customer: String,
    pub result: Result<Vec<Preview>, String>,
}

/// Everything the review says about one campaign.
pub struct CampaignReview<'d> {
    pub name: String,
    pub status: Status,
    pub base: Option<&'d Plan>,
    pub head: Option<&'d Plan>,
    /// With a database, for added, changed and removed campaigns.
    pub audience: Option<AudienceDelta>,
    /// With a database, for added and changed campaigns.
    pub blocked: Option<u64>,
    pub previews: Vec<SeedPreview>,
}

impl CampaignReview<'_> {
    /// The plan whose facts are shown: head's, or base's when removed.
    pub fn shown(&self) -> Option<&Plan> {
        self.head.or(self.base)
    }
}

/// One gate of `[review]` and its verdict.
#[derive(Debug, Clone)]
pub struct Gate {
    /// `max_audience_change = "20%"`
    pub gate: String,
    /// `None`: not evaluated (it needs a database).
    pub passed: Option<bool>,
    pub reason: String,
}

pub struct Review<'d> {
    pub base: &'d Deployment,
    pub head: &'d Deployment,
    pub now: DateTime<Utc>,
    pub database: bool,
    pub seeds: Vec<String>,
    pub prices: std::collections::BTreeMap<String, f64>,
    pub campaigns: Vec<CampaignReview<'d>>,
    pub gates: Vec<Gate>,
}

impl Review<'_> {
    pub fn passed(&self) -> bool {
        self.gates.iter().all(|g| g.passed != Some(false))
    }

    fn count(&self, status: Status) -> usize {
        self.campaigns.iter().filter(|c| c.status == status).count()
    }
}

/// Campaign by campaign, by name: added, changed, removed or unchanged.
pub fn compare<'d>(base: &'d Deployment, head: &'d Deployment) -> Vec<CampaignReview<'d>> {
    let names: BTreeSet<&str> = base.plans.iter().chain(&head.plans).map(|p| p.name.as_str()).collect();
    names
        .into_iter()
        .map(|name| {
            let (b, h) = (base.plan(name), head.plan(name));
            let status = match (b, h) {
                (None, _) => Status::Added,
                (_, None) => Status::Removed,
                (Some(b), Some(h)) if b.hash == h.hash => Status::Unchanged,
                _ => Status::Changed,
            };
            CampaignReview {
                name: name.to_string(),
                status,
                base: b,
                head: h,
                audience: None,
                blocked: None,
                previews: Vec::new(),
            }
        })
        .collect()
}

fn delta(base: &[Key], head: &[Key]) -> AudienceDelta {
    let b: BTreeSet<&Key> = base.iter().collect();
    let h: BTreeSet<&Key> = head.iter().collect();
    let joined: Vec<Key> = h.difference(&b).map(|k| (*k).clone()).collect();
    let left: Vec<Key> = b.difference(&h).map(|k| (*k).clone()).collect();
    AudienceDelta {
        base: base.len(),
        head: head.len(),
        joined_count: joined.len(),
        left_count: left.len(),
        joined: joined.into_iter().take(SAMPLES).collect(),
        left: left.into_iter().take(SAMPLES).collect(),
    }
}

/// Fills in the database facts: audiences, caps, seed previews.
pub async fn measure(
    db: &camp_runtime::Database,
    head: &Deployment,
    campaigns: &mut [CampaignReview<'_>],
    seeds: &[String],
    now: DateTime<Utc>,
) -> Result<(), String> {
    let err = |name: &str, e: &dyn std::fmt::Display| format!("campaign `{name}`: {e}");
    let mut seed_keys: Vec<(String, Result<Key, String>)> = Vec::new();
    for s in seeds {
        let key = review::find_customer(db, &head.schema, s).await.map_err(|e| e.to_string());
        seed_keys.push((s.clone(), key));
    }
    for c in campaigns.iter_mut().filter(|c| c.status != Status::Unchanged) {
        let base = match c.base {
            Some(p) => review::audience(db, p, now).await.map_err(|e| err(&c.name, &e))?,
            None => Vec::new(),
        };
        let head_keys = match c.head {
            Some(p) => review::audience(db, p, now).await.map_err(|e| err(&c.name, &e))?,
            None => Vec::new(),
        };
        if let Some(p) = c.head {
            c.blocked = Some(
                review::blocked_by_caps(db, p, &head_keys, now)
                    .await
                    .map_err(|e| err(&c.name, &e))?,
            );
            for (seed, key) in &seed_keys {
                let result = match key {
                    Ok(k) => review::previews(db, &head.schema, p, k, now).await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.clone()),
                };
                c.previews.push(SeedPreview {
                    customer: seed.clone(),
                    result,
                });
            }
        }
        c.audience = Some(delta(&base, &head_keys));
    }
    Ok(())
}

/// `"20%"`, `20` or `20.5`: percent.
fn percent_limit(v: &toml::Value) -> Result<f64, String> {
    let n = match v {
        toml::Value::String(s) => s.trim().trim_end_matches('%').trim().parse::<f64>().ok(),
        toml::Value::Integer(n) => Some(*n as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    };
    n.filter(|n| n.is_finite() && *n >= 0.0).ok_or_else(|| {
        format!(
            "camp.toml, [review]: `max_audience_change = {v}` is not a percentage\n  help: write it like `max_audience_change = \"20%\"`"
        )
    })
}

/// The `[review]` gates against what was found. An unknown `fail_on`
/// status or a bad percentage is a usage error.
pub fn gates(config: &ReviewConfig, campaigns: &[CampaignReview], database: bool) -> Result<Vec<Gate>, String> {
    let mut out = Vec::new();
    if let Some(limit) = &config.max_audience_change {
        let max = percent_limit(limit)?;
        let gate = format!("max_audience_change = \"{max}%\"");
        if !database {
            out.push(Gate {
                gate,
                passed: None,
                reason: "not evaluated: no database (pass `--database URL`)".into(),
            });
        } else {
            let mut over = Vec::new();
            for c in campaigns.iter().filter(|c| c.status == Status::Changed) {
                let Some(a) = &c.audience else { continue };
                let fails = match a.percent() {
                    Some(p) => p.abs() > max,
                    None => a.head > 0,
                };
                if fails {
                    over.push(format!("`{}` {} → {} ({})", c.name, a.base, a.head, signed_percent(a)));
                }
            }
            out.push(Gate {
                gate,
                passed: Some(over.is_empty()),
                reason: if over.is_empty() {
                    format!("every changed campaign's audience moved by at most {max}%")
                } else {
                    format!("audience changed by more than {max}%: {}", over.join(", "))
                },
            });
        }
    }
    if let Some(max) = config.max_blocked_by_caps {
        let gate = format!("max_blocked_by_caps = {max}");
        if !database {
            out.push(Gate {
                gate,
                passed: None,
                reason: "not evaluated: no database (pass `--database URL`)".into(),
            });
        } else {
            let total: u64 = campaigns.iter().filter_map(|c| c.blocked).sum();
            let by: Vec<String> = campaigns
                .iter()
                .filter(|c| c.blocked.unwrap_or(0) > 0)
                .map(|c| format!("`{}` {}", c.name, c.blocked.unwrap_or(0)))
                .collect();
            out.push(Gate {
                gate,
                passed: Some(total <= max),
                reason: if total <= max {
                    format!("caps would block {total} send{}", if total == 1 { "" } else { "s" })
                } else {
                    format!("caps would block {total} sends, more than {max}: {}", by.join(", "))
                },
            });
        }
    }
    for status in &config.fail_on {
        let wanted = match status.as_str() {
            "added" => Status::Added,
            "changed" => Status::Changed,
            "removed" => Status::Removed,
            other => {
                return Err(format!(
                    "camp.toml, [review]: `fail_on` names `{other}`\n  help: use `added`, `changed` or `removed`"
                ))
            }
        };
        let hit: Vec<String> = campaigns
            .iter()
            .filter(|c| c.status == wanted)
            .map(|c| format!("`{}`", c.name))
            .collect();
        out.push(Gate {
            gate: format!("fail_on = [\"{status}\"]"),
            passed: Some(hit.is_empty()),
            reason: if hit.is_empty() {
                format!("no campaign {status}")
            } else {
                format!("{status}: {}", hit.join(", "))
            },
        });
    }
    Ok(out)
}

fn signed_percent(a: &AudienceDelta) -> String {
    match a.percent() {
        Some(p) => format!("{p:+.1}%"),
        None if a.head == 0 => "±0%".into(),
        None => "new".into(),
    }
}

fn minutes(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn scope(s: &Scope) -> String {
    match s {
        Scope::All => String::new(),
        Scope::Kind { kind } => format!(" for kind {kind}"),
        Scope::Channel { channel } => format!(" for channel {channel}"),
    }
}

/// The policy text a plan's templates print for `sender` / `optout`.
fn policy_text(plan: &Plan, optout: bool) -> Option<String> {
    plan.messages
        .values()
        .flat_map(|m| m.templates())
        .flat_map(|t| &t.parts)
        .find_map(|p| match p {
            Part::Value(ph) => match (&ph.source, optout) {
                (Source::Sender { text }, false) | (Source::Optout { text, .. }, true) => Some(text.clone()),
                _ => None,
            },
            Part::Text { .. } | Part::Each { .. } | Part::Count { .. } => None,
        })
}

/// The ad-law facts of a plan, as JSON.
fn ad_law(plan: &Plan) -> Json {
    let quiet: Vec<Json> = plan
        .quiet_hours
        .iter()
        .map(|q| {
            json!({
                "from": minutes(q.from),
                "to": minutes(q.to),
                "mode": match q.mode { QuietMode::Defer => "defer", QuietMode::Skip => "skip" },
                "unless_consent": q.unless.is_some(),
                "scope": scope(&q.scope).trim(),
                "origin": match q.origin { camp_compiler::plan::Origin::Policy => "policy", camp_compiler::plan::Origin::Campaign => "campaign", camp_compiler::plan::Origin::Law => "law" },
            })
        })
        .collect();
    let messages: Vec<Json> = plan
        .ad_law
        .iter()
        .map(|a| json!({"message": a.message, "ad_prefix": a.prefix, "sender": a.sender, "optout": a.optout}))
        .collect();
    json!({
        "kind": plan.kind.name(),
        "messages": messages,
        "sender": policy_text(plan, false),
        "optout": policy_text(plan, true),
        "quiet_hours": quiet,
        "consent_required": plan.consent,
    })
}

/// Per message of a plan: its worst case on each channel, and its price.
fn sizes(plan: &Plan, prices: &std::collections::BTreeMap<String, f64>) -> Vec<Json> {
    plan.sizes
        .iter()
        .map(|s| {
            json!({
                "message": s.message,
                "channel": s.channel,
                "worst": s.worst,
                "limit": s.limit,
                "unit": s.unit,
                "fits": s.limit.is_none_or(|l| s.worst <= l),
                "price": prices.get(&s.channel),
            })
        })
        .collect()
}

/// The price of one enrollment that gets every send of the plan on its
/// first channel; `None` without `[prices]` or a price for a channel used.
fn cost_per_customer(plan: &Plan, prices: &std::collections::BTreeMap<String, f64>) -> Option<f64> {
    if prices.is_empty() {
        return None;
    }
    let mut total = 0.0;
    let mut sends = 0;
    for s in &plan.steps {
        if let camp_compiler::plan::Op::Send { channels, .. } = &s.op {
            total += prices.get(&channels.primary)?;
            sends += 1;
        }
    }
    (sends > 0).then_some(total)
}

fn keys_json(keys: &[Key]) -> Json {
    Json::Array(keys.iter().map(|k| serde_json::to_value(k).unwrap_or(Json::Null)).collect())
}

fn preview_json(p: &Preview) -> Json {
    json!({
        "message": p.message,
        "channel": p.channel.name(),
        "subject": p.rendered.subject,
        "title": p.rendered.title,
        "body": p.rendered.body,
        "buttons": p.rendered.buttons.iter().map(|b| json!({"label": b.label, "url": b.url})).collect::<Vec<_>>(),
        "length": p.verdict.length,
        "limit": p.verdict.limit,
        "unit": p.verdict.unit.name(),
        "fits": p.verdict.ok(),
    })
}

/// The review as one JSON object.
pub fn to_json(r: &Review) -> Json {
    let campaigns: Vec<Json> = r
        .campaigns
        .iter()
        .map(|c| {
            let plan = c.shown();
            let cost = plan.and_then(|p| cost_per_customer(p, &r.prices)).map(|per| {
                let recipients = c.audience.as_ref().map(|a| a.head);
                json!({"per_customer": per, "recipients": recipients, "total": recipients.map(|n| per * n as f64)})
            });
            json!({
                "name": c.name,
                "status": c.status.name(),
                "base_hash": c.base.map(|p| p.hash.clone()),
                "head_hash": c.head.map(|p| p.hash.clone()),
                "kind": plan.map(|p| p.kind.name()),
                "audience": c.audience.as_ref().map(|a| json!({
                    "base": a.base,
                    "head": a.head,
                    "delta": a.delta(),
                    "percent": a.percent(),
                    "joined": keys_json(&a.joined),
                    "joined_count": a.joined_count,
                    "left": keys_json(&a.left),
                    "left_count": a.left_count,
                })),
                "blocked_by_caps": c.blocked,
                "sizes": plan.map(|p| sizes(p, &r.prices)).unwrap_or_default(),
                "cost": cost,
                "ad_law": plan.map(ad_law),
                "previews": c.previews.iter().map(|s| match &s.result {
                    Ok(ps) => json!({"customer": s.customer, "messages": ps.iter().map(preview_json).collect::<Vec<_>>()}),
                    Err(e) => json!({"customer": s.customer, "error": e}),
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "base": r.base.hash,
        "head": r.head.hash,
        "now": r.now.to_rfc3339(),
        "database": r.database,
        "summary": {
            "added": r.count(Status::Added),
            "changed": r.count(Status::Changed),
            "removed": r.count(Status::Removed),
            "unchanged": r.count(Status::Unchanged),
        },
        "campaigns": campaigns,
        "cost": if r.prices.is_empty() { Json::from("skipped: no [prices] in camp.toml") } else { Json::from("per_customer and total per campaign") },
        "gates": r.gates.iter().map(|g| json!({"gate": g.gate, "passed": g.passed, "reason": g.reason})).collect::<Vec<_>>(),
        "passed": r.passed(),
    })
}

fn ids(keys: &[Key], total: usize) -> String {
    if keys.is_empty() {
        return "none".into();
    }
    let mut s = keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
    if total > keys.len() {
        let _ = write!(s, " … ({} more)", total - keys.len());
    }
    s
}

fn won(x: f64) -> String {
    let rounded = x.round() as i64;
    let digits = rounded.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}{out}원", if rounded < 0 { "-" } else { "" })
}

fn fence(text: &str) -> String {
    // A fence longer than any run of backticks in the text.
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let f = "`".repeat(longest.max(2) + 1);
    format!("{f}text\n{}\n{f}\n", text.trim_end())
}

fn ad_law_markdown(plan: &Plan, out: &mut String) {
    let kind = match plan.kind {
        Kind::Ad => "ad (광고성)",
        Kind::Info => "info (정보성)",
    };
    let _ = writeln!(out, "- kind: {kind}");
    if plan.kind == Kind::Ad {
        let yes = |b: bool| if b { "yes" } else { "**no**" };
        for a in &plan.ad_law {
            let _ = writeln!(
                out,
                "- `{}`: starts with \"(광고)\" {}, sender {}, opt-out {}",
                a.message,
                yes(a.prefix),
                yes(a.sender),
                yes(a.optout)
            );
        }
        if let Some(s) = policy_text(plan, false) {
            let _ = writeln!(out, "- sender: {s}");
        }
        if let Some(s) = policy_text(plan, true) {
            let _ = writeln!(out, "- opt-out: {s}");
        }
    }
    if plan.quiet_hours.is_empty() {
        let _ = writeln!(out, "- quiet hours: none");
    }
    for q in &plan.quiet_hours {
        let mode = match q.mode {
            QuietMode::Defer => "defer",
            QuietMode::Skip => "skip",
        };
        let unless = if q.unless.is_some() {
            ", unless the customer gave night consent"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "- quiet hours {}–{}{} ({mode}{unless})",
            minutes(q.from),
            minutes(q.to),
            scope(&q.scope)
        );
    }
    let consent = if plan.consent.is_empty() {
        "none".to_string()
    } else {
        plan.consent.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
    };
    let _ = writeln!(out, "- consent required: {consent}");
}

/// The review as markdown for a pull-request comment.
pub fn to_markdown(r: &Review) -> String {
    let mut out = String::new();
    let verdict = if r.passed() { "✅" } else { "❌" };
    let _ = writeln!(out, "## {verdict} camp review\n");
    let _ = writeln!(
        out,
        "Deployment `{}` → `{}`, audiences at {}: {} added, {} changed, {} removed, {} unchanged.\n",
        deployment::short(&r.base.hash),
        deployment::short(&r.head.hash),
        r.now.to_rfc3339(),
        r.count(Status::Added),
        r.count(Status::Changed),
        r.count(Status::Removed),
        r.count(Status::Unchanged)
    );
    let shown: Vec<&CampaignReview> = r.campaigns.iter().filter(|c| c.status != Status::Unchanged).collect();
    if shown.is_empty() {
        let _ = writeln!(out, "No campaign changed.\n");
    } else {
        let _ = writeln!(out, "| campaign | status | audience (base → head) | change | blocked by caps |");
        let _ = writeln!(out, "| --- | --- | ---: | ---: | ---: |");
        for c in &shown {
            let (aud, change) = match &c.audience {
                Some(a) => (
                    format!("{} → {}", a.base, a.head),
                    format!("{:+} ({})", a.delta(), signed_percent(a)),
                ),
                None => ("—".into(), "—".into()),
            };
            let blocked = c.blocked.map_or("—".to_string(), |b| b.to_string());
            let _ = writeln!(out, "| `{}` | {} | {aud} | {change} | {blocked} |", c.name, c.status.name());
        }
        out.push('\n');
    }
    let unchanged: Vec<String> = r
        .campaigns
        .iter()
        .filter(|c| c.status == Status::Unchanged)
        .map(|c| format!("`{}`", c.name))
        .collect();
    if !unchanged.is_empty() {
        let _ = writeln!(out, "Unchanged: {}.\n", unchanged.join(", "));
    }
    if !r.database {
        let _ = writeln!(
            out,
            "_No database: audiences, caps and previews not shown (pass `--database URL`)._\n"
        );
    }
    if !r.gates.is_empty() {
        let _ = writeln!(out, "### Gates\n");
        for g in &r.gates {
            let mark = match g.passed {
                Some(true) => "✅",
                Some(false) => "❌",
                None => "⚪",
            };
            let _ = writeln!(out, "- {mark} `{}`: {}", g.gate, g.reason);
        }
        out.push('\n');
    }
    for c in &shown {
        let Some(plan) = c.shown() else { continue };
        let _ = writeln!(out, "### `{}` ({})\n", c.name, c.status.name());
        let hashes = match (c.base, c.head) {
            (Some(b), Some(h)) => format!("plan `{}` → `{}`", deployment::short(&b.hash), deployment::short(&h.hash)),
            (None, Some(h)) => format!("plan `{}` (new)", deployment::short(&h.hash)),
            (Some(b), None) => format!("plan `{}` (removed)", deployment::short(&b.hash)),
            (None, None) => String::new(),
        };
        let _ = writeln!(out, "- {hashes}");
        if let Some(a) = &c.audience {
            let _ = writeln!(out, "- audience: {} → {} ({:+}, {})", a.base, a.head, a.delta(), signed_percent(a));
            let _ = writeln!(out, "  - joined ({}): {}", a.joined_count, ids(&a.joined, a.joined_count));
            let _ = writeln!(out, "  - left ({}): {}", a.left_count, ids(&a.left, a.left_count));
        }
        if let Some(b) = c.blocked {
            let due = c.audience.as_ref().map_or(0, |a| a.head);
            let _ = writeln!(out, "- caps would block {b} of {due} due send{}", if due == 1 { "" } else { "s" });
        }
        ad_law_markdown(plan, &mut out);
        if !plan.sizes.is_empty() {
            let priced = !r.prices.is_empty();
            out.push('\n');
            if priced {
                let _ = writeln!(out, "| message | channel | worst case | limit | price |");
                let _ = writeln!(out, "| --- | --- | ---: | ---: | ---: |");
            } else {
                let _ = writeln!(out, "| message | channel | worst case | limit |");
                let _ = writeln!(out, "| --- | --- | ---: | ---: |");
            }
            for s in &plan.sizes {
                let limit = s.limit.map_or("—".to_string(), |l| l.to_string());
                let over = if s.limit.is_some_and(|l| s.worst > l) { " ⚠️" } else { "" };
                let price = if priced {
                    format!(" {} |", r.prices.get(&s.channel).map_or("—".to_string(), |p| won(*p)))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} {}{over} | {limit} |{price}",
                    s.message, s.channel, s.worst, s.unit
                );
            }
            out.push('\n');
        }
        match cost_per_customer(plan, &r.prices) {
            Some(per) => match &c.audience {
                Some(a) if c.head.is_some() => {
                    let _ = writeln!(
                        out,
                        "- cost: {} per customer, {} for the {} in the audience now",
                        won(per),
                        won(per * a.head as f64),
                        a.head
                    );
                }
                _ => {
                    let _ = writeln!(out, "- cost: {} per customer", won(per));
                }
            },
            None if r.prices.is_empty() => {
                let _ = writeln!(out, "- cost: skipped (no `[prices]` in camp.toml)");
            }
            None => {
                let _ = writeln!(
                    out,
                    "- cost: skipped (`[prices]` has no price for a channel this campaign sends on)"
                );
            }
        }
        if !c.previews.is_empty() {
            let seeds: Vec<&str> = c.previews.iter().map(|s| s.customer.as_str()).collect();
            let _ = writeln!(out, "\n<details><summary>Previews for seeds {}</summary>\n", seeds.join(", "));
            for s in &c.previews {
                match &s.result {
                    Err(e) => {
                        let first = e.lines().next().unwrap_or("");
                        let _ = writeln!(out, "**customer {}**: {first}\n", s.customer);
                    }
                    Ok(ps) => {
                        for p in ps {
                            let verdict = if p.verdict.ok() {
                                "fits".to_string()
                            } else {
                                p.verdict.problems.join("; ")
                            };
                            let limit = p.verdict.limit.map(|l| format!("/{l}")).unwrap_or_default();
                            let _ = writeln!(
                                out,
                                "**customer {}**, `{}` via {} ({}{limit} {}, {verdict})\n",
                                s.customer,
                                p.message,
                                p.channel.name(),
                                p.verdict.length,
                                p.verdict.unit.name()
                            );
                            let mut text = String::new();
                            if let Some(subject) = &p.rendered.subject {
                                let _ = writeln!(text, "subject: {subject}");
                            }
                            if let Some(title) = &p.rendered.title {
                                let _ = writeln!(text, "title: {title}");
                            }
                            text.push_str(&p.rendered.body);
                            if !text.ends_with('\n') {
                                text.push('\n');
                            }
                            for b in &p.rendered.buttons {
                                let _ = writeln!(text, "[{}] {}", b.label, b.url);
                            }
                            out.push_str(&fence(&text));
                            out.push('\n');
                        }
                    }
                }
            }
            let _ = writeln!(out, "</details>");
        }
        out.push('\n');
    }
    out
}

/// `camp review`: prints the review; exit 0, 1 when a gate fails, 2 on
/// usage or IO problems.
pub fn run(base: &Path, head: &Path, database: Option<&str>, now: Option<&str>, format: ReviewFormat) -> std::process::ExitCode {
    use std::process::ExitCode;
    let fail = |e: String, code: u8| {
        eprintln!("error: {e}");
        ExitCode::from(code)
    };
    let now = match crate::dbcmd::parse_now(now) {
        Ok(n) => n,
        Err(e) => return fail(e, 2),
    };
    let (base, head) = match (side(base, "base"), side(head, "head")) {
        (Ok(b), Ok(h)) => (b, h),
        (Err(e), _) | (_, Err(e)) => return fail(e, 2),
    };
    let (config, root) = match config(&head) {
        Ok(c) => c,
        Err(e) => return fail(e, 2),
    };
    let mut campaigns = compare(&base.deployment, &head.deployment);
    let url = match database {
        Some(_) => match crate::dbcmd::database_url(database, &config, &root) {
            Ok(u) => Some(u),
            Err(e) => return fail(e, 2),
        },
        None => None,
    };
    if let Some(url) = &url {
        let seeds = config.review.seeds.clone();
        let measured = crate::dbcmd::with_database(url, async |db| measure(db, &head.deployment, &mut campaigns, &seeds, now).await);
        if let Err(e) = measured {
            return fail(e, 1);
        }
    }
    let gates = match gates(&config.review, &campaigns, url.is_some()) {
        Ok(g) => g,
        Err(e) => return fail(e, 2),
    };
    let review = Review {
        base: &base.deployment,
        head: &head.deployment,
        now,
        database: url.is_some(),
        seeds: config.review.seeds.clone(),
        prices: config.prices.clone(),
        campaigns,
        gates,
    };
    let text = match format {
        ReviewFormat::Markdown => to_markdown(&review),
        ReviewFormat::Json => format!("{}\n", to_json(&review)),
    };
    print!("{text}");
    if review.passed() {
        ExitCode::SUCCESS
    } else {
        for g in review.gates.iter().filter(|g| g.passed == Some(false)) {
            eprintln!("review gate failed: {}: {}", g.gate, g.reason);
        }
        ExitCode::from(1)
    }
}
