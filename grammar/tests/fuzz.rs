//! Property tests: arbitrary text and arbitrary edits of a valid file never
//! panic, and every error span lies inside the input on char boundaries.

use camp_grammar::parse;
use proptest::prelude::*;

const VALID: &str = include_str!("fixtures/all_forms.camp");

fn check(src: &str) {
    let parsed = parse(src);
    for e in &parsed.errors {
        assert!(e.span.start <= e.span.end, "{e:?}");
        assert!(e.span.end <= src.len(), "{e:?}");
        assert!(src.is_char_boundary(e.span.start) && src.is_char_boundary(e.span.end), "{e:?}");
        assert!(!e.message.is_empty());
    }
    for item in &parsed.file.items {
        let s = item.span();
        assert!(s.end <= src.len() && src.is_char_boundary(s.start) && src.is_char_boundary(s.end));
    }
}

/// Pieces that make mutations interesting: tokens of the language.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"".to_string()),
        Just("#{".to_string()),
        Just("}".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("{".to_string()),
        Just("not ".to_string()),
        Just("\n".to_string()),
        Just("\nsegment x = ".to_string()),
        Just("//".to_string()),
        Just("\\".to_string()),
        Just("24h".to_string()),
        Just("99999999999999999999999".to_string()),
        Just("고객명".to_string()),
        "\\PC{0,8}",
    ]
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, String),
    Delete(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), token()).prop_map(|(at, s)| Edit::Insert(at, s)),
        (any::<usize>(), 0usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
    ]
}

/// The nearest char boundary at or before `at % (len + 1)`.
fn boundary(s: &str, at: usize) -> usize {
    let mut i = at % (s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(src: &str, edits: &[Edit]) -> String {
    let mut s = src.to_string();
    for e in edits {
        match e {
            Edit::Insert(at, text) => {
                let i = boundary(&s, *at);
                s.insert_str(i, text);
            }
            Edit::Delete(at, n) => {
                let i = boundary(&s, *at);
                let j = boundary(&s, i + n).max(i);
                let j = if j < i { i } else { j };
                s.replace_range(i..j.min(s.len()), "");
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,300}") {
        check(&src);
    }

    #[test]
    fn arbitrary_bytes_as_text_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutations_of_a_valid_file_never_panic(edits in proptest::collection::vec(edit(), 1..8)) {
        check(&apply(VALID, &edits));
    }
}
