//! Conditions and values. The grammar reads `a or b and c` and
//! `a + b * c` as flat lists; precedence is applied here, without
//! recursion: `or` groups of `and` groups, sums of products. A group of one
//! is just its element, so parentheses and precedence add no depth.

use super::{kids, Build, Ctx, P};
use crate::ast::{AggFunc, Aggregate, ArithOp, CmpOp, CountClause, CountOp, Did, Expr, ExprKind, Ident, Path, Window, WindowKind};
use crate::grammar::Rule;
use crate::{Span, MAX_NESTING};

/// An `expr` pair: clauses joined by `and`/`or` (`and` binds tighter).
pub(crate) fn expr(cx: &mut Ctx, p: &P) -> Build<Expr> {
    let mut ors: Vec<Expr> = Vec::new();
    let mut ands: Vec<(Expr, Span)> = Vec::new();
    for k in kids(p) {
        match k.as_rule() {
            Rule::clause => {
                let outer = cx.span(&k);
                ands.push((clause(cx, &k)?, outer));
            }
            Rule::logic_op if k.as_str() == "or" => ors.push(and_group(cx, std::mem::take(&mut ands))?),
            _ => {}
        }
    }
    ors.push(and_group(cx, ands)?);
    if ors.len() == 1 {
        let span = cx.span(p);
        return cx.need(ors.pop(), span, "condition");
    }
    Ok(Expr {
        kind: ExprKind::Or(ors),
        span: cx.span(p),
    })
}

/// `a and b and c` (with the spans of the clauses as written).
fn and_group(cx: &mut Ctx, mut parts: Vec<(Expr, Span)>) -> Build<Expr> {
    match parts.len() {
        0 => Err(cx.internal(Span::default(), "condition")),
        1 => cx.need(parts.pop().map(|(e, _)| e), Span::default(), "condition"),
        _ => {
            let span = parts[0].1.to(parts[parts.len() - 1].1);
            Ok(Expr {
                kind: ExprKind::And(parts.into_iter().map(|(e, _)| e).collect()),
                span,
            })
        }
    }
}

/// `not not x == 1`: a comparison (or a bare value) under its `not`s.
pub(crate) fn clause(cx: &mut Ctx, p: &P) -> Build<Expr> {
    let whole = cx.span(p);
    let mut nots = Vec::new();
    let mut lhs: Option<(Expr, Span)> = None;
    let mut tail = None;
    for k in kids(p) {
        match k.as_rule() {
            Rule::kw_not => nots.push(cx.span(&k)),
            Rule::value => lhs = Some((value(cx, &k)?, cx.span(&k))),
            Rule::cmp_rhs | Rule::in_rhs | Rule::is_null_rhs | Rule::contains_rhs => tail = Some(k),
            _ => {}
        }
    }
    let (lhs, lhs_span) = cx.need(lhs, whole, "value")?;
    let operand = match tail {
        None => lhs,
        Some(t) => comparison(cx, lhs, &t, lhs_span.to(cx.span(&t)))?,
    };
    // Every `not` covers the rest of the clause, parentheses included.
    wrap(cx, nots, operand, whole.end, |e| ExprKind::Not(Box::new(e)))
}

/// Wraps `inner` once per prefix (innermost last), each node spanning from
/// its prefix to `end`. Runs longer than [`MAX_NESTING`] are refused
/// (nesting.rs refuses them first; this is the backstop).
fn wrap(cx: &mut Ctx, prefixes: Vec<Span>, inner: Expr, end: usize, make: fn(Expr) -> ExprKind) -> Build<Expr> {
    if let Some(at) = prefixes.get(MAX_NESTING) {
        cx.depth(MAX_NESTING + 1, *at)?;
    }
    let mut e = inner;
    for at in prefixes.into_iter().rev() {
        e = Expr {
            kind: make(e),
            span: Span::new(at.start, end),
        };
    }
    Ok(e)
}

