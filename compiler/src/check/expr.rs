//! Types and names in conditions and values.

use super::Env;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::diagnostic::Sink;
use crate::schema::{EventModel, FieldModel};
use crate::source::FileId;
use crate::suggest::{did_you_mean, help_for};
use crate::types::{FieldType, Ty};
use camp_grammar::ast::{self, AggFunc, ArithOp, CmpOp, Expr, ExprKind, Ident, Path, Span, WindowKind};

/// Where an expression stands: which file, whether `trigger` means
/// something, and which event's properties bare names refer to.
#[derive(Clone, Copy)]
pub struct Scope<'s> {
    pub file: FileId,
    pub trigger: Trigger<'s>,
    /// Inside `did E where ..`: E's properties are in scope.
    pub event: Option<&'s EventModel>,
}

/// What `trigger` refers to.
#[derive(Clone, Copy)]
pub enum Trigger<'s> {
    /// In an event-triggered campaign; `None` if the event is unknown
    /// (already reported).
    Event {
        event: Option<&'s EventModel>,
        file: FileId,
        span: Span,
    },
    /// A scheduled campaign, pointing at its trigger (or its name).
    Scheduled { file: FileId, span: Span },
    /// A segment, by its name: no trigger at all.
    Segment { defining: &'s str },
    /// A policy rule.
    Policy,
}

impl<'s> Scope<'s> {
    pub fn new(file: FileId, trigger: Trigger<'s>) -> Self {
        Scope {
            file,
            trigger,
            event: None,
        }
    }
    fn with_event(self, event: Option<&'s EventModel>) -> Self {
        Scope { event, ..self }
    }
}

/// The outcome of resolving a path to a stored value.
#[derive(Debug, Clone)]
pub struct Resolved<'m> {
    pub field: Option<&'m FieldModel>,
    pub ty: Ty,
    pub nullable: bool,
}

impl Resolved<'_> {
    fn unknown() -> Self {
        Resolved {
            field: None,
            ty: Ty::Unknown,
            nullable: false,
        }
    }
}

/// Reports `trigger` used where there is none (E0306).
pub fn no_trigger(sink: &mut Sink, scope: &Scope, span: Span) {
    let mut d = Diagnostic::new(
        codes::TRIGGER_OUTSIDE_EVENT,
        scope.file,
        span,
        "`trigger` has no meaning here",
        "no triggering event",
    );
    d = match scope.trigger {
        Trigger::Scheduled { file, span } => d
            .with_label(file, span, "this campaign runs on a schedule, not on an event")
            .with_help("use `trigger on EVENT` to react to an event, or read the value from `customer`"),
        Trigger::Segment { .. } => d.with_help("segments have no trigger: move this condition into the campaign's `audience`"),
        _ => d.with_help("use `customer.FIELD` instead"),
    };
    sink.push(d);
}

/// Resolves `customer.f.g`, `trigger.p.g`, or (with an event in scope) `p.g`.
/// Returns `None` when the path names no stored value (the caller decides
/// what a bare name means); reports unknown fields itself.
pub fn resolve_stored<'m>(env: &'m Env, sink: &mut Sink, scope: &Scope<'m>, path: &Path) -> Option<Resolved<'m>> {
    let (first, rest) = path.segments.split_first()?;
    match first.name.as_str() {
        "customer" => {
            let Some(customer) = env.schema.customer.as_ref() else {
                return Some(Resolved::unknown());
            };
            let Some((name, rest)) = rest.split_first() else {
                sink.push(
                    Diagnostic::new(
                        codes::UNKNOWN_FIELD,
                        scope.file,
                        first.span,
                        "`customer` needs a field",
                        "which field?",
                    )
                    .with_help(format!("write `customer.FIELD`, e.g. `customer.{}`", customer.key)),
                );
                return Some(Resolved::unknown());
            };
            let Some(field) = customer.field(&name.name) else {
                sink.push(unknown_field(scope.file, name, "customer", customer.names()));
                return Some(Resolved::unknown());
            };
            Some(follow(env, sink, scope.file, field, rest))
        }
        "trigger" => match scope.trigger {
            Trigger::Event {
                event,
                file: trigger_file,
                span: trigger_span,
            } => {
                let Some(event) = event else {
                    return Some(Resolved::unknown());
                };
                let Some((name, rest)) = rest.split_first() else {
                    sink.push(
                        Diagnostic::new(
                            codes::UNKNOWN_PROPERTY,
                            scope.file,
                            first.span,
                            "`trigger` needs a property",
                            "which property?",
                        )
                        .with_help(help_for("", event.names(), "property")),
                    );
                    return Some(Resolved::unknown());
                };
                let Some(prop) = event.prop(&name.name) else {
                    sink.push(unknown_property(scope.file, name, event).with_label(
                        trigger_file,
                        trigger_span,
                        format!("`trigger` is this `{}` event", event.name),
                    ));
                    return Some(Resolved::unknown());
                };
                Some(follow(env, sink, scope.file, prop, rest))
            }
            _ => {
                no_trigger(sink, scope, path.span);
                Some(Resolved::unknown())
            }
        },
        name => {
            let event = scope.event?;
            let prop = event.prop(name)?;
            Some(follow(env, sink, scope.file, prop, rest))
        }
    }
}

