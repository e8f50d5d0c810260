//! The plan: everything the runtime needs to execute one campaign, as
//! versioned serde JSON (DESIGN §5). The runtime executes plans, never
//! `.camp` text.
//!
//! A plan holds the campaign's kind, channels, trigger, a flat step machine
//! with explicit jumps, send window, quiet hours and caps (the campaign's
//! and the policy's that apply), priority, experiment, the compiled
//! templates of every message it sends, and its SQL per dialect. Its `hash`
//! is the SHA-256 of the canonical JSON of everything else, so two builds of
//! an unchanged campaign agree and any change in behaviour shows.
//!
//! Times of day are minutes since midnight (`21:00` is 1260), in the
//! customer's zone (the policy's zone when the customer has none); durations
//! are seconds.

mod build;
pub mod deployment;
mod hash;

pub use build::build;
pub use deployment::Deployment;

use crate::lower::{CampaignQueries, Query};
use crate::templating::{CompiledMessage, TemplateError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The plan format this compiler writes and reads.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    /// SHA-256 (lowercase hex) of the canonical JSON of every other field.
    pub hash: String,
    pub name: String,
    pub kind: Kind,
    /// The policy's zone: for customers without a valid zone of their own,
    /// and for scheduled triggers.
    pub zone: String,
    pub channels: Channels,
    pub trigger: Trigger,
    /// Where an enrollment starts; `None` when the campaign has variants
    /// (each variant has its own entry).
    pub entry: Option<usize>,
    /// The step machine: `steps[i].id == i`; jumps name step ids.
    pub steps: Vec<Step>,
    /// Sends happen only inside this daily range.
    pub window: Option<Window>,
    pub quiet_hours: Vec<QuietHours>,
    pub caps: Vec<Cap>,
    /// Higher wins when caps allow only some of the sends due together.
    pub priority: u64,
    pub experiment: Experiment,
    /// The customer's `consent` fields the audience requires: the runtime
    /// reads them again at the moment of sending and drops a send that
    /// lacks one (a customer who withdrew consent after enrolling).
    #[serde(default)]
    pub consent: Vec<String>,
    /// Whether a customer may start another journey: by default at most one
    /// runs at a time (left out of the JSON then, so plans written before
    /// the rule existed keep their hash).
    #[serde(default, skip_serializing_if = "Reentry::is_default")]
    pub reentry: Reentry,
    /// Every message the campaign sends, by name, compiled with the
    /// campaign's trigger.
    pub messages: BTreeMap<String, CompiledMessage>,
    pub sql: Dialects<CampaignQueries>,
    /// The checker's worst-case size of each message body on each channel
    /// this campaign sends it on (fallbacks included), for `camp review`.
    /// Absent in plans of earlier camps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sizes: Vec<SizeFact>,
    /// For `kind ad`: the ad-law rules each message's body passed, as the
    /// checker judged them. Absent for `kind info` and in earlier plans.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ad_law: Vec<AdFact>,
}

/// A message body's worst case on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeFact {
    pub message: String,
    pub channel: String,
    /// The worst-case length in `unit`.
    pub worst: usize,
    /// The channel's limit (`None`: no limit).
    pub limit: Option<usize>,
    /// `bytes` (EUC-KR) or `characters`.
    pub unit: String,
}

/// The ad-law body rules of one message of a `kind ad` campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdFact {
    pub message: String,
    /// Starts with exactly "(광고)" (the subject on email).
    pub prefix: bool,
    /// Names the sender.
    pub sender: bool,
    /// Carries the free opt-out line.
    pub optout: bool,
}

/// `kind ad` (광고성) or `kind info` (정보성).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Ad,
    Info,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ad => "ad",
            Kind::Info => "info",
        }
    }
}

/// One value per SQL dialect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dialects<T> {
    pub sqlite: T,
    pub postgres: T,
}

/// The channel a send goes out on first, and the ones tried after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channels {
    pub primary: String,
    pub fallbacks: Vec<Fallback>,
}

impl Channels {
    /// Every channel, primary first.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.primary.as_str()).chain(self.fallbacks.iter().map(|f| f.channel.as_str()))
    }
}

