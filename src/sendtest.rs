//! `camp send-test MESSAGE|CAMPAIGN --to GROUP`: the messages rendered for
//! each seed of `[seeds.GROUP]` in camp.toml, with that seed's own data,
//! and sent through the real channels of camp.toml, marked as a test: the
//! payload carries `"test": true` and the idempotency key starts with
//! `camp-test-`. The text itself is not marked (an ad must start with
//! "(광고)"). Nothing is written to the store: test sends are not counted
//! by caps and not in reports.

use crate::config::SeedGroup;
use crate::load::Loaded;
use camp_compiler::plan::{self, Op, Plan};
use camp_compiler::program::Program;
use camp_compiler::templating::{self, Context, RenderedMessage, Values};
use camp_compiler::types::FieldType;
use camp_runtime::channels::{Outcome, Outgoing};
use camp_runtime::dryrun;
use camp_runtime::{Database, Key};
use chrono::{DateTime, Utc};
use std::process::ExitCode;

/// One message to send to one recipient.
struct TestSend {
    message: String,
    channel: String,
    rendered: RenderedMessage,
}

/// Who one test goes to.
struct Recipient {
    /// The customer's key when the seed is a customer.
    customer: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

impl Recipient {
    fn shown(&self) -> String {
        match (&self.customer, &self.phone, &self.email) {
            (Some(c), _, _) => format!("customer {c}"),
            (None, Some(p), _) => p.clone(),
            (None, None, Some(e)) => e.clone(),
            (None, None, None) => "nobody".into(),
        }
    }
}

/// The contact a channel reaches people by: `email`, `phone`, or none
/// that a seed names (push tokens, webhooks).
fn needs(channel: &str) -> Option<&'static str> {
    match channel {
        "email" => Some("email"),
        "push" | "webhook" => None,
        _ => Some("phone"),
    }
}

/// The plans that send `name`: the campaign itself, or every campaign that
/// sends the message.
fn plans_for(program: &Program, name: &str) -> Result<Vec<Plan>, String> {
    if program.campaigns.contains_key(name) {
        return plan::build(program, name).map(|p| vec![p]).map_err(|e| e.to_string());
    }
    if !program.messages.contains_key(name) {
        let names = program.campaigns.keys().chain(program.messages.keys()).copied();
        let help = camp_compiler::suggest::help_for(name, names, "campaign or message");
        return Err(format!("no campaign or message named `{name}`\n  help: {help}"));
    }
    Ok(program
        .campaigns
        .keys()
        .filter_map(|c| plan::build(program, c).ok())
        .filter(|p| p.messages.contains_key(name))
        .collect())
}

/// The channel each message of `name` goes out on first: a campaign's
/// sends, or the first campaign that sends the message (SMS otherwise).
fn channels_of(plans: &[Plan], program: &Program, name: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let is_campaign = program.campaigns.contains_key(name);
    for p in plans {
        for s in &p.steps {
            if let Op::Send { message, channels, .. } = &s.op {
                if (is_campaign || message == name) && !out.iter().any(|(m, _)| m == message) {
                    out.push((message.clone(), channels.primary.clone()));
                }
            }
        }
    }
    if out.is_empty() && !is_campaign {
        out.push((name.to_string(), "sms".into()));
    }
    out
}

/// The phone and email of a customer, from the first `phone` and `email`
/// fields of the customer table.
async fn contact(db: &Database, program: &Program<'_>, key: &Key) -> Result<(Option<String>, Option<String>), String> {
    let Some(c) = program.schema.customer.as_ref() else {
        return Ok((None, None));
    };
    let d = db.dialect();
    let field = |ty: FieldType| c.fields.iter().find(|f| f.ty == ty).map(|f| f.name.clone());
    let mut out = (None, None);
    for (i, f) in [field(FieldType::Phone), field(FieldType::Email)].into_iter().enumerate() {
        let Some(f) = f else { continue };
        let sql = format!(
            "SELECT {} FROM {} WHERE {} = {}",
            d.quote(&f),
            d.quote(&c.source),
            d.quote(&c.key),
            d.placeholder(1)
        );
        let rows = db.rows(&sql, &[key.bind()]).await.map_err(|e| e.to_string())?;
        let value = rows.first().and_then(|r| camp_runtime::db::CellsExt::text(r.as_slice(), 0));
        if i == 0 {
            out.0 = value;
        } else {
            out.1 = value;
        }
    }
    Ok(out)
}

