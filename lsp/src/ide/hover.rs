//! Hover text (Markdown): a field's type, nullability, alias and doc; an
//! event's properties; a segment's definition; a message's worst-case
//! length on each channel it is sent on and whether it passes the ad-law
//! rules (the figures the checker judged, from `Analysis::facts`).

use super::index::Symbol;
use super::Db;
use camp_compiler::channel::{Channel, Unit};
use camp_compiler::facts::MessageSize;
use camp_compiler::schema::FieldModel;
use camp_compiler::FileId;
use camp_grammar::ast::Item;
use camp_grammar::Span;

/// The hover at a byte offset: the span it is about and its Markdown.
pub fn hover(db: &Db, file: FileId, offset: usize) -> Option<(Span, String)> {
    let occurrence = db.index.at(file, offset)?;
    let text = match &occurrence.symbol {
        Symbol::Field { table, name } => {
            let t = if table == "customer" {
                db.schema.customer.as_ref()
            } else {
                db.schema.table(table)
            }?;
            field(&format!("{table}.{name}"), t.field(name)?)
        }
        Symbol::Property { event, name } => field(&format!("{event}.{name}"), db.schema.event(event)?.prop(name)?),
        Symbol::Event(name) => {
            let e = db.schema.event(name)?;
            let mut out = format!("**event** `{name}`\n");
            for p in &e.props {
                let null = if p.nullable { "?" } else { "" };
                out.push_str(&format!("\n- `{}`: `{}{null}`", p.name, p.ty));
            }
            doc(&mut out, e.doc.as_deref());
            out
        }
        Symbol::Segment(name) => segment(db, name)?,
        Symbol::Message(name) => message(db, name),
        Symbol::Campaign(name) => {
            let mut out = format!("**campaign** `{name}`");
            let c = db.analysis.asts.iter().flat_map(|f| &f.items).find_map(|i| match i {
                Item::Campaign(c) if &c.name.name == name => Some(c),
                _ => None,
            });
            doc(&mut out, c.and_then(|c| c.doc.as_deref()));
            out
        }
    };
    Some((occurrence.span, text))
}

fn field(path: &str, f: &FieldModel) -> String {
    let null = if f.nullable { "nullable (may be empty)" } else { "never null" };
    let mut out = format!("**{path}**: `{}`\n\n{null}", f.ty);
    if let Some(alias) = &f.alias {
        out.push_str(&format!(" · alias `{alias}`"));
    }
    if let Some(default) = &f.default {
        out.push_str(&format!(" · default `{}`", literal(default)));
    }
    doc(&mut out, f.doc.as_deref());
    out
}

fn literal(l: &camp_grammar::ast::Literal) -> String {
    use camp_grammar::ast::Literal;
    match l {
        Literal::Int(i) => i.value.to_string(),
        Literal::Decimal { value, .. } => value.to_string(),
        Literal::String(s) => format!("{:?}", s.value),
        Literal::Bool { value, .. } => value.to_string(),
        Literal::Ident(i) => i.name.clone(),
    }
}

fn doc(out: &mut String, doc: Option<&str>) {
    if let Some(d) = doc.filter(|d| !d.trim().is_empty()) {
        out.push_str("\n\n---\n\n");
        out.push_str(d);
    }
}

fn segment(db: &Db, name: &str) -> Option<String> {
    for (i, file) in db.analysis.asts.iter().enumerate() {
        for item in &file.items {
            let Item::Segment(s) = item else { continue };
            if s.name.name != name {
                continue;
            }
            let source = db.workspace.file(FileId(i))?.slice(s.span);
            let mut out = format!("**segment** `{name}`\n\n```camp\n{source}\n```");
            doc(&mut out, s.doc.as_deref());
            return Some(out);
        }
    }
    None
}

/// `SMS`, `LMS`, `Friendtalk`: channel names as carriers write them.
pub fn channel_label(c: Channel) -> &'static str {
    match c {
        Channel::Sms => "SMS",
        Channel::Lms => "LMS",
        Channel::Mms => "MMS",
        Channel::Alimtalk => "Alimtalk",
        Channel::Friendtalk => "Friendtalk",
        Channel::Brand => "Brand message",
        Channel::Rcs => "RCS",
        Channel::Push => "Push",
        Channel::Email => "Email",
        Channel::Webhook => "Webhook",
    }
}

/// "SMS 84/90 bytes", "Email 120 characters" (no limit).
pub fn size_label(s: &MessageSize) -> String {
    let unit = match s.unit {
        Unit::Bytes => "bytes",
        Unit::Chars | Unit::Utf16 => "characters",
    };
    match s.limit {
        Some(limit) => format!("{} {}/{limit} {unit}", channel_label(s.channel), s.worst),
        None => format!("{} {} {unit}", channel_label(s.channel), s.worst),
    }
}

fn message(db: &Db, name: &str) -> String {
    let facts = &db.analysis.facts;
    let mut out = format!("**message** `{name}`\n");
    let sizes: Vec<&MessageSize> = facts.sizes_of(name).collect();
    if sizes.is_empty() {
        out.push_str("\nnot sent by any campaign, so no channel limits apply yet");
    } else {
        out.push_str("\nworst-case length:\n");
        for s in &sizes {
            let verdict = if s.fits() { "fits" } else { "**too long**" };
            out.push_str(&format!("\n- {} ({verdict}; campaign `{}`)", size_label(s), s.campaign));
        }
    }
    let ads: Vec<_> = facts.ads_of(name).collect();
    if !ads.is_empty() {
        out.push_str("\n\nad law (정보통신망법 제50조): ");
        let mut missing = Vec::new();
        if ads.iter().any(|a| !a.prefix) {
            missing.push("the \"(광고)\" prefix");
        }
        if ads.iter().any(|a| !a.sender) {
            missing.push("the sender");
        }
        if ads.iter().any(|a| !a.optout) {
            missing.push("the free opt-out line");
        }
        if missing.is_empty() {
            out.push_str("passes: starts with \"(광고)\", names the sender, has the free opt-out line");
        } else {
            out.push_str(&format!("**fails**: missing {}", missing.join(", ")));
        }
    }
    let m = db.analysis.asts.iter().flat_map(|f| &f.items).find_map(|i| match i {
        Item::Message(m) if m.name.name == name => Some(m),
        _ => None,
    });
    doc(&mut out, m.and_then(|m| m.doc.as_deref()));
    out
}
