//! Test helpers: parse fixtures, find items, and render expressions and
//! steps as short S-expressions so expected shapes read at a glance.
#![allow(dead_code)]

use camp_grammar::ast::*;
use camp_grammar::{parse, Parsed};

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses and asserts there are no errors.
pub fn parse_ok(src: &str) -> File {
    let Parsed { file, errors } = parse(src);
    assert!(errors.is_empty(), "unexpected errors: {errors:#?}");
    file
}

pub fn segment<'f>(file: &'f File, name: &str) -> &'f Segment {
    file.items
        .iter()
        .find_map(|i| match i {
            Item::Segment(s) if s.name.name == name => Some(s),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no segment {name}"))
}

pub fn message<'f>(file: &'f File, name: &str) -> &'f Message {
    file.items
        .iter()
        .find_map(|i| match i {
            Item::Message(m) if m.name.name == name => Some(m),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no message {name}"))
}

pub fn campaign<'f>(file: &'f File, name: &str) -> &'f Campaign {
    file.items
        .iter()
        .find_map(|i| match i {
            Item::Campaign(c) if c.name.name == name => Some(c),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no campaign {name}"))
}

/// The text a span covers.
pub fn text(src: &str, span: camp_grammar::Span) -> &str {
    &src[span.start..span.end]
}

pub fn dur(d: &Duration) -> String {
    let unit = match d.unit {
        DurationUnit::Minutes => "m",
        DurationUnit::Hours => "h",
        DurationUnit::Days => "d",
        DurationUnit::Weeks => "w",
    };
    format!("{}{unit}", d.value)
}

pub fn window(w: &Window) -> String {
    match &w.kind {
        WindowKind::Within(d) => format!("within {}", dur(d)),
        WindowKind::Before(d) => format!("before {}", dur(d)),
        WindowKind::SinceTrigger => "since trigger".to_string(),
        WindowKind::SinceLast(e) => format!("since last {}", e.name),
    }
}

pub fn path(p: &Path) -> String {
    p.segments.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(".")
}

/// `(or a (and b c))`, `(== customer.tier gold)`, `(did e where .. within 24h)`.
pub fn sx(e: &Expr) -> String {
    let list = |head: &str, items: &[Expr]| {
        let inner: Vec<String> = items.iter().map(sx).collect();
        format!("({head} {})", inner.join(" "))
    };
    match &e.kind {
        ExprKind::Or(v) => list("or", v),
        ExprKind::And(v) => list("and", v),
        ExprKind::Not(x) => format!("(not {})", sx(x)),
        ExprKind::Compare { op, lhs, rhs } => {
            let op = match op {
                CmpOp::Eq => "==",
                CmpOp::Ne => "!=",
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                CmpOp::Ge => ">=",
            };
            format!("({op} {} {})", sx(lhs), sx(rhs))
        }
        ExprKind::In {
            value,
            list: items,
            negated,
        } => {
            let head = if *negated { "not-in" } else { "in" };
            let inner: Vec<String> = items.iter().map(sx).collect();
            format!("({head} {} [{}])", sx(value), inner.join(" "))
        }
        ExprKind::IsNull { value, negated } => {
            format!("({} {})", if *negated { "is-not-null" } else { "is-null" }, sx(value))
        }
        ExprKind::Contains { value, needle } => format!("(contains {} {})", sx(value), sx(needle)),
        ExprKind::Arith { first, rest } => {
            let mut s = format!("({}", sx(first));
            for (op, x) in rest {
                let op = match op {
                    ArithOp::Add => "+",
                    ArithOp::Sub => "-",
                    ArithOp::Mul => "*",
                    ArithOp::Div => "/",
                };
                s.push_str(&format!(" {op} {}", sx(x)));
            }
            s + ")"
        }
        ExprKind::Neg(x) => format!("(- {})", sx(x)),
        ExprKind::Did(d) => {
            let mut s = format!("(did {}", d.event.name);
            if let Some(f) = &d.filter {
                s.push_str(&format!(" where {}", sx(f)));
            }
            if let Some(c) = &d.count {
                let op = match c.op {
                    CountOp::AtLeast => "at-least",
                    CountOp::AtMost => "at-most",
                    CountOp::Exactly => "exactly",
                };
                s.push_str(&format!(" {op} {}", c.n.value));
            }
            if let Some(w) = &d.window {
                s.push_str(&format!(" {}", window(w)));
            }
            s + ")"
        }
        ExprKind::Aggregate(a) => {
            let f = match a.func {
                AggFunc::Count => "count",
                AggFunc::Sum => "sum",
                AggFunc::Avg => "avg",
                AggFunc::Min => "min",
                AggFunc::Max => "max",
            };
            let mut s = format!("({f} {}", a.event.name);
            if let Some(p) = &a.prop {
                s.push_str(&format!(".{}", p.name));
            }
            if let Some(x) = &a.filter {
                s.push_str(&format!(" where {}", sx(x)));
            }
            if let Some(w) = &a.window {
                s.push_str(&format!(" {}", window(w)));
            }
            s + ")"
        }
        ExprKind::EventTime { first, event } => format!("({} {})", if *first { "first" } else { "last" }, event.name),
        ExprKind::DaysSince(x) => format!("(days-since {})", sx(x)),
        ExprKind::Rfm {
            event,
            prop,
            window: w,
            score,
        } => {
            let w = w.as_ref().map(|w| format!(" {}", window(w))).unwrap_or_default();
            format!("(rfm {}.{}{w}).{}", event.name, prop.name, score.name)
        }
        ExprKind::Lifecycle(e) => format!("(lifecycle {})", e.name),
        ExprKind::Interval(e) => format!("(interval {})", e.name),
        ExprKind::Int(n) => n.to_string(),
        ExprKind::Decimal(f) => format!("{f:?}"),
        ExprKind::String(s) => format!("{s:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Duration(d) => dur(d),
        ExprKind::Now => "now".to_string(),
        ExprKind::Path(p) => path(p),
    }
}

/// Steps as `wait 24h; send m via sms; if C { .. } else { .. }; exit`.
pub fn steps(steps: &[Step]) -> String {
    steps.iter().map(step).collect::<Vec<_>>().join("; ")
}

pub fn step(s: &Step) -> String {
    match &s.kind {
        StepKind::Wait(d) => format!("wait {}", dur(d)),
        StepKind::WaitUntil(t) => format!("wait until {}:{:02}", t.hour, t.minute),
        StepKind::Send { message, via, expires } => {
            let mut out = match via {
                Some(v) => format!("send {} via {}", message.name, v.name),
                None => format!("send {}", message.name),
            };
            match expires {
                Some(Expiry::At(t)) => out.push_str(&format!(" expires at {}:{:02}", t.hour, t.minute)),
                Some(Expiry::After(d)) => out.push_str(&format!(" expires after {}", dur(d))),
                None => {}
            }
            out
        }
        StepKind::If { cond, then, otherwise } => {
            let mut out = format!("if {} {{ {} }}", sx(cond), steps(then));
            if let Some(o) = otherwise {
                out.push_str(&format!(" else {{ {} }}", steps(o)));
            }
            out
        }
        StepKind::Exit => "exit".to_string(),
    }
}

/// A template as `text|#{path|filter("a")??"d"}|text`.
pub fn tpl(t: &Template) -> String {
    t.segments
        .iter()
        .map(|s| match s {
            TemplateSegment::Text { text, .. } => format!("{text:?}"),
            TemplateSegment::For(l) => {
                let body = Template {
                    segments: l.body.clone(),
                    span: l.span,
                };
                format!("for({} in {}: {})", l.var.name, l.list.name, tpl(&body))
            }
            TemplateSegment::Placeholder(p) => {
                let mut out = format!("#{{{}", path(&p.path));
                for f in &p.filters {
                    out.push_str(&format!("|{}", f.name.name));
                    if !f.args.is_empty() {
                        let args: Vec<String> = f.args.iter().map(|a| format!("{:?}", a.value)).collect();
                        out.push_str(&format!("({})", args.join(",")));
                    }
                }
                if let Some(d) = &p.default {
                    out.push_str(&format!("??{:?}", d.value));
                }
                out + "}"
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
