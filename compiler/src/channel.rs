//! The channels camp sends on and the limits carriers enforce on them.

/// How a channel counts length: SMS-family carriers count EUC-KR/CP949 bytes
/// (Hangul 2, ASCII 1); the Kakao brand message counts UTF-16 code units
/// (an emoji is 2); Alimtalk, RCS, push and email count characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Chars,
    Utf16,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Bytes => "bytes",
            Unit::Chars | Unit::Utf16 => "characters",
        }
    }

    /// The length of a rendered text in this unit (bytes: EUC-KR, with a
    /// character it cannot encode counted 2).
    pub fn count(self, text: &str) -> usize {
        match self {
            Unit::Chars => text.chars().count(),
            Unit::Utf16 => text.encode_utf16().count(),
            Unit::Bytes => {
                let mut buf = [0u8; 4];
                text.chars()
                    .map(|ch| {
                        let (encoded, _, bad) = encoding_rs::EUC_KR.encode(ch.encode_utf8(&mut buf));
                        if bad {
                            2
                        } else {
                            encoded.len()
                        }
                    })
                    .sum()
            }
        }
    }
}

/// The layout of a brand message or an RCS message (`format wide`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Brand: text and buttons. RCS: a standalone message (LMS-like, 1,300).
    Text,
    /// Brand: an image above up to 400 characters.
    Image,
    /// Brand: a wide image above up to 76 characters.
    Wide,
    /// Brand: a header and 3-4 items.
    WideList,
    /// Brand and RCS: 2-6 cards.
    Carousel,
    /// Brand: a product image with the text below it.
    Commerce,
    /// RCS: a standalone SMS-like message (100 characters).
    Short,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Image => "image",
            Format::Wide => "wide",
            Format::WideList => "wide_list",
            Format::Carousel => "carousel",
            Format::Commerce => "commerce",
            Format::Short => "short",
        }
    }

    /// The formats a channel takes (empty: it takes no `format`).
    pub fn of(channel: Channel) -> &'static [Format] {
        match channel {
            Channel::Brand | Channel::Friendtalk => &[
                Format::Text,
                Format::Image,
                Format::Wide,
                Format::WideList,
                Format::Carousel,
                Format::Commerce,
            ],
            Channel::Rcs => &[Format::Text, Format::Short, Format::Carousel],
            _ => &[],
        }
    }

    pub fn parse(channel: Channel, name: &str) -> Option<Format> {
        Format::of(channel).iter().copied().find(|f| f.name() == name)
    }
}

/// What a list of items or a carousel of cards takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListLimits {
    pub min: usize,
    pub max: usize,
    /// Wide list: the first item's text; carousel: a card's title.
    pub first: Option<usize>,
    /// Wide list: every other item's text; carousel: a card's text.
    pub rest: Option<usize>,
    /// Buttons on each card.
    pub buttons: usize,
    pub button_label: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Sms,
    Lms,
    Mms,
    Alimtalk,
    Friendtalk,
    Brand,
    Rcs,
    Push,
    Email,
    Webhook,
}

/// The kind of address a channel reads from the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactKind {
    Phone,
    Email,
    PushToken,
}

impl ContactKind {
    /// The field type that holds it.
    pub fn field_type(self) -> crate::types::FieldType {
        match self {
            ContactKind::Phone => crate::types::FieldType::Phone,
            ContactKind::Email => crate::types::FieldType::Email,
            ContactKind::PushToken => crate::types::FieldType::PushToken,
        }
    }

    /// Its name in payloads (`to.phone`) and messages.
    pub fn name(self) -> &'static str {
        match self {
            ContactKind::Phone => "phone",
            ContactKind::Email => "email",
            ContactKind::PushToken => "push_token",
        }
    }
}

/// What a channel accepts. `None` means no limit; a part that is not allowed
/// has `allowed: false`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub unit: Unit,
    pub body: Option<usize>,
    /// Body limit when an image is attached (Kakao friendtalk: 400 characters).
    pub body_with_image: Option<usize>,
    pub subject: PartLimit,
    pub title: PartLimit,
    pub image: bool,
    pub buttons: usize,
    pub button_label: Option<usize>,
    /// Alimtalk needs a pre-approved template code.
    pub needs_template_code: bool,
    /// Whether the carrier can encode only EUC-KR/CP949 (no emoji).
    pub euc_kr_only: bool,
    /// Whether the message has a body at all (a wide list or a carousel
    /// has items or cards instead).
    pub body_allowed: bool,
    /// Line breaks the body may have.
    pub line_breaks: Option<usize>,
    /// Whether the format needs an `image`.
    pub needs_image: bool,
    /// `item "text" -> "url"` entries (brand wide list).
    pub items: Option<ListLimits>,
    /// `card { .. }` entries (carousels).
    pub cards: Option<ListLimits>,
}

