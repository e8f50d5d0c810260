//! Top-level items: dispatch, segments and messages.

use super::{campaign, child, expr, kids, policy, rel_start, schema, Build, Ctx, P};
use crate::ast::{AlimtalkTemplate, Card, Exclusion, Item, ListDecl, ListExpr, ListSource, Message, MessagePart, Segment};
use crate::grammar::Rule;

/// Builds the item of a `chunk` pair; `Ok(None)` for a chunk of only
/// comments and blank space.
pub(crate) fn item(cx: &mut Ctx, chunk: P) -> Build<Option<(Item, usize)>> {
    let Some(p) = kids(&chunk).find(|k| k.as_rule() != Rule::EOI) else {
        return Ok(None);
    };
    // Doc comments of a top-level item sit at the start of its chunk.
    let doc = cx.doc(0, rel_start(&p));
    let end = p.as_span().end();
    let built = match p.as_rule() {
        Rule::schema => Item::Schema(schema::schema(cx, &p)?),
        Rule::policy => Item::Policy(policy::policy(cx, &p)?),
        Rule::segment => Item::Segment(segment(cx, &p, doc)?),
        Rule::message => Item::Message(message(cx, &p, doc)?),
        Rule::campaign => Item::Campaign(campaign::campaign(cx, &p, doc)?),
        Rule::alimtalk_template => Item::AlimtalkTemplate(alimtalk_template(cx, &p, doc)?),
        _ => return Err(cx.internal(cx.span(&p), "top-level item")),
    };
    Ok(Some((built, end)))
}

fn segment(cx: &mut Ctx, p: &P, doc: Option<String>) -> Build<Segment> {
    let span = cx.span(p);
    let name = child(p, Rule::ident).map(|n| cx.ident(&n));
    let name = cx.need(name, span, "segment name")?;
    let cond = cx.need(child(p, Rule::expr), span, "condition")?;
    Ok(Segment {
        doc,
        name,
        cond: expr::expr(cx, &cond)?,
        span,
    })
}

fn message(cx: &mut Ctx, p: &P, doc: Option<String>) -> Build<Message> {
    let span = cx.span(p);
    let name = child(p, Rule::ident).map(|n| cx.ident(&n));
    let name = cx.need(name, span, "message name")?;
    let mut parts = Vec::new();
    for part in kids(p).filter(|k| k.as_rule() == Rule::message_part) {
        let inner = super::only(cx, &part)?;
        parts.push(message_part(cx, &inner)?);
    }
    Ok(Message { doc, name, parts, span })
}

fn alimtalk_template(cx: &mut Ctx, p: &P, doc: Option<String>) -> Build<AlimtalkTemplate> {
    let span = cx.span(p);
    let code = child(p, Rule::string).map(|s| cx.string(&s));
    let code = cx.need(code, span, "template code")?;
    let mut parts = Vec::new();
    for part in kids(p).filter(|k| k.as_rule() == Rule::message_part) {
        let inner = super::only(cx, &part)?;
        parts.push(message_part(cx, &inner)?);
    }
    Ok(AlimtalkTemplate { doc, code, parts, span })
}

fn message_part(cx: &mut Ctx, p: &P) -> Build<MessagePart> {
    let span = cx.span(p);
    match p.as_rule() {
        Rule::format_part => {
            let name = child(p, Rule::ident).map(|n| cx.ident(&n));
            return Ok(MessagePart::Format(cx.need(name, span, "format")?));
        }
        Rule::card_part => {
            let mut parts = Vec::new();
            for entry in kids(p).filter(|k| k.as_rule() == Rule::card_entry) {
                let inner = super::only(cx, &entry)?;
                parts.push(message_part(cx, &inner)?);
            }
            return Ok(MessagePart::Card(Card { parts, span }));
        }
        Rule::list_part => return list_part(cx, p).map(MessagePart::List),
        _ => {}
    }
    let strings: Vec<P> = kids(p).filter(|k| k.as_rule() == Rule::string).collect();
    let first = cx.need(strings.first().cloned(), span, "text")?;
    Ok(match p.as_rule() {
        Rule::body_part => MessagePart::Body(cx.template(&first)),
        Rule::subject_part => MessagePart::Subject(cx.template(&first)),
        Rule::title_part => MessagePart::Title(cx.template(&first)),
        Rule::image_part => MessagePart::Image(cx.template(&first)),
        Rule::template_part => MessagePart::TemplateCode(cx.string(&first)),
        Rule::button_part => {
            let url = cx.need(strings.get(1).cloned(), span, "button url")?;
            MessagePart::Button {
                label: cx.template(&first),
                url: cx.template(&url),
                span,
            }
        }
        Rule::item_part => {
            let url = cx.need(strings.get(1).cloned(), span, "item url")?;
            MessagePart::Item {
                text: cx.template(&first),
                url: cx.template(&url),
                span,
            }
        }
        _ => return Err(cx.internal(span, "message part")),
    })
}

