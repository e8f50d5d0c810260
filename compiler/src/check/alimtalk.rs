//! Alimtalk messages against their registered templates: Kakao delivers an
//! Alimtalk only when its text is the approved template with each `#{변수}`
//! slot filled, so the checker proves the message has the same fixed text,
//! fills the same slots (any value may fill a slot), and has the same
//! emphasis title and buttons.

use super::Env;
use crate::codes;
use crate::diagnostic::{Diagnostic, Sink};
use crate::source::FileId;
use camp_grammar::ast::{self, MessagePart, Span, Template, TemplateSegment};

/// A registered template needs its text.
pub fn check_templates(env: &Env, sink: &mut Sink) {
    let mut all: Vec<_> = env.alimtalk.values().collect();
    all.sort_by_key(|d| (d.file, d.item.span.start));
    for def in all {
        if !def.item.parts.iter().any(|p| matches!(p, MessagePart::Body(_))) {
            sink.push(
                Diagnostic::new(
                    codes::NO_BODY,
                    def.file,
                    def.item.code.span,
                    format!("alimtalk template `{}` has no registered text", def.item.code.value),
                    "no text",
                )
                .with_help("add the text as Kakao approved it: `\"#{고객명}님, 주문이 접수되었습니다.\"`"),
            );
        }
    }
}

/// The message's template code is registered and the message matches it.
pub fn check_registered(env: &Env, sink: &mut Sink, file: FileId, message: &ast::Message) {
    let Some(code) = message.parts.iter().find_map(|p| match p {
        MessagePart::TemplateCode(c) => Some(c),
        _ => None,
    }) else {
        return;
    };
    let Some(def) = env.alimtalk.get(code.value.as_str()) else {
        let codes: Vec<&str> = env.alimtalk.keys().copied().collect();
        sink.push(
            Diagnostic::new(
                codes::ALIMTALK_UNREGISTERED,
                file,
                code.span,
                format!("alimtalk template `{}` is not registered in the workspace", code.value),
                "unknown template code",
            )
            .suggest(&code.value, code.span, codes.iter().copied(), "template code")
            .with_help(format!(
                "add the approved text: `alimtalk template \"{}\" {{ \"..\" }}` (copy it from the Kakao Business console)",
                code.value
            )),
        );
        return;
    };
    let registered = def.item;
    let source = env.sources.get(file.0).copied().unwrap_or("");
    let at = (def.file, registered.code.span);
    let pick = |parts: &[MessagePart], title: bool| -> Option<Template> {
        parts.iter().find_map(|p| match p {
            MessagePart::Body(t) if !title => Some(t.clone()),
            MessagePart::Title(t) if title => Some(t.clone()),
            _ => None,
        })
    };
    for (what, title) in [("text", false), ("emphasis title", true)] {
        let (mine, theirs) = (pick(&message.parts, title), pick(&registered.parts, title));
        match (&mine, &theirs) {
            (Some(m), Some(r)) => {
                if let Err((span, expected)) = matches(source, r, m) {
                    sink.push(mismatch(file, span, message, code, at, what, &expected));
                }
            }
            (None, None) => {}
            (Some(m), None) => sink.push(mismatch(file, m.span, message, code, at, what, "no emphasis title")),
            (None, Some(r)) => {
                let expected = format!("the title `{}`", pattern_text(r));
                sink.push(mismatch(file, message.name.span, message, code, at, what, &expected));
            }
        }
    }
    let buttons = |parts: &[MessagePart]| -> Vec<(Template, Template, Span)> {
        parts
            .iter()
            .filter_map(|p| match p {
                MessagePart::Button { label, url, span } => Some((label.clone(), url.clone(), *span)),
                _ => None,
            })
            .collect()
    };
    let (mine, theirs) = (buttons(&message.parts), buttons(&registered.parts));
    for (i, (label, url, span)) in mine.iter().enumerate() {
        let Some((rl, ru, _)) = theirs.get(i) else {
            sink.push(mismatch(file, *span, message, code, at, "buttons", "no more buttons"));
            return;
        };
        for (m, r, what) in [(label, rl, "button label"), (url, ru, "button link")] {
            if let Err((span, expected)) = matches(source, r, m) {
                sink.push(mismatch(file, span, message, code, at, what, &expected));
                return;
            }
        }
    }
    if let Some((rl, _, _)) = theirs.get(mine.len()) {
        let expected = format!("the button `{}`", pattern_text(rl));
        sink.push(mismatch(file, message.name.span, message, code, at, "buttons", &expected));
    }
}