/// `fallback lms after 24h`: sent on `channel` when the previous channel
/// has not delivered (or been read) within `after` seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fallback {
    pub channel: String,
    pub after: u64,
}

/// When enrollments are created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Trigger {
    /// `on E [where C]`: each event E whose filter holds enrolls its
    /// customer. The filter is one query per dialect for one customer and
    /// one triggering event (`1` when it holds); it is also part of `check`.
    On { event: String, filter: Option<Dialects<Query>> },
    /// `at 2026-12-04 12:00` in the policy's zone, as a UTC instant.
    At {
        /// RFC 3339, UTC: `2026-12-04T03:00:00Z`.
        at: String,
        /// Seconds since the Unix epoch.
        unix: i64,
    },
    /// `every monday at 11:00`: at a minute of the day, in the policy's zone.
    Every { every: Every, at: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "unit", rename_all = "snake_case")]
pub enum Every {
    Day,
    /// Monday to Friday.
    Weekday,
    DayOfWeek {
        day: Weekday,
    },
    /// `15th of month`; months without that day are skipped.
    DayOfMonth {
        day: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

/// `reentry ..`: what a trigger does for a customer who entered before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Reentry {
    /// No clause: at most one running journey per customer; a trigger
    /// while one runs is ignored ("already in the journey").
    #[default]
    Single,
    /// `reentry restart`: the trigger exits the running journey
    /// ("restarted") and starts a new one.
    Restart,
    /// `reentry after D`: no new journey within `seconds` of the customer's
    /// last entry (journeys may overlap when they last longer).
    After { seconds: u64 },
    /// `reentry never`: one journey per customer, ever.
    Never,
    /// `reentry always`: one journey per trigger occurrence.
    Always,
}

impl Reentry {
    pub fn is_default(&self) -> bool {
        *self == Reentry::Single
    }

    /// Whether the store keeps at most one running journey per customer
    /// (its partial unique index holds these enrollments).
    pub fn single(&self) -> bool {
        matches!(self, Reentry::Single | Reentry::Restart | Reentry::Never)
    }
}

/// `send M expires ..`: when a send that has not gone out is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Expiry {
    /// `expires at 21:00`: this minute of the customer's local day on which
    /// the step became due.
    At { minute: u32 },
    /// `expires after 3h`: this many seconds after the step became due.
    After { seconds: u64 },
}

/// One state of the step machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub id: usize,
    pub op: Op,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Op {
    /// `wait 24h`
    Wait { seconds: u64, next: usize },
    /// `wait until 10:00`: the next time the customer's clock shows this
    /// minute of the day (later than now).
    WaitUntil { minute: u32, next: usize },
    /// `send M [via C] [expires ..]`: exit conditions, consent, window,
    /// quiet hours and caps are checked first; a send that would go out
    /// after its expiry (deferral included) is skipped as "expired".
    Send {
        message: String,
        channels: Channels,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires: Option<Expiry>,
        next: usize,
    },
    /// `if C { .. } else { .. }`: `condition` indexes `sql.*.branches`.
    Branch {
        condition: usize,
        then: usize,
        #[serde(rename = "else")]
        otherwise: usize,
    },
    /// `exit`: the enrollment ends here.
    Exit,
    /// The end of the steps: the enrollment is complete.
    End,
}

impl Op {
    /// The steps this one can go to next.
    pub fn successors(&self) -> Vec<usize> {
        match self {
            Op::Wait { next, .. } | Op::WaitUntil { next, .. } | Op::Send { next, .. } => vec![*next],
            Op::Branch { then, otherwise, .. } => vec![*then, *otherwise],
            Op::Exit | Op::End => Vec::new(),
        }
    }
}

/// A daily range of minutes, `from..to`, wrapping midnight when `from > to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: u32,
    pub to: u32,
}

/// Where a quiet-hours rule or a cap was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The campaign's own: a cap counts this campaign's sends only.
    Campaign,
    /// The policy's: a cap counts the sends of every campaign in its scope.
    Policy,
    /// The law's, built in: counted like the policy's, over every campaign
    /// (one brand message per recipient per day).
    Law,
}