/// Follows `ref` fields through lookup tables: `product.상품명`.
fn follow<'m>(env: &'m Env, sink: &mut Sink, file: FileId, mut field: &'m FieldModel, rest: &[Ident]) -> Resolved<'m> {
    let mut nullable = field.nullable;
    for name in rest {
        let FieldType::Ref(table_name) = &field.ty else {
            sink.push(
                Diagnostic::new(
                    codes::UNKNOWN_FIELD,
                    file,
                    name.span,
                    format!("`{}` is {:#} value and has no fields", field.name, field.ty),
                    "no fields here",
                )
                .with_help(format!("stop at `{}`", field.name)),
            );
            return Resolved::unknown();
        };
        let Some(table) = env.schema.table(table_name) else {
            return Resolved::unknown();
        };
        let Some(next) = table.field(&name.name) else {
            sink.push(unknown_field(file, name, table_name, table.names()));
            return Resolved::unknown();
        };
        field = next;
        nullable |= field.nullable;
    }
    Resolved {
        field: Some(field),
        ty: field.ty.ty(),
        nullable,
    }
}

pub fn unknown_field<'n>(file: FileId, name: &Ident, table: &str, names: impl Iterator<Item = &'n str> + Clone) -> Diagnostic {
    Diagnostic::new(
        codes::UNKNOWN_FIELD,
        file,
        name.span,
        format!("`{table}` has no field `{}`", name.name),
        "unknown field",
    )
    .suggest(&name.name, name.span, names, "field")
}

pub fn unknown_property(file: FileId, name: &Ident, event: &EventModel) -> Diagnostic {
    Diagnostic::new(
        codes::UNKNOWN_PROPERTY,
        file,
        name.span,
        format!("event `{}` has no property `{}`", event.name, name.name),
        "unknown property",
    )
    .suggest(&name.name, name.span, event.names(), "property")
}

/// Looks an event up, reporting E0102 with a suggestion when unknown.
pub fn event<'m>(env: &'m Env, sink: &mut Sink, file: FileId, name: &Ident) -> Option<&'m EventModel> {
    let found = env.schema.event(&name.name);
    if found.is_none() && env.schema.customer.is_some() {
        sink.push(
            Diagnostic::new(
                codes::UNKNOWN_EVENT,
                file,
                name.span,
                format!("unknown event `{}`", name.name),
                "not declared in the schema",
            )
            .suggest(&name.name, name.span, env.schema.event_names(), "event"),
        );
    }
    found
}

/// Checks that `e` is a yes/no condition.
pub fn condition<'m>(env: &'m Env, sink: &mut Sink, scope: &Scope<'m>, e: &Expr) {
    let ty = type_of(env, sink, scope, e, None);
    if !matches!(ty, Ty::Bool | Ty::Unknown) {
        sink.push(
            Diagnostic::new(
                codes::NOT_A_CONDITION,
                scope.file,
                e.span,
                format!("expected a condition, found {ty:#} value"),
                format!("this is {ty:#}"),
            )
            .with_help("compare it with something, e.g. `>= 3` or `== gold`"),
        );
    }
}

