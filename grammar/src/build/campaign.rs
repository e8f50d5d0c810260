//! `campaign NAME { settings and steps }`.

use super::{child, expr, kids, only, policy, Build, Ctx, P};
use crate::ast::{
    Campaign, CampaignItem, ChannelDecl, Every, Expiry, Fallback, Reentry, ReentryRule, Step, StepKind, Trigger, TriggerKind, Variant,
};
use crate::grammar::Rule;
use crate::Span;

pub(super) fn campaign(cx: &mut Ctx, p: &P, doc: Option<String>) -> Build<Campaign> {
    let span = cx.span(p);
    let name = child(p, Rule::ident).map(|n| cx.ident(&n));
    let name = cx.need(name, span, "campaign name")?;
    let mut items = Vec::new();
    for entry in kids(p).filter(|k| k.as_rule() == Rule::campaign_entry) {
        let inner = only(cx, &entry)?;
        items.push(campaign_item(cx, &inner)?);
    }
    Ok(Campaign { doc, name, items, span })
}

fn campaign_item(cx: &mut Ctx, p: &P) -> Build<CampaignItem> {
    let span = cx.span(p);
    Ok(match p.as_rule() {
        Rule::kind_setting => CampaignItem::Kind(ident(cx, p)?),
        Rule::channel_setting => CampaignItem::Channel(channel(cx, p)?),
        Rule::trigger_setting => CampaignItem::Trigger(trigger(cx, p)?),
        Rule::audience_setting => CampaignItem::Audience(condition(cx, p)?),
        Rule::exit_when => CampaignItem::ExitWhen(condition(cx, p)?),
        Rule::quiet_hours => CampaignItem::QuietHours(policy::quiet_hours(cx, p)?),
        Rule::window_setting => {
            let mut times = Vec::new();
            for t in kids(p).filter(|k| k.as_rule() == Rule::time_of_day) {
                times.push(cx.time_of_day(&t)?);
            }
            let mut times = times.into_iter();
            CampaignItem::Window {
                from: cx.need(times.next(), span, "start time")?,
                to: cx.need(times.next(), span, "end time")?,
                span,
            }
        }
        Rule::cap => CampaignItem::Cap(policy::cap(cx, p)?),
        Rule::priority_setting => {
            let n = cx.need(child(p, Rule::int), span, "priority")?;
            CampaignItem::Priority(cx.int(&n)?)
        }
        Rule::pad_setting => CampaignItem::PadPopular(span),
        Rule::variant => CampaignItem::Variant(variant(cx, p)?),
        Rule::holdout => {
            let n = cx.need(child(p, Rule::percent), span, "percentage")?;
            CampaignItem::Holdout(cx.percent(&n)?)
        }
        Rule::goal => {
            let d = cx.need(child(p, Rule::duration), span, "duration")?;
            CampaignItem::Goal {
                event: ident(cx, p)?,
                within: cx.duration(&d)?,
                span,
            }
        }
        Rule::reentry_setting => {
            let rule = match kids(p).find(|k| k.as_rule() != Rule::kw_reentry).map(|k| k.as_rule()) {
                Some(Rule::kw_never) => ReentryRule::Never,
                Some(Rule::kw_restart) => ReentryRule::Restart,
                Some(Rule::kw_always) => ReentryRule::Always,
                Some(Rule::kw_after) => {
                    let d = cx.need(child(p, Rule::duration), span, "duration")?;
                    ReentryRule::After(cx.duration(&d)?)
                }
                _ => return Err(cx.internal(span, "re-entry rule")),
            };
            CampaignItem::Reentry(Reentry { rule, span })
        }
        Rule::step => CampaignItem::Step(step(cx, p, 1)?),
        _ => return Err(cx.internal(span, "campaign setting")),
    })
}

/// The first plain name among the children of `p`.
fn ident(cx: &mut Ctx, p: &P) -> Build<crate::ast::Ident> {
    let span = cx.span(p);
    let name = child(p, Rule::ident).map(|n| cx.ident(&n));
    cx.need(name, span, "name")
}

/// The condition child of a setting like `audience C`.
fn condition(cx: &mut Ctx, p: &P) -> Build<crate::ast::Expr> {
    let span = cx.span(p);
    let e = cx.need(child(p, Rule::expr), span, "condition")?;
    expr::expr(cx, &e)
}

fn channel(cx: &mut Ctx, p: &P) -> Build<ChannelDecl> {
    let span = cx.span(p);
    let channel = ident(cx, p)?;
    let mut fallbacks = Vec::new();
    for f in kids(p).filter(|k| k.as_rule() == Rule::fallback) {
        let at = cx.span(&f);
        let after = cx.need(child(&f, Rule::duration), at, "duration")?;
        fallbacks.push(Fallback {
            channel: ident(cx, &f)?,
            after: cx.duration(&after)?,
            span: at,
        });
    }
    Ok(ChannelDecl { channel, fallbacks, span })
}

fn trigger(cx: &mut Ctx, p: &P) -> Build<Trigger> {
    let span = cx.span(p);
    let inner = cx.need(kids(p).find(|k| k.as_rule() != Rule::kw_trigger), span, "trigger")?;
    let kind = match inner.as_rule() {
        Rule::on_trigger => {
            let filter = match child(&inner, Rule::expr) {
                Some(e) => Some(expr::expr(cx, &e)?),
                None => None,
            };
            TriggerKind::On {
                event: ident(cx, &inner)?,
                filter,
            }
        }
        Rule::at_trigger => {
            let at = cx.need(child(&inner, Rule::date_time), span, "date and time")?;
            TriggerKind::At(cx.date_time(&at)?)
        }
        Rule::every_trigger => {
            let spec = cx.need(child(&inner, Rule::every_spec), span, "schedule")?;
            let time = cx.need(child(&inner, Rule::time_of_day), span, "time")?;
            TriggerKind::Every {
                every: every(cx, &spec)?,
                at: cx.time_of_day(&time)?,
            }
        }
        _ => return Err(cx.internal(span, "trigger")),
    };
    Ok(Trigger { kind, span })
}

