//! A deployment: what runs. Every plan of a workspace, the part of the
//! schema the runtime reads, and the policy facts it needs, under one
//! content hash (DESIGN §5).
//!
//! `camp compile --out DIR` writes a deployment as a directory:
//! `DIR/manifest.json` ([`Manifest`]: format version, hash, schema, policy
//! and, per plan, its name, file and hash) and `DIR/plans/<campaign>.json`
//! (each a [`Plan`]). `camp run --plans DIR` reads it back with
//! [`Deployment::load`], which verifies every hash; `camp run` on sources
//! builds the same value with [`Deployment::build`].
//!
//! The deployment's hash is the content hash of its manifest (every field
//! but `hash`, canonical JSON), and the manifest names each plan's own
//! content hash: so it changes when any plan, the schema projection or the
//! policy facts change, and not otherwise.

use super::hash::hash_without_field;
use super::{Plan, PlanError};
use crate::program::Program;
pub use crate::schema::EventStorage;
use crate::schema::{FieldModel, SchemaModel, TableModel};
use crate::templating::DEFAULT_ZONE;
pub use crate::types::FieldType;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The deployment format this compiler writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The manifest's file name inside a deployment directory.
pub const MANIFEST: &str = "manifest.json";

/// Where plans live inside a deployment directory.
pub const PLANS_DIR: &str = "plans";

/// Every plan of a workspace, with what the runtime reads besides them.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub format_version: u32,
    /// SHA-256 (lowercase hex) of the canonical JSON of the manifest
    /// without its `hash`.
    pub hash: String,
    pub schema: Schema,
    pub policy: Policy,
    /// By campaign name, ascending.
    pub plans: Vec<Plan>,
}

/// `manifest.json`: the deployment without the plans' content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub hash: String,
    pub schema: Schema,
    pub policy: Policy,
    pub plans: Vec<PlanEntry>,
}

/// One plan of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanEntry {
    /// The campaign.
    pub name: String,
    /// The plan's file, relative to the deployment directory
    /// (`plans/<campaign>.json`).
    pub file: String,
    /// The plan's own content hash.
    pub hash: String,
}

/// The policy facts the runtime reads. Everything else of the policy
/// (quiet hours, caps, sender and opt-out texts) is compiled into each plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// The policy's time zone (Asia/Seoul when it names none): event times
    /// without an offset, and customers without a valid zone of their own.
    pub zone: String,
}

/// The part of the schema the runtime reads: tables, their keys and typed
/// columns, and where each event is stored. Spans, files, docs and field
/// defaults stay with the compiler.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Schema {
    pub customer: Option<Table>,
    /// The lookup tables (`ref` targets).
    pub tables: Vec<Table>,
    pub events_table: Option<EventsTable>,
    pub events: Vec<Event>,
    /// Per channel name, the customer field its address is read from: the
    /// schema's `contact FIELD for channel C` line, else the first field of
    /// the channel's contact type. A channel not listed needs no address.
    #[serde(default)]
    pub reach: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    /// The database table.
    pub source: String,
    pub key: String,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    pub ty: FieldType,
    pub nullable: bool,
}

/// The shared events table's columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsTable {
    pub source: String,
    pub customer_column: String,
    pub type_column: String,
    pub time_column: String,
    pub props_column: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub name: String,
    pub storage: EventStorage,
    pub props: Vec<Field>,
}

impl Table {
    fn of(t: &TableModel) -> Table {
        Table {
            name: t.name.clone(),
            source: t.source.clone(),
            key: t.key.clone(),
            fields: t.fields.iter().map(Field::of).collect(),
        }
    }

    /// A field by name or alias.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name || f.alias.as_deref() == Some(name))
    }
}

impl Field {
    fn of(f: &FieldModel) -> Field {
        Field {
            name: f.name.clone(),
            alias: f.alias.clone(),
            ty: f.ty.clone(),
            nullable: f.nullable,
        }
    }
}

impl Event {
    /// A property by name or alias.
    pub fn prop(&self, name: &str) -> Option<&Field> {
        self.props.iter().find(|f| f.name == name || f.alias.as_deref() == Some(name))
    }
}

