//! `camp explain CAMPAIGN`: the step machine, the SQL per dialect with its
//! parameters, and the indexes the queries want.

use camp_compiler::lower::{queries, Dialect, Param, Query};
use camp_compiler::program::Program;
use camp_compiler::{FileId, Workspace};
use camp_grammar::ast::{self, CampaignItem, Step, StepKind};
use std::fmt::Write;

/// The text of a node as the author wrote it, whitespace folded.
fn source(ws: &Workspace, file: FileId, span: ast::Span) -> String {
    let text = ws.file(file).map(|f| f.slice(span)).unwrap_or("");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn steps(out: &mut String, ws: &Workspace, file: FileId, list: &[Step], depth: usize, counter: &mut usize) {
    let pad = "  ".repeat(depth);
    for step in list {
        *counter += 1;
        match &step.kind {
            StepKind::If { cond, then, otherwise } => {
                let _ = writeln!(out, "{pad}{counter:>3}. if {}", source(ws, file, cond.span));
                steps(out, ws, file, then, depth + 1, counter);
                if let Some(o) = otherwise {
                    let _ = writeln!(out, "{pad}     else");
                    steps(out, ws, file, o, depth + 1, counter);
                }
            }
            _ => {
                let _ = writeln!(out, "{pad}{counter:>3}. {}", source(ws, file, step.span));
            }
        }
    }
}

fn param(p: &Param) -> String {
    match p {
        Param::Now => "now".into(),
        Param::NowPlus { seconds } => format!("now {} {}s", if *seconds < 0 { "-" } else { "+" }, seconds.unsigned_abs()),
        Param::TriggerTime => "trigger time".into(),
        Param::TriggerProp { name, ty } => format!("trigger.{name} ({ty})"),
        Param::Customer => "customer key".into(),
        Param::Int { value } => value.to_string(),
        Param::Decimal { value } => value.to_string(),
        Param::Text { value } => format!("{value:?}"),
        Param::Bool { value } => value.to_string(),
        Param::Seconds { value } => format!("{value}s"),
    }
}

fn query(out: &mut String, title: &str, q: &Query, dialect: &dyn Dialect) {
    let _ = writeln!(out, "\n{title} ({}):\n  {}", dialect.name(), q.sql);
    for (i, p) in q.params.iter().enumerate() {
        let _ = writeln!(out, "    {} = {}", dialect.placeholder(i + 1), param(p));
    }
}

/// The explanation of one campaign, or `None` if there is no such campaign.
pub fn campaign(ws: &Workspace, program: &Program, name: &str, dialect: &dyn Dialect) -> Option<String> {
    let (file, c) = program.campaigns.get(name)?;
    let mut out = String::new();
    let _ = writeln!(out, "campaign {name}");
    let mut top = Vec::new();
    for item in &c.items {
        match item {
            CampaignItem::Step(s) => top.push(s.clone()),
            CampaignItem::Variant(_) => {}
            other => {
                let span = match other {
                    CampaignItem::Kind(k) => k.span,
                    CampaignItem::Channel(ch) => ch.span,
                    CampaignItem::Trigger(t) => t.span,
                    CampaignItem::Audience(a) => a.span,
                    CampaignItem::ExitWhen(e) => e.span,
                    CampaignItem::QuietHours(q) => q.span,
                    CampaignItem::Window { span, .. } => *span,
                    CampaignItem::Cap(cap) => cap.span,
                    CampaignItem::Priority(p) => p.span,
                    CampaignItem::Holdout(h) => h.span,
                    CampaignItem::Goal { span, .. } => *span,
                    CampaignItem::Reentry(r) => r.span,
                    CampaignItem::PadPopular(span) => *span,
                    CampaignItem::Step(_) | CampaignItem::Variant(_) => continue,
                };
                let prefix = match other {
                    CampaignItem::Kind(_) => "kind ",
                    CampaignItem::Audience(_) => "audience ",
                    CampaignItem::ExitWhen(_) => "exit when ",
                    CampaignItem::Priority(_) => "priority ",
                    CampaignItem::Holdout(_) => "holdout ",
                    _ => "",
                };
                let _ = writeln!(out, "  {prefix}{}", source(ws, *file, span));
            }
        }
    }
    // Built-in caps the law adds (they are in the plan too).
    let mut brand: Vec<&str> = Vec::new();
    let mut note = |name: &str| {
        if matches!(name, "brand" | "friendtalk") && !brand.contains(&name) {
            brand.push(if name == "brand" { "brand" } else { "friendtalk" });
        }
    };
    for item in &c.items {
        if let CampaignItem::Channel(ch) = item {
            note(&ch.channel.name);
            for f in &ch.fallbacks {
                note(&f.channel.name);
            }
        }
    }
    let mut sends = Vec::new();
    collect_via(&c.items, &mut sends);
    for v in sends {
        note(&v);
    }
    for b in brand {
        let _ = writeln!(
            out,
            "  cap 1 per 24h for channel {b}  // built in: at most one brand message per recipient per day, over every campaign"
        );
    }
    let _ = writeln!(out, "\nsteps:");
    let mut counter = 0;
    if !top.is_empty() {
        steps(&mut out, ws, *file, &top, 1, &mut counter);
    }
    for item in &c.items {
        if let CampaignItem::Variant(v) = item {
            let _ = writeln!(out, "  variant {} {}%:", v.name.name, v.percent.value);
            steps(&mut out, ws, *file, &v.steps, 2, &mut counter);
        }
    }
    let q = queries::campaign_queries(program, c, dialect);
    if let Some(p) = &q.population {
        query(&mut out, "population (everyone in the audience now)", p, dialect);
    }
    if let Some(p) = &q.check {
        query(&mut out, "check (one customer, one triggering event)", p, dialect);
    }
    if let Some(p) = &q.exit {
        query(&mut out, "exit when (checked before every send)", p, dialect);
    }
    for (i, b) in q.branches.iter().enumerate() {
        query(&mut out, &format!("branch {}", i + 1), b, dialect);
    }
    query(&mut out, "render (one customer)", &q.render, dialect);
    for l in &q.lists {
        let title = format!(
            "list {}.{} (one customer, at send time; key, then printed fields)",
            l.message, l.list
        );
        query(&mut out, &title, &l.query, dialect);
        if let Some(pad) = &l.pad {
            query(&mut out, &format!("pad popular for {}.{}", l.message, l.list), pad, dialect);
        }
    }
    let _ = writeln!(out, "\nindexes these queries want:");
    if q.indexes.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for i in &q.indexes {
        let _ = writeln!(out, "  {i}");
    }
    Some(out)
}

/// The channels named by `send .. via CHANNEL` anywhere in a campaign.
fn collect_via(items: &[CampaignItem], out: &mut Vec<String>) {
    fn walk(steps: &[Step], out: &mut Vec<String>) {
        for s in steps {
            match &s.kind {
                ast::StepKind::Send { via: Some(v), .. } => out.push(v.name.clone()),
                ast::StepKind::If { then, otherwise, .. } => {
                    walk(then, out);
                    if let Some(o) = otherwise {
                        walk(o, out);
                    }
                }
                _ => {}
            }
        }
    }
    for item in items {
        match item {
            CampaignItem::Step(s) => walk(std::slice::from_ref(s), out),
            CampaignItem::Variant(v) => walk(&v.steps, out),
            _ => {}
        }
    }
}