fn every(cx: &mut Ctx, p: &P) -> Build<Every> {
    let span = cx.span(p);
    let inner = only(cx, p)?;
    Ok(match inner.as_rule() {
        Rule::kw_day => Every::Day,
        Rule::kw_weekday => Every::Weekday,
        Rule::day_name => {
            let days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
            let n = days.iter().position(|d| *d == inner.as_str());
            let n = cx.need(n, span, "weekday")?;
            Every::DayOfWeek(u8::try_from(n).map_err(|_| cx.internal(span, "weekday"))?)
        }
        Rule::day_of_month => {
            let ordinal = cx.need(child(&inner, Rule::ordinal), span, "day")?;
            let digits = ordinal.as_str().trim_end_matches(|c: char| c.is_ascii_alphabetic());
            let at = cx.span(&ordinal);
            let day = digits
                .parse::<u32>()
                .map_err(|_| cx.fail(at, "day number too large".to_string(), "not a day of the month", None))?;
            Every::DayOfMonth { day, span: at }
        }
        _ => return Err(cx.internal(span, "schedule")),
    })
}

fn variant(cx: &mut Ctx, p: &P) -> Build<Variant> {
    let span = cx.span(p);
    let percent = cx.need(child(p, Rule::percent), span, "percentage")?;
    let block = cx.need(child(p, Rule::step_block), span, "steps")?;
    Ok(Variant {
        name: ident(cx, p)?,
        percent: cx.percent(&percent)?,
        steps: steps(cx, &block, 2)?,
        span,
    })
}

/// The steps of a `{ .. }` block at nesting `depth`.
fn steps(cx: &mut Ctx, block: &P, depth: usize) -> Build<Vec<Step>> {
    let mut out = Vec::new();
    for s in kids(block).filter(|k| k.as_rule() == Rule::step) {
        out.push(step(cx, &s, depth)?);
    }
    Ok(out)
}

fn step(cx: &mut Ctx, p: &P, depth: usize) -> Build<Step> {
    let inner = only(cx, p)?;
    let span = cx.span(&inner);
    let kind = match inner.as_rule() {
        Rule::wait_step => match child(&inner, Rule::time_of_day) {
            Some(t) => StepKind::WaitUntil(cx.time_of_day(&t)?),
            None => {
                let d = cx.need(child(&inner, Rule::duration), span, "duration")?;
                StepKind::Wait(cx.duration(&d)?)
            }
        },
        Rule::send_step => {
            let names: Vec<_> = kids(&inner).filter(|k| k.as_rule() == Rule::ident).map(|k| cx.ident(&k)).collect();
            let mut names = names.into_iter();
            let expires = match child(&inner, Rule::expires) {
                Some(x) => Some(expiry(cx, &x)?),
                None => None,
            };
            StepKind::Send {
                message: cx.need(names.next(), span, "message name")?,
                via: names.next(),
                expires,
            }
        }
        Rule::if_step => return if_chain(cx, &inner, depth),
        Rule::exit_step => StepKind::Exit,
        _ => return Err(cx.internal(span, "step")),
    };
    Ok(Step { kind, span })
}

/// `expires at 21:00` or `expires after 3h`.
fn expiry(cx: &mut Ctx, p: &P) -> Build<Expiry> {
    let span = cx.span(p);
    if let Some(t) = child(p, Rule::time_of_day) {
        return Ok(Expiry::At(cx.time_of_day(&t)?));
    }
    let d = cx.need(child(p, Rule::duration), span, "duration")?;
    Ok(Expiry::After(cx.duration(&d)?))
}

/// `if C { } else if C2 { } else { }`: the grammar reads `else if` as a
/// flat list; here it becomes nested `If` steps, each `else if` one level
/// deeper, so a long chain is refused before it nests too deeply.
fn if_chain(cx: &mut Ctx, p: &P, depth: usize) -> Build<Step> {
    let span = cx.span(p);
    let mut branches = Vec::new(); // (start, condition pair, block pair)
    let mut otherwise = None;
    let mut pending_cond = None;
    for k in kids(p) {
        match k.as_rule() {
            Rule::expr => pending_cond = Some(k),
            Rule::step_block => {
                let cond = cx.need(pending_cond.take(), span, "condition")?;
                branches.push((span.start, cond, k));
            }
            Rule::else_if => {
                let at = child(&k, Rule::kw_if).map_or(cx.span(&k), |i| cx.span(&i));
                cx.depth(depth + branches.len(), at)?;
                let cond = cx.need(child(&k, Rule::expr), at, "condition")?;
                let block = cx.need(child(&k, Rule::step_block), at, "steps")?;
                branches.push((at.start, cond, block));
            }
            Rule::else_block => {
                let block = cx.need(child(&k, Rule::step_block), span, "steps")?;
                otherwise = Some(steps(cx, &block, depth + branches.len())?);
            }
            _ => {}
        }
    }
    // Build from the last branch back to the first.
    let mut result: Option<Step> = None;
    for (n, (start, cond, block)) in branches.into_iter().enumerate().rev() {
        let level = depth + n;
        let step = Step {
            kind: StepKind::If {
                cond: expr::expr(cx, &cond)?,
                then: steps(cx, &block, level + 1)?,
                otherwise: match result.take() {
                    Some(inner) => Some(vec![inner]),
                    None => otherwise.take(),
                },
            },
            span: Span::new(start, span.end),
        };
        result = Some(step);
    }
    cx.need(result, span, "if")
}
