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
        let mut seen = std::collections::HashSet::new();
        self.sizes
            .retain(|s| seen.insert((s.message.clone(), s.campaign.clone(), s.channel, s.file)));
        let mut seen = std::collections::HashSet::new();
        self.ads.retain(|a| seen.insert((a.message.clone(), a.campaign.clone(), a.file)));
    }

    pub(crate) fn finish(mut self) -> Self {
        self.dedupe();
        self
    }
}
