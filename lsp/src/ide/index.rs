//! Where every name is defined and used, in byte spans: the ground for go
//! to definition, find references, rename and hover.
//!
//! Names resolve as the checker resolves them: `customer.f` and `#{alias}`
//! are customer fields, `trigger.p` a property of the campaign's trigger
//! event (of every campaign that sends a message, inside the message),
//! a bare name inside `did E where ..` a property of E, and otherwise a
//! segment.

use camp_compiler::schema::{SchemaModel, TableModel};
use camp_compiler::types::FieldType;
use camp_compiler::FileId;
use camp_grammar::ast::{self, CampaignItem, Expr, ExprKind, Ident, Item, Path, Span, Step, StepKind, TriggerKind, WindowKind};
use std::collections::{BTreeSet, HashMap, HashSet};

/// A thing with a name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Symbol {
    Segment(String),
    Message(String),
    Campaign(String),
    Event(String),
    /// An event property, by its declared name.
    Property {
        event: String,
        name: String,
    },
    /// A field of the customer table (`table` is `customer`) or of a lookup
    /// table, by its declared name (aliases resolve to it).
    Field {
        table: String,
        name: String,
    },
}

impl Symbol {
    /// Whether the editor may rename it (segments and messages).
    pub fn renamable(&self) -> bool {
        matches!(self, Symbol::Segment(_) | Symbol::Message(_))
    }
}

/// One place a symbol's name is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub file: FileId,
    pub span: Span,
    pub symbol: Symbol,
    /// The defining occurrence (a field's alias is not one).
    pub def: bool,
}

#[derive(Debug, Default)]
pub struct Index {
    pub occurrences: Vec<Occurrence>,
}

impl Index {
    pub fn build(asts: &[ast::File], schema: &SchemaModel) -> Index {
        let segments: HashSet<&str> = asts
            .iter()
            .flat_map(|f| &f.items)
            .filter_map(|i| match i {
                Item::Segment(s) => Some(s.name.name.as_str()),
                _ => None,
            })
            .collect();
        let mut b = Builder {
            schema,
            segments,
            out: Vec::new(),
            file: FileId(0),
        };
        let triggers = message_triggers(asts);
        for (i, file) in asts.iter().enumerate() {
            b.file = FileId(i);
            for item in &file.items {
                b.item(item, &triggers);
            }
        }
        Index { occurrences: b.out }
    }

    /// The occurrence under a byte offset (its end included, so a cursor
    /// right after a name finds it).
    pub fn at(&self, file: FileId, offset: usize) -> Option<&Occurrence> {
        self.occurrences
            .iter()
            .filter(|o| o.file == file && o.span.start <= offset && offset <= o.span.end)
            .min_by_key(|o| o.span.len())
    }

    pub fn of<'a>(&'a self, symbol: &'a Symbol) -> impl Iterator<Item = &'a Occurrence> + 'a {
        self.occurrences.iter().filter(move |o| &o.symbol == symbol)
    }

    pub fn definition(&self, symbol: &Symbol) -> Option<&Occurrence> {
        self.occurrences.iter().find(|o| o.def && &o.symbol == symbol)
    }
}

/// For each message, the trigger events of the campaigns that send it.
fn message_triggers(asts: &[ast::File]) -> HashMap<String, BTreeSet<String>> {
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    for item in asts.iter().flat_map(|f| &f.items) {
        let Item::Campaign(c) = item else { continue };
        let event = c.items.iter().find_map(|i| match i {
            CampaignItem::Trigger(ast::Trigger {
                kind: TriggerKind::On { event, .. },
                ..
            }) => Some(event.name.clone()),
            _ => None,
        });
        let Some(event) = event else { continue };
        let mut sends = Vec::new();
        for i in &c.items {
            match i {
                CampaignItem::Step(s) => sent(std::slice::from_ref(s), &mut sends),
                CampaignItem::Variant(v) => sent(&v.steps, &mut sends),
                _ => {}
            }
        }
        for m in sends {
            out.entry(m).or_default().insert(event.clone());
        }
    }
    out
}

