//! Logs: `tracing` to standard error, every line masked so that phone
//! numbers and email addresses never reach a log.

use std::io::Write;
use tracing_subscriber::fmt::MakeWriter;

/// Masks email addresses (`***@example.com`) and phone-like numbers (nine
/// or more digits, with `-`, `+`, `(`, `)` or single spaces between them:
/// all digits but the last four become `*`). Hex words of 12 or more
/// characters with a letter in them (content hashes such as a
/// deployment's) are not phone numbers and stay as they are.
pub fn mask(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = chars.clone();
    // Emails.
    for (at, c) in chars.iter().enumerate() {
        if *c != '@' {
            continue;
        }
        let local = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
        let domain = |c: char| c.is_ascii_alphanumeric() || ".-".contains(c);
        let mut start = at;
        while start > 0 && local(chars[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < chars.len() && domain(chars[end]) {
            end += 1;
        }
        if start < at && chars[at + 1..end].contains(&'.') {
            for o in out.iter_mut().take(at).skip(start) {
                *o = '*';
            }
        }
    }
    // Phone numbers.
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        if let Some(word_end) = hex_word(&chars, i) {
            i = word_end;
            continue;
        }
        let mut end = i;
        let mut last_digit = i;
        let joins = |j: usize| "-+()".contains(chars[j]) || (chars[j] == ' ' && chars.get(j + 1).is_some_and(|c| c.is_ascii_digit()));
        while end < chars.len() && (chars[end].is_ascii_digit() || joins(end)) {
            if chars[end].is_ascii_digit() {
                last_digit = end;
            }
            end += 1;
        }
        let digits: Vec<usize> = (i..=last_digit).filter(|j| chars[*j].is_ascii_digit()).collect();
        if digits.len() >= 9 {
            for j in &digits[..digits.len() - 4] {
                out[*j] = '*';
            }
        }
        i = end.max(i + 1);
    }
    out.into_iter().collect()
}

/// The end of the hex word around `at`, if the word (ASCII letters and
/// digits) is 12 or more hex digits with at least one letter.
fn hex_word(chars: &[char], at: usize) -> Option<usize> {
    let mut start = at;
    while start > 0 && chars[start - 1].is_ascii_alphanumeric() {
        start -= 1;
    }
    let mut end = at;
    while end < chars.len() && chars[end].is_ascii_alphanumeric() {
        end += 1;
    }
    let word = &chars[start..end];
    (word.len() >= 12 && word.iter().all(|c| c.is_ascii_hexdigit()) && word.iter().any(|c| c.is_ascii_alphabetic())).then_some(end)
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
    use super::mask;

    #[test]
    fn phones_and_emails_are_masked() {
        assert_eq!(mask("to 010-1234-5678 now"), "to ***-****-5678 now");
        assert_eq!(mask("mail kim.minsu@example.co.kr ok"), "mail *********@example.co.kr ok");
        assert_eq!(mask("at 2026-11-23T03:00:00Z"), "at 2026-11-23T03:00:00Z");
        assert_eq!(mask("+82 10 1234 5678"), "+** ** **** 5678");
        assert_eq!(mask("+821012345678"), "+********5678");
        // A deployment's hash is not a phone number; letters glued to one do not hide it.
        assert_eq!(mask("deployment=a01234567890 ok"), "deployment=a01234567890 ok");
        assert_eq!(mask("tel01012345678"), "tel*******5678");
        assert_eq!(mask("phone=010-1234-5678abc"), "phone=***-****-5678abc");
    }
}
