//! A checked workspace, resolved for the stages after checking: the schema
//! and policy models and every definition by name. Built only from a
//! workspace without errors, so later stages may rely on names resolving.

use crate::diagnostic::Sink;
use crate::policy::PolicyModel;
use crate::schema::{self, SchemaModel};
use crate::source::FileId;
use crate::Analysis;
use camp_grammar::ast::{self, Item};
use std::collections::BTreeMap;

#[derive(Debug)]
pub struct Program<'a> {
    pub schema: SchemaModel,
    pub policy: PolicyModel,
    pub segments: BTreeMap<&'a str, &'a ast::Segment>,
    pub messages: BTreeMap<&'a str, &'a ast::Message>,
    pub campaigns: BTreeMap<&'a str, (FileId, &'a ast::Campaign)>,
    /// What the checker measured (message sizes, ad-law rules), for plans.
    pub facts: &'a crate::facts::Facts,
}

impl<'a> Program<'a> {
    /// `None` when the analysis found errors: nothing after the checker runs
    /// on a workspace that does not check.
    pub fn new(analysis: &'a Analysis) -> Option<Program<'a>> {
        if analysis.has_errors() {
            return None;
        }
        let mut schemas = Vec::new();
        let mut policies = Vec::new();
        let mut segments = BTreeMap::new();
        let mut messages = BTreeMap::new();
        let mut campaigns = BTreeMap::new();
        for (i, file) in analysis.asts.iter().enumerate() {
            let id = FileId(i);
            for item in &file.items {
                match item {
                    Item::Schema(s) => schemas.push((id, s)),
                    Item::Policy(p) => policies.push((id, p)),
                    Item::Segment(s) => {
                        segments.insert(s.name.name.as_str(), s);
                    }
                    Item::Message(m) => {
                        messages.insert(m.name.name.as_str(), m);
                    }
                    Item::Campaign(c) => {
                        campaigns.insert(c.name.name.as_str(), (id, c));
                    }
                    Item::AlimtalkTemplate(_) => {}
                }
            }
        }
        let mut sink = Sink::default();
        let schema = schema::build(&schemas, &mut sink);
        let policy = crate::check::policy_model(&schema, &policies);
        Some(Program {
            schema,
            policy,
            segments,
            messages,
            campaigns,
            facts: &analysis.facts,
        })
    }
}

/// The schema model of an analysis, even one with errors elsewhere (for
/// comparing the schema file with a database).
pub fn schema_of(analysis: &Analysis) -> SchemaModel {
    let schemas: Vec<(FileId, &ast::Schema)> = analysis
        .asts
        .iter()
        .enumerate()
        .flat_map(|(i, file)| {
            file.items.iter().filter_map(move |item| match item {
                Item::Schema(s) => Some((FileId(i), s)),
                _ => None,
            })
        })
        .collect();
    schema::build(&schemas, &mut Sink::default())
}