fn sent(steps: &[Step], out: &mut Vec<String>) {
    for s in steps {
        match &s.kind {
            StepKind::Send { message, .. } => out.push(message.name.clone()),
            StepKind::If { then, otherwise, .. } => {
                sent(then, out);
                if let Some(o) = otherwise {
                    sent(o, out);
                }
            }
            _ => {}
        }
    }
}

/// What names mean where an expression stands.
#[derive(Clone, Copy, Default)]
struct Scope<'a> {
    /// The trigger event (`trigger.p`).
    trigger: Option<&'a str>,
    /// Inside `did E where ..`: E's properties are bare names.
    event: Option<&'a str>,
}

struct Builder<'s> {
    schema: &'s SchemaModel,
    segments: HashSet<&'s str>,
    out: Vec<Occurrence>,
    file: FileId,
}

impl<'s> Builder<'s> {
    fn push(&mut self, span: Span, symbol: Symbol, def: bool) {
        self.out.push(Occurrence {
            file: self.file,
            span,
            symbol,
            def,
        });
    }

    fn item(&mut self, item: &'s Item, triggers: &HashMap<String, BTreeSet<String>>) {
        match item {
            Item::Schema(s) => self.schema_block(s),
            Item::Policy(p) => {
                for i in &p.items {
                    if let ast::PolicyItem::QuietHours(q) = i {
                        if let Some(u) = &q.unless {
                            self.expr(u, Scope::default(), 0);
                        }
                    }
                }
            }
            Item::Segment(s) => {
                self.push(s.name.span, Symbol::Segment(s.name.name.clone()), true);
                self.expr(&s.cond, Scope::default(), 0);
            }
            Item::Message(m) => {
                self.push(m.name.span, Symbol::Message(m.name.name.clone()), true);
                let events: Vec<String> = triggers.get(&m.name.name).into_iter().flatten().cloned().collect();
                for part in &m.parts {
                    let templates: Vec<&ast::Template> = part.templates();
                    for t in templates {
                        for seg in &t.segments {
                            if let ast::TemplateSegment::Placeholder(p) = seg {
                                self.placeholder(&p.path, &events);
                            }
                        }
                    }
                }
            }
            Item::Campaign(c) => self.campaign(c),
            Item::AlimtalkTemplate(_) => {}
        }
    }

    fn schema_block(&mut self, s: &ast::Schema) {
        for item in &s.items {
            match item {
                ast::SchemaItem::Customer(t) | ast::SchemaItem::Table(t) => {
                    let table = match item {
                        ast::SchemaItem::Customer(_) => "customer".to_string(),
                        _ => t.name.name.clone(),
                    };
                    for f in &t.fields {
                        self.field_decl(f, |name| Symbol::Field {
                            table: table.clone(),
                            name,
                        });
                    }
                    if t.fields.iter().any(|f| f.name.name == t.key.name) {
                        let key = Symbol::Field {
                            table: table.clone(),
                            name: t.key.name.clone(),
                        };
                        self.push(t.key.span, key, false);
                    }
                    // `contact FIELD for channel C` uses a customer field.
                    for c in &t.contacts {
                        if let Some(f) = t
                            .fields
                            .iter()
                            .find(|f| f.name.name == c.field.name || f.alias.as_ref().is_some_and(|a| a.name == c.field.name))
                        {
                            let used = Symbol::Field {
                                table: table.clone(),
                                name: f.name.name.clone(),
                            };
                            self.push(c.field.span, used, false);
                        }
                    }
                }
                ast::SchemaItem::Event(e) => {
                    self.push(e.name.span, Symbol::Event(e.name.name.clone()), true);
                    for f in &e.props {
                        self.field_decl(f, |name| Symbol::Property {
                            event: e.name.name.clone(),
                            name,
                        });
                    }
                }
                ast::SchemaItem::Events(_) => {}
            }
        }
    }

