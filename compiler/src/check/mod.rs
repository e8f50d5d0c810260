//! The checker: every rule of DESIGN §4, reporting all problems it finds.
//!
//! Passes, in order: collect definitions (duplicates), build the schema and
//! policy models, check segments (and their cycles), then check each
//! campaign together with the messages it sends, on each of its channels.

pub(crate) mod alimtalk;
pub(crate) mod campaign;
pub(crate) mod compliance;
pub(crate) mod expr;
pub(crate) mod lists;
pub(crate) mod message;
pub(crate) mod policy;
pub(crate) mod segments;
pub(crate) mod template;
pub(crate) mod timing;

use crate::codes;
use crate::diagnostic::{Diagnostic, Sink};
use crate::policy::PolicyModel;
use crate::schema::{self, SchemaModel};
use crate::source::FileId;
use camp_grammar::ast::{self, Ident, Item};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A named definition and the file it lives in.
pub struct Def<'a, T> {
    pub file: FileId,
    pub item: &'a T,
}

impl<T> Clone for Def<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Def<'_, T> {}

/// What every pass reads; diagnostics go to a separate [`Sink`].
pub struct Env<'a> {
    /// Each file's text, by `FileId`, for pointing into string literals.
    pub sources: Vec<&'a str>,
    pub schema: SchemaModel,
    pub policy: PolicyModel,
    pub segments: HashMap<&'a str, Def<'a, ast::Segment>>,
    pub messages: HashMap<&'a str, Def<'a, ast::Message>>,
    pub campaigns: Vec<Def<'a, ast::Campaign>>,
    /// Registered Alimtalk templates by code.
    pub alimtalk: HashMap<&'a str, Def<'a, ast::AlimtalkTemplate>>,
    /// The channels of `camp.toml`, when the binary found one.
    pub channels: Option<&'a BTreeMap<String, crate::ChannelFacts>>,
}

impl<'a> Env<'a> {
    pub fn segment_names(&self) -> impl Iterator<Item = &'a str> + Clone + '_ {
        self.segments.keys().copied()
    }
    pub fn message_names(&self) -> impl Iterator<Item = &'a str> + Clone + '_ {
        self.messages.keys().copied()
    }
}