fn comparison(cx: &mut Ctx, lhs: Expr, tail: &P, span: Span) -> Build<Expr> {
    let lhs = Box::new(lhs);
    let mut values = Vec::new();
    let (mut negated, mut op) = (false, None);
    for k in kids(tail) {
        match k.as_rule() {
            Rule::value => values.push(value(cx, &k)?),
            Rule::kw_not => negated = true,
            Rule::cmp_op => {
                op = Some(match k.as_str() {
                    "==" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    _ => CmpOp::Ge,
                })
            }
            _ => {}
        }
    }
    let kind = match tail.as_rule() {
        Rule::cmp_rhs => ExprKind::Compare {
            op: cx.need(op, span, "operator")?,
            lhs,
            rhs: Box::new(cx.need(values.pop(), span, "value")?),
        },
        Rule::in_rhs => ExprKind::In {
            value: lhs,
            list: values,
            negated,
        },
        Rule::is_null_rhs => ExprKind::IsNull { value: lhs, negated },
        _ => ExprKind::Contains {
            value: lhs,
            needle: Box::new(cx.need(values.pop(), span, "value")?),
        },
    };
    Ok(Expr { kind, span })
}

/// One operand of a `value`, with its span as written (parentheses and
/// `-` prefixes included).
struct Operand {
    expr: Expr,
    outer: Span,
}

/// A `value` pair: `-a + b * (c - d)`. Sums of products, each a flat
/// `Arith` node; a single operand stands alone.
fn value(cx: &mut Ctx, p: &P) -> Build<Expr> {
    let whole = cx.span(p);
    let mut operands: Vec<Operand> = Vec::new();
    let mut ops: Vec<ArithOp> = Vec::new();
    let mut negs: Vec<Span> = Vec::new();
    // `(` seen, then the expression inside, until the `)` completes it.
    let mut paren: Option<(usize, Option<Expr>)> = None;
    for k in kids(p) {
        let operand = match k.as_rule() {
            Rule::neg => {
                negs.push(cx.span(&k));
                continue;
            }
            Rule::arith_op => {
                ops.push(match k.as_str() {
                    "+" => ArithOp::Add,
                    "-" => ArithOp::Sub,
                    "*" => ArithOp::Mul,
                    _ => ArithOp::Div,
                });
                continue;
            }
            Rule::lparen => {
                paren = Some((cx.span(&k).start, None));
                continue;
            }
            Rule::expr => {
                let e = expr(cx, &k)?;
                if let Some((_, inner)) = paren.as_mut() {
                    *inner = Some(e);
                }
                continue;
            }
            Rule::rparen => {
                let (start, inner) = cx.need(paren.take(), whole, "parenthesis")?;
                Operand {
                    expr: cx.need(inner, whole, "condition")?,
                    outer: Span::new(start, cx.span(&k).end),
                }
            }
            _ => {
                let e = primary(cx, &k)?;
                let outer = e.span;
                Operand { expr: e, outer }
            }
        };
        let outer_end = operand.outer.end;
        let start = negs.first().map_or(operand.outer.start, |s| s.start);
        let expr = wrap(cx, std::mem::take(&mut negs), operand.expr, outer_end, |e| {
            ExprKind::Neg(Box::new(e))
        })?;
        operands.push(Operand {
            expr,
            outer: Span::new(start, outer_end),
        });
    }
    if operands.len() != ops.len() + 1 {
        return Err(cx.internal(whole, "operand"));
    }
    let mut operands = operands.into_iter();
    let first = cx.need(operands.next(), whole, "operand")?;
    if ops.is_empty() {
        return Ok(first.expr);
    }
    // Sums of products: `*` and `/` extend the current product.
    let mut sum: Vec<(ArithOp, Operand)> = Vec::new();
    let mut product = (first, Vec::new());
    let mut pending_add = None;
    for (op, operand) in ops.into_iter().zip(operands) {
        if matches!(op, ArithOp::Mul | ArithOp::Div) {
            product.1.push((op, operand));
            continue;
        }
        let done = finish_product(std::mem::replace(&mut product, (operand, Vec::new())));
        match pending_add.replace(op) {
            None => sum.push((ArithOp::Add, done)), // the first term; its op is unused
            Some(prev) => sum.push((prev, done)),
        }
    }
    let last = finish_product(product);
    let mut terms = sum.into_iter();
    let Some((_, first)) = terms.next() else {
        // No `+` or `-`: one product.
        return Ok(last.expr);
    };
    let mut rest: Vec<(ArithOp, Expr)> = terms.map(|(op, t)| (op, t.expr)).collect();
    rest.push((cx.need(pending_add, whole, "operator")?, last.expr));
    Ok(Expr {
        kind: ExprKind::Arith {
            first: Box::new(first.expr),
            rest,
        },
        span: whole,
    })
}

