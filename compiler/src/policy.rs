//! The workspace policy, resolved from `policy { .. }`.

use crate::channel::Channel;
use crate::source::FileId;
use camp_grammar::ast::{self, QuietMode, Span};

/// Which sends a quiet-hours rule or a cap applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendScope {
    All,
    Kind(String),
    Channel(String),
}

impl SendScope {
    pub fn from_ast(filter: &Option<ast::SendFilter>) -> SendScope {
        match filter {
            None => SendScope::All,
            Some(ast::SendFilter::Kind(k)) => SendScope::Kind(k.name.clone()),
            Some(ast::SendFilter::Channel(c)) => SendScope::Channel(c.name.clone()),
        }
    }

    /// Whether a send of this kind on this channel falls under the rule.
    pub fn matches(&self, kind: Option<&str>, channel: Channel) -> bool {
        match self {
            SendScope::All => true,
            SendScope::Kind(k) => kind == Some(k.as_str()),
            SendScope::Channel(c) => c == channel.name(),
        }
    }
}

/// Quiet hours as minutes of the day: `from..to`, wrapping midnight when
/// `from > to`.
#[derive(Debug, Clone, PartialEq)]
pub struct QuietRule {
    pub from: u32,
    pub to: u32,
    pub scope: SendScope,
    pub unless: Option<ast::Expr>,
    pub mode: QuietMode,
    pub file: FileId,
    pub span: Span,
}

impl QuietRule {
    /// Whether minute-of-day `m` is quiet.
    pub fn contains(&self, m: u32) -> bool {
        // from == to is refused when the rule is built.
        crate::check::timing::in_range(self.from, self.to, m)
    }
}

/// The numbers of `lifecycle(..)` (DESIGN §3.1), overridable by the policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifecycleParams {
    pub new_days: f64,
    pub active_ratio: f64,
    pub at_risk_ratio: f64,
    pub single_active_days: f64,
    pub single_at_risk_days: f64,
}

impl Default for LifecycleParams {
    fn default() -> Self {
        LifecycleParams {
            new_days: 30.0,
            active_ratio: 1.5,
            at_risk_ratio: 3.0,
            single_active_days: 90.0,
            single_at_risk_days: 180.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PolicyModel {
    pub file: Option<FileId>,
    pub timezone: Option<String>,
    pub sender: Option<String>,
    pub optout: Option<String>,
    /// `optout ".." for channel NAME`: a channel's own opt-out text.
    pub optout_by_channel: Vec<(String, String)>,
    pub quiet_hours: Vec<QuietRule>,
    pub caps: Vec<ast::Cap>,
    pub lifecycle: LifecycleParams,
}

impl PolicyModel {
    /// The opt-out text a channel's own rule gives, if any.
    pub fn optout_for(&self, channel: &str) -> Option<&str> {
        self.optout_by_channel.iter().find(|(c, _)| c == channel).map(|(_, t)| t.as_str())
    }

    /// The opt-out text sent on a channel: its own, else the policy's.
    pub fn optout_on(&self, channel: &str) -> Option<&str> {
        self.optout_for(channel).or(self.optout.as_deref())
    }
}

/// Minutes since midnight, if the time is a real one.
pub fn minutes(t: &ast::TimeOfDay) -> Option<u32> {
    (t.hour < 24 && t.minute < 60).then_some(t.hour * 60 + t.minute)
}