/// Which sends a rule covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "for", rename_all = "snake_case")]
pub enum Scope {
    All,
    Kind {
        kind: String,
    },
    /// Only sends on this channel.
    Channel {
        channel: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuietMode {
    /// Send at the end of the quiet hours.
    Defer,
    /// Do not send.
    Skip,
}

/// Quiet hours that apply to this campaign's sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuietHours {
    pub from: u32,
    pub to: u32,
    pub mode: QuietMode,
    /// The rule does not hold for a customer for whom this query returns
    /// `1` (`unless customer.night_consent`).
    pub unless: Option<Dialects<Query>>,
    pub origin: Origin,
    pub scope: Scope,
}

/// At most `count` sends per `seconds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cap {
    pub count: u64,
    pub seconds: u64,
    pub origin: Origin,
    pub scope: Scope,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// Shares add up to 100, taken after the holdout.
    pub variants: Vec<Variant>,
    /// Percent of enrollments that get nothing (the control group).
    pub holdout: Option<f64>,
    pub goal: Option<Goal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub name: String,
    pub percent: f64,
    /// The step this variant starts at.
    pub entry: usize,
}

/// A conversion: the event `event` within `within` seconds of a send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    pub event: String,
    pub within: u64,
}

impl Plan {
    /// The hash of this plan's content (every field but `hash`).
    pub fn content_hash(&self) -> String {
        hash::content_hash(self)
    }

    /// Whether `hash` matches the content.
    pub fn verify(&self) -> bool {
        self.hash == self.content_hash()
    }

    /// Pretty JSON, fields in declaration order.
    pub fn to_json(&self) -> String {
        // A plan holds only strings, numbers, maps and sequences: it always
        // serializes.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a plan, refusing other format versions and altered content.
    pub fn from_json(json: &str) -> Result<Plan, PlanError> {
        #[derive(Deserialize)]
        struct Version {
            format_version: u64,
        }
        let version: Version = serde_json::from_str(json).map_err(|e| PlanError::Json(e.to_string()))?;
        if version.format_version != u64::from(FORMAT_VERSION) {
            return Err(PlanError::FormatVersion {
                found: version.format_version,
            });
        }
        let plan: Plan = serde_json::from_str(json).map_err(|e| PlanError::Json(e.to_string()))?;
        if !plan.verify() {
            return Err(PlanError::HashMismatch);
        }
        Ok(plan)
    }

    /// The steps reachable from the entries, for checks and tests.
    pub fn reachable(&self) -> Vec<bool> {
        let mut seen = vec![false; self.steps.len()];
        let mut stack: Vec<usize> = self
            .entry
            .into_iter()
            .chain(self.experiment.variants.iter().map(|v| v.entry))
            .collect();
        while let Some(i) = stack.pop() {
            match seen.get_mut(i) {
                Some(s) if !*s => *s = true,
                _ => continue,
            }
            if let Some(step) = self.steps.get(i) {
                stack.extend(step.op.successors());
            }
        }
        seen
    }
}

/// Why a plan could not be built or read.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanError {
    UnknownCampaign {
        name: String,
    },
    /// The campaign lacks something a checked one always has, or holds a
    /// value out of range (a checked program never gives this).
    Invalid {
        campaign: String,
        message: String,
    },
    /// A message the campaign sends does not compile.
    Template {
        campaign: String,
        message: String,
        error: TemplateError,
    },
    FormatVersion {
        found: u64,
    },
    Json(String),
    HashMismatch,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::UnknownCampaign { name } => write!(f, "unknown campaign `{name}`"),
            PlanError::Invalid { campaign, message } => write!(f, "campaign `{campaign}`: {message}"),
            PlanError::Template { campaign, message, error } => {
                write!(f, "campaign `{campaign}`, message `{message}`: {error}")
            }
            PlanError::FormatVersion { found } => {
                write!(
                    f,
                    "plan format version {found} is not supported (this camp reads version {FORMAT_VERSION})"
                )
            }
            PlanError::Json(e) => write!(f, "the plan is not valid JSON: {e}"),
            PlanError::HashMismatch => f.write_str("the plan's hash does not match its content"),
        }
    }
}

impl std::error::Error for PlanError {}