fn mismatch(
    file: FileId,
    span: Span,
    message: &ast::Message,
    code: &ast::StringLit,
    registered: (FileId, Span),
    what: &str,
    expected: &str,
) -> Diagnostic {
    Diagnostic::new(
        codes::ALIMTALK_MISMATCH,
        file,
        span,
        format!(
            "`{}` differs from alimtalk template `{}` in its {what}",
            message.name.name, code.value
        ),
        format!("the template has {expected} here"),
    )
    .with_label(registered.0, registered.1, "registered here")
    .with_help("write the registered text exactly; only its `#{..}` slots may hold other values")
}

/// The registered text as written, slots as `#{..}`.
fn pattern_text(t: &Template) -> String {
    t.segments
        .iter()
        .map(|s| match s {
            TemplateSegment::Text { text, .. } => text.clone(),
            TemplateSegment::Placeholder(p) => {
                let names: Vec<&str> = p.path.segments.iter().map(|s| s.name.as_str()).collect();
                format!("#{{{}}}", names.join("."))
            }
            TemplateSegment::For(l) => format!("#{{for {} in {}}}..#{{end}}", l.var.name, l.list.name),
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Char(char),
    /// A placeholder of the message: a value that only a slot may take.
    Value,
}

#[derive(Clone, Copy, PartialEq)]
enum Atom {
    Char(char),
    Slot,
}

/// Whether `message` is the registered `pattern` with its slots filled;
/// else where they first differ and what the template has there.
fn matches(source: &str, pattern: &Template, message: &Template) -> Result<(), (Span, String)> {
    let mut atoms = Vec::new();
    for s in &pattern.segments {
        match s {
            TemplateSegment::Text { text, .. } => atoms.extend(text.chars().map(Atom::Char)),
            // A loop in a registered text is a slot too.
            TemplateSegment::Placeholder(_) | TemplateSegment::For(_) => atoms.push(Atom::Slot),
        }
    }
    // Each unit with the source span it came from (as precise as the
    // literal allows: dedented or escaped text points at its segment).
    let mut units: Vec<(Unit, Span)> = Vec::new();
    for s in &message.segments {
        match s {
            TemplateSegment::Text { text, span } => {
                let raw = source.get(span.start..span.end);
                let exact = raw == Some(text.as_str());
                for (i, c) in text.char_indices() {
                    let at = if exact {
                        Span::new(span.start + i, span.start + i + c.len_utf8())
                    } else {
                        *span
                    };
                    units.push((Unit::Char(c), at));
                }
            }
            TemplateSegment::Placeholder(p) => units.push((Unit::Value, p.span)),
            // A list printed in the message: a value only a slot may take.
            TemplateSegment::For(l) => units.push((Unit::Value, l.span)),
        }
    }
    // Glob matching, slots as `*`; remembers the furthest point reached.
    let (mut a, mut u) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    let mut furthest = (0usize, 0usize);
    // The first difference: just after the furthest fixed character that
    // matched (a slot's fill is never "the difference").
    while u < units.len() {
        match atoms.get(a) {
            Some(Atom::Slot) => {
                star = Some((a, u));
                a += 1;
                if u >= furthest.1 {
                    furthest = (a, u);
                }
            }
            Some(Atom::Char(c)) if units[u].0 == Unit::Char(*c) => {
                a += 1;
                u += 1;
                if u > furthest.1 {
                    furthest = (a, u);
                }
            }
            _ => match star {
                Some((sa, su)) => {
                    a = sa + 1;
                    u = su + 1;
                    star = Some((sa, su + 1));
                }
                None => break,
            },
        }
    }
    if u >= units.len() {
        while atoms.get(a) == Some(&Atom::Slot) {
            a += 1;
        }
        if a == atoms.len() {
            return Ok(());
        }
    }
    let (fa, fu) = furthest;
    let span = units
        .get(fu)
        .map(|(_, s)| *s)
        .or_else(|| units.last().map(|(_, s)| Span::new(s.end, s.end)))
        .unwrap_or(message.span);
    let expected: String = atoms[fa.min(atoms.len())..]
        .iter()
        .take(12)
        .map(|a| match a {
            Atom::Char('\n') => "⏎".to_string(),
            Atom::Char(c) => c.to_string(),
            Atom::Slot => "#{..}".to_string(),
        })
        .collect();
    let expected = if expected.is_empty() {
        "nothing more".to_string()
    } else {
        format!("`{expected}`")
    };
    Err((span, expected))
}