#[derive(Debug, Clone, Copy)]
pub struct PartLimit {
    pub allowed: bool,
    pub max: Option<usize>,
}

const NONE: PartLimit = PartLimit { allowed: false, max: None };

const fn up_to(max: usize) -> PartLimit {
    PartLimit {
        allowed: true,
        max: Some(max),
    }
}

const ANY: PartLimit = PartLimit { allowed: true, max: None };

/// The defaults of every field after `euc_kr_only`.
const PLAIN: Limits = Limits {
    unit: Unit::Chars,
    body: None,
    body_with_image: None,
    subject: NONE,
    title: NONE,
    image: false,
    buttons: 0,
    button_label: None,
    needs_template_code: false,
    euc_kr_only: false,
    body_allowed: true,
    line_breaks: None,
    needs_image: false,
    items: None,
    cards: None,
};

impl Channel {
    pub const ALL: [Channel; 10] = [
        Channel::Sms,
        Channel::Lms,
        Channel::Mms,
        Channel::Alimtalk,
        Channel::Friendtalk,
        Channel::Brand,
        Channel::Rcs,
        Channel::Push,
        Channel::Email,
        Channel::Webhook,
    ];

    pub fn parse(name: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Lms => "lms",
            Channel::Mms => "mms",
            Channel::Alimtalk => "alimtalk",
            Channel::Friendtalk => "friendtalk",
            Channel::Brand => "brand",
            Channel::Rcs => "rcs",
            Channel::Push => "push",
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }

    pub fn names() -> impl Iterator<Item = &'static str> + Clone {
        Channel::ALL.into_iter().map(Channel::name)
    }

    /// The carriers' limits (see docs/channels.md for sources and choices).
    pub fn limits(self) -> Limits {
        let sms_family = |body, subject, image| Limits {
            unit: Unit::Bytes,
            body: Some(body),
            body_with_image: None,
            subject,
            title: NONE,
            image,
            buttons: 0,
            button_label: None,
            needs_template_code: false,
            euc_kr_only: true,
            ..PLAIN
        };
        let kakao = |body_with_image, needs_template_code, image| Limits {
            unit: Unit::Chars,
            body: Some(1_000),
            body_with_image,
            subject: NONE,
            title: up_to(50),
            image,
            buttons: 5,
            button_label: Some(14),
            needs_template_code,
            euc_kr_only: false,
            ..PLAIN
        };
        match self {
            Channel::Sms => sms_family(90, NONE, false),
            Channel::Lms => sms_family(2_000, up_to(40), false),
            Channel::Mms => sms_family(2_000, up_to(40), true),
            Channel::Alimtalk => kakao(None, true, false),
            Channel::Friendtalk | Channel::Brand => Channel::Brand.limits_for(Format::Text),
            Channel::Rcs => Limits {
                unit: Unit::Chars,
                body: Some(1_300),
                body_with_image: None,
                subject: NONE,
                title: up_to(30),
                image: true,
                buttons: 2,
                button_label: Some(17),
                needs_template_code: false,
                euc_kr_only: false,
                ..PLAIN
            },
            Channel::Push => Limits {
                unit: Unit::Chars,
                body: Some(1_000),
                body_with_image: None,
                subject: NONE,
                title: up_to(50),
                image: true,
                buttons: 3,
                button_label: Some(20),
                needs_template_code: false,
                euc_kr_only: false,
                ..PLAIN
            },
            Channel::Email => Limits {
                unit: Unit::Chars,
                body: None,
                body_with_image: None,
                subject: up_to(200),
                title: ANY,
                image: true,
                buttons: 10,
                button_label: Some(50),
                needs_template_code: false,
                euc_kr_only: false,
                ..PLAIN
            },
            Channel::Webhook => Limits {
                unit: Unit::Chars,
                body: None,
                body_with_image: None,
                subject: ANY,
                title: ANY,
                image: true,
                buttons: usize::MAX,
                button_label: None,
                needs_template_code: false,
                euc_kr_only: false,
                ..PLAIN
            },
        }
    }

    /// The limits of one format on the brand message or RCS; other
    /// channels have one layout and ignore `format`.
    pub fn limits_for(self, format: Format) -> Limits {
        let brand = Limits {
            unit: Unit::Utf16,
            body: Some(1_300),
            body_with_image: None,
            subject: NONE,
            title: up_to(50),
            image: false,
            buttons: 5,
            button_label: Some(14),
            needs_template_code: false,
            euc_kr_only: false,
            line_breaks: Some(99),
            ..PLAIN
        };
        match (self, format) {
            (Channel::Brand | Channel::Friendtalk, Format::Text) => brand,
            (Channel::Brand | Channel::Friendtalk, Format::Image | Format::Commerce) => Limits {
                body: Some(400),
                image: true,
                needs_image: true,
                ..brand
            },
            (Channel::Brand | Channel::Friendtalk, Format::Wide) => Limits {
                body: Some(76),
                line_breaks: Some(1),
                image: true,
                needs_image: true,
                buttons: 2,
                button_label: Some(8),
                ..brand
            },
            (Channel::Brand | Channel::Friendtalk, Format::WideList) => Limits {
                body: None,
                body_allowed: false,
                line_breaks: None,
                title: up_to(20),
                buttons: 2,
                items: Some(ListLimits {
                    min: 3,
                    max: 4,
                    first: Some(25),
                    rest: Some(30),
                    buttons: 0,
                    button_label: None,
                }),
                ..brand
            },
            (Channel::Brand | Channel::Friendtalk, Format::Carousel) => Limits {
                body: None,
                body_allowed: false,
                line_breaks: None,
                title: NONE,
                buttons: 0,
                cards: Some(ListLimits {
                    min: 2,
                    max: 6,
                    first: Some(20),
                    rest: Some(180),
                    buttons: 2,
                    button_label: Some(8),
                }),
                ..brand
            },
            (Channel::Rcs, Format::Short) => Limits {
                body: Some(100),
                title: NONE,
                image: false,
                buttons: 1,
                ..self.limits()
            },
            (Channel::Rcs, Format::Carousel) => Limits {
                body: None,
                body_allowed: false,
                title: NONE,
                image: false,
                buttons: 0,
                cards: Some(ListLimits {
                    min: 2,
                    max: 6,
                    first: Some(30),
                    rest: Some(60),
                    buttons: 2,
                    button_label: Some(17),
                }),
                ..self.limits()
            },
            _ => self.limits(),
        }
    }

    /// What kind of address the channel delivers to: a phone number for the
    /// SMS family, Kakao and RCS, an email address, a push token; none for
    /// a webhook (its receiver finds the customer by key).
    pub fn contact(self) -> Option<ContactKind> {
        match self {
            Channel::Sms | Channel::Lms | Channel::Mms | Channel::Alimtalk | Channel::Friendtalk | Channel::Brand | Channel::Rcs => {
                Some(ContactKind::Phone)
            }
            Channel::Email => Some(ContactKind::Email),
            Channel::Push => Some(ContactKind::PushToken),
            Channel::Webhook => None,
        }
    }

    /// The next larger channel of the same family, for `help:` lines.
    pub fn larger(self) -> Option<Channel> {
        match self {
            Channel::Sms => Some(Channel::Lms),
            _ => None,
        }
    }
}

