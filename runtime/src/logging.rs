//! Logs: `tracing` to standard error, every line masked so that phone
//! numbers and email addresses never reach a log.

use std::io::Write;
use tracing_subscriber::fmt::MakeWriter;

/// Masks email addresses and phone numbers however they are spelled.
///
/// - Emails: the local part of `local@domain` becomes `*`
///   (`***@example.com`, `****@한국.kr`, `****@localhost`); letters of
///   any script count, and so do JSON escapes (`\uXXXX`).
/// - Phones: digits (ASCII or full-width) in groups joined by up to three
///   separators (spaces, `-`, `.`, `/`, `(`, `)`, `+`, dashes), nine or
///   more in all: every digit but the last four becomes `*`
///   (`***.****.1182`, `+** (*)** **** 5678`). A group of one or two
///   digits followed by `:` is the hour of a time and ends the number, and
///   idempotency keys (`camp-E-S-A`) are left as they are.
///
/// Masking keeps every other character where it was, so a text can be
/// cut after masking without showing more than the masked form.
pub fn mask(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = chars.clone();
    mask_emails(&chars, &mut out);
    let mut keep = idempotency_keys(&chars);
    keep_hex_words(&chars, &mut keep);
    mask_phones(&chars, &keep, &mut out);
    out.into_iter().collect()
}

/// Hex words of 12 or more characters with a letter in them (content
/// hashes such as a deployment's) are not phone numbers: they stay.
fn keep_hex_words(chars: &[char], keep: &mut [bool]) {
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let word = &chars[start..i];
        if word.len() >= 12 && word.iter().all(|c| c.is_ascii_hexdigit()) && word.iter().any(|c| c.is_ascii_alphabetic()) {
            for k in keep.iter_mut().take(i).skip(start) {
                *k = true;
            }
        }
    }
}

fn mask_emails(chars: &[char], out: &mut [char]) {
    let local = |c: char| c.is_alphanumeric() || "._%+-\\".contains(c);
    let domain_start = |c: char| c.is_alphanumeric() || c == '[' || c == '\\';
    for (at, c) in chars.iter().enumerate() {
        if *c != '@' || !chars.get(at + 1).is_some_and(|c| domain_start(*c)) {
            continue;
        }
        let mut start = at;
        while start > 0 && local(chars[start - 1]) {
            start -= 1;
        }
        for o in out.iter_mut().take(at).skip(start) {
            *o = '*';
        }
    }
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '-' | '.' | '/' | '(' | ')' | '+' | '\u{a0}' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{3000}' | '\u{ff0d}'
    )
}