fn cond_in<'m>(env: &'m Env, sink: &mut Sink, scope: &Scope<'m>, e: &Expr) {
    let ty = type_of(env, sink, scope, e, None);
    if !matches!(ty, Ty::Bool | Ty::Unknown) {
        sink.push(
            Diagnostic::new(
                codes::NOT_A_CONDITION,
                scope.file,
                e.span,
                format!("expected a condition, found {ty:#} value"),
                format!("this is {ty:#}"),
            )
            .with_help("compare it with something, e.g. `>= 3` or `== gold`"),
        );
    }
}

const LIFECYCLE_STAGES: [&str; 5] = ["new", "active", "at_risk", "churned", "never"];

/// The type of a value; `hint` is the type of the other side of a
/// comparison, which lets a bare name be an enum value.
pub fn type_of<'m>(env: &'m Env, sink: &mut Sink, scope: &Scope<'m>, e: &Expr, hint: Option<&Ty>) -> Ty {
    match &e.kind {
        ExprKind::Or(items) | ExprKind::And(items) => {
            for item in items {
                cond_in(env, sink, scope, item);
            }
            Ty::Bool
        }
        ExprKind::Not(inner) => {
            cond_in(env, sink, scope, inner);
            Ty::Bool
        }
        ExprKind::Compare { op, lhs, rhs } => {
            let (lt, rt) = if is_bare_name(lhs) && !is_bare_name(rhs) {
                let rt = type_of(env, sink, scope, rhs, None);
                (type_of(env, sink, scope, lhs, Some(&rt)), rt)
            } else {
                let lt = type_of(env, sink, scope, lhs, None);
                (lt.clone(), type_of(env, sink, scope, rhs, Some(&lt)))
            };
            let ordering = !matches!(op, CmpOp::Eq | CmpOp::Ne);
            enum_literal(sink, scope.file, &lt, rhs);
            enum_literal(sink, scope.file, &rt, lhs);
            if !lt.comparable_with(&rt) {
                sink.push(mismatch(scope.file, lhs.span, &lt, rhs.span, &rt).with_help(write_instead(&lt, Some(*op), rhs)));
            } else if ordering && (matches!(lt, Ty::Enum(_) | Ty::Bool) || matches!(rt, Ty::Enum(_) | Ty::Bool)) {
                sink.push(
                    Diagnostic::new(
                        codes::TYPE_MISMATCH,
                        scope.file,
                        e.span,
                        format!("`{lt}` values have no order"),
                        "ordering comparison",
                    )
                    .with_help("compare with `==`, `!=` or `in (..)`"),
                );
            }
            Ty::Bool
        }
        ExprKind::In { value, list, .. } => {
            let vt = type_of(env, sink, scope, value, None);
            for item in list {
                enum_literal(sink, scope.file, &vt, item);
                let it = type_of(env, sink, scope, item, Some(&vt));
                if !vt.comparable_with(&it) {
                    sink.push(mismatch(scope.file, value.span, &vt, item.span, &it).with_help(write_instead(&vt, None, item)));
                }
            }
            Ty::Bool
        }
        ExprKind::IsNull { value, .. } => {
            type_of(env, sink, scope, value, None);
            Ty::Bool
        }
        ExprKind::Contains { value, needle } => {
            for side in [value, needle] {
                let t = type_of(env, sink, scope, side, None);
                if !t.is_textual() {
                    sink.push(
                        Diagnostic::new(
                            codes::BAD_CONTAINS,
                            scope.file,
                            side.span,
                            format!("`contains` works on text, not {t}"),
                            format!("this is {t:#}"),
                        )
                        .with_help("use `==` or `in (..)` for other types"),
                    );
                }
            }
            Ty::Bool
        }
        ExprKind::Arith { first, rest } => {
            let mut acc = type_of(env, sink, scope, first, None);
            for (op, operand) in rest {
                let t = type_of(env, sink, scope, operand, None);
                acc = match arith(&acc, *op, &t) {
                    Some(r) => r,
                    None => {
                        sink.push(
                            Diagnostic::new(
                                codes::BAD_ARITHMETIC,
                                scope.file,
                                operand.span,
                                format!("cannot {} {acc} and {t}", op_word(*op)),
                                format!("this is {t:#}"),
                            )
                            .with_label(scope.file, first.span, format!("this is {acc:#}"))
                            .with_help("arithmetic works on numbers, money, and a timestamp plus or minus a duration"),
                        );
                        Ty::Unknown
                    }
                };
            }
            acc
        }
        ExprKind::Neg(inner) => {
            let t = type_of(env, sink, scope, inner, None);
            if !(t.is_numeric() || t == Ty::Duration) {
                sink.push(
                    Diagnostic::new(
                        codes::BAD_ARITHMETIC,
                        scope.file,
                        e.span,
                        format!("cannot negate {t:#}"),
                        format!("this is {t:#}"),
                    )
                    .with_help("only numbers can be negative"),
                );
                return Ty::Unknown;
            }
            t
        }
        ExprKind::Did(did) => {
            let ev = event(env, sink, scope.file, &did.event);
            if let Some(filter) = &did.filter {
                cond_in(env, sink, &scope.with_event(ev), filter);
            }
            if let Some(w) = &did.window {
                window(env, sink, scope, w);
            }
            Ty::Bool
        }
        ExprKind::Aggregate(agg) => aggregate(env, sink, scope, agg),
        ExprKind::EventTime { event: name, .. } => {
            event(env, sink, scope.file, name);
            Ty::Timestamp
        }
        ExprKind::DaysSince(inner) => {
            let t = type_of(env, sink, scope, inner, None);
            if !t.is_time() {
                sink.push(
                    Diagnostic::new(
                        codes::BAD_ARITHMETIC,
                        scope.file,
                        inner.span,
                        format!("`days since` needs a timestamp or a date, found {t}"),
                        format!("this is {t:#}"),
                    )
                    .with_help("write `days since last EVENT` or `days since customer.TIMESTAMP_FIELD`"),
                );
            }
            Ty::Int
        }
        ExprKind::Rfm {
            event: name,
            prop,
            window: w,
            score,
        } => {
            if let Some(ev) = event(env, sink, scope.file, name) {
                numeric_prop(sink, scope.file, ev, prop, "rfm");
            }
            if let Some(w) = w {
                window(env, sink, scope, w);
                // rfm scores rank the whole base at once: one window for all.
                if matches!(w.kind, WindowKind::SinceLast(_) | WindowKind::SinceTrigger) {
                    sink.push(
                        Diagnostic::new(
                            codes::BAD_RFM_WINDOW,
                            scope.file,
                            w.span,
                            "rfm scores need one window for every customer",
                            "differs per customer",
                        )
                        .with_help("use `within D` or `before D`, e.g. `rfm(purchase.amount within 365d)`"),
                    );
                }
            }
            if !matches!(score.name.as_str(), "r" | "f" | "m") {
                sink.push(
                    Diagnostic::new(
                        codes::BAD_RFM_SCORE,
                        scope.file,
                        score.span,
                        format!("`{}` is not an rfm score", score.name),
                        "expected `r`, `f` or `m`",
                    )
                    .with_help("use `.r` (recency), `.f` (frequency) or `.m` (monetary)"),
                );
            }
            Ty::Int
        }
        ExprKind::Lifecycle(name) => {
            event(env, sink, scope.file, name);
            Ty::Enum(LIFECYCLE_STAGES.iter().map(|s| s.to_string()).collect())
        }
        ExprKind::Interval(name) => {
            event(env, sink, scope.file, name);
            Ty::Decimal
        }
        ExprKind::Int(_) => Ty::Int,
        ExprKind::Decimal(_) => Ty::Decimal,
        ExprKind::String(_) => Ty::Text,
        ExprKind::Bool(_) => Ty::Bool,
        ExprKind::Duration(_) => Ty::Duration,
        ExprKind::Now => Ty::Timestamp,
        ExprKind::Path(path) => path_type(env, sink, scope, path, hint),
    }
}