    fn field_decl(&mut self, f: &ast::Field, symbol: impl Fn(String) -> Symbol) {
        self.push(f.name.span, symbol(f.name.name.clone()), true);
        if let Some(alias) = &f.alias {
            self.push(alias.span, symbol(f.name.name.clone()), false);
        }
    }

    fn campaign(&mut self, c: &'s ast::Campaign) {
        self.push(c.name.span, Symbol::Campaign(c.name.name.clone()), true);
        let trigger = c.items.iter().find_map(|i| match i {
            CampaignItem::Trigger(ast::Trigger {
                kind: TriggerKind::On { event, .. },
                ..
            }) => Some(event.name.as_str()),
            _ => None,
        });
        let scope = Scope { trigger, event: None };
        for item in &c.items {
            match item {
                CampaignItem::Trigger(t) => {
                    if let TriggerKind::On { event, filter } = &t.kind {
                        self.event_ref(event);
                        if let Some(f) = filter {
                            let inner = Scope {
                                trigger,
                                event: Some(event.name.as_str()),
                            };
                            self.expr(f, inner, 0);
                        }
                    }
                }
                CampaignItem::Audience(e) | CampaignItem::ExitWhen(e) => self.expr(e, scope, 0),
                CampaignItem::Step(s) => self.steps(std::slice::from_ref(s), scope, 0),
                CampaignItem::Variant(v) => self.steps(&v.steps, scope, 0),
                CampaignItem::QuietHours(q) => {
                    if let Some(u) = &q.unless {
                        self.expr(u, scope, 0);
                    }
                }
                CampaignItem::Goal { event, .. } => self.event_ref(event),
                _ => {}
            }
        }
    }

    fn steps(&mut self, steps: &'s [Step], scope: Scope<'s>, depth: usize) {
        if depth > 2 * camp_grammar::MAX_NESTING {
            return;
        }
        for s in steps {
            match &s.kind {
                StepKind::Send { message, .. } => self.push(message.span, Symbol::Message(message.name.clone()), false),
                StepKind::If { cond, then, otherwise } => {
                    self.expr(cond, scope, 0);
                    self.steps(then, scope, depth + 1);
                    if let Some(o) = otherwise {
                        self.steps(o, scope, depth + 1);
                    }
                }
                _ => {}
            }
        }
    }

    fn event_ref(&mut self, name: &Ident) {
        if self.schema.event(&name.name).is_some() {
            self.push(name.span, Symbol::Event(name.name.clone()), false);
        }
    }