/// How long a rendered text is on a channel: EUC-KR/CP949 bytes for the
/// SMS family, characters elsewhere; and the characters the channel cannot
/// carry (emoji on SMS).
pub fn rendered_length(channel: Channel, text: &str) -> (usize, Vec<char>) {
    let limits = channel.limits();
    if limits.unit != Unit::Bytes {
        return (limits.unit.count(text), Vec::new());
    }
    let mut bytes = 0;
    let mut unencodable = Vec::new();
    let mut buf = [0u8; 4];
    for ch in text.chars() {
        let (encoded, _, had_errors) = encoding_rs::EUC_KR.encode(ch.encode_utf8(&mut buf));
        if had_errors {
            unencodable.push(ch);
        } else {
            bytes += encoded.len();
        }
    }
    (bytes, unencodable)
}

/// Whether a rendered body fits its channel, in words: `SMS 84/90 bytes, ok`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub length: usize,
    pub limit: Option<usize>,
    pub unit: Unit,
    pub problems: Vec<String>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks a rendered body (and subject) against the channel's limits.
pub fn verdict(channel: Channel, body: &str, subject: Option<&str>) -> Verdict {
    let limits = channel.limits();
    let (length, unencodable) = rendered_length(channel, body);
    let mut problems = Vec::new();
    if let Some(limit) = limits.body.filter(|l| length > *l) {
        problems.push(format!(
            "{length} {} is over the {} limit of {limit}",
            limits.unit.name(),
            channel.name()
        ));
    }
    if !unencodable.is_empty() {
        let chars: String = unencodable.iter().collect();
        problems.push(format!("{} cannot carry {chars:?}", channel.name()));
    }
    if let Some(subject) = subject {
        let (len, _) = rendered_length(channel, subject);
        match limits.subject {
            PartLimit { allowed: false, .. } => problems.push(format!("{} has no subject", channel.name())),
            PartLimit { max: Some(max), .. } if len > max => {
                problems.push(format!("the subject is {len} {}, over {max}", limits.unit.name()))
            }
            _ => {}
        }
    }
    Verdict {
        length,
        limit: limits.body,
        unit: limits.unit,
        problems,
    }
}