/// `customer.tier == "platnum"`: a quoted enum value must still be one.
fn enum_literal(sink: &mut Sink, file: FileId, ty: &Ty, other: &Expr) {
    if let (Ty::Enum(values), ExprKind::String(v)) = (ty, &other.kind) {
        if !values.contains(v) {
            sink.push(
                Diagnostic::new(
                    codes::UNKNOWN_ENUM_VALUE,
                    file,
                    other.span,
                    format!("`{v}` is not one of {}", values.join(", ")),
                    "unknown value",
                )
                .with_help(help_for(v, values.iter().map(String::as_str), "value")),
            );
        }
    }
}

fn is_bare_name(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Path(p) if p.segments.len() == 1)
}

fn op_word(op: ArithOp) -> &'static str {
    match op {
        ArithOp::Add => "add",
        ArithOp::Sub => "subtract",
        ArithOp::Mul => "multiply",
        ArithOp::Div => "divide",
    }
}

/// The result type of `a op b`, if the operation means something.
fn arith(a: &Ty, op: ArithOp, b: &Ty) -> Option<Ty> {
    use ArithOp::*;
    use Ty::*;
    Some(match (a, op, b) {
        (Unknown, _, _) | (_, _, Unknown) => Unknown,
        (Int, _, Int) => Int,
        (Money, Add | Sub, Money | Int) | (Int, Add | Sub, Money) => Money,
        (Money, Mul | Div, Int | Decimal) | (Int | Decimal, Mul, Money) => Money,
        (Money, Div, Money) => Decimal,
        (Int | Decimal, _, Int | Decimal) => Decimal,
        (Money, Add | Sub, Decimal) | (Decimal, Add | Sub, Money) => Money,
        (Timestamp | Date, Add | Sub, Duration) => Timestamp,
        (Duration, Add, Timestamp | Date) => Timestamp,
        (Timestamp | Date, Sub, Timestamp | Date) => Duration,
        (Duration, Add | Sub, Duration) => Duration,
        (Duration, Mul | Div, Int | Decimal) | (Int | Decimal, Mul, Duration) => Duration,
        _ => return None,
    })
}

