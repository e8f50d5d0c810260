//! Generated conditions: a typed tree that renders itself as `.camp` source
//! and that the evaluator in `world.rs` evaluates directly (never through
//! the parser or the SQL).

use super::world::{event_spec, EventSpec, Field, CATEGORIES, CUSTOMER, DURATIONS, EVENTS, PRODUCT, STAGES, TEXTS, TIERS};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::Rng;

/// Static types, as the checker and the lowering type values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ty {
    Int,
    Money,
    Dec,
    Text,
    Enum(&'static [&'static str]),
    Bool,
    Time,
    Date,
    Dur,
    /// A key of `product`.
    Ref,
}

impl Ty {
    fn numeric(self) -> bool {
        matches!(self, Ty::Int | Ty::Money | Ty::Dec)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
        }
    }
    fn precedence(self) -> u8 {
        match self {
            Op::Mul | Op::Div => 2,
            _ => 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Agg {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CountOp {
    AtLeast,
    AtMost,
    Exactly,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Score {
    R = 0,
    F = 1,
    M = 2,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Win {
    /// Seconds.
    Within(i64),
    Before(i64),
    SinceLast(&'static str),
    SinceTrigger,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Int(i64),
    Dec(f64),
    Bool(bool),
    Str(String),
    /// An enum value, written bare or quoted.
    EnumLit(&'static str, bool),
    /// Seconds, and how it is written.
    Dur(i64, &'static str),
    Now,
    Customer(&'static str),
    /// `customer.<ref field>.<product field>`
    CustomerRef(&'static str, &'static str),
    /// A property of the row a `where` is about, and its type.
    Prop(&'static str, Ty),
    PropRef(&'static str, &'static str),
    Trigger(&'static str, Ty),
    TriggerRef(&'static str, &'static str),
    Neg(Box<Val>),
    Bin(Box<Val>, Op, Box<Val>),
    Agg {
        func: Agg,
        event: &'static str,
        prop: Option<&'static str>,
        filter: Option<Box<Cond>>,
        window: Option<Win>,
    },
    EventTime {
        first: bool,
        event: &'static str,
    },
    DaysSince(Box<Val>),
    Interval(&'static str),
    Lifecycle(&'static str),
    Rfm {
        event: &'static str,
        prop: &'static str,
        window: Option<Win>,
        score: Score,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Truth(bool),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    /// A yes/no value.
    Flag(Val),
    Segment(String),
    Cmp(Val, Op, Val),
    In(Val, Vec<Val>, bool),
    IsNull(Val, bool),
    Contains(Val, Val),
    Did {
        event: &'static str,
        filter: Option<Box<Cond>>,
        count: Option<(CountOp, i64)>,
        window: Option<Win>,
    },
}

fn field(fields: &'static [Field], name: &str) -> Option<&'static Field> {
    fields.iter().find(|f| f.name == name)
}

impl Val {
    pub fn ty(&self) -> Ty {
        match self {
            Val::Int(_) => Ty::Int,
            Val::Dec(_) => Ty::Dec,
            Val::Bool(_) => Ty::Bool,
            Val::Str(_) => Ty::Text,
            Val::EnumLit(..) => Ty::Text,
            Val::Dur(..) => Ty::Dur,
            Val::Now => Ty::Time,
            Val::Customer(name) => field(CUSTOMER, name).map_or(Ty::Int, |f| f.ty),
            Val::CustomerRef(_, f) | Val::PropRef(_, f) | Val::TriggerRef(_, f) => field(PRODUCT, f).map_or(Ty::Int, |f| f.ty),
            Val::Prop(_, t) | Val::Trigger(_, t) => *t,
            Val::Neg(inner) => inner.ty(),
            Val::Bin(l, op, r) => arith_ty(l.ty(), *op, r.ty()),
            Val::Agg { func, event, prop, .. } => {
                let pt = prop.and_then(|p| field(event_spec(event).props, p)).map_or(Ty::Int, |f| f.ty);
                match func {
                    Agg::Count => Ty::Int,
                    Agg::Avg => Ty::Dec,
                    _ => pt,
                }
            }
            Val::EventTime { .. } => Ty::Time,
            Val::DaysSince(_) => Ty::Int,
            Val::Interval(_) => Ty::Dec,
            Val::Lifecycle(_) => Ty::Enum(STAGES),
            Val::Rfm { .. } => Ty::Int,
        }
    }
}

/// The result type of `a op b`, as the lowering types it.
fn arith_ty(a: Ty, op: Op, b: Ty) -> Ty {
    match (a, b) {
        (Ty::Int, Ty::Int) => Ty::Int,
        (Ty::Time | Ty::Date, Ty::Dur) | (Ty::Dur, Ty::Time | Ty::Date) => Ty::Time,
        (Ty::Time | Ty::Date, Ty::Time | Ty::Date) => Ty::Dur,
        (Ty::Dur, _) | (_, Ty::Dur) => Ty::Dur,
        (Ty::Money, _) | (_, Ty::Money) if op != Op::Mul || !(a == Ty::Dec || b == Ty::Dec) => Ty::Money,
        _ => Ty::Dec,
    }
}

// ------------------------------------------------------------------ rendering

pub fn string_literal(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '#' => out.push_str("\\#"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn int_text(n: i64, grouped: bool) -> String {
    let digits = n.to_string();
    if !grouped || digits.len() <= 3 {
        return digits;
    }
    let head = digits.len() % 3;
    let mut parts = Vec::new();
    if head > 0 {
        parts.push(&digits[..head]);
    }
    let mut at = head;
    while at < digits.len() {
        parts.push(&digits[at..at + 3]);
        at += 3;
    }
    parts.join("_")
}

fn win_text(w: &Win) -> String {
    match w {
        Win::Within(s) => format!("within {}", dur_text(*s)),
        Win::Before(s) => format!("before {}", dur_text(*s)),
        Win::SinceLast(e) => format!("since last {e}"),
        Win::SinceTrigger => "since trigger".into(),
    }
}

fn dur_text(secs: i64) -> &'static str {
    DURATIONS.iter().find(|(s, _)| *s == secs).map_or("1d", |(_, t)| t)
}

impl Val {
    pub fn render(&self) -> String {
        self.render_in(0, false)
    }

    /// `outer` is the precedence of the operator this is an operand of (0:
    /// none); `right` when it is the right operand.
    fn render_in(&self, outer: u8, right: bool) -> String {
        match self {
            Val::Int(n) => int_text(*n, *n % 7 == 0),
            Val::Dec(x) => format!("{x:?}"),
            Val::Bool(b) => b.to_string(),
            Val::Str(s) => string_literal(s),
            Val::EnumLit(s, quoted) => {
                if *quoted {
                    string_literal(s)
                } else {
                    s.to_string()
                }
            }
            Val::Dur(_, text) => text.to_string(),
            Val::Now => "now".into(),
            Val::Customer(f) => format!("customer.{f}"),
            Val::CustomerRef(r, f) => format!("customer.{r}.{f}"),
            Val::Prop(p, _) => p.to_string(),
            Val::PropRef(p, f) => format!("{p}.{f}"),
            Val::Trigger(p, _) => format!("trigger.{p}"),
            Val::TriggerRef(p, f) => format!("trigger.{p}.{f}"),
            Val::Neg(inner) => format!("-{}", inner.primary()),
            Val::Bin(l, op, r) => {
                let p = op.precedence();
                let text = format!("{} {} {}", l.render_in(p, false), op.text(), r.render_in(p, true));
                if outer > p || (right && outer == p) {
                    format!("({text})")
                } else {
                    text
                }
            }
            Val::Agg {
                func,
                event,
                prop,
                filter,
                window,
            } => {
                let name = match func {
                    Agg::Count => "count",
                    Agg::Sum => "sum",
                    Agg::Avg => "avg",
                    Agg::Min => "min",
                    Agg::Max => "max",
                };
                let mut s = format!("{name}({event}");
                if let Some(p) = prop {
                    s.push('.');
                    s.push_str(p);
                }
                if let Some(f) = filter {
                    s.push_str(" where ");
                    s.push_str(&f.filter_text());
                }
                if let Some(w) = window {
                    s.push(' ');
                    s.push_str(&win_text(w));
                }
                s.push(')');
                s
            }
            Val::EventTime { first, event } => format!("{} {event}", if *first { "first" } else { "last" }),
            Val::DaysSince(inner) => format!("days since {}", inner.primary()),
            Val::Interval(e) => format!("interval({e})"),
            Val::Lifecycle(e) => format!("lifecycle({e})"),
            Val::Rfm {
                event,
                prop,
                window,
                score,
            } => {
                let w = window.as_ref().map(|w| format!(" {}", win_text(w))).unwrap_or_default();
                let s = match score {
                    Score::R => "r",
                    Score::F => "f",
                    Score::M => "m",
                };
                format!("rfm({event}.{prop}{w}).{s}")
            }
        }
    }

    /// As a `primary` of the grammar: arithmetic in brackets.
    fn primary(&self) -> String {
        match self {
            Val::Bin(..) | Val::Neg(_) => format!("({})", self.render()),
            _ => self.render(),
        }
    }
}

impl Cond {
    pub fn render(&self) -> String {
        match self {
            Cond::Truth(b) => b.to_string(),
            Cond::And(items) => items.iter().map(Cond::atom).collect::<Vec<_>>().join(" and "),
            Cond::Or(items) => items.iter().map(Cond::atom).collect::<Vec<_>>().join(" or "),
            Cond::Not(inner) => format!("not {}", inner.atom()),
            Cond::Flag(v) => v.render(),
            Cond::Segment(name) => name.clone(),
            Cond::Cmp(l, op, r) => format!("{} {} {}", l.render(), op.text(), r.render()),
            Cond::In(v, list, negated) => format!(
                "{} {}in ({})",
                v.render(),
                if *negated { "not " } else { "" },
                list.iter().map(Val::render).collect::<Vec<_>>().join(", ")
            ),
            Cond::IsNull(v, negated) => format!("{} is {}null", v.render(), if *negated { "not " } else { "" }),
            Cond::Contains(h, n) => format!("{} contains {}", h.render(), n.render()),
            Cond::Did {
                event,
                filter,
                count,
                window,
            } => {
                let mut s = format!("did {event}");
                if let Some(f) = filter {
                    s.push_str(" where ");
                    s.push_str(&f.filter_text());
                }
                if let Some((op, n)) = count {
                    let word = match op {
                        CountOp::AtLeast => "at least",
                        CountOp::AtMost => "at most",
                        CountOp::Exactly => "exactly",
                    };
                    s.push_str(&format!(" {word} {n} times"));
                }
                if let Some(w) = window {
                    s.push(' ');
                    s.push_str(&win_text(w));
                }
                s
            }
        }
    }

    /// As the filter of `did E where ..` or `count(E where ..)`: a `did`
    /// there would take the outer form's count and window as its own
    /// (`did a where did b within 7d` is `did a where (did b within 7d)`),
    /// so it goes in brackets, as `and`/`or` chains do.
    fn filter_text(&self) -> String {
        match self {
            Cond::Did { .. } | Cond::Not(_) => format!("({})", self.render()),
            _ => self.atom(),
        }
    }

    /// As one `clause`: `and`/`or` chains in brackets.
    fn atom(&self) -> String {
        match self {
            Cond::And(_) | Cond::Or(_) => format!("({})", self.render()),
            _ => self.render(),
        }
    }
}

// ------------------------------------------------------------------ generation

pub struct Gen<'a> {
    pub rng: &'a mut SmallRng,
    /// Base segments a condition may name.
    pub segments: Vec<String>,
    /// Whether `trigger.*` and `since trigger` may appear.
    pub trigger: bool,
    /// Set when one did.
    pub used_trigger: bool,
}

/// Where a value is generated: at the top, or inside `did E where` (the
/// row's properties are in scope).
#[derive(Clone, Copy)]
struct Scope {
    row: Option<&'static EventSpec>,
    depth: u32,
    /// Inside a `where` already: event forms there get no filter of their
    /// own, which bounds the nesting of correlated subqueries.
    nested: bool,
}

const MONEY: &[i64] = &[0, 100, 9_900, 10_000, 10_100, 30_000, 50_000, 100_000, 1_000_000];
const COUNTS: &[i64] = &[0, 1, 2, 3, 5];
const DAYS: &[i64] = &[0, 1, 2, 7, 21, 30, 60, 90, 150, 365];
const POINTS: &[i64] = &[0, 1, 999, 1_000, 1_001, 5_000, 12_345];
const DECIMALS: &[f64] = &[0.0, 0.5, 1.25, 1.5, 2.5, 3.75, 10.0];

impl Gen<'_> {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        *from.choose(self.rng).expect("not empty")
    }

    pub fn cond(&mut self, depth: u32) -> Cond {
        self.cond_in(Scope {
            row: None,
            depth,
            nested: false,
        })
    }

    fn cond_in(&mut self, s: Scope) -> Cond {
        if s.depth > 0 && self.chance(0.35) {
            let inner = Scope { depth: s.depth - 1, ..s };
            return match self.rng.gen_range(0..5) {
                0 | 1 => {
                    let n = self.rng.gen_range(2..4);
                    Cond::And((0..n).map(|_| self.cond_in(inner)).collect())
                }
                2 | 3 => {
                    let n = self.rng.gen_range(2..4);
                    Cond::Or((0..n).map(|_| self.cond_in(inner)).collect())
                }
                _ => Cond::Not(Box::new(self.cond_in(inner))),
            };
        }
        self.leaf(s)
    }

    fn leaf(&mut self, s: Scope) -> Cond {
        let inner = Scope {
            depth: s.depth.saturating_sub(1),
            ..s
        };
        // Inside `where`, mostly the row's own properties.
        if let Some(spec) = s.row {
            if self.chance(0.7) {
                return self.prop_cond(spec);
            }
        }
        match self.rng.gen_range(0..100) {
            0..=11 => self.numeric_cmp(inner),
            12..=19 => self.text_cond(s),
            20..=25 => self.enum_cond(s),
            26..=31 => self.null_test(inner),
            32..=35 => Cond::Flag(Val::Customer(self.pick(&["verified", "marketing_consent"]))),
            36..=43 => self.time_cmp(inner),
            44..=59 if s.row.is_none() || self.chance(0.2) => self.did(inner),
            60..=67 => self.aggregate_cmp(inner),
            68..=72 => {
                let event = self.pick(&["purchase", "purchase", "cart_add", "app_open"]);
                self.enum_test(Val::Lifecycle(event), STAGES)
            }
            73..=78 => self.rfm_cmp(),
            79..=83 => self.interval_cmp(inner),
            84..=88 => {
                let v = self.days_since(inner);
                let n = self.pick(DAYS);
                Cond::Cmp(v, self.cmp_op(), Val::Int(n))
            }
            89..=92 if !self.segments.is_empty() => Cond::Segment(self.segments.choose(self.rng).cloned().unwrap_or_default()),
            93..=95 => Cond::Truth(self.chance(0.5)),
            96..=97 if self.trigger => self.trigger_cond(),
            _ => self.numeric_cmp(inner),
        }
    }

    fn cmp_op(&mut self) -> Op {
        self.pick(&[Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge])
    }

    /// A condition on the properties of the row a `where` is about.
    pub fn prop_cond(&mut self, spec: &'static EventSpec) -> Cond {
        let p = *spec.props.choose(self.rng).expect("props");
        let v = Val::Prop(p.name, p.ty);
        if p.nullable && self.chance(0.2) {
            return Cond::IsNull(v, self.chance(0.5));
        }
        match p.ty {
            Ty::Money | Ty::Int | Ty::Dec => {
                let other = match self.rng.gen_range(0..6) {
                    0 => Val::Customer(self.pick(&["points", "balance"])),
                    1 if p.name != "product" => Val::Bin(
                        Box::new(Val::Customer("points")),
                        Op::Mul,
                        Box::new(Val::Int(self.pick(&[1, 2, 10]))),
                    ),
                    _ => self.literal_like(&v),
                };
                Cond::Cmp(v, self.cmp_op(), other)
            }
            Ty::Text => self.text_test(v),
            Ty::Enum(values) => self.enum_test(v, values),
            Ty::Bool => {
                if self.chance(0.7) {
                    Cond::Flag(v)
                } else {
                    Cond::Cmp(v, self.pick(&[Op::Eq, Op::Ne]), Val::Bool(self.chance(0.5)))
                }
            }
            Ty::Ref if self.trigger && self.chance(0.3) => {
                self.used_trigger = true;
                Cond::Cmp(v, self.pick(&[Op::Eq, Op::Ne]), Val::Trigger("product", Ty::Ref))
            }
            Ty::Ref => match self.rng.gen_range(0..4) {
                0 => self.enum_test(Val::PropRef(p.name, "category"), CATEGORIES),
                1 => Cond::Cmp(Val::PropRef(p.name, "price"), self.cmp_op(), Val::Int(self.pick(MONEY))),
                2 => self.text_test(Val::PropRef(p.name, "name")),
                _ => Cond::Cmp(v, self.pick(&[Op::Eq, Op::Ne]), Val::Int(self.pick(&[1, 3, 12, 99]))),
            },
            _ => Cond::Truth(true),
        }
    }

    /// A literal of the kind of values `v` takes.
    fn literal_like(&mut self, v: &Val) -> Val {
        let ty = v.ty();
        match v {
            Val::Agg { func: Agg::Count, .. } => Val::Int(self.pick(COUNTS)),
            Val::DaysSince(_) => Val::Int(self.pick(DAYS)),
            Val::Rfm { .. } => Val::Int(self.rng.gen_range(1..=5)),
            Val::Interval(_) => Val::Dec(self.pick(&[1.5, 2.0, 4.0, 10.0, 15.0, 20.5])),
            Val::Customer("points") | Val::Customer("stock") | Val::CustomerRef(_, "stock") => Val::Int(self.pick(POINTS)),
            Val::Prop("qty", _) => Val::Int(self.pick(COUNTS)),
            _ => match ty {
                Ty::Dec => {
                    if self.chance(0.5) {
                        Val::Dec(self.pick(DECIMALS))
                    } else {
                        Val::Int(self.pick(&[0, 1, 3]))
                    }
                }
                Ty::Money => Val::Int(self.pick(MONEY)),
                _ => Val::Int(self.pick(POINTS)),
            },
        }
    }

    /// A numeric value: a field, an aggregate, a derived metric, arithmetic.
    fn numeric(&mut self, s: Scope) -> Val {
        match self.rng.gen_range(0..14) {
            0 => Val::Customer("points"),
            1 => Val::Customer("balance"),
            2 => Val::Customer("score"),
            3 => Val::CustomerRef("favorite", self.pick(&["price", "stock"])),
            4..=6 => self.aggregate(s),
            7 => self.days_since(s),
            8 => Val::Interval(self.pick(&["purchase", "cart_add"])),
            9 => self.rfm(),
            10 if self.trigger => {
                self.used_trigger = true;
                let (name, ty) = self.pick(&[("price", Ty::Money), ("qty", Ty::Int)]);
                Val::Trigger(name, ty)
            }
            _ => {
                // Arithmetic: a value and a literal, or two values.
                let a = if s.depth > 0 {
                    self.numeric(Scope { depth: s.depth - 1, ..s })
                } else {
                    Val::Customer("points")
                };
                let op = self.pick(&[Op::Add, Op::Sub, Op::Mul, Op::Div]);
                let b = match self.rng.gen_range(0..4) {
                    0 => Val::Customer(self.pick(&["points", "balance"])),
                    1 => Val::Dec(self.pick(&[0.5, 1.5, 2.5])),
                    2 => Val::Int(0),
                    _ => Val::Int(self.pick(&[1, 2, 3, 7, 100])),
                };
                let (a, b) = if self.chance(0.2) { (b, a) } else { (a, b) };
                if self.chance(0.1) {
                    Val::Neg(Box::new(Val::Bin(Box::new(a), op, Box::new(b))))
                } else {
                    Val::Bin(Box::new(a), op, Box::new(b))
                }
            }
        }
    }

    fn numeric_cmp(&mut self, s: Scope) -> Cond {
        let a = self.numeric(s);
        let b = if self.chance(0.25) {
            self.numeric(Scope { depth: 0, ..s })
        } else if self.chance(0.1) {
            Val::Neg(Box::new(self.literal_like(&a)))
        } else {
            self.literal_like(&a)
        };
        if self.chance(0.15) {
            let list: Vec<Val> = (0..self.rng.gen_range(1..4)).map(|_| self.literal_like(&a)).collect();
            return Cond::In(a, list, self.chance(0.4));
        }
        Cond::Cmp(a, self.cmp_op(), b)
    }

    fn event(&mut self) -> &'static EventSpec {
        // Purchases (own table) and cart adds (JSON) most of all.
        match self.rng.gen_range(0..10) {
            0..=3 => event_spec("purchase"),
            4..=6 => event_spec("cart_add"),
            _ => EVENTS.choose(self.rng).expect("events"),
        }
    }

    fn window(&mut self) -> Option<Win> {
        match self.rng.gen_range(0..10) {
            0..=2 => None,
            3..=5 => Some(Win::Within(self.pick(DURATIONS).0)),
            6 | 7 => Some(Win::Before(self.pick(DURATIONS).0)),
            8 if self.trigger => {
                self.used_trigger = true;
                Some(Win::SinceTrigger)
            }
            _ => Some(Win::SinceLast(self.event().name)),
        }
    }

    fn filter(&mut self, spec: &'static EventSpec, s: Scope) -> Option<Box<Cond>> {
        if s.nested || !self.chance(0.35) {
            return None;
        }
        let scope = Scope {
            row: Some(spec),
            depth: s.depth.min(1),
            nested: true,
        };
        Some(Box::new(self.cond_in(scope)))
    }

    fn did(&mut self, s: Scope) -> Cond {
        let spec = self.event();
        let filter = self.filter(spec, s);
        let count = if self.chance(0.3) {
            let op = self.pick(&[CountOp::AtLeast, CountOp::AtMost, CountOp::Exactly]);
            Some((op, self.rng.gen_range(0..4)))
        } else {
            None
        };
        Cond::Did {
            event: spec.name,
            filter,
            count,
            window: self.window(),
        }
    }

    fn numeric_prop(&mut self, spec: &'static EventSpec) -> Option<&'static Field> {
        let props: Vec<&'static Field> = spec.props.iter().filter(|p| p.ty.numeric()).collect();
        props.choose(self.rng).copied()
    }

    fn aggregate(&mut self, s: Scope) -> Val {
        let spec = self.event();
        let prop = self.numeric_prop(spec);
        let func = match prop {
            Some(_) => self.pick(&[Agg::Count, Agg::Sum, Agg::Sum, Agg::Avg, Agg::Min, Agg::Max]),
            None => Agg::Count,
        };
        Val::Agg {
            func,
            event: spec.name,
            prop: if func == Agg::Count { None } else { prop.map(|p| p.name) },
            filter: self.filter(spec, s),
            window: self.window(),
        }
    }

    fn aggregate_cmp(&mut self, s: Scope) -> Cond {
        let a = self.aggregate(s);
        if matches!(
            a,
            Val::Agg {
                func: Agg::Avg | Agg::Min | Agg::Max,
                ..
            }
        ) && self.chance(0.2)
        {
            return Cond::IsNull(a, self.chance(0.5));
        }
        let b = self.literal_like(&a);
        Cond::Cmp(a, self.cmp_op(), b)
    }

    fn days_since(&mut self, s: Scope) -> Val {
        let t = match self.rng.gen_range(0..5) {
            0 | 1 => Val::EventTime {
                first: false,
                event: self.event().name,
            },
            2 => Val::EventTime {
                first: true,
                event: self.event().name,
            },
            _ => self.stored_time(s),
        };
        Val::DaysSince(Box::new(t))
    }

    fn stored_time(&mut self, _s: Scope) -> Val {
        Val::Customer(self.pick(&["joined_at", "last_login", "birthday"]))
    }

    fn rfm(&mut self) -> Val {
        let (event, prop) = self.pick(&[
            ("purchase", "amount"),
            ("purchase", "amount"),
            ("purchase", "discount"),
            ("cart_add", "price"),
        ]);
        let window = match self.rng.gen_range(0..4) {
            0 => None,
            1 => Some(Win::Before(self.pick(DURATIONS).0)),
            _ => Some(Win::Within(self.pick(DURATIONS).0)),
        };
        let score = self.pick(&[Score::R, Score::F, Score::M]);
        Val::Rfm {
            event,
            prop,
            window,
            score,
        }
    }

    fn rfm_cmp(&mut self) -> Cond {
        let v = self.rfm();
        if self.chance(0.15) {
            return Cond::IsNull(v, self.chance(0.5));
        }
        if self.chance(0.15) {
            let list = (0..2).map(|_| Val::Int(self.rng.gen_range(1..=5))).collect();
            return Cond::In(v, list, self.chance(0.5));
        }
        let n = self.rng.gen_range(1..=5);
        Cond::Cmp(v, self.cmp_op(), Val::Int(n))
    }

    fn interval_cmp(&mut self, s: Scope) -> Cond {
        let event = self.pick(&["purchase", "purchase", "cart_add"]);
        let i = Val::Interval(event);
        match self.rng.gen_range(0..4) {
            0 => Cond::IsNull(i, self.chance(0.5)),
            // The personal repurchase cycle.
            1 => {
                let k = Val::Dec(self.pick(&[1.0, 1.2, 1.5, 2.5]));
                Cond::Cmp(
                    Val::DaysSince(Box::new(Val::EventTime { first: false, event })),
                    self.cmp_op(),
                    Val::Bin(Box::new(k), Op::Mul, Box::new(i)),
                )
            }
            _ => {
                let _ = s;
                let lit = self.literal_like(&i);
                Cond::Cmp(i, self.cmp_op(), lit)
            }
        }
    }

    fn text_value(&mut self, s: Scope) -> Val {
        match (s.row, self.rng.gen_range(0..6)) {
            (_, 0) => Val::Customer("nickname"),
            (_, 1) => Val::CustomerRef("favorite", "name"),
            (_, 2) => Val::Customer("timezone"),
            (_, 3) if self.trigger => {
                self.used_trigger = true;
                Val::Trigger("note", Ty::Text)
            }
            _ => Val::Customer("name"),
        }
    }

    fn text_literal(&mut self) -> Val {
        Val::Str(self.pick(TEXTS).to_string())
    }

    fn text_test(&mut self, v: Val) -> Cond {
        match self.rng.gen_range(0..10) {
            0..=3 => {
                let lit = self.text_literal();
                Cond::Cmp(v, self.cmp_op(), lit)
            }
            4..=6 => {
                let needle = match self.pick(TEXTS) {
                    // Parts of the data's texts, so that some are found.
                    t if t.chars().count() > 2 && self.chance(0.5) => t.chars().skip(1).take(2).collect(),
                    t => t.to_string(),
                };
                Cond::Contains(v, Val::Str(needle))
            }
            7 => {
                let list = (0..self.rng.gen_range(1..4)).map(|_| self.text_literal()).collect();
                Cond::In(v, list, self.chance(0.4))
            }
            8 => Cond::Contains(v, Val::Customer("name")),
            _ => Cond::Cmp(v, self.cmp_op(), Val::Customer(self.pick(&["name", "nickname"]))),
        }
    }

    fn text_cond(&mut self, s: Scope) -> Cond {
        let v = self.text_value(s);
        self.text_test(v)
    }

    fn enum_test(&mut self, v: Val, values: &'static [&'static str]) -> Cond {
        let lit = |g: &mut Self| Val::EnumLit(g.pick(values), g.chance(0.2));
        if self.chance(0.35) {
            let list = (0..self.rng.gen_range(1..4)).map(|_| lit(self)).collect();
            return Cond::In(v, list, self.chance(0.4));
        }
        let l = lit(self);
        Cond::Cmp(v, self.pick(&[Op::Eq, Op::Ne]), l)
    }

    fn enum_cond(&mut self, s: Scope) -> Cond {
        match (s.row, self.rng.gen_range(0..5)) {
            (_, 0 | 1) => self.enum_test(Val::Customer("tier"), TIERS),
            (Some(spec), 2) if spec.props.iter().any(|p| p.name == "category") => Cond::Cmp(
                Val::CustomerRef("favorite", "category"),
                Op::Eq,
                Val::Prop("category", Ty::Enum(CATEGORIES)),
            ),
            (_, 3) if self.trigger => {
                self.used_trigger = true;
                self.enum_test(Val::TriggerRef("product", "category"), CATEGORIES)
            }
            _ => self.enum_test(Val::CustomerRef("favorite", "category"), CATEGORIES),
        }
    }

    fn null_test(&mut self, s: Scope) -> Cond {
        let v = match self.rng.gen_range(0..10) {
            0 => Val::Customer("nickname"),
            1 => Val::Customer("score"),
            2 => Val::Customer("birthday"),
            3 => Val::Customer("last_login"),
            4 => Val::Customer("favorite"),
            5 => Val::CustomerRef("favorite", "name"),
            6 => Val::EventTime {
                first: self.chance(0.5),
                event: self.event().name,
            },
            7 => self.aggregate(s),
            8 => Val::Interval(self.event().name),
            _ => Val::Bin(Box::new(Val::Customer("score")), Op::Add, Box::new(Val::Int(1))),
        };
        Cond::IsNull(v, self.chance(0.5))
    }

    /// A timestamp: stored, the time of an event, now, or moved by a duration.
    fn time_value(&mut self, s: Scope) -> Val {
        match self.rng.gen_range(0..8) {
            0 | 1 => self.stored_time(s),
            2 | 3 => Val::EventTime {
                first: self.chance(0.4),
                event: self.event().name,
            },
            4 => Val::Now,
            5 => Val::Bin(Box::new(Val::Now), Op::Sub, Box::new(self.duration())),
            6 => Val::Bin(
                Box::new(self.stored_time(s)),
                self.pick(&[Op::Add, Op::Sub]),
                Box::new(self.duration()),
            ),
            _ => Val::Bin(
                Box::new(Val::EventTime {
                    first: false,
                    event: self.event().name,
                }),
                Op::Add,
                Box::new(self.duration()),
            ),
        }
    }

    fn duration(&mut self) -> Val {
        let (secs, text) = self.pick(DURATIONS);
        let d = Val::Dur(secs, text);
        match self.rng.gen_range(0..8) {
            0 => Val::Bin(Box::new(d), Op::Mul, Box::new(Val::Int(self.pick(&[2, 3])))),
            1 => Val::Bin(Box::new(Val::Int(2)), Op::Mul, Box::new(d)),
            2 => Val::Bin(Box::new(d), Op::Mul, Box::new(Val::Dec(self.pick(&[0.5, 1.5])))),
            _ => d,
        }
    }

    fn time_cmp(&mut self, s: Scope) -> Cond {
        match self.rng.gen_range(0..5) {
            // A duration between two instants against a duration.
            0 => {
                let a = self.time_value(s);
                let b = self.stored_time(s);
                let d = self.duration();
                Cond::Cmp(Val::Bin(Box::new(a), Op::Sub, Box::new(b)), self.cmp_op(), d)
            }
            _ => {
                let a = self.time_value(s);
                let b = self.time_value(s);
                Cond::Cmp(a, self.cmp_op(), b)
            }
        }
    }

    fn trigger_cond(&mut self) -> Cond {
        self.used_trigger = true;
        match self.rng.gen_range(0..4) {
            0 => Cond::Cmp(Val::Trigger("price", Ty::Money), self.cmp_op(), Val::Int(self.pick(MONEY))),
            1 => {
                let (name, ty) = self.pick(&[("qty", Ty::Int), ("note", Ty::Text)]);
                Cond::IsNull(Val::Trigger(name, ty), self.chance(0.5))
            }
            2 => self.enum_test(Val::TriggerRef("product", "category"), CATEGORIES),
            _ => Cond::Cmp(
                Val::Trigger("price", Ty::Money),
                self.cmp_op(),
                Val::CustomerRef("favorite", "price"),
            ),
        }
    }
}
