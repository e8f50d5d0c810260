//! Pest errors in the author's words: "expected a duration like `24h`,
//! found `24x`". Every grammar rule has a label (an exhaustive match, so a
//! new rule cannot be forgotten); the expected set is filtered by the shape
//! of what was found, grouped, deduplicated and kept short.

use crate::grammar::Rule;
use crate::lex::{self, StringEnd};
use crate::words::{EVERY_WORDS, VALUE_WORDS, WEEKDAYS};
use crate::{Span, SyntaxError, SyntaxErrorKind};
use pest::error::{ErrorVariant, InputLocation};

/// What a token looks like, to drop expectations that cannot be what the
/// author meant (after `wait`, `24x` was meant as a duration, not `until`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Word,
    Number,
    Quote,
    Symbol,
    /// Composite rules: never dropped.
    Any,
}

/// Labels merged into one when several are expected at once.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Alone,
    Operator,
    Item,
    End,
}

struct Describe {
    label: &'static str,
    shape: Shape,
    group: Group,
    /// Keywords this rule starts with, for "did you mean".
    words: &'static [&'static str],
}

const fn d(label: &'static str, shape: Shape) -> Describe {
    Describe {
        label,
        shape,
        group: Group::Alone,
        words: &[],
    }
}

/// A composite rule that starts with one of `words`.
const fn starts(label: &'static str, words: &'static [&'static str]) -> Describe {
    Describe {
        label,
        shape: Shape::Any,
        group: Group::Alone,
        words,
    }
}

const fn kw(label: &'static str, word: &'static [&'static str]) -> Describe {
    Describe {
        label,
        shape: Shape::Word,
        group: Group::Alone,
        words: word,
    }
}

const fn op(label: &'static str, shape: Shape, words: &'static [&'static str]) -> Describe {
    Describe {
        label,
        shape,
        group: Group::Operator,
        words,
    }
}

const fn item(label: &'static str, word: &'static [&'static str]) -> Describe {
    Describe {
        label,
        shape: Shape::Word,
        group: Group::Item,
        words: word,
    }
}

const CAMPAIGN_WORDS: &[&str] = &[
    "kind", "channel", "trigger", "audience", "exit", "quiet", "window", "cap", "priority", "variant", "holdout", "goal", "reentry",
    "wait", "send", "if", "pad",
];
const POLICY_WORDS: &[&str] = &["timezone", "sender", "optout", "quiet", "cap", "lifecycle"];

/// The label of every rule. No wildcard arm: a new rule must be described.
fn describe(rule: Rule) -> Describe {
    use Shape::*;
    match rule {
        Rule::EOI => Describe {
            label: "the end of the item",
            shape: Any,
            group: Group::End,
            words: &[],
        },
        Rule::chunk | Rule::item => Describe {
            label: "a top-level item (`schema`, `policy`, `segment`, `message` or `campaign`)",
            shape: Any,
            group: Group::Item,
            words: &lex::ITEM_KEYWORDS,
        },
        // Silent rules: pest never reports them, but they need words too.
        Rule::WHITESPACE => d("blank space", Any),
        Rule::policy_word => d("a policy keyword", Word),
        Rule::digits => d("digits", Number),
        Rule::placeholder_raw => d("a placeholder like `#{name}`", Any),
        Rule::inner_string => d("a text in double quotes", Quote),
        Rule::primary => starts("a value", VALUE_WORDS),
        Rule::comparison_start => op("a comparison like `==` or `>=`", Symbol, &[]),
        Rule::value_keyword => starts("a value", VALUE_WORDS),
        // ---- lexical
        Rule::ident => d("a name", Word),
        Rule::int => d("a whole number like `3`", Number),
        Rule::decimal => d("a number like `1.5`", Number),
        Rule::duration => d("a duration like `24h`", Number),
        Rule::percent => d("a percentage like `50%`", Number),
        Rule::time_of_day => d("a time like `21:00`", Number),
        Rule::date_time => d("a date and time like `2026-12-01 11:00`", Number),
        Rule::ordinal => d("a day of the month like `1st`", Number),
        Rule::string => d("a text in double quotes", Quote),
        Rule::day_name => kw("a weekday like `monday`", WEEKDAYS),
        Rule::lbrace => d("`{`", Symbol),
        Rule::rbrace => d("`}`", Symbol),
        Rule::lparen => d("`(`", Symbol),
        Rule::rparen => d("`)`", Symbol),
        Rule::comma => d("`,`", Symbol),
        Rule::colon => d("`:`", Symbol),
        Rule::equals => d("`=`", Symbol),
        Rule::dotdot => d("`..`", Symbol),
        Rule::arrow => d("`->`", Symbol),
        Rule::dot => d("`.`", Symbol),
        Rule::question => d("`?`", Symbol),
        Rule::neg => d("`-`", Symbol),
        Rule::cmp_op | Rule::cmp_rhs => op("a comparison like `==` or `>=`", Symbol, &[]),
        Rule::arith_op => op("an arithmetic operator", Symbol, &[]),
        Rule::logic_op => op("`and`/`or`", Word, &["and", "or"]),
        // ---- keywords
        Rule::kw_after => kw("`after`", &["after"]),
        Rule::kw_alimtalk => item("`alimtalk template`", &["alimtalk"]),
        Rule::kw_card => kw("`card`", &["card"]),
        Rule::kw_format => kw("`format`", &["format"]),
        Rule::kw_item => kw("`item`", &["item"]),
        Rule::kw_always => kw("`always`", &["always"]),
        Rule::kw_also_bought => kw("`also_bought`", &["also_bought"]),
        Rule::kw_exclude => kw("`exclude`", &["exclude"]),
        Rule::kw_list => kw("`list`", &["list"]),
        Rule::kw_pad => kw("`pad`", &["pad"]),
        Rule::kw_popular => kw("`popular`", &["popular"]),
        Rule::kw_purchased => kw("`purchased`", &["purchased"]),
        Rule::kw_recent => kw("`recent`", &["recent"]),
        Rule::kw_as => kw("`as`", &["as"]),
        Rule::kw_at => kw("`at`", &["at"]),
        Rule::kw_audience => kw("`audience`", &["audience"]),
        Rule::kw_avg => kw("`avg`", &["avg"]),
        Rule::kw_before => kw("`before`", &["before"]),
        Rule::kw_button => kw("`button`", &["button"]),
        Rule::kw_campaign => item("`campaign`", &["campaign"]),
        Rule::kw_cap => kw("`cap`", &["cap"]),
        Rule::kw_channel => kw("`channel`", &["channel"]),
        Rule::kw_contact => kw("`contact`", &["contact"]),
        Rule::kw_contains => op("`contains`", Word, &["contains"]),
        Rule::kw_count => kw("`count`", &["count"]),
        Rule::kw_customer => kw("`customer`", &["customer"]),
        Rule::kw_day => kw("`day`", &["day"]),
        Rule::kw_days => kw("`days`", &["days"]),
        Rule::kw_defer => kw("`defer`", &["defer"]),
        Rule::kw_did => kw("`did`", &["did"]),
        Rule::kw_else => kw("`else`", &["else"]),
        Rule::kw_enum => kw("`enum`", &["enum"]),
        Rule::kw_event => kw("`event`", &["event"]),
        Rule::kw_events => kw("`events`", &["events"]),
        Rule::kw_every => kw("`every`", &["every"]),
        Rule::kw_exactly => kw("`exactly`", &["exactly"]),
        Rule::kw_exit => kw("`exit`", &["exit"]),
        Rule::kw_expires => kw("`expires`", &["expires"]),
        Rule::kw_fallback => kw("`fallback`", &["fallback"]),
        Rule::kw_false => kw("`false`", &["false"]),
        Rule::kw_first => kw("`first`", &["first"]),
        Rule::kw_for => kw("`for`", &["for"]),
        Rule::kw_from => kw("`from`", &["from"]),
        Rule::kw_goal => kw("`goal`", &["goal"]),
        Rule::kw_holdout => kw("`holdout`", &["holdout"]),
        Rule::kw_hours => kw("`hours`", &["hours"]),
        Rule::kw_if => kw("`if`", &["if"]),
        Rule::kw_image => kw("`image`", &["image"]),
        Rule::kw_in => op("`in (..)`", Word, &["in"]),
        Rule::kw_interval => kw("`interval`", &["interval"]),
        Rule::kw_is => op("`is null`", Word, &["is"]),
        Rule::kw_key => kw("`key`", &["key"]),
        Rule::kw_kind => kw("`kind`", &["kind"]),
        Rule::kw_last => kw("`last`", &["last"]),
        Rule::kw_least => kw("`least`", &["least"]),
        Rule::kw_lifecycle => kw("`lifecycle`", &["lifecycle"]),
        Rule::kw_max => kw("`max`", &["max"]),
        Rule::kw_message => item("`message`", &["message"]),
        Rule::kw_min => kw("`min`", &["min"]),
        Rule::kw_month => kw("`month`", &["month"]),
        Rule::kw_most => kw("`most`", &["most"]),
        Rule::kw_never => kw("`never`", &["never"]),
        Rule::kw_not => kw("`not`", &["not"]),
        Rule::kw_now => kw("`now`", &["now"]),
        Rule::kw_null => kw("`null`", &["null"]),
        Rule::kw_of => kw("`of`", &["of"]),
        Rule::kw_on => kw("`on`", &["on"]),
        Rule::kw_optout => kw("`optout`", &["optout"]),
        Rule::kw_per => kw("`per`", &["per"]),
        Rule::kw_policy => item("`policy`", &["policy"]),
        Rule::kw_priority => kw("`priority`", &["priority"]),
        Rule::kw_props => kw("`props`", &["props"]),
        Rule::kw_quiet => kw("`quiet`", &["quiet"]),
        Rule::kw_reentry => kw("`reentry`", &["reentry"]),
        Rule::kw_ref => kw("`ref`", &["ref"]),
        Rule::kw_restart => kw("`restart`", &["restart"]),
        Rule::kw_rfm => kw("`rfm`", &["rfm"]),
        Rule::kw_schema => item("`schema`", &["schema"]),
        Rule::kw_segment => item("`segment`", &["segment"]),
        Rule::kw_send => kw("`send`", &["send"]),
        Rule::kw_sender => kw("`sender`", &["sender"]),
        Rule::kw_since => kw("`since`", &["since"]),
        Rule::kw_skip => kw("`skip`", &["skip"]),
        Rule::kw_subject => kw("`subject`", &["subject"]),
        Rule::kw_sum => kw("`sum`", &["sum"]),
        Rule::kw_table => kw("`table`", &["table"]),
        Rule::kw_template => kw("`template`", &["template"]),
        Rule::kw_time => kw("`time`", &["time"]),
        Rule::kw_times => kw("`times`", &["times"]),
        Rule::kw_timezone => kw("`timezone`", &["timezone"]),
        Rule::kw_title => kw("`title`", &["title"]),
        Rule::kw_trigger => kw("`trigger`", &["trigger"]),
        Rule::kw_true => kw("`true`", &["true"]),
        Rule::kw_type => kw("`type`", &["type"]),
        Rule::kw_unless => kw("`unless`", &["unless"]),
        Rule::kw_until => kw("`until`", &["until"]),
        Rule::kw_variant => kw("`variant`", &["variant"]),
        Rule::kw_via => kw("`via`", &["via"]),
        Rule::kw_wait => kw("`wait`", &["wait"]),
        Rule::kw_weekday => kw("`weekday`", &["weekday"]),
        Rule::kw_when => kw("`when`", &["when"]),
        Rule::kw_where => kw("`where`", &["where"]),
        Rule::kw_window => kw("`window`", &["window"]),
        Rule::kw_within => kw("`within`", &["within"]),
        // ---- schema
        Rule::schema => item("`schema`", &["schema"]),
        Rule::schema_entry => starts(
            "a schema entry (`customer`, `table`, `events` or `event`)",
            &["customer", "table", "events", "event"],
        ),
        Rule::customer_decl => starts("`customer from \"TABLE\" key FIELD { .. }`", &["customer"]),
        Rule::table_decl => starts("`table NAME from \"TABLE\" key FIELD { .. }`", &["table"]),
        Rule::field_block => d("a field list `{ .. }`", Symbol),
        Rule::customer_block => d("a field list `{ .. }`", Symbol),
        Rule::contact_decl => starts("`contact FIELD for channel CHANNEL`", &["contact"]),
        Rule::field => d("a field like `name: text`", Word),
        Rule::type_expr => starts("a type like `text` or `int`", &["enum", "ref"]),
        Rule::type_max => d("`(max N)`", Symbol),
        Rule::literal => d("a value", Any),
        Rule::events_decl => starts("`events from \"TABLE\" ..`", &["events"]),
        Rule::events_clause => starts("`customer`, `type`, `time` or `props`", &["customer", "type", "time", "props"]),
        Rule::event_decl => starts("`event NAME { .. }`", &["event"]),
        Rule::event_table => starts("`from \"TABLE\"`", &["from"]),
        Rule::event_table_clause => starts("`customer` or `time`", &["customer", "time"]),
        // ---- policy
        Rule::policy => item("`policy`", &["policy"]),
        Rule::policy_entry => starts(
            "a policy setting (`timezone`, `sender`, `optout`, `quiet hours`, `cap` or `lifecycle`)",
            POLICY_WORDS,
        ),
        Rule::timezone_setting => starts("`timezone \"Asia/Seoul\"`", &["timezone"]),
        Rule::sender_setting => starts("`sender \"..\"`", &["sender"]),
        Rule::optout_setting => starts("`optout \"..\"` or `optout \"..\" for channel NAME`", &["optout"]),
        Rule::lifecycle_policy => starts("`lifecycle`", &["lifecycle"]),
        Rule::lifecycle_pair => d("a lifecycle setting like `new 30d`", Word),
        Rule::quiet_hours => starts("`quiet hours FROM..TO`", &["quiet"]),
        Rule::send_filter => starts("`for kind ..` or `for channel ..`", &["for"]),
        Rule::unless_clause => starts("`unless`", &["unless"]),
        Rule::quiet_mode => starts("`defer` or `skip`", &["defer", "skip"]),
        Rule::cap => starts("`cap N per D`", &["cap"]),
        Rule::cap_limit => d("a limit like `2 per 24h`", Number),
        // ---- segments and messages
        Rule::segment => item("`segment`", &["segment"]),
        Rule::message => item("`message`", &["message"]),
        Rule::message_part => starts(
            "a message part (a text, `subject`, `title`, `image`, `template`, `button`, `format`, `item`, `card` or `list`)",
            &["subject", "title", "image", "template", "button", "format", "item", "card", "list"],
        ),
        Rule::format_part => starts("`format text`", &["format"]),
        Rule::item_part => starts("`item \"text\" -> \"url\"`", &["item"]),
        Rule::card_part => starts("`card { .. }`", &["card"]),
        Rule::card_entry => starts("a card part (a text, `title`, `image` or `button`)", &["title", "image", "button"]),
        Rule::alimtalk_template => item("`alimtalk template \"CODE\" { .. }`", &["alimtalk"]),
        Rule::list_part => starts("`list NAME = LIST`", &["list"]),
        Rule::list_expr => starts(
            "a list (`recent(..)`, `also_bought(..)` or `popular(..)`)",
            &["recent", "also_bought", "popular"],
        ),
        Rule::recent_list => starts("`recent(EVENT.PROPERTY, N)`", &["recent"]),
        Rule::also_bought_list => starts("`also_bought(ITEM, N)`", &["also_bought"]),
        Rule::popular_list => starts("`popular(TABLE, N)`", &["popular"]),
        Rule::list_where => starts("`where CONDITION`", &["where"]),
        Rule::list_within => starts("`within D`", &["within"]),
        Rule::list_exclude => starts("`exclude ..`", &["exclude"]),
        Rule::exclusion => starts("`purchased`, `trigger` or `where CONDITION`", &["purchased", "trigger", "where"]),
        Rule::subject_part => starts("`subject \"..\"`", &["subject"]),
        Rule::title_part => starts("`title \"..\"`", &["title"]),
        Rule::image_part => starts("`image \"..\"`", &["image"]),
        Rule::template_part => starts("`template \"CODE\"`", &["template"]),
        Rule::button_part => starts("`button \"label\" -> \"url\"`", &["button"]),
        Rule::body_part => d("a text in double quotes", Quote),
        // ---- campaigns
        Rule::campaign => item("`campaign`", &["campaign"]),
        Rule::campaign_entry => starts("a campaign setting or step", CAMPAIGN_WORDS),
        Rule::kind_setting => starts("`kind ad` or `kind info`", &["kind"]),
        Rule::channel_setting => starts("`channel NAME`", &["channel"]),
        Rule::fallback => starts("`fallback CHANNEL after D`", &["fallback"]),
        Rule::trigger_setting => starts("`trigger`", &["trigger"]),
        Rule::on_trigger => starts("`on EVENT`", &["on"]),
        Rule::at_trigger => starts("`at DATE TIME`", &["at"]),
        Rule::every_trigger => starts("`every .. at TIME`", &["every"]),
        Rule::every_spec => starts(
            "`day`, `weekday`, a weekday like `monday` or a day like `1st of month`",
            EVERY_WORDS,
        ),
        Rule::day_of_month => d("a day like `1st of month`", Number),
        Rule::audience_setting => starts("`audience`", &["audience"]),
        Rule::exit_when => starts("`exit when`", &["exit"]),
        Rule::window_setting => starts("`window FROM..TO`", &["window"]),
        Rule::priority_setting => starts("`priority N`", &["priority"]),
        Rule::pad_setting => starts("`pad popular`", &["pad"]),
        Rule::variant => starts("`variant NAME P% { .. }`", &["variant"]),
        Rule::holdout => starts("`holdout P%`", &["holdout"]),
        Rule::goal => starts("`goal EVENT within D`", &["goal"]),
        Rule::reentry_setting => starts(
            "`reentry never`, `reentry after D`, `reentry restart` or `reentry always`",
            &["reentry"],
        ),
        Rule::step => starts("a step (`wait`, `send`, `if` or `exit`)", &["wait", "send", "if", "exit"]),
        Rule::step_block => d("a block of steps `{ .. }`", Symbol),
        Rule::wait_step => starts("`wait`", &["wait"]),
        Rule::send_step => starts("`send`", &["send"]),
        Rule::expires => starts("`expires at TIME` or `expires after D`", &["expires"]),
        Rule::if_step => starts("`if`", &["if"]),
        Rule::else_if => starts("`else if`", &["else"]),
        Rule::else_block => starts("`else`", &["else"]),
        Rule::exit_step => starts("`exit`", &["exit"]),
        // ---- conditions and values
        Rule::expr | Rule::clause => starts("a condition", VALUE_WORDS),
        Rule::in_rhs => op("`in (..)`", Word, &["in", "not"]),
        Rule::is_null_rhs => op("`is null`", Word, &["is"]),
        Rule::contains_rhs => op("`contains`", Word, &["contains"]),
        Rule::value => starts("a value", VALUE_WORDS),
        Rule::did_expr => starts("`did EVENT`", &["did"]),
        Rule::did_where => starts("`where`", &["where"]),
        Rule::where_join => op("`and` or `or`", Word, &["and", "or"]),
        Rule::where_operand => d("a property comparison like `price > 1000`", Word),
        Rule::count_clause => starts("a count like `at least 3 times`", &["at", "exactly"]),
        Rule::window => starts("a window like `within 7d`", &["within", "before", "since"]),
        Rule::aggregate => starts("an aggregate like `count(purchase)`", &["count", "sum", "avg", "min", "max"]),
        Rule::agg_func => starts("`count`, `sum`, `avg`, `min` or `max`", &["count", "sum", "avg", "min", "max"]),
        Rule::agg_target => d("an event like `purchase` or `purchase.amount`", Word),
        Rule::agg_where => starts("`where`", &["where"]),
        Rule::event_prop => d("an event property like `purchase.amount`", Word),
        Rule::rfm_expr => starts("`rfm(..)`", &["rfm"]),
        Rule::lifecycle_expr => starts("`lifecycle(..)`", &["lifecycle"]),
        Rule::interval_expr => starts("`interval(..)`", &["interval"]),
        Rule::event_time => starts("`last EVENT` or `first EVENT`", &["last", "first"]),
        Rule::days_since => starts("`days since ..`", &["days"]),
        Rule::path => d("a name like `customer.tier`", Word),
    }
}

/// Converts a pest error for the chunk `src[chunk_start..chunk_end]`.
pub(crate) fn from_pest(err: &pest::error::Error<Rule>, src: &str, chunk_start: usize, chunk_end: usize) -> SyntaxError {
    let rel = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let pos = (chunk_start + rel).min(chunk_end);
    let chunk = &src[chunk_start..chunk_end];
    let (positives, negatives) = match &err.variant {
        ErrorVariant::ParsingError { positives, negatives } => (positives.as_slice(), negatives.as_slice()),
        // Pest's own guard ("stack limit reached"): a backstop behind nesting.rs.
        ErrorVariant::CustomError { .. } => {
            return SyntaxError {
                kind: SyntaxErrorKind::NestingTooDeep,
                span: Span::new(pos, pos),
                message: "nesting too deep for the parser".to_string(),
                label: "nested too deeply".to_string(),
                help: Some("split the condition into named segments".to_string()),
            }
        }
    };
    let at_end = src[pos..chunk_end].trim().is_empty() || pos == chunk_end;
    let (span, found, found_text) = if at_end {
        let end = chunk_start + last_token_end(chunk);
        let found = if chunk_end >= src.len() {
            "end of file".to_string()
        } else {
            "the next item".to_string()
        };
        (Span::new(end, end), found, "")
    } else {
        let token = token_at(&src[pos..chunk_end]);
        (Span::new(pos, pos + token.len()), format!("`{}`", shorten(token)), token)
    };
    let expectation = Expectation::new(positives, found_text);
    let message = if expectation.labels.is_empty() {
        match negatives.first() {
            Some(rule) => format!("unexpected {}", describe(*rule).label),
            None => format!("unexpected {found}"),
        }
    } else {
        format!("expected {}, found {found}", join(&expectation.labels))
    };
    let label = if at_end {
        "expected more after this".to_string()
    } else {
        "unexpected here".to_string()
    };
    SyntaxError {
        kind: SyntaxErrorKind::Unexpected,
        span,
        message,
        label,
        help: expectation.help(found_text, at_end),
    }
}

/// The expected labels of one error, and what they suggest.
struct Expectation {
    labels: Vec<&'static str>,
    words: Vec<&'static str>,
    groups: Vec<Group>,
    /// What the labels describe (after filtering).
    wanted: Vec<Rule>,
    /// Everything pest expected (before filtering).
    positives: Vec<Rule>,
}

const MAX_LABELS: usize = 5;

impl Expectation {
    fn new(positives: &[Rule], found: &str) -> Self {
        let found_shape = shape_of(found);
        let all: Vec<(Rule, Describe)> = positives.iter().map(|&r| (r, describe(r))).collect();
        let words: Vec<&'static str> = all.iter().flat_map(|(_, d)| d.words.iter().copied()).collect();
        // Drop what cannot be meant, unless that drops everything.
        let fits = |d: &Describe| match found_shape {
            Some(shape) => d.shape == Shape::Any || d.shape == shape,
            None => true,
        };
        let mut kept: Vec<&(Rule, Describe)> = all.iter().filter(|(_, d)| fits(d)).collect();
        if kept.is_empty() {
            kept = all.iter().collect();
        }
        // "the end of the item" only helps when nothing else is expected.
        if kept.iter().any(|(_, d)| d.group != Group::End) {
            kept.retain(|(_, d)| d.group != Group::End);
        }
        let mut labels = Vec::new();
        let mut groups = Vec::new();
        for group in [Group::Item, Group::Operator] {
            let members: Vec<&str> = kept.iter().filter(|(_, d)| d.group == group).map(|(_, d)| d.label).collect();
            let mut distinct = members.clone();
            distinct.dedup();
            if distinct.len() > 1 {
                groups.push(group);
            }
        }
        for (_, d) in &kept {
            let label = match d.group {
                Group::Item if groups.contains(&Group::Item) => "a top-level item (`schema`, `policy`, `segment`, `message` or `campaign`)",
                Group::Operator if groups.contains(&Group::Operator) => "an operator like `and`, `or` or `==`",
                _ => d.label,
            };
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
        // Operators last: the specific continuations read better first.
        labels.sort_by_key(|l| l.starts_with("an operator"));
        labels.truncate(MAX_LABELS);
        Expectation {
            labels,
            words,
            groups,
            wanted: kept.iter().map(|(r, _)| *r).collect(),
            positives: positives.to_vec(),
        }
    }

    fn help(&self, found: &str, at_end: bool) -> Option<String> {
        if let Some(word) = closest_word(found, &self.words) {
            return Some(format!("did you mean `{word}`?"));
        }
        if at_end && self.wanted.contains(&Rule::rbrace) {
            return Some("a `{` in this item is never closed: add the missing `}`".to_string());
        }
        if found.starts_with('=') && !found.starts_with("==") && self.wants_operator() {
            return Some("use `==` to compare".to_string());
        }
        if self.wanted.contains(&Rule::duration) && found.bytes().all(|c| c.is_ascii_digit() || c == b'_') && !found.is_empty() {
            return Some("add a unit: `m` minutes, `h` hours, `d` days or `w` weeks, like `24h`".to_string());
        }
        if self.positives.contains(&Rule::kw_until) && found.contains(':') {
            return Some(format!("to wait until a time of day, write `wait until {found}`"));
        }
        if self.wanted == [Rule::EOI] && !at_end {
            return Some("start the next item on a new line, in column 0".to_string());
        }
        if self.wanted.contains(&Rule::time_of_day) {
            return Some("write a time of day as `HH:MM`, like `21:00`".to_string());
        }
        if self.groups.contains(&Group::Item) || self.wanted.contains(&Rule::chunk) {
            return Some(
                "top-level items start in column 0 with `schema`, `policy`, `segment`, `message` or `campaign`; \
                 indent the lines that continue an item"
                    .to_string(),
            );
        }
        None
    }

    fn wants_operator(&self) -> bool {
        self.wanted.iter().any(|r| describe(*r).group == Group::Operator)
    }
}

fn shape_of(found: &str) -> Option<Shape> {
    let c = found.chars().next()?;
    Some(if c.is_ascii_digit() {
        Shape::Number
    } else if lex::is_word_start(c) {
        Shape::Word
    } else if c == '"' {
        Shape::Quote
    } else {
        Shape::Symbol
    })
}

/// The keyword closest to `found` by edit distance, if close enough to be a typo.
fn closest_word(found: &str, words: &[&'static str]) -> Option<&'static str> {
    if found.is_empty() || !found.chars().next().is_some_and(lex::is_word_start) || words.contains(&found) {
        return None;
    }
    let limit = match found.chars().count() {
        0..=2 => 0,
        3..=5 => 1,
        _ => 2,
    };
    words
        .iter()
        .map(|w| (edit_distance(found, w), *w))
        .filter(|&(dist, _)| dist > 0 && dist <= limit)
        .min_by_key(|&(dist, _)| dist)
        .map(|(_, w)| w)
}

/// Levenshtein distance over chars (short words only, so quadratic is fine).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// "a", "a or b", "a, b or c".
fn join(labels: &[&str]) -> String {
    match labels {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The token at the start of `rest`: a word, a number-like run (`24x`,
/// `21:00`), a quoted string, or a run of punctuation.
pub(crate) fn token_at(rest: &str) -> &str {
    let Some(first) = rest.chars().next() else {
        return "";
    };
    let len = if first == '"' {
        match lex::scan_string(rest, 0, false) {
            StringEnd::Closed(end) => end.min(lex::line_end(rest.as_bytes(), 0)),
            StringEnd::Open(_) => lex::line_end(rest.as_bytes(), 0),
        }
    } else if first.is_ascii_digit() {
        rest.find(|c: char| !(lex::is_word_char(c) || matches!(c, ':' | '.' | '%')))
            .unwrap_or(rest.len())
    } else if lex::is_word_char(first) {
        lex::word_len(rest)
    } else {
        rest.find(|c: char| c.is_whitespace() || c == '"' || lex::is_word_char(c))
            .unwrap_or(rest.len())
    };
    // Never empty: at least the first char.
    &rest[..len.max(first.len_utf8())]
}

/// At most 20 chars of `token`, with `…` when cut.
pub(crate) fn shorten(token: &str) -> String {
    const MAX: usize = 20;
    match token.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &token[..cut]),
        None => token.to_string(),
    }
}

/// The end of the last thing in `text` that is not blank space or a comment.
fn last_token_end(text: &str) -> usize {
    let b = text.as_bytes();
    let (mut i, mut last) = (0, 0);
    while let Some(&c) = b.get(i) {
        match c {
            b'/' if b.get(i + 1) == Some(&b'/') => i = lex::line_end(b, i),
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'"' => {
                i = match lex::scan_string(text, i, false) {
                    StringEnd::Closed(end) | StringEnd::Open(end) => end,
                };
                last = i;
            }
            _ => {
                i += text[i..].chars().next().map_or(1, char::len_utf8);
                last = i;
            }
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(token_at("24x rest"), "24x");
        assert_eq!(token_at("21:00 x"), "21:00");
        assert_eq!(token_at("purchase)"), "purchase");
        assert_eq!(token_at("\"hi\" x"), "\"hi\"");
        assert_eq!(token_at("== b"), "==");
        assert_eq!(token_at("고객 x"), "고객");
        assert_eq!(shorten(&"a".repeat(30)), format!("{}…", "a".repeat(20)));
    }

    #[test]
    fn typos() {
        assert_eq!(closest_word("witin", &["within", "before"]), Some("within"));
        assert_eq!(closest_word("xyz", &["within"]), None);
        assert_eq!(closest_word("kindd", &["kind", "channel"]), Some("kind"));
    }

    #[test]
    fn last_token() {
        assert_eq!(last_token_end("a b // c\n  \n"), 3);
        assert_eq!(last_token_end("x \"s // t\"  "), 10);
    }
}