/// `list NAME = LIST`
fn list_part(cx: &mut Ctx, p: &P) -> Build<ListDecl> {
    let span = cx.span(p);
    let name = child(p, Rule::ident).map(|n| cx.ident(&n));
    let name = cx.need(name, span, "list name")?;
    let e = cx.need(child(p, Rule::list_expr), span, "list")?;
    Ok(ListDecl {
        name,
        list: list_expr(cx, &e)?,
        span,
    })
}

fn list_expr(cx: &mut Ctx, p: &P) -> Build<ListExpr> {
    let span = cx.span(p);
    let mut source = None;
    let mut exclude = Vec::new();
    for k in kids(p) {
        match k.as_rule() {
            Rule::recent_list | Rule::also_bought_list | Rule::popular_list => source = Some(list_source(cx, &k)?),
            Rule::list_exclude => {
                for x in kids(&k).filter(|x| x.as_rule() == Rule::exclusion) {
                    let xspan = cx.span(&x);
                    let first = cx.need(kids(&x).next(), xspan, "exclusion")?;
                    exclude.push(match first.as_rule() {
                        Rule::kw_purchased => Exclusion::Purchased(xspan),
                        Rule::kw_trigger => Exclusion::Trigger(xspan),
                        _ => {
                            let e = cx.need(child(&x, Rule::expr), xspan, "condition")?;
                            Exclusion::Where(expr::expr(cx, &e)?)
                        }
                    });
                }
            }
            _ => {}
        }
    }
    Ok(ListExpr {
        source: cx.need(source, span, "list")?,
        exclude,
        span,
    })
}

fn list_source(cx: &mut Ctx, p: &P) -> Build<ListSource> {
    let span = cx.span(p);
    let n = cx.need(child(p, Rule::int), span, "length")?;
    let n = cx.int(&n)?;
    let within = match child(p, Rule::list_within).and_then(|w| child(&w, Rule::duration)) {
        Some(d) => Some(cx.duration(&d)?),
        None => None,
    };
    Ok(match p.as_rule() {
        Rule::recent_list => {
            let target = cx.need(child(p, Rule::event_prop), span, "event property")?;
            let mut names = kids(&target).filter(|k| k.as_rule() == Rule::ident).map(|k| cx.ident(&k));
            let event = names.next();
            let prop = names.next();
            ListSource::Recent {
                event: cx.need(event, span, "event name")?,
                prop: cx.need(prop, span, "property")?,
                n,
            }
        }
        Rule::also_bought_list => {
            let path = cx.need(child(p, Rule::path), span, "item")?;
            ListSource::AlsoBought {
                anchor: crate::ast::Path {
                    segments: kids(&path).map(|k| cx.ident(&k)).collect(),
                    span: cx.span(&path),
                },
                n,
                within,
            }
        }
        _ => {
            let table = child(p, Rule::ident).map(|t| cx.ident(&t));
            let filter = match child(p, Rule::list_where).and_then(|w| child(&w, Rule::expr)) {
                Some(e) => Some(Box::new(expr::expr(cx, &e)?)),
                None => None,
            };
            ListSource::Popular {
                table: cx.need(table, span, "table name")?,
                filter,
                within,
                n,
            }
        }
    })
}