/// The messages rendered for one customer, on their first channels.
async fn render_for(
    db: &Database,
    program: &Program<'_>,
    name: &str,
    customer: &str,
    channels: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<Vec<TestSend>, String> {
    let previews = dryrun::preview(db, program, name, customer, now).await.map_err(|e| e.to_string())?;
    Ok(previews
        .into_iter()
        .map(|p| TestSend {
            channel: channels
                .iter()
                .find(|(m, _)| *m == p.message)
                .map_or_else(|| p.channel.name().to_string(), |(_, c)| c.clone()),
            message: p.message,
            rendered: p.rendered,
        })
        .collect())
}

/// The messages rendered without a customer: every value null, so each
/// `??` default prints.
fn render_defaults(program: &Program, plans: &[Plan], channels: &[(String, String)]) -> Result<Vec<TestSend>, String> {
    let mut out = Vec::new();
    for (message, channel) in channels {
        let compiled = match plans.iter().find_map(|p| p.messages.get(message)) {
            Some(m) => m.clone(),
            None => templating::compile_named(&Context::new(program), message).map_err(|e| e.to_string())?,
        };
        let rendered = compiled.render(&Values::new(), None).map_err(|e| {
            format!(
                "cannot render `{message}` without a customer's data: {e}\n  help: add a customer to the group (`customers = [\"101\"]`): phones and emails get the message rendered with the group's first customer"
            )
        })?;
        out.push(TestSend {
            message: message.clone(),
            channel: channel.clone(),
            rendered,
        });
    }
    Ok(out)
}

fn payload(send: &TestSend, key: &str, campaign: Option<&str>, kind: &str, to: &Recipient, now: DateTime<Utc>) -> String {
    serde_json::json!({
        "id": key,
        "test": true,
        "campaign": campaign,
        "message": send.message,
        "channel": send.channel,
        "kind": kind,
        "customer": to.customer,
        "variant": null,
        "attempt": 0,
        "to": { "phone": to.phone, "email": to.email },
        "subject": send.rendered.subject,
        "title": send.rendered.title,
        "body": send.rendered.body,
        "image": send.rendered.image,
        "template_code": send.rendered.template_code,
        "buttons": send.rendered.buttons,
        "created_at": now.to_rfc3339(),
    })
    .to_string()
}

/// `camp send-test`.
pub fn run(name: &str, group: &str, loaded: &Loaded, program: &Program, database: Option<&str>, now: DateTime<Utc>) -> ExitCode {
    let fail = |e: String, code: u8| {
        eprintln!("error: {e}");
        ExitCode::from(code)
    };
    let Some(seeds) = loaded.config.seeds.get(group) else {
        let groups: Vec<String> = loaded.config.seeds.keys().map(|g| format!("`{g}`")).collect();
        let have = if groups.is_empty() {
            "camp.toml has no seed group".to_string()
        } else {
            format!("camp.toml has {}", groups.join(", "))
        };
        return fail(
            format!(
                "no seed group `{group}`: {have}\n  help: add one to camp.toml:\n\n  [seeds.{group}]\n  customers = [\"101\"]\n  phones = [\"010-1234-5678\"]\n"
            ),
            2,
        );
    };
    let SeedGroup { customers, phones, emails } = seeds.clone();
    if customers.is_empty() && phones.is_empty() && emails.is_empty() {
        return fail(
            format!("[seeds.{group}] in camp.toml names nobody\n  help: add `customers = [..]`, `phones = [..]` or `emails = [..]`"),
            2,
        );
    }
    let plans = match plans_for(program, name) {
        Ok(p) => p,
        Err(e) => return fail(e, 2),
    };
    let channels = channels_of(&plans, program, name);
    let campaign = program.campaigns.contains_key(name).then_some(name);
    let kind = plans.first().map_or("info", |p| p.kind.name());
    let used: Vec<Plan> = plans.clone();
    let set = match crate::runcmd::channel_set(&loaded.config.channels, &loaded.root, &used) {
        Ok(s) => s,
        Err(e) => return fail(e, 2),
    };
    let needs_db = !customers.is_empty();
    let url = if needs_db {
        match crate::dbcmd::database_url(database, &loaded.config, &loaded.root) {
            Ok(u) => Some(u),
            Err(e) => return fail(e, 2),
        }
    } else {
        None
    };
    // Each recipient with the messages rendered for them.
    let rendered: Result<Vec<(Recipient, Vec<TestSend>)>, String> = (|| {
        let mut out = Vec::new();
        if let Some(url) = &url {
            let found = crate::dbcmd::with_database(url, async |db| {
                let mut found = Vec::new();
                for c in &customers {
                    let key = dryrun::find_customer(db, program, c).await.map_err(|e| e.to_string())?;
                    let (phone, email) = contact(db, program, &key).await?;
                    let sends = render_for(db, program, name, c, &channels, now).await?;
                    found.push((
                        Recipient {
                            customer: Some(c.clone()),
                            phone,
                            email,
                        },
                        sends,
                    ));
                }
                Ok(found)
            })?;
            out.extend(found);
        }
        let others: Vec<Recipient> = phones
            .iter()
            .map(|p| Recipient {
                customer: None,
                phone: Some(p.clone()),
                email: None,
            })
            .chain(emails.iter().map(|e| Recipient {
                customer: None,
                phone: None,
                email: Some(e.clone()),
            }))
            .collect();
        if !others.is_empty() {
            // Rendered with the group's first customer's data, else defaults.
            let template: Vec<TestSend> = match out.first() {
                Some((_, sends)) => sends
                    .iter()
                    .map(|s: &TestSend| TestSend {
                        message: s.message.clone(),
                        channel: s.channel.clone(),
                        rendered: s.rendered.clone(),
                    })
                    .collect(),
                None => render_defaults(program, &plans, &channels)?,
            };
            for r in others {
                let sends = template
                    .iter()
                    .map(|s| TestSend {
                        message: s.message.clone(),
                        channel: s.channel.clone(),
                        rendered: s.rendered.clone(),
                    })
                    .collect();
                out.push((r, sends));
            }
        }
        Ok(out)
    })();
    let rendered = match rendered {
        Ok(r) => r,
        Err(e) => return fail(e, 1),
    };
    let stamp = now.timestamp_millis();
    let mut outgoing = Vec::new();
    let mut skipped = Vec::new();
    for (i, (to, sends)) in rendered.iter().enumerate() {
        for (j, s) in sends.iter().enumerate() {
            let missing = match needs(&s.channel) {
                Some("email") => to.email.is_none().then_some("email"),
                Some(_) => to.phone.is_none().then_some("phone"),
                None => None,
            };
            if let Some(what) = missing {
                skipped.push(format!("skipped `{}` via {} to {}: no {what}", s.message, s.channel, to.shown()));
                continue;
            }
            let key = format!("camp-test-{stamp}-{i}-{j}");
            let body = payload(s, &key, campaign, kind, to, now);
            outgoing.push((
                to.shown(),
                Outgoing {
                    ledger: 0,
                    key,
                    channel: s.channel.clone(),
                    payload: body,
                    tries: 0,
                },
            ));
        }
    }
    for s in &skipped {
        println!("{s}");
    }
    if outgoing.is_empty() {
        return fail(
            format!("nothing to send: no seed of `{group}` can be reached on the channels of `{name}`"),
            1,
        );
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the async runtime: {e}"), 2),
    };
    let shown: Vec<(String, String)> = outgoing.iter().map(|(to, o)| (o.key.clone(), to.clone())).collect();
    let results = rt.block_on(set.deliver(outgoing.into_iter().map(|(_, o)| o).collect()));
    let mut failed = 0;
    for (o, outcome) in &results {
        let to = shown.iter().find(|(k, _)| *k == o.key).map_or("", |(_, t)| t.as_str());
        let message = serde_json::from_str::<serde_json::Value>(&o.payload)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_default();
        let verdict = match outcome {
            Outcome::Sent => "sent".to_string(),
            Outcome::Delivered => "delivered".to_string(),
            Outcome::Retry(e) => {
                failed += 1;
                format!("failed: {e}")
            }
            Outcome::Refused(e) => {
                failed += 1;
                format!("refused: {e}")
            }
        };
        println!("test `{message}` via {} to {to}: {verdict} (key {})", o.channel, o.key);
    }
    if failed > 0 {
        eprintln!("error: {failed} test send{} did not go out", if failed == 1 { "" } else { "s" });
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