/// Checks parsed files. `files[i]` is the AST of `FileId(i)`; `has_schema`
/// problems and everything else are reported, none stops the others.
/// Returns the diagnostics and what the checks measured.
pub fn check<'a>(
    files: &[(FileId, &'a ast::File, &'a str)],
    channels: Option<&'a BTreeMap<String, crate::ChannelFacts>>,
) -> (Vec<Diagnostic>, crate::facts::Facts) {
    let mut sink = Sink::default();
    let mut schemas = Vec::new();
    let mut policies = Vec::new();
    let mut segments: HashMap<&str, Def<ast::Segment>> = HashMap::new();
    let mut messages: HashMap<&str, Def<ast::Message>> = HashMap::new();
    let mut campaigns: Vec<Def<ast::Campaign>> = Vec::new();
    let mut campaign_names: HashMap<&str, (FileId, &Ident)> = HashMap::new();
    let mut alimtalk: HashMap<&str, Def<ast::AlimtalkTemplate>> = HashMap::new();

    let mut extra_segments: Vec<Def<ast::Segment>> = Vec::new();
    let mut extra_messages: Vec<Def<ast::Message>> = Vec::new();
    for &(file, ast, _) in files {
        for item in &ast.items {
            match item {
                Item::Schema(s) => schemas.push((file, s)),
                Item::Policy(p) => policies.push((file, p)),
                Item::Segment(s) => {
                    let first = segments.get(s.name.name.as_str()).map(|d| (d.file, &d.item.name));
                    define(&mut sink, "segment", file, &s.name, first);
                    if first.is_some() {
                        extra_segments.push(Def { file, item: s });
                    } else {
                        segments.insert(&s.name.name, Def { file, item: s });
                    }
                }
                Item::Message(m) => {
                    let first = messages.get(m.name.name.as_str()).map(|d| (d.file, &d.item.name));
                    define(&mut sink, "message", file, &m.name, first);
                    if first.is_some() {
                        extra_messages.push(Def { file, item: m });
                    } else {
                        messages.insert(&m.name.name, Def { file, item: m });
                    }
                }
                Item::Campaign(c) => {
                    define(
                        &mut sink,
                        "campaign",
                        file,
                        &c.name,
                        campaign_names.get(c.name.name.as_str()).copied(),
                    );
                    campaign_names.entry(&c.name.name).or_insert((file, &c.name));
                    // A duplicate is still checked: its other mistakes matter too.
                    campaigns.push(Def { file, item: c });
                }
                Item::AlimtalkTemplate(t) => match alimtalk.get(t.code.value.as_str()) {
                    Some(first) => sink.push(
                        Diagnostic::new(
                            codes::DUPLICATE,
                            file,
                            t.code.span,
                            format!("alimtalk template `{}` is registered twice", t.code.value),
                            "second registration",
                        )
                        .with_label(first.file, first.item.code.span, "first registered here")
                        .with_help("keep one registration per template code"),
                    ),
                    None => {
                        alimtalk.insert(&t.code.value, Def { file, item: t });
                    }
                },
            }
        }
    }

    let schema = schema::build(&schemas, &mut sink);
    let uses_schema = !segments.is_empty() || !messages.is_empty() || !campaigns.is_empty();
    if schema.customer.is_none() && (uses_schema || !schemas.is_empty()) {
        let d = match schemas.first() {
            Some((file, s)) => Diagnostic::new(
                codes::NO_SCHEMA,
                *file,
                keyword_span(s.span, 6),
                "the schema has no customer table",
                "no `customer from ..` inside",
            ),
            None => {
                let (file, span) = first_item_span(files);
                Diagnostic::new(
                    codes::NO_SCHEMA,
                    file,
                    span,
                    "the workspace has no schema",
                    "this needs a customer schema to be checked against",
                )
            }
        };
        sink.push(d.with_help(
            "add a schema.camp with `schema { customer from \"customers\" key id { id: id .. } }`, or check the folder that holds it",
        ));
    }

    let mut env = Env {
        sources: files.iter().map(|(_, _, text)| *text).collect(),
        schema,
        policy: PolicyModel::default(),
        segments,
        messages,
        campaigns,
        alimtalk,
        channels,
    };
    env.policy = policy::build(&env, &mut sink, &policies);
    alimtalk::check_templates(&env, &mut sink);
    segments::check(&env, &mut sink, &extra_segments);
    let mut sent: HashSet<&str> = HashSet::new();
    for def in &env.campaigns {
        campaign::check(&env, &mut sink, *def, &mut sent);
    }
    message::check_unsent(&env, &mut sink, &sent, &extra_messages);
    let mut diagnostics = sink.diagnostics;
    dedupe(&mut diagnostics);
    (diagnostics, sink.facts.finish())
}

/// The policy model of a checked workspace (its diagnostics were reported
/// by [`check`] already).
pub fn policy_model(schema: &SchemaModel, policies: &[(FileId, &ast::Policy)]) -> PolicyModel {
    let env = Env {
        sources: Vec::new(),
        schema: schema.clone(),
        policy: PolicyModel::default(),
        segments: HashMap::new(),
        messages: HashMap::new(),
        campaigns: Vec::new(),
        alimtalk: HashMap::new(),
        channels: None,
    };
    policy::build(&env, &mut Sink::default(), policies)
}

/// A message sent by two campaigns is checked twice; report each problem once.
fn dedupe(diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = HashSet::new();
    diagnostics.retain(|d| seen.insert((d.code.id, d.primary.file, d.primary.span, d.message.clone())));
}

fn define(sink: &mut Sink, what: &str, file: FileId, name: &Ident, first: Option<(FileId, &Ident)>) {
    if let Some((first_file, first)) = first {
        sink.push(
            Diagnostic::new(
                codes::DUPLICATE,
                file,
                name.span,
                format!("{what} `{}` is defined twice", name.name),
                "second definition",
            )
            .with_label(first_file, first.span, "first defined here")
            .with_help(format!("rename one of them or remove the duplicate {what}")),
        );
    }
}

fn first_item_span(files: &[(FileId, &ast::File, &str)]) -> (FileId, camp_grammar::Span) {
    files
        .iter()
        .find_map(|(f, a, _)| a.items.first().map(|i| (*f, keyword_span(i.span(), 8))))
        .unwrap_or_default()
}

/// The span of an item's leading keyword, for diagnostics about a whole item.
pub(crate) fn keyword_span(span: camp_grammar::Span, len: usize) -> camp_grammar::Span {
    camp_grammar::Span::new(span.start, (span.start + len).min(span.end))
}
