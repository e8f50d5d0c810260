//! `camp.toml`: optional for `check`; defaults apply without it.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub workspace: WorkspaceConfig,
    #[serde(default)]
    pub channels: BTreeMap<String, toml::Table>,
    /// `[review]`: what `camp review` previews and the gates it enforces.
    #[serde(default)]
    pub review: ReviewConfig,
    /// `[seeds.GROUP]`: who `camp send-test --to GROUP` sends to.
    #[serde(default)]
    pub seeds: BTreeMap<String, SeedGroup>,
    /// `[prices]`: what one message costs per channel (KRW, `lms = 30`),
    /// for the cost `camp review` shows.
    #[serde(default)]
    pub prices: BTreeMap<String, f64>,
}

/// `[review]` of camp.toml.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewConfig {
    /// Customer ids whose messages are rendered in the review.
    #[serde(default)]
    pub seeds: Vec<String>,
    /// The largest change of a changed campaign's audience, `"20%"`.
    pub max_audience_change: Option<toml::Value>,
    /// The most sends (over all campaigns of the head) the caps may block.
    pub max_blocked_by_caps: Option<u64>,
    /// Statuses that fail the review: `added`, `changed`, `removed`.
    #[serde(default)]
    pub fail_on: Vec<String>,
}

/// `[seeds.GROUP]` of camp.toml: customers (by id), and people who are not
/// customers (by phone or email).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedGroup {
    #[serde(default)]
    pub customers: Vec<String>,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub emails: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceConfig {
    pub name: Option<String>,
    #[serde(default = "default_timezone")]
    pub timezone: String,
    pub database: Option<String>,
    #[serde(default = "default_dialect")]
    pub dialect: String,
}

impl Default for WorkspaceConfig {
    fn default() -> Self {
        WorkspaceConfig {
            name: None,
            timezone: default_timezone(),
            database: None,
            dialect: default_dialect(),
        }
    }
}

fn default_timezone() -> String {
    "Asia/Seoul".into()
}

fn default_dialect() -> String {
    "sqlite".into()
}

impl Config {
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}