    fn prop_ref(&mut self, event: &str, name: &Ident) -> Option<&'s camp_compiler::schema::FieldModel> {
        let prop = self.schema.event(event)?.prop(&name.name)?;
        self.push(
            name.span,
            Symbol::Property {
                event: event.to_string(),
                name: prop.name.clone(),
            },
            false,
        );
        Some(prop)
    }

    fn expr(&mut self, e: &'s Expr, scope: Scope<'s>, depth: usize) {
        if depth > 4 * camp_grammar::MAX_NESTING {
            return;
        }
        let d = depth + 1;
        match &e.kind {
            ExprKind::Or(items) | ExprKind::And(items) => items.iter().for_each(|i| self.expr(i, scope, d)),
            ExprKind::Not(x) | ExprKind::Neg(x) | ExprKind::DaysSince(x) => self.expr(x, scope, d),
            ExprKind::Compare { lhs, rhs, .. } => {
                self.expr(lhs, scope, d);
                self.expr(rhs, scope, d);
            }
            ExprKind::In { value, list, .. } => {
                self.expr(value, scope, d);
                list.iter().for_each(|i| self.expr(i, scope, d));
            }
            ExprKind::IsNull { value, .. } => self.expr(value, scope, d),
            ExprKind::Contains { value, needle } => {
                self.expr(value, scope, d);
                self.expr(needle, scope, d);
            }
            ExprKind::Arith { first, rest } => {
                self.expr(first, scope, d);
                rest.iter().for_each(|(_, x)| self.expr(x, scope, d));
            }
            ExprKind::Did(did) => {
                self.event_ref(&did.event);
                if let Some(f) = &did.filter {
                    self.expr(
                        f,
                        Scope {
                            event: Some(did.event.name.as_str()),
                            ..scope
                        },
                        d,
                    );
                }
                self.window(did.window.as_ref());
            }
            ExprKind::Aggregate(a) => {
                self.event_ref(&a.event);
                if let Some(p) = &a.prop {
                    self.prop_ref(&a.event.name, p);
                }
                if let Some(f) = &a.filter {
                    self.expr(
                        f,
                        Scope {
                            event: Some(a.event.name.as_str()),
                            ..scope
                        },
                        d,
                    );
                }
                self.window(a.window.as_ref());
            }
            ExprKind::EventTime { event, .. } | ExprKind::Lifecycle(event) | ExprKind::Interval(event) => self.event_ref(event),
            ExprKind::Rfm { event, prop, window, .. } => {
                self.event_ref(event);
                self.prop_ref(&event.name, prop);
                self.window(window.as_ref());
            }
            ExprKind::Path(p) => self.path(p, scope),
            _ => {}
        }
    }

    fn window(&mut self, w: Option<&ast::Window>) {
        if let Some(ast::Window {
            kind: WindowKind::SinceLast(e),
            ..
        }) = w
        {
            self.event_ref(e);
        }
    }

    fn path(&mut self, p: &Path, scope: Scope<'s>) {
        let Some((first, rest)) = p.segments.split_first() else { return };
        match first.name.as_str() {
            "customer" => {
                if let (Some(customer), Some((name, rest))) = (self.schema.customer.as_ref(), rest.split_first()) {
                    self.fields(customer, name, rest);
                }
            }
            "trigger" => {
                if let (Some(event), Some((name, rest))) = (scope.trigger, rest.split_first()) {
                    if let Some(prop) = self.prop_ref(event, name) {
                        self.follow(&prop.ty, rest);
                    }
                }
            }
            name => {
                if let Some(event) = scope.event {
                    if let Some(prop) = self.prop_ref(event, first) {
                        self.follow(&prop.ty, rest);
                        return;
                    }
                }
                if rest.is_empty() && self.segments.contains(name) {
                    self.push(first.span, Symbol::Segment(name.to_string()), false);
                }
            }
        }
    }

    /// `name` (and what follows) as a field of `table`.
    fn fields(&mut self, table: &'s TableModel, name: &Ident, rest: &[Ident]) {
        let Some(field) = table.field(&name.name) else { return };
        let symbol = Symbol::Field {
            table: if self.schema.customer.as_ref().is_some_and(|c| std::ptr::eq(c, table)) {
                "customer".to_string()
            } else {
                table.name.clone()
            },
            name: field.name.clone(),
        };
        self.push(name.span, symbol, false);
        self.follow(&field.ty, rest);
    }

    /// Through a `ref T` value into T's fields.
    fn follow(&mut self, ty: &FieldType, rest: &[Ident]) {
        let (FieldType::Ref(table), Some((name, rest))) = (ty, rest.split_first()) else {
            return;
        };
        if let Some(t) = self.schema.table(table) {
            self.fields(t, name, rest);
        }
    }

    /// A placeholder's path inside a message sent on `events`.
    fn placeholder(&mut self, p: &Path, events: &[String]) {
        let Some((first, rest)) = p.segments.split_first() else { return };
        match first.name.as_str() {
            "sender" | "optout" if rest.is_empty() => {}
            "customer" => self.path(p, Scope::default()),
            "trigger" => {
                let Some((name, rest)) = rest.split_first() else { return };
                for event in events {
                    if let Some(prop) = self.prop_ref(event, name) {
                        self.follow(&prop.ty, rest);
                        break;
                    }
                }
            }
            _ => {
                if let Some(customer) = self.schema.customer.as_ref() {
                    self.fields(customer, first, rest);
                }
            }
        }
    }
}
