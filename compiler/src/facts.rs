//! What the checker measured while checking, for tools that show it (the
//! language server's hover and inlay hints): each message's worst-case
//! length on each channel it is sent on, and the ad-law body rules it
//! passed. The numbers are the ones the channel and compliance checks
//! judged, never recomputed elsewhere.

use crate::channel::{Channel, Unit};
use crate::source::FileId;

/// A message body's worst case on one channel, in one campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSize {
    pub message: String,
    /// Where the message is defined.
    pub file: FileId,
    pub campaign: String,
    pub channel: Channel,
    /// The worst-case length in `unit`.
    pub worst: usize,
    /// The channel's limit for this body (`None`: no limit).
    pub limit: Option<usize>,
    pub unit: Unit,
}

impl MessageSize {
    pub fn fits(&self) -> bool {
        !matches!(self.limit, Some(l) if self.worst > l)
    }
}

/// The ad-law body rules (DESIGN §4) for a message sent by a `kind ad` campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdCheck {
    pub message: String,
    pub file: FileId,
    pub campaign: String,
    /// Starts with exactly "(광고)".
    pub prefix: bool,
    /// Names the sender.
    pub sender: bool,
    /// Carries the free opt-out line.
    pub optout: bool,
}

impl AdCheck {
    pub fn passes(&self) -> bool {
        self.prefix && self.sender && self.optout
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub sizes: Vec<MessageSize>,
    pub ads: Vec<AdCheck>,
}

impl Facts {
    /// Sizes of one message, one entry per (campaign, channel).
    pub fn sizes_of<'a>(&'a self, message: &'a str) -> impl Iterator<Item = &'a MessageSize> + 'a {
        self.sizes.iter().filter(move |s| s.message == message)
    }

    pub fn ads_of<'a>(&'a self, message: &'a str) -> impl Iterator<Item = &'a AdCheck> + 'a {
        self.ads.iter().filter(move |a| a.message == message)
    }

    /// One entry per (message, campaign, channel), in the order found.
    fn dedupe(&mut self) {
        let keep = first_of_each(&self.sizes, |s| (s.message.as_str(), s.campaign.as_str(), s.channel, s.file));
        let mut keep_it = keep.into_iter();
        self.sizes.retain(|_| keep_it.next().unwrap_or(true));
        let keep = first_of_each(&self.ads, |a| (a.message.as_str(), a.campaign.as_str(), a.file));
        let mut keep_it = keep.into_iter();
        self.ads.retain(|_| keep_it.next().unwrap_or(true));
    }

    pub(crate) fn finish(mut self) -> Self {
        self.dedupe();
        self
    }
}

/// For each item, whether it is the first with its key (keys borrowed, so
/// nothing is cloned).
fn first_of_each<'a, T, K: std::hash::Hash + Eq>(items: &'a [T], key: impl Fn(&'a T) -> K) -> Vec<bool> {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.iter().map(|item| seen.insert(key(item))).collect()
}
