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