fn mismatch(file: FileId, lspan: Span, lt: &Ty, rspan: Span, rt: &Ty) -> Diagnostic {
    Diagnostic::new(
        codes::TYPE_MISMATCH,
        file,
        rspan,
        format!("cannot compare {lt} with {rt}"),
        format!("this is {rt:#}"),
    )
    .with_label(file, lspan, format!("this is {lt:#}"))
}

/// The help of a mismatch: what to write on the right-hand side, with the
/// values of an enum and the number a duration meant.
fn write_instead(want: &Ty, op: Option<CmpOp>, written: &Expr) -> String {
    let op = op.map(|op| match op {
        CmpOp::Eq => "== ",
        CmpOp::Ne => "!= ",
        CmpOp::Lt => "< ",
        CmpOp::Le => "<= ",
        CmpOp::Gt => "> ",
        CmpOp::Ge => ">= ",
    });
    let with_op = |v: &str| format!("write `{}{v}`", op.unwrap_or(""));
    match (want, &written.kind) {
        (Ty::Int | Ty::Decimal, ExprKind::Duration(d)) => {
            let days = d.seconds() / 86_400;
            if d.seconds() % 86_400 == 0 {
                format!("{}: `days since ..` counts whole days, without a unit", with_op(&days.to_string()))
            } else {
                format!("compare with a number of days, e.g. {}", with_op(&days.max(1).to_string()))
            }
        }
        (Ty::Enum(values), _) => {
            let list: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
            format!("write one of {}", list.join(", "))
        }
        (Ty::Bool, _) => "write `true` or `false`, or use the condition itself".to_string(),
        (Ty::Int | Ty::Money, _) => "write a whole number like `3` or `10_000`".to_string(),
        (Ty::Decimal, _) => "write a number like `1.5`".to_string(),
        (Ty::Text | Ty::Tz, _) => "write a text in double quotes, like `\"서울\"`".to_string(),
        (Ty::Timestamp | Ty::Date, _) => "write a time like `now - 7d` or `last purchase`".to_string(),
        (Ty::Duration, ExprKind::Int(n)) => format!("write a duration like `{n}d` or `{n}h`"),
        (Ty::Duration, _) => "write a duration like `7d` or `24h`".to_string(),
        (lt, _) => format!("compare the {lt} with {lt:#} value"),
    }
}

