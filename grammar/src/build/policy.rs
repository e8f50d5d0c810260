//! `policy { .. }`, and the quiet hours and caps that campaigns share.

use super::{child, expr, kids, only, Build, Ctx, P};
use crate::ast::{Cap, CapLimit, LifecycleSetting, LifecycleValue, Policy, PolicyItem, QuietHours, QuietMode, SendFilter};
use crate::grammar::Rule;

pub(super) fn policy(cx: &mut Ctx, p: &P) -> Build<Policy> {
    let span = cx.span(p);
    let mut items = Vec::new();
    for entry in kids(p).filter(|k| k.as_rule() == Rule::policy_entry) {
        let inner = only(cx, &entry)?;
        items.push(policy_item(cx, &inner)?);
    }
    Ok(Policy { items, span })
}

fn policy_item(cx: &mut Ctx, p: &P) -> Build<PolicyItem> {
    let span = cx.span(p);
    let text = |cx: &mut Ctx| {
        let s = child(p, Rule::string).map(|s| cx.string(&s));
        cx.need(s, span, "text")
    };
    Ok(match p.as_rule() {
        Rule::timezone_setting => PolicyItem::Timezone(text(cx)?),
        Rule::sender_setting => PolicyItem::Sender(text(cx)?),
        Rule::optout_setting => match child(p, Rule::ident) {
            Some(channel) => PolicyItem::ChannelOptout {
                text: text(cx)?,
                channel: cx.ident(&channel),
                span,
            },
            None => PolicyItem::Optout(text(cx)?),
        },
        Rule::quiet_hours => PolicyItem::QuietHours(quiet_hours(cx, p)?),
        Rule::cap => PolicyItem::Cap(cap(cx, p)?),
        Rule::lifecycle_policy => {
            let mut settings = Vec::new();
            for pair in kids(p).filter(|k| k.as_rule() == Rule::lifecycle_pair) {
                settings.push(lifecycle_setting(cx, &pair)?);
            }
            PolicyItem::Lifecycle(settings)
        }
        _ => return Err(cx.internal(span, "policy setting")),
    })
}

fn lifecycle_setting(cx: &mut Ctx, p: &P) -> Build<LifecycleSetting> {
    let span = cx.span(p);
    let (mut name, mut value) = (None, None);
    for k in kids(p) {
        let at = cx.span(&k);
        match k.as_rule() {
            Rule::ident => name = Some(cx.ident(&k)),
            Rule::duration => value = Some(LifecycleValue::Duration(cx.duration(&k)?)),
            Rule::decimal => {
                let v = cx.decimal(&k)?;
                value = Some(LifecycleValue::Number { value: v, span: at });
            }
            Rule::int => {
                // Exact for every count anyone writes; the checker reads a number.
                let v = cx.int(&k)?.value as f64;
                value = Some(LifecycleValue::Number { value: v, span: at });
            }
            _ => {}
        }
    }
    Ok(LifecycleSetting {
        name: cx.need(name, span, "lifecycle name")?,
        value: cx.need(value, span, "lifecycle value")?,
        span,
    })
}

pub(super) fn quiet_hours(cx: &mut Ctx, p: &P) -> Build<QuietHours> {
    let span = cx.span(p);
    let mut times = Vec::new();
    let (mut filter, mut unless, mut mode) = (None, None, None);
    for k in kids(p) {
        match k.as_rule() {
            Rule::time_of_day => times.push(cx.time_of_day(&k)?),
            Rule::send_filter => filter = Some(send_filter(cx, &k)?),
            Rule::unless_clause => {
                let e = cx.need(child(&k, Rule::expr), span, "condition")?;
                unless = Some(expr::expr(cx, &e)?);
            }
            Rule::quiet_mode => {
                mode = Some(if child(&k, Rule::kw_skip).is_some() {
                    QuietMode::Skip
                } else {
                    QuietMode::Defer
                })
            }
            _ => {}
        }
    }
    let mut times = times.into_iter();
    Ok(QuietHours {
        from: cx.need(times.next(), span, "start time")?,
        to: cx.need(times.next(), span, "end time")?,
        filter,
        unless,
        mode,
        span,
    })
}

fn send_filter(cx: &mut Ctx, p: &P) -> Build<SendFilter> {
    let span = cx.span(p);
    let name = child(p, Rule::ident).map(|n| cx.ident(&n));
    let name = cx.need(name, span, "name")?;
    Ok(if child(p, Rule::kw_kind).is_some() {
        SendFilter::Kind(name)
    } else {
        SendFilter::Channel(name)
    })
}

pub(super) fn cap(cx: &mut Ctx, p: &P) -> Build<Cap> {
    let span = cx.span(p);
    let mut limits = Vec::new();
    let mut filter = None;
    for k in kids(p) {
        match k.as_rule() {
            Rule::cap_limit => {
                let at = cx.span(&k);
                let count = cx.need(child(&k, Rule::int), at, "count")?;
                let per = cx.need(child(&k, Rule::duration), at, "duration")?;
                limits.push(CapLimit {
                    count: cx.int(&count)?,
                    per: cx.duration(&per)?,
                    span: at,
                });
            }
            Rule::send_filter => filter = Some(send_filter(cx, &k)?),
            _ => {}
        }
    }
    Ok(Cap { limits, filter, span })
}
