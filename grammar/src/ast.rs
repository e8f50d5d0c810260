//! The syntax tree of a `.camp` file: what the author wrote, with byte spans.
//!
//! Nothing here is resolved or typed: names are plain identifiers, and the
//! checker (`camp-compiler`) decides what they refer to. Every node that a
//! diagnostic may point at carries a [`Span`] of byte offsets into the file.

/// A half-open byte range `start..end` into the source text of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A name as written: `customer`, `고객명`, `cart_add`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A string literal, escapes resolved (no template parsing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringLit {
    pub value: String,
    pub span: Span,
}

/// A whole number as written (`_` separators removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntLit {
    pub value: u64,
    pub span: Span,
}

/// A file: its items in source order. Items that failed to parse are absent
/// (their errors are reported beside the file).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Schema(Schema),
    Policy(Policy),
    Segment(Segment),
    Message(Message),
    Campaign(Campaign),
    AlimtalkTemplate(AlimtalkTemplate),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Schema(s) => s.span,
            Item::Policy(p) => p.span,
            Item::Segment(s) => s.span,
            Item::Message(m) => m.span,
            Item::Campaign(c) => c.span,
            Item::AlimtalkTemplate(t) => t.span,
        }
    }
}

// ---------------------------------------------------------------- schema

/// `schema { .. }`
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub items: Vec<SchemaItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SchemaItem {
    /// `customer from "customers" key id { .. }`; `name` is the `customer` keyword.
    Customer(TableDecl),
    /// `table product from "products" key id { .. }`
    Table(TableDecl),
    /// `events from "events" customer customer_id type kind time occurred_at props properties`
    Events(EventsTable),
    /// `event cart_add { product: ref product, price: money }`
    Event(EventDecl),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableDecl {
    pub name: Ident,
    /// The database table, `"customers"`.
    pub source: StringLit,
    pub key: Ident,
    pub fields: Vec<Field>,
    /// `contact mobile for channel sms` lines (the customer table only).
    pub contacts: Vec<ContactDecl>,
    pub span: Span,
}

/// `contact FIELD for channel CHANNEL`: the field that channel reads,
/// instead of the first field of the channel's contact type.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactDecl {
    pub field: Ident,
    pub channel: Ident,
    pub span: Span,
}

/// `name: text(max 20)? = "x" as 고객명`, with an optional `///` doc comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub doc: Option<String>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub nullable: bool,
    pub default: Option<Literal>,
    pub alias: Option<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeKind {
    Id,
    /// `text` or `text(max N)`: N characters.
    Text {
        max: Option<IntLit>,
    },
    /// `int` or `int(max N)`: the largest absolute value.
    Int {
        max: Option<IntLit>,
    },
    Decimal,
    /// `money` or `money(max N)`: whole KRW.
    Money {
        max: Option<IntLit>,
    },
    Bool,
    Timestamp,
    Date,
    Enum(Vec<Ident>),
    Phone,
    Email,
    /// A device token for app push.
    PushToken,
    Consent,
    Tz,
    Ref(Ident),
    /// A type name the grammar does not know; the checker reports it.
    Unknown(Ident),
}

/// The one shared events table.
#[derive(Debug, Clone, PartialEq)]
pub struct EventsTable {
    pub source: StringLit,
    /// Column holding the customer key (`customer customer_id`).
    pub customer: Option<Ident>,
    /// Column holding the event name (`type kind`).
    pub type_column: Option<Ident>,
    /// Column holding the time (`time occurred_at`).
    pub time: Option<Ident>,
    /// JSON column holding the properties (`props properties`).
    pub props: Option<Ident>,
    pub span: Span,
}

/// `event purchase { .. }` or, with a table of its own,
/// `event purchase from "orders" customer customer_id time ordered_at { .. }`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub table: Option<EventTable>,
    pub props: Vec<Field>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventTable {
    pub source: StringLit,
    pub customer: Option<Ident>,
    pub time: Option<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Int(IntLit),
    Decimal {
        value: f64,
        span: Span,
    },
    String(StringLit),
    Bool {
        value: bool,
        span: Span,
    },
    /// A bare name, e.g. an enum value `bronze`.
    Ident(Ident),
}

impl Literal {
    pub fn span(&self) -> Span {
        match self {
            Literal::Int(i) => i.span,
            Literal::Decimal { span, .. } | Literal::Bool { span, .. } => *span,
            Literal::String(s) => s.span,
            Literal::Ident(i) => i.span,
        }
    }
}

