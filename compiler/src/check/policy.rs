//! `policy { .. }`: resolved into a [`PolicyModel`], each setting checked.

use super::expr::{self, Scope, Trigger};
use super::{timing, Env};
use crate::codes;
use crate::diagnostic::{Diagnostic, Sink};
use crate::policy::{LifecycleParams, PolicyModel};
use crate::source::FileId;
use crate::suggest::help_for;
use camp_grammar::ast::{self, LifecycleValue, PolicyItem, Span, StringLit};

pub fn build(env: &Env, sink: &mut Sink, policies: &[(FileId, &ast::Policy)]) -> PolicyModel {
    let mut model = PolicyModel::default();
    let mut seen: Vec<(&'static str, FileId, Span)> = Vec::new();
    // Policy blocks may be split over files (quiet hours in one, caps in
    // another): they merge, and each single setting is given once.
    for &(file, policy) in policies {
        if model.file.is_none() {
            model.file = Some(file);
        }
        for item in &policy.items {
            let mut once = |name: &'static str, span: Span, sink: &mut Sink| {
                if let Some((_, f, s)) = seen.iter().find(|(n, _, _)| *n == name) {
                    sink.push(
                        Diagnostic::new(
                            codes::DUPLICATE_SETTING,
                            file,
                            span,
                            format!("`{name}` is set twice"),
                            "second setting",
                        )
                        .with_label(*f, *s, "first set here")
                        .with_help("keep one of them: policy blocks, in one file or several, merge into one policy"),
                    );
                    false
                } else {
                    seen.push((name, file, span));
                    true
                }
            };
            match item {
                PolicyItem::Timezone(tz) => {
                    if once("timezone", tz.span, sink) {
                        if tz.value.parse::<chrono_tz::Tz>().is_err() {
                            sink.push(timing::unknown_zone(file, tz.span, &tz.value));
                        }
                        model.timezone = Some(tz.value.clone());
                    }
                }
                PolicyItem::Sender(s) => {
                    if once("sender", s.span, sink) {
                        model.sender = Some(non_empty(sink, file, s, "sender"));
                    }
                }
                PolicyItem::Optout(s) => {
                    if once("optout", s.span, sink) {
                        model.optout = Some(non_empty(sink, file, s, "optout"));
                    }
                }
                PolicyItem::ChannelOptout { text, channel, span } => {
                    let known = super::campaign::channel(sink, file, channel);
                    let dup = model.optout_by_channel.iter().any(|(c, _)| *c == channel.name);
                    if dup {
                        sink.push(
                            Diagnostic::new(
                                codes::DUPLICATE_SETTING,
                                file,
                                *span,
                                format!("`optout .. for channel {}` is set twice", channel.name),
                                "second setting",
                            )
                            .with_help("keep one opt-out text per channel"),
                        );
                    } else if known.is_some() {
                        let t = non_empty(sink, file, text, "optout");
                        model.optout_by_channel.push((channel.name.clone(), t));
                    }
                }
                PolicyItem::QuietHours(q) => {
                    if let Some(rule) = timing::quiet_rule(env, sink, file, q, Trigger::Policy) {
                        model.quiet_hours.push(rule);
                    }
                }
                PolicyItem::Cap(cap) => {
                    timing::check_cap(sink, file, cap);
                    model.caps.push(cap.clone());
                }
                PolicyItem::Lifecycle(settings) => lifecycle(sink, file, settings, &mut model.lifecycle),
            }
        }
    }
    // `unless` conditions are plain customer conditions.
    for rule in &model.quiet_hours {
        if let Some(unless) = &rule.unless {
            expr::condition(env, sink, &Scope::new(rule.file, Trigger::Policy), unless);
        }
    }
    model
}

fn non_empty(sink: &mut Sink, file: FileId, s: &StringLit, what: &str) -> String {
    if s.value.trim().is_empty() {
        sink.push(
            Diagnostic::new(codes::BAD_SETTING, file, s.span, format!("`{what}` is empty"), "empty text")
                .with_help(format!("write the {what} text that ads must carry")),
        );
    }
    s.value.clone()
}

const LIFECYCLE_SETTINGS: [&str; 5] = ["new", "active", "at_risk", "single_active", "single_at_risk"];

fn lifecycle(sink: &mut Sink, file: FileId, settings: &[ast::LifecycleSetting], params: &mut LifecycleParams) {
    for s in settings {
        let days = |v: &LifecycleValue| match v {
            LifecycleValue::Duration(d) => Some(d.seconds() as f64 / 86_400.0),
            LifecycleValue::Number { .. } => None,
        };
        let ratio = |v: &LifecycleValue| match v {
            LifecycleValue::Number { value, .. } => Some(*value),
            LifecycleValue::Duration(_) => None,
        };
        let (slot, value, expected) = match s.name.name.as_str() {
            "new" => (&mut params.new_days, days(&s.value), "a duration like `30d`"),
            "single_active" => (&mut params.single_active_days, days(&s.value), "a duration like `90d`"),
            "single_at_risk" => (&mut params.single_at_risk_days, days(&s.value), "a duration like `180d`"),
            "active" => (&mut params.active_ratio, ratio(&s.value), "a ratio like `1.5`"),
            "at_risk" => (&mut params.at_risk_ratio, ratio(&s.value), "a ratio like `3`"),
            other => {
                sink.push(
                    Diagnostic::new(
                        codes::UNKNOWN_SETTING,
                        file,
                        s.name.span,
                        format!("unknown lifecycle setting `{other}`"),
                        "not a lifecycle setting",
                    )
                    .with_help(help_for(other, LIFECYCLE_SETTINGS, "lifecycle setting")),
                );
                continue;
            }
        };
        match value {
            Some(v) if v > 0.0 => *slot = v,
            _ => sink.push(
                Diagnostic::new(
                    codes::BAD_SETTING,
                    file,
                    s.span,
                    format!("`{}` takes {expected}", s.name.name),
                    "wrong kind of value",
                )
                .with_help(format!("write {expected}, greater than zero")),
            ),
        }
    }
}