fn window<'m>(env: &'m Env, sink: &mut Sink, scope: &Scope<'m>, w: &ast::Window) {
    match &w.kind {
        WindowKind::Within(_) | WindowKind::Before(_) => {}
        WindowKind::SinceTrigger => {
            if !matches!(scope.trigger, Trigger::Event { .. }) {
                let mut d = Diagnostic::new(
                    codes::SINCE_TRIGGER_OUTSIDE_EVENT,
                    scope.file,
                    w.span,
                    "`since trigger` has no triggering event here",
                    "no trigger time",
                );
                d = match scope.trigger {
                    Trigger::Scheduled { file, span } => d
                        .with_label(file, span, "this campaign runs on a schedule")
                        .with_help("use a window like `within 7d`, or trigger the campaign `on` an event"),
                    _ => d.with_help("use a window like `within 7d`; `since trigger` works only in `trigger on EVENT` campaigns"),
                };
                sink.push(d);
            }
        }
        WindowKind::SinceLast(name) => {
            event(env, sink, scope.file, name);
        }
    }
}

fn aggregate<'m>(env: &'m Env, sink: &mut Sink, scope: &Scope<'m>, agg: &ast::Aggregate) -> Ty {
    let ev = event(env, sink, scope.file, &agg.event);
    if let Some(filter) = &agg.filter {
        cond_in(env, sink, &scope.with_event(ev), filter);
    }
    if let Some(w) = &agg.window {
        window(env, sink, scope, w);
    }
    let func = match agg.func {
        AggFunc::Count => return Ty::Int,
        AggFunc::Sum => "sum",
        AggFunc::Avg => "avg",
        AggFunc::Min => "min",
        AggFunc::Max => "max",
    };
    let Some(ev) = ev else { return Ty::Unknown };
    let Some(prop) = &agg.prop else {
        sink.push(
            Diagnostic::new(
                codes::BAD_AGGREGATE,
                scope.file,
                agg.event.span,
                format!("`{func}` needs a property of `{}`", ev.name),
                "which property?",
            )
            .with_help(format!(
                "write `{func}({}.PROPERTY ..)`{}",
                ev.name,
                first_numeric(ev)
                    .map(|p| format!(", e.g. `{func}({}.{p})`", ev.name))
                    .unwrap_or_default()
            )),
        );
        return Ty::Unknown;
    };
    let Some(p) = ev.prop(&prop.name) else {
        sink.push(unknown_property(scope.file, prop, ev));
        return Ty::Unknown;
    };
    let t = p.ty.ty();
    let ok = match agg.func {
        AggFunc::Min | AggFunc::Max => t.is_numeric() || t.is_time(),
        _ => t.is_numeric(),
    };
    if !ok {
        sink.push(
            Diagnostic::new(
                codes::BAD_AGGREGATE,
                scope.file,
                prop.span,
                format!("`{func}` over `{}`, which is {}", prop.name, p.ty),
                "not a number",
            )
            .with_help(
                first_numeric(ev)
                    .map(|n| format!("aggregate a numeric property such as `{}.{n}`, or use `count(..)`", ev.name))
                    .unwrap_or_else(|| "use `count(..)` to count events".into()),
            ),
        );
        return Ty::Unknown;
    }
    match (agg.func, t) {
        (AggFunc::Avg, Ty::Money) => Ty::Money,
        (AggFunc::Avg, _) => Ty::Decimal,
        (_, t) => t,
    }
}

fn first_numeric(ev: &EventModel) -> Option<&str> {
    ev.props.iter().find(|p| p.ty.ty().is_numeric()).map(|p| p.name.as_str())
}