impl Schema {
    /// The runtime's view of a checked schema.
    pub fn of(model: &SchemaModel) -> Schema {
        Schema {
            customer: model.customer.as_ref().map(Table::of),
            tables: model.tables.iter().map(Table::of).collect(),
            events_table: model.events_table.as_ref().map(|t| EventsTable {
                source: t.source.clone(),
                customer_column: t.customer_column.clone(),
                type_column: t.type_column.clone(),
                time_column: t.time_column.clone(),
                props_column: t.props_column.clone(),
            }),
            events: model
                .events
                .iter()
                .map(|e| Event {
                    name: e.name.clone(),
                    storage: e.storage.clone(),
                    props: e.props.iter().map(Field::of).collect(),
                })
                .collect(),
            reach: crate::channel::Channel::ALL
                .iter()
                .filter_map(|c| Some((c.name().to_string(), model.contact_field(c.name())?.name.clone())))
                .collect(),
        }
    }

    /// The customer field a channel reads its address from.
    pub fn contact_field(&self, channel: &str) -> Option<&Field> {
        let field = self.reach.get(channel)?;
        self.customer.as_ref()?.fields.iter().find(|f| &f.name == field)
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn event(&self, name: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.name == name)
    }

    /// The customer field that holds the time zone, if any.
    pub fn timezone_field(&self) -> Option<&Field> {
        self.customer.as_ref()?.fields.iter().find(|f| f.ty == FieldType::Tz)
    }
}

impl Policy {
    pub fn of(program: &Program) -> Policy {
        Policy {
            zone: program
                .policy
                .timezone
                .as_deref()
                .filter(|z| z.parse::<chrono_tz::Tz>().is_ok())
                .unwrap_or(DEFAULT_ZONE)
                .to_string(),
        }
    }
}

/// A plan's file inside a deployment directory.
pub fn plan_file(campaign: &str) -> String {
    format!("{PLANS_DIR}/{campaign}.json")
}

impl Deployment {
    /// The deployment of every campaign of a checked program.
    pub fn build(program: &Program) -> Result<Deployment, PlanError> {
        let plans = program
            .campaigns
            .keys()
            .map(|name| super::build(program, name))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Deployment::new(Schema::of(&program.schema), Policy::of(program), plans))
    }

    /// A deployment of these plans (sorted by name here), with its hash.
    pub fn new(schema: Schema, policy: Policy, mut plans: Vec<Plan>) -> Deployment {
        plans.sort_by(|a, b| a.name.cmp(&b.name));
        let mut d = Deployment {
            format_version: FORMAT_VERSION,
            hash: String::new(),
            schema,
            policy,
            plans,
        };
        d.hash = d.manifest().content_hash();
        d
    }

    /// The manifest that describes this deployment.
    pub fn manifest(&self) -> Manifest {
        Manifest {
            format_version: self.format_version,
            hash: self.hash.clone(),
            schema: self.schema.clone(),
            policy: self.policy.clone(),
            plans: self
                .plans
                .iter()
                .map(|p| PlanEntry {
                    name: p.name.clone(),
                    file: plan_file(&p.name),
                    hash: p.hash.clone(),
                })
                .collect(),
        }
    }

    /// A plan by campaign name.
    pub fn plan(&self, name: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.name == name)
    }

    /// Every file of the deployment directory, as (relative path, content):
    /// the manifest first, then the plans.
    pub fn files(&self) -> Vec<(String, String)> {
        let mut out = vec![(MANIFEST.to_string(), self.manifest().to_json())];
        out.extend(self.plans.iter().map(|p| (plan_file(&p.name), p.to_json())));
        out
    }

    /// Reads a deployment: the manifest's text, and `read` for the text of
    /// each plan file it names (a path relative to the directory). Refuses
    /// other format versions, an altered manifest, and a plan file that is
    /// altered or not the one the manifest names.
    pub fn load(manifest_json: &str, mut read: impl FnMut(&str) -> Result<String, String>) -> Result<Deployment, DeploymentError> {
        let manifest = Manifest::from_json(manifest_json)?;
        let mut plans = Vec::with_capacity(manifest.plans.len());
        for entry in &manifest.plans {
            // A campaign name is an identifier: never a path.
            if entry.name.is_empty() || entry.name.chars().any(|c| matches!(c, '/' | '\\' | '.' | ':') || c.is_control()) {
                return Err(DeploymentError::new(
                    MANIFEST,
                    format!("`{}` is not a campaign name", entry.name.escape_debug()),
                    RECOMPILE,
                ));
            }
            if entry.file != plan_file(&entry.name) {
                return Err(DeploymentError::new(
                    MANIFEST,
                    format!("plan `{}` is listed with the file `{}`", entry.name, entry.file),
                    format!("a deployment keeps each plan in `{}`", plan_file(&entry.name)),
                ));
            }
            if plans.iter().any(|p: &Plan| p.name == entry.name) {
                return Err(DeploymentError::new(
                    MANIFEST,
                    format!("campaign `{}` is listed twice", entry.name),
                    RECOMPILE,
                ));
            }
            let text = read(&entry.file).map_err(|e| {
                DeploymentError::new(
                    &entry.file,
                    format!("cannot read the plan: {e}"),
                    "the directory is incomplete; compile it again",
                )
            })?;
            let plan = Plan::from_json(&text).map_err(|e| {
                let help = match e {
                    PlanError::FormatVersion { .. } => "compile the workspace again with this camp",
                    _ => "the plan was edited by hand or damaged; compile the workspace again",
                };
                DeploymentError::new(&entry.file, e.to_string(), help)
            })?;
            if plan.name != entry.name || plan.hash != entry.hash {
                return Err(DeploymentError::new(
                    &entry.file,
                    format!(
                        "the plan is not the one the manifest names (manifest: `{}` {}, file: `{}` {})",
                        entry.name,
                        short(&entry.hash),
                        plan.name,
                        short(&plan.hash)
                    ),
                    "the directory mixes two compilations; compile the workspace again",
                ));
            }
            plans.push(plan);
        }
        let d = Deployment::new(manifest.schema, manifest.policy, plans);
        if d.hash != manifest.hash {
            // `Manifest::from_json` checked the hash; only a plan order
            // other than by name can differ, which this camp never writes.
            return Err(DeploymentError::new(MANIFEST, "the plans are not listed by name", RECOMPILE));
        }
        Ok(d)
    }
}