/// `a * b / c` as one `Arith` node (or the single operand).
fn finish_product((first, rest): (Operand, Vec<(ArithOp, Operand)>)) -> Operand {
    let Some(last) = rest.last() else {
        return first;
    };
    let outer = first.outer.to(last.1.outer);
    Operand {
        expr: Expr {
            kind: ExprKind::Arith {
                first: Box::new(first.expr),
                rest: rest.into_iter().map(|(op, o)| (op, o.expr)).collect(),
            },
            span: outer,
        },
        outer,
    }
}

fn primary(cx: &mut Ctx, p: &P) -> Build<Expr> {
    let span = cx.span(p);
    let kind = match p.as_rule() {
        Rule::did_expr => ExprKind::Did(did(cx, p)?),
        Rule::aggregate => ExprKind::Aggregate(aggregate(cx, p)?),
        Rule::rfm_expr => rfm(cx, p)?,
        Rule::lifecycle_expr => ExprKind::Lifecycle(event_name(cx, p)?),
        Rule::interval_expr => ExprKind::Interval(event_name(cx, p)?),
        Rule::event_time => ExprKind::EventTime {
            first: kids(p).any(|k| k.as_rule() == Rule::kw_first),
            event: event_name(cx, p)?,
        },
        Rule::days_since => ExprKind::DaysSince(Box::new(days_since_operand(cx, p)?)),
        Rule::kw_now => ExprKind::Now,
        Rule::kw_true => ExprKind::Bool(true),
        Rule::kw_false => ExprKind::Bool(false),
        Rule::duration => ExprKind::Duration(cx.duration(p)?),
        Rule::decimal => ExprKind::Decimal(cx.decimal(p)?),
        Rule::int => ExprKind::Int(cx.int(p)?.value),
        Rule::string => ExprKind::String(cx.string(p).value),
        Rule::path => ExprKind::Path(path(cx, p)),
        _ => return Err(cx.internal(span, "value")),
    };
    Ok(Expr { kind, span })
}

/// `days since -x`, `days since last E`, `days since (a)`: the operand.
fn days_since_operand(cx: &mut Ctx, p: &P) -> Build<Expr> {
    let span = cx.span(p);
    let mut negs = Vec::new();
    let mut inner = None;
    for k in kids(p) {
        match k.as_rule() {
            Rule::kw_days | Rule::kw_since | Rule::lparen | Rule::rparen => {}
            Rule::neg => negs.push(cx.span(&k)),
            Rule::expr => inner = Some(expr(cx, &k)?),
            _ => inner = Some(primary(cx, &k)?),
        }
    }
    let inner = cx.need(inner, span, "value")?;
    wrap(cx, negs, inner, span.end, |e| ExprKind::Neg(Box::new(e)))
}

/// `customer.tier`: a name, then plain identifiers.
fn path(cx: &mut Ctx, p: &P) -> Path {
    Path {
        segments: kids(p).map(|k| cx.ident(&k)).collect(),
        span: cx.span(p),
    }
}

/// The event named in `lifecycle(E)`, `last E`, ...: the first `name` child.
fn event_name(cx: &mut Ctx, p: &P) -> Build<Ident> {
    let span = cx.span(p);
    let n = kids(p).find(|k| k.as_rule() == Rule::ident).map(|n| cx.ident(&n));
    cx.need(n, span, "event name")
}

fn did(cx: &mut Ctx, p: &P) -> Build<Did> {
    let span = cx.span(p);
    let mut out = Did {
        event: Ident { name: String::new(), span },
        filter: None,
        count: None,
        window: None,
    };
    let mut event = None;
    for k in kids(p) {
        match k.as_rule() {
            Rule::ident => event = Some(cx.ident(&k)),
            // Clauses joined by `and`/`or`, read as an `expr` is.
            Rule::did_where => out.filter = Some(Box::new(expr(cx, &k)?)),
            Rule::count_clause => out.count = Some(count_clause(cx, &k)?),
            Rule::window => out.window = Some(window(cx, &k)?),
            _ => {}
        }
    }
    out.event = cx.need(event, span, "event name")?;
    Ok(out)
}