/// Reports a non-numeric property where a number is needed.
pub fn numeric_prop(sink: &mut Sink, file: FileId, ev: &EventModel, prop: &Ident, what: &str) {
    match ev.prop(&prop.name) {
        None => sink.push(unknown_property(file, prop, ev)),
        Some(p) if !p.ty.ty().is_numeric() => sink.push(
            Diagnostic::new(
                codes::BAD_AGGREGATE,
                file,
                prop.span,
                format!("`{what}` over `{}`, which is {}", prop.name, p.ty),
                "not a number",
            )
            .with_help(
                first_numeric(ev)
                    .map(|n| format!("use a numeric property such as `{}.{n}`", ev.name))
                    .unwrap_or_else(|| "use a numeric property".into()),
            ),
        ),
        Some(_) => {}
    }
}

fn path_type<'m>(env: &'m Env, sink: &mut Sink, scope: &Scope<'m>, path: &Path, hint: Option<&Ty>) -> Ty {
    if let Some(resolved) = resolve_stored(env, sink, scope, path) {
        return resolved.ty;
    }
    let Some(first) = path.segments.first() else {
        return Ty::Unknown;
    };
    if path.segments.len() == 1 {
        // The other side is already wrong; a bare name beside it is most
        // likely a value of the type that side should have had.
        if hint == Some(&Ty::Unknown) && !env.segments.contains_key(first.name.as_str()) {
            return Ty::Unknown;
        }
        if let Some(Ty::Enum(values)) = hint {
            if values.contains(&first.name) {
                return Ty::Enum(values.clone());
            }
        }
        if env.segments.contains_key(first.name.as_str()) {
            sink.segment_uses.push((first.name.clone(), first.span));
            return Ty::Bool;
        }
        if let Some(event) = scope.event {
            sink.push(unknown_property(scope.file, first, event));
            return Ty::Unknown;
        }
        if let Some(Ty::Enum(values)) = hint {
            sink.push(
                Diagnostic::new(
                    codes::UNKNOWN_ENUM_VALUE,
                    scope.file,
                    first.span,
                    format!("`{}` is not one of {}", first.name, values.join(", ")),
                    "unknown value",
                )
                .suggest(&first.name, first.span, values.iter().map(String::as_str), "value"),
            );
            return Ty::Unknown;
        }
    }
    sink.push(unknown_name(env, scope, first));
    Ty::Unknown
}

/// E0104 with the best hint: a segment, a property in scope, or a customer
/// field that needs its `customer.` prefix.
fn unknown_name(env: &Env, scope: &Scope, name: &Ident) -> Diagnostic {
    let mut d = Diagnostic::new(
        codes::UNKNOWN_NAME,
        scope.file,
        name.span,
        format!("unknown name `{}`", name.name),
        "not a segment, property or value",
    );
    let customer_field = env.schema.customer.as_ref().and_then(|c| c.field(&name.name));
    let help = if let Some(f) = customer_field {
        let fixed = format!("customer.{}", f.name);
        d.fix = Some(crate::diagnostic::Fix::new(format!("write `{fixed}`"), name.span, fixed));
        format!("customer fields need their prefix: write `customer.{}`", f.name)
    } else {
        let props: Vec<&str> = scope.event.map(|e| e.names().collect()).unwrap_or_default();
        // Never the segment being defined: that would be a cycle.
        let defining = match scope.trigger {
            Trigger::Segment { defining } => Some(defining),
            _ => None,
        };
        let candidates = env
            .segment_names()
            .filter(move |s| Some(*s) != defining)
            .chain(props.iter().copied());
        match did_you_mean(&name.name, candidates.clone()) {
            Some(s) => {
                d.fix = Some(crate::diagnostic::Fix::rename(name.span, &s));
                format!("did you mean `{s}`?")
            }
            None => {
                let what = if scope.event.is_some() { "segment or property" } else { "segment" };
                help_for(&name.name, candidates, what)
            }
        }
    };
    d.help = Some(help);
    d
}
