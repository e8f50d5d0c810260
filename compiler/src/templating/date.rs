//! `date("M월 d일")` patterns, parsed once into tokens.
//!
//! A run of one pattern letter is one field: `yyyy` (or any run of `y` but
//! two) the year, `yy` its last two digits, `M`/`d`/`H`/`h`/`m`/`s` without
//! padding and `MM`/`dd`/`HH`/`hh`/`mm`/`ss` (or longer runs) padded to two
//! digits, `E` the Korean weekday (월 화 수 목 금 토 일), `a` 오전/오후.
//! Every other character prints as written.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateToken {
    Literal(String),
    /// `yyyy`
    Year,
    /// `yy`
    Year2,
    /// `M` / `MM`
    Month {
        pad: bool,
    },
    /// `d` / `dd`
    Day {
        pad: bool,
    },
    /// `H` / `HH`: 0..23
    Hour {
        pad: bool,
    },
    /// `h` / `hh`: 1..12
    Hour12 {
        pad: bool,
    },
    /// `m` / `mm`
    Minute {
        pad: bool,
    },
    /// `s` / `ss`
    Second {
        pad: bool,
    },
    /// `E`: 월 화 수 목 금 토 일
    Weekday,
    /// `a`: 오전 / 오후
    AmPm,
}

impl DateToken {
    /// Typical width in UTF-8 bytes.
    pub fn width(&self) -> usize {
        match self {
            DateToken::Literal(s) => s.len(),
            DateToken::Year => 4,
            DateToken::Weekday => 3,
            DateToken::AmPm => 6,
            _ => 2,
        }
    }
}

pub fn parse(pattern: &str) -> Vec<DateToken> {
    let mut tokens: Vec<DateToken> = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        let mut run = 1;
        while chars.peek() == Some(&c) {
            chars.next();
            run += 1;
        }
        let pad = run >= 2;
        let token = match c {
            'y' if run == 2 => DateToken::Year2,
            'y' => DateToken::Year,
            'M' => DateToken::Month { pad },
            'd' => DateToken::Day { pad },
            'H' => DateToken::Hour { pad },
            'h' => DateToken::Hour12 { pad },
            'm' => DateToken::Minute { pad },
            's' => DateToken::Second { pad },
            'E' => DateToken::Weekday,
            'a' => DateToken::AmPm,
            _ => {
                if !matches!(tokens.last(), Some(DateToken::Literal(_))) {
                    tokens.push(DateToken::Literal(String::new()));
                }
                if let Some(DateToken::Literal(s)) = tokens.last_mut() {
                    (0..run).for_each(|_| s.push(c));
                }
                continue;
            }
        };
        tokens.push(token);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(
            parse("M월 d일"),
            vec![
                DateToken::Month { pad: false },
                DateToken::Literal("월 ".into()),
                DateToken::Day { pad: false },
                DateToken::Literal("일".into()),
            ]
        );
        assert_eq!(
            parse("yyyy.MM.dd (E) a h:mm"),
            vec![
                DateToken::Year,
                DateToken::Literal(".".into()),
                DateToken::Month { pad: true },
                DateToken::Literal(".".into()),
                DateToken::Day { pad: true },
                DateToken::Literal(" (".into()),
                DateToken::Weekday,
                DateToken::Literal(") ".into()),
                DateToken::AmPm,
                DateToken::Literal(" ".into()),
                DateToken::Hour12 { pad: false },
                DateToken::Literal(":".into()),
                DateToken::Minute { pad: true },
            ]
        );
        assert_eq!(parse("yy"), vec![DateToken::Year2]);
        assert_eq!(parse(""), vec![]);
    }
}