fn count_clause(cx: &mut Ctx, p: &P) -> Build<CountClause> {
    let span = cx.span(p);
    let (mut op, mut n) = (CountOp::AtLeast, None);
    for k in kids(p) {
        match k.as_rule() {
            Rule::kw_exactly => op = CountOp::Exactly,
            Rule::kw_most => op = CountOp::AtMost,
            Rule::int => n = Some(cx.int(&k)?),
            _ => {}
        }
    }
    Ok(CountClause {
        op,
        n: cx.need(n, span, "count")?,
        span,
    })
}

fn window(cx: &mut Ctx, p: &P) -> Build<Window> {
    let span = cx.span(p);
    let mut words = Vec::new();
    let (mut duration, mut event) = (None, None);
    for k in kids(p) {
        match k.as_rule() {
            Rule::duration => duration = Some(cx.duration(&k)?),
            Rule::ident => event = Some(cx.ident(&k)),
            rule => words.push(rule),
        }
    }
    let kind = match words.first() {
        Some(Rule::kw_within) => WindowKind::Within(cx.need(duration, span, "duration")?),
        Some(Rule::kw_before) => WindowKind::Before(cx.need(duration, span, "duration")?),
        _ if words.contains(&Rule::kw_trigger) => WindowKind::SinceTrigger,
        _ => WindowKind::SinceLast(cx.need(event, span, "event name")?),
    };
    Ok(Window { kind, span })
}

fn aggregate(cx: &mut Ctx, p: &P) -> Build<Aggregate> {
    let span = cx.span(p);
    let (mut func, mut target, mut filter, mut window_) = (None, None, None, None);
    for k in kids(p) {
        match k.as_rule() {
            Rule::agg_func => func = Some(k),
            Rule::agg_target => target = Some(k),
            Rule::agg_where => {
                let c = kids(&k).find(|c| c.as_rule() == Rule::expr);
                let c = cx.need(c, span, "condition")?;
                filter = Some(Box::new(expr(cx, &c)?));
            }
            Rule::window => window_ = Some(window(cx, &k)?),
            _ => {}
        }
    }
    let func = cx.need(func, span, "function")?;
    let word = func.as_str();
    let func = match word {
        "count" => AggFunc::Count,
        "sum" => AggFunc::Sum,
        "avg" => AggFunc::Avg,
        "min" => AggFunc::Min,
        _ => AggFunc::Max,
    };
    let target = cx.need(target, span, "event")?;
    let (event, prop) = event_prop(cx, &target)?;
    if func != AggFunc::Count && prop.is_none() {
        return Err(cx.fail(
            cx.span(&target),
            format!("`{word}` needs an event property, like `{word}(purchase.amount)`"),
            "which property?",
            Some("write the event, a dot and the property to aggregate"),
        ));
    }
    Ok(Aggregate {
        func,
        event,
        prop,
        filter,
        window: window_,
    })
}

/// `purchase.amount` (or `purchase` alone for `count`).
fn event_prop(cx: &mut Ctx, p: &P) -> Build<(Ident, Option<Ident>)> {
    let span = cx.span(p);
    let (mut event, mut prop) = (None, None);
    for k in kids(p) {
        match k.as_rule() {
            Rule::ident if event.is_none() => event = Some(cx.ident(&k)),
            Rule::ident => prop = Some(cx.ident(&k)),
            _ => {}
        }
    }
    Ok((cx.need(event, span, "event name")?, prop))
}

fn rfm(cx: &mut Ctx, p: &P) -> Build<ExprKind> {
    let span = cx.span(p);
    let (mut target, mut window_, mut score) = (None, None, None);
    for k in kids(p) {
        match k.as_rule() {
            Rule::event_prop => target = Some(event_prop(cx, &k)?),
            Rule::window => window_ = Some(window(cx, &k)?),
            Rule::ident => score = Some(cx.ident(&k)),
            _ => {}
        }
    }
    let (event, prop) = cx.need(target, span, "event property")?;
    Ok(ExprKind::Rfm {
        event,
        prop: cx.need(prop, span, "property")?,
        window: window_,
        score: cx.need(score, span, "score")?,
    })
}