const RECOMPILE: &str = "compile the workspace again: `camp compile --out DIR`";

/// The first 12 hex digits of a hash, as logs and messages show it.
pub fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

impl Manifest {
    /// The hash of this manifest's content (every field but `hash`).
    pub fn content_hash(&self) -> String {
        hash_without_field(self)
    }

    /// Pretty JSON, fields in declaration order.
    pub fn to_json(&self) -> String {
        // Only strings, numbers, maps and sequences: it always serializes.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a manifest, refusing other format versions and altered content.
    pub fn from_json(json: &str) -> Result<Manifest, DeploymentError> {
        #[derive(Deserialize)]
        struct Version {
            format_version: Option<u64>,
        }
        let not_json = |e: serde_json::Error| {
            DeploymentError::new(
                MANIFEST,
                format!("not a deployment manifest: {e}"),
                "the file was edited by hand or damaged; compile the workspace again",
            )
        };
        let version: Version = serde_json::from_str(json).map_err(not_json)?;
        match version.format_version {
            Some(v) if v == u64::from(FORMAT_VERSION) => {}
            Some(v) => {
                return Err(DeploymentError::new(
                    MANIFEST,
                    format!("deployment format version {v} is not supported (this camp reads version {FORMAT_VERSION})"),
                    "compile the workspace again with this camp, or run the camp version that compiled it",
                ))
            }
            None => {
                return Err(DeploymentError::new(
                    MANIFEST,
                    "not a deployment manifest: it has no `format_version`",
                    RECOMPILE,
                ))
            }
        }
        let manifest: Manifest = serde_json::from_str(json).map_err(not_json)?;
        if manifest.hash != manifest.content_hash() {
            return Err(DeploymentError::new(
                MANIFEST,
                "the manifest's hash does not match its content",
                "the manifest was edited by hand or damaged; compile the workspace again",
            ));
        }
        Ok(manifest)
    }
}

/// Why a deployment could not be read: the file (relative to the
/// deployment directory), what is wrong, and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentError {
    pub file: String,
    pub message: String,
    pub help: String,
}

impl DeploymentError {
    fn new(file: &str, message: impl Into<String>, help: impl Into<String>) -> DeploymentError {
        DeploymentError {
            file: file.to_string(),
            message: message.into(),
            help: help.into(),
        }
    }
}

impl fmt::Display for DeploymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}\n  help: {}", self.file, self.message, self.help)
    }
}

impl std::error::Error for DeploymentError {}