/// Positions inside idempotency keys (`camp-12345678-0-1`), which are not phones.
fn idempotency_keys(chars: &[char]) -> Vec<bool> {
    let mut keep = vec![false; chars.len()];
    let prefix: Vec<char> = "camp-".chars().collect();
    let mut i = 0;
    while i + prefix.len() < chars.len() {
        if chars[i..i + prefix.len()] != prefix[..] || (i > 0 && chars[i - 1].is_alphanumeric()) {
            i += 1;
            continue;
        }
        // Three groups of ASCII digits joined by `-`.
        let mut j = i + prefix.len();
        let mut groups = 0;
        loop {
            let from = j;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            if j == from {
                break;
            }
            groups += 1;
            if groups == 3 || chars.get(j) != Some(&'-') {
                break;
            }
            j += 1;
        }
        if groups == 3 && !chars.get(j).is_some_and(|c| c.is_alphanumeric()) {
            for k in keep.iter_mut().take(j).skip(i) {
                *k = true;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    keep
}

fn mask_phones(chars: &[char], keep: &[bool], out: &mut [char]) {
    let digit = |j: usize| is_digit(chars[j]) && !keep[j];
    let mut i = 0;
    while i < chars.len() {
        if !digit(i) {
            i += 1;
            continue;
        }
        // Groups of digits, each with the separators before the next.
        let mut digits: Vec<usize> = Vec::new();
        let mut j = i;
        loop {
            while j < chars.len() && digit(j) {
                digits.push(j);
                j += 1;
            }
            let mut k = j;
            while k < chars.len() && k - j < 3 && is_separator(chars[k]) {
                k += 1;
            }
            if k == j || k >= chars.len() || !digit(k) {
                break;
            }
            // The next group: `03` in `2026-11-23 03:00` is an hour.
            let mut end = k;
            while end < chars.len() && digit(end) {
                end += 1;
            }
            if end - k <= 2 && chars.get(end) == Some(&':') {
                break;
            }
            j = k;
        }
        if digits.len() >= 9 {
            for d in &digits[..digits.len() - 4] {
                out[*d] = '*';
            }
        }
        i = j.max(i + 1);
    }
}

/// A provider's answer for a log or the ledger: masked first, then cut to
/// `max` characters (so a cut never shows more than the masked form).
pub fn excerpt(text: &str, max: usize) -> String {
    let masked = mask(text);
    let mut out: String = masked.chars().take(max).collect();
    if masked.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// Standard error, masked.
pub struct MaskedStderr;

impl Write for MaskedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = mask(&String::from_utf8_lossy(buf));
        std::io::stderr().write_all(text.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

pub struct MaskedMakeWriter;

impl<'a> MakeWriter<'a> for MaskedMakeWriter {
    type Writer = MaskedStderr;
    fn make_writer(&'a self) -> MaskedStderr {
        MaskedStderr
    }
}

/// Installs the log subscriber once; the level comes from `CAMP_LOG`
/// (`error`, `warn`, `info` (default), `debug`, `trace`).
pub fn init() {
    let level = match std::env::var("CAMP_LOG").unwrap_or_default().to_ascii_lowercase().as_str() {
        "error" => tracing::Level::ERROR,
        "warn" => tracing::Level::WARN,
        "debug" => tracing::Level::DEBUG,
        "trace" => tracing::Level::TRACE,
        _ => tracing::Level::INFO,
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(MaskedMakeWriter)
        .with_max_level(level)
        .with_ansi(false)
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::{excerpt, mask};

    #[test]
    fn phones_and_emails_are_masked() {
        assert_eq!(mask("to 010-1234-5678 now"), "to ***-****-5678 now");
        assert_eq!(mask("mail kim.minsu@example.co.kr ok"), "mail *********@example.co.kr ok");
        assert_eq!(mask("at 2026-11-23T03:00:00Z"), "at 2026-11-23T03:00:00Z");
        assert_eq!(mask("+82 10 1234 5678"), "+** ** **** 5678");
        assert_eq!(mask("+821012345678"), "+********5678");
        // A deployment's hash is not a phone number; letters glued to digits
        // outside a hex word do not hide one.
        assert_eq!(mask("deployment=a01234567890 ok"), "deployment=a01234567890 ok");
        assert_eq!(mask("tel01012345678"), "tel*******5678");
        assert_eq!(mask("phone=010-1234-5678abc"), "phone=***-****-5678abc");
    }

    #[test]
    fn every_phone_spelling_is_masked() {
        for (text, masked) in [
            ("010.2074.1182", "***.****.1182"),
            ("010 - 2259 - 1637", "*** - **** - 1637"),
            ("+82 10-1234-5678", "+** **-****-5678"),
            ("+82 (0)10 1234 5678", "+** (*)** **** 5678"),
            ("+82-10-1234-5678", "+**-**-****-5678"),
            ("(010) 1234-5678", "(***) ****-5678"),
            ("01012345678", "*******5678"),
            ("02-123-4567", "**-***-4567"),
            ("010/1234/5678", "***/****/5678"),
            ("010\u{2013}1234\u{2013}5678", "***\u{2013}****\u{2013}5678"),
            ("０１０-１２３４-５６７８", "***-****-５６７８"),
            ("tel:010 1234 5678.", "tel:*** **** 5678."),
            ("연락처010-9876-5432입니다", "연락처***-****-5432입니다"),
            ("\"phone\":\"010-3141-5926\"", "\"phone\":\"***-****-5926\""),
        ] {
            assert_eq!(mask(text), masked, "{text}");
        }
    }

    #[test]
    fn every_email_spelling_is_masked() {
        for (text, masked) in [
            ("name@한국.kr", "****@한국.kr"),
            ("user@localhost", "****@localhost"),
            ("customer=kim.minsu+shop@example.com", "customer=**************@example.com"),
            ("customer=\"jiwoo@example.com\"", "customer=\"*****@example.com\""),
            ("홍길동@회사.한국", "***@회사.한국"),
            ("{\"to\":\"lee_01@mail.example\"}", "{\"to\":\"******@mail.example\"}"),
            ("escaped \\ud64d@example.com", "escaped ******@example.com"),
            ("admin@[127.0.0.1]", "*****@[127.0.0.1]"),
        ] {
            assert_eq!(mask(text), masked, "{text}");
        }
    }

    #[test]
    fn what_is_not_a_phone_is_kept() {
        for text in [
            "2026-11-23 03:00:00",
            "2026-11-23T03:00:00.123456Z",
            "delivery dead-lettered key=camp-123456789-0-1",
            "listen=127.0.0.1:8080",
            "1588-1234",
            "@ 12 ms",
            "a@ b",
        ] {
            assert_eq!(mask(text), text);
        }
    }

    #[test]
    fn a_cut_after_masking_shows_no_more_than_the_mask() {
        let body = format!("{}010-1234-5678 kim.minsu@example.com", "x".repeat(195));
        let cut = excerpt(&body, 200);
        assert!(cut.ends_with("***-*…"), "{cut}");
        let email = format!("{}kim.minsu@example.com", "y".repeat(192));
        let cut = excerpt(&email, 200);
        assert!(cut.ends_with("********…"), "{cut}");
        assert!(!cut.contains("kim"));
        assert_eq!(excerpt("short 010-1234-5678", 200), "short ***-****-5678");
    }
}