// ---------------------------------------------------------------- time

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DurationUnit {
    Minutes,
    Hours,
    Days,
    Weeks,
}

/// `30m 24h 7d 2w`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration {
    pub value: u64,
    pub unit: DurationUnit,
    pub span: Span,
}

impl Duration {
    /// Whole seconds, saturating.
    pub fn seconds(&self) -> u64 {
        let per = match self.unit {
            DurationUnit::Minutes => 60,
            DurationUnit::Hours => 3_600,
            DurationUnit::Days => 86_400,
            DurationUnit::Weeks => 604_800,
        };
        self.value.saturating_mul(per)
    }
}

/// `21:00`, as written; the checker validates the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDay {
    pub hour: u32,
    pub minute: u32,
    pub span: Span,
}

/// `2026-12-01 11:00`, as written; the checker validates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub span: Span,
}

/// `50%`
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percent {
    pub value: f64,
    pub span: Span,
}

// ---------------------------------------------------------------- policy

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub items: Vec<PolicyItem>,
    pub span: Span,
}

// Unboxed on purpose: the checker matches on these variants directly.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyItem {
    Timezone(StringLit),
    Sender(StringLit),
    Optout(StringLit),
    /// `optout ".." for channel brand`: the opt-out text on one channel.
    ChannelOptout {
        text: StringLit,
        channel: Ident,
        span: Span,
    },
    QuietHours(QuietHours),
    Cap(Cap),
    /// `lifecycle new 30d active 1.5 at_risk 3 single_active 90d single_at_risk 180d`:
    /// overrides of the numbers in DESIGN §3.1, any subset, any order.
    Lifecycle(Vec<LifecycleSetting>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleSetting {
    pub name: Ident,
    pub value: LifecycleValue,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LifecycleValue {
    Duration(Duration),
    Number { value: f64, span: Span },
}

/// `quiet hours 21:00..08:00 [for kind ad | for channel sms] [unless COND] [defer|skip]`
#[derive(Debug, Clone, PartialEq)]
pub struct QuietHours {
    pub from: TimeOfDay,
    pub to: TimeOfDay,
    pub filter: Option<SendFilter>,
    pub unless: Option<Expr>,
    pub mode: Option<QuietMode>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuietMode {
    Defer,
    Skip,
}

/// `for kind ad` or `for channel sms`
#[derive(Debug, Clone, PartialEq)]
pub enum SendFilter {
    Kind(Ident),
    Channel(Ident),
}

/// `cap 2 per 24h, 5 per 7d [for kind ad]`
#[derive(Debug, Clone, PartialEq)]
pub struct Cap {
    pub limits: Vec<CapLimit>,
    pub filter: Option<SendFilter>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CapLimit {
    pub count: IntLit,
    pub per: Duration,
    pub span: Span,
}

// ---------------------------------------------------------------- segments and messages

/// `segment NAME = COND`
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub doc: Option<String>,
    pub name: Ident,
    pub cond: Expr,
    pub span: Span,
}

/// `message NAME { parts }`
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub doc: Option<String>,
    pub name: Ident,
    pub parts: Vec<MessagePart>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MessagePart {
    /// The text itself (a bare string).
    Body(Template),
    Subject(Template),
    Title(Template),
    Image(Template),
    /// `template "CODE"`: the pre-approved Alimtalk template code.
    TemplateCode(StringLit),
    /// `button "label" -> "url"`
    Button {
        label: Template,
        url: Template,
        span: Span,
    },
    /// `format wide`: the brand message or RCS layout.
    Format(Ident),
    /// `item "text" -> "url"`: one entry of a brand message wide list.
    Item {
        text: Template,
        url: Template,
        span: Span,
    },
    /// `card { .. }`: one card of a carousel (title, text, image, buttons).
    Card(Card),
    /// `list viewed = recent(item_view.product, 3) exclude purchased`
    List(ListDecl),
}

impl MessagePart {
    /// Every template of the part, cards included (for finding what a
    /// message prints).
    pub fn templates(&self) -> Vec<&Template> {
        match self {
            MessagePart::Body(t) | MessagePart::Subject(t) | MessagePart::Title(t) | MessagePart::Image(t) => vec![t],
            MessagePart::Button { label, url, .. } => vec![label, url],
            MessagePart::Item { text, url, .. } => vec![text, url],
            MessagePart::Card(c) => c.parts.iter().flat_map(MessagePart::templates).collect(),
            MessagePart::TemplateCode(_) | MessagePart::Format(_) | MessagePart::List(_) => vec![],
        }
    }
}

/// `list NAME = LIST`: a named list of rows of a lookup table, for
/// `#{for p in NAME}..#{end}` and `#{NAME.count}` in the message's texts.
#[derive(Debug, Clone, PartialEq)]
pub struct ListDecl {
    pub name: Ident,
    pub list: ListExpr,
    pub span: Span,
}

/// A list with its exclusions: `also_bought(trigger.product, 4) exclude purchased, trigger`.
#[derive(Debug, Clone, PartialEq)]
pub struct ListExpr {
    pub source: ListSource,
    pub exclude: Vec<Exclusion>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ListSource {
    /// `recent(E.p, N)`
    Recent { event: Ident, prop: Ident, n: IntLit },
    /// `also_bought(X, N [within D])`
    AlsoBought { anchor: Path, n: IntLit, within: Option<Duration> },
    /// `popular(T [where COND] [within D], N)`
    Popular {
        table: Ident,
        filter: Option<Box<Expr>>,
        within: Option<Duration>,
        n: IntLit,
    },
}

impl ListSource {
    /// The bound N.
    pub fn n(&self) -> IntLit {
        match self {
            ListSource::Recent { n, .. } | ListSource::AlsoBought { n, .. } | ListSource::Popular { n, .. } => *n,
        }
    }
}

/// `card { title ".." "text" image ".." button ".." -> ".." }`
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub parts: Vec<MessagePart>,
    pub span: Span,
}

/// `alimtalk template "CODE" { "registered text with #{변수}" title ".." button .. }`:
/// an approved Alimtalk template as registered with Kakao. In its text,
/// every `#{..}` is a variable slot that a message may fill with any value.
#[derive(Debug, Clone, PartialEq)]
pub struct AlimtalkTemplate {
    pub doc: Option<String>,
    pub code: StringLit,
    pub parts: Vec<MessagePart>,
    pub span: Span,
}

/// One part of `exclude ..`.
#[derive(Debug, Clone, PartialEq)]
pub enum Exclusion {
    /// `purchased`: items the customer bought in the list's window.
    Purchased(Span),
    /// `trigger`: the triggering event's item.
    Trigger(Span),
    /// `where COND` on the item's fields.
    Where(Expr),
}

/// A string with `#{..}` placeholders, already dedented (DESIGN §3).
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub segments: Vec<TemplateSegment>,
    /// The whole literal, quotes included.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TemplateSegment {
    /// Literal text, escapes resolved and continuation indentation removed.
    /// The span covers the source text it came from.
    Text {
        text: String,
        span: Span,
    },
    Placeholder(Placeholder),
    /// `#{for p in LIST}..#{end}`: the body once per row of the list.
    For(ForLoop),
}

/// `#{for VAR in LIST}` BODY `#{end}`
#[derive(Debug, Clone, PartialEq)]
pub struct ForLoop {
    pub var: Ident,
    pub list: Ident,
    pub body: Vec<TemplateSegment>,
    /// `#{for ..}` through `#{end}`.
    pub span: Span,
}

/// `#{path | filter("arg") ?? "default"}`
#[derive(Debug, Clone, PartialEq)]
pub struct Placeholder {
    pub path: Path,
    pub filters: Vec<FilterCall>,
    pub default: Option<StringLit>,
    /// `#{` through `}`.
    pub span: Span,
}

/// `won`, `number`, `date("M월 d일")`
#[derive(Debug, Clone, PartialEq)]
pub struct FilterCall {
    pub name: Ident,
    pub args: Vec<StringLit>,
    pub span: Span,
}

/// `customer.tier`, `trigger.product.상품명`, `고객명`
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub segments: Vec<Ident>,
    pub span: Span,
}

// ---------------------------------------------------------------- campaigns

#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub doc: Option<String>,
    pub name: Ident,
    pub items: Vec<CampaignItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CampaignItem {
    /// `kind ad` / `kind info`
    Kind(Ident),
    /// `channel friendtalk fallback lms after 24h`
    Channel(ChannelDecl),
    Trigger(Trigger),
    Audience(Expr),
    ExitWhen(Expr),
    Step(Step),
    QuietHours(QuietHours),
    /// `window 10:00..20:00`: sends only inside this daily window.
    Window {
        from: TimeOfDay,
        to: TimeOfDay,
        span: Span,
    },
    Cap(Cap),
    Priority(IntLit),
    /// `pad popular`: lists shorter than N are filled from `popular(..)`.
    PadPopular(Span),
    Variant(Variant),
    Holdout(Percent),
    Goal {
        event: Ident,
        within: Duration,
        span: Span,
    },
    /// `reentry never | after D | restart | always`
    Reentry(Reentry),
}

/// `reentry ..`: whether a customer may start another journey of the campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct Reentry {
    pub rule: ReentryRule,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReentryRule {
    /// Once per customer, ever.
    Never,
    /// No new journey within this long of the customer's last entry.
    After(Duration),
    /// A new trigger ends the running journey and starts a new one.
    Restart,
    /// One journey per trigger occurrence.
    Always,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChannelDecl {
    pub channel: Ident,
    pub fallbacks: Vec<Fallback>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fallback {
    pub channel: Ident,
    pub after: Duration,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    pub kind: TriggerKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TriggerKind {
    /// `on E [where COND]`
    On { event: Ident, filter: Option<Expr> },
    /// `at 2026-12-01 11:00`
    At(DateTime),
    /// `every monday at 11:00`
    Every { every: Every, at: TimeOfDay },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Day,
    Weekday,
    /// 0 = Monday .. 6 = Sunday
    DayOfWeek(u8),
    /// `15th of month`
    DayOfMonth {
        day: u32,
        span: Span,
    },
}

/// `variant a 50% { steps }`
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub name: Ident,
    pub percent: Percent,
    pub steps: Vec<Step>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub kind: StepKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    Wait(Duration),
    WaitUntil(TimeOfDay),
    Send {
        message: Ident,
        via: Option<Ident>,
        /// `expires at 21:00` / `expires after 3h`
        expires: Option<Expiry>,
    },
    If {
        cond: Expr,
        then: Vec<Step>,
        /// `else { .. }`; `else if` is an `If` step alone in this list.
        otherwise: Option<Vec<Step>>,
    },
    Exit,
}

/// When a send that has not gone out yet is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// `expires at 21:00`: on the customer's local day on which the step became due.
    At(TimeOfDay),
    /// `expires after 3h`: after the step became due.
    After(Duration),
}

// ---------------------------------------------------------------- conditions and values

/// Conditions and values share one expression type; the checker types them.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountOp {
    AtLeast,
    AtMost,
    Exactly,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `a or b or c`: flat, so long chains never nest deeply.
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Compare {
        op: CmpOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `x in (a, b)` / `x not in (a, b)`
    In {
        value: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// `x is null` / `x is not null`
    IsNull {
        value: Box<Expr>,
        negated: bool,
    },
    /// `x contains "y"`
    Contains {
        value: Box<Expr>,
        needle: Box<Expr>,
    },
    /// `a + b - c`, `a * b / c`: one precedence level, flat.
    Arith {
        first: Box<Expr>,
        rest: Vec<(ArithOp, Expr)>,
    },
    Neg(Box<Expr>),
    Did(Did),
    Aggregate(Aggregate),
    /// `last E` / `first E`
    EventTime {
        first: bool,
        event: Ident,
    },
    /// `days since last E` or `days since customer.joined_at`
    DaysSince(Box<Expr>),
    /// `rfm(purchase.amount within 365d).r`
    Rfm {
        event: Ident,
        prop: Ident,
        window: Option<Window>,
        score: Ident,
    },
    /// `lifecycle(purchase)`
    Lifecycle(Ident),
    /// `interval(purchase)`
    Interval(Ident),
    Int(u64),
    Decimal(f64),
    String(String),
    Bool(bool),
    Duration(Duration),
    Now,
    /// `customer.tier`, `trigger.product`, a segment name, an enum value, or a
    /// property inside `where`: the checker resolves it.
    Path(Path),
}

/// `did E [where C] [at least N times] [window]`
#[derive(Debug, Clone, PartialEq)]
pub struct Did {
    pub event: Ident,
    pub filter: Option<Box<Expr>>,
    pub count: Option<CountClause>,
    pub window: Option<Window>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CountClause {
    pub op: CountOp,
    pub n: IntLit,
    pub span: Span,
}

/// `count(E ..)`, `sum(E.p ..)`, ...
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub func: AggFunc,
    pub event: Ident,
    pub prop: Option<Ident>,
    pub filter: Option<Box<Expr>>,
    pub window: Option<Window>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub kind: WindowKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WindowKind {
    /// `now - D < t <= now`
    Within(Duration),
    /// `t <= now - D`
    Before(Duration),
    /// `trigger time < t <= now`
    SinceTrigger,
    /// `t > latest E2 at or before now`
    SinceLast(Ident),
}
