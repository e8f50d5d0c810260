//! Nothing panics, hangs or overflows the stack, whatever the input.
//! Every test runs its input in a thread with a 2 MiB stack (the default
//! for test threads, set explicitly so the guarantee does not depend on it).

use camp_grammar::{parse, Parsed, SyntaxErrorKind, MAX_FILE_BYTES, MAX_NESTING};

fn parse_small_stack(src: String) -> Parsed {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || parse(&src))
        .expect("spawn")
        .join()
        .expect("parse panicked or overflowed")
}

fn kinds(p: &Parsed) -> Vec<SyntaxErrorKind> {
    p.errors.iter().map(|e| e.kind).collect()
}

#[test]
fn empty_file_is_empty() {
    let p = parse_small_stack(String::new());
    assert!(p.file.items.is_empty());
    assert!(p.errors.is_empty());
    let p = parse_small_stack("  \n// only a comment\n\n".to_string());
    assert!(p.file.items.is_empty());
    assert!(p.errors.is_empty());
}

#[test]
fn nesting_at_the_limit_parses() {
    // The item's own braces count: campaign { if { if { ... } } }.
    let depth = MAX_NESTING - 1;
    let src = format!("campaign c {{\n{}send m{}\n}}\n", "  if x { ".repeat(depth), " }".repeat(depth));
    let p = parse_small_stack(src);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.file.items.len(), 1);

    let src = format!("segment s = {}x{}\n", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
    let p = parse_small_stack(src);
    assert!(p.errors.is_empty(), "{:?}", p.errors);

    let src = format!("segment s = {}x{}\n", "not (".repeat(MAX_NESTING / 2), ")".repeat(MAX_NESTING / 2));
    let p = parse_small_stack(src);
    assert!(p.errors.is_empty(), "{:?}", p.errors);

    let src = format!("segment s = {}x\n", "not ".repeat(MAX_NESTING));
    let p = parse_small_stack(src);
    assert!(p.errors.is_empty(), "{:?}", p.errors);

    let src = format!(
        "segment s = {}x{}\n",
        "count(e where ".repeat(MAX_NESTING - 1),
        ") > 1".repeat(MAX_NESTING - 1)
    );
    let p = parse_small_stack(src);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
}

#[test]
fn hundred_thousand_parentheses() {
    let n = 100_000;
    let src = format!("segment s = {}x{}\nsegment ok = y\n", "(".repeat(n), ")".repeat(n));
    let p = parse_small_stack(src);
    assert_eq!(kinds(&p), vec![SyntaxErrorKind::NestingTooDeep]);
    assert_eq!(p.errors[0].span.start, "segment s = ".len() + MAX_NESTING);
    assert_eq!(p.file.items.len(), 1, "the next item still parses");
    // Unbalanced, too.
    let p = parse_small_stack(format!("segment s = {}", "(".repeat(n)));
    assert_eq!(kinds(&p), vec![SyntaxErrorKind::NestingTooDeep]);
    let p = parse_small_stack(format!("segment s = x{}", ")".repeat(n)));
    assert_eq!(kinds(&p), vec![SyntaxErrorKind::Unexpected]);
}

#[test]
fn hundred_thousand_nots_and_minuses() {
    let n = 100_000;
    let p = parse_small_stack(format!("segment s = {}x\n", "not ".repeat(n)));
    assert_eq!(kinds(&p), vec![SyntaxErrorKind::NestingTooDeep]);
    assert_eq!(p.errors[0].span.start, "segment s = ".len() + 4 * MAX_NESTING);
    let p = parse_small_stack(format!("segment s = {}x\n", "-".repeat(n)));
    assert_eq!(kinds(&p), vec![SyntaxErrorKind::NestingTooDeep]);
    let p = parse_small_stack(format!("segment s = {}x\n", "- ".repeat(n)));
    assert_eq!(kinds(&p), vec![SyntaxErrorKind::NestingTooDeep]);
}

#[test]
fn long_flat_chains_are_fine() {
    let n = 100_000;
    let ors = vec!["a"; n].join(" or ");
    let p = parse_small_stack(format!("segment s = {ors}\n"));
    assert!(p.errors.is_empty());
    let ands = vec!["not a"; n].join(" and ");
    let p = parse_small_stack(format!("segment s = {ands}\n"));
    assert!(p.errors.is_empty());
    let sums = vec!["1"; n].join(" + ");
    let p = parse_small_stack(format!("segment s = {sums} > 2\n"));
    assert!(p.errors.is_empty());
    let steps = "  wait 1h\n  send m\n".repeat(n / 2);
    let p = parse_small_stack(format!("campaign c {{\n{steps}}}\n"));
    assert!(p.errors.is_empty());
}

#[test]
fn long_else_if_chains_are_refused_not_overflowed() {
    let chain = |n: usize| format!("campaign c {{\n  if a {{ exit }}{}\n}}\n", " else if b { exit }".repeat(n));
    let p = parse_small_stack(chain(MAX_NESTING - 1));
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let p = parse_small_stack(chain(100_000));
    assert_eq!(kinds(&p), vec![SyntaxErrorKind::NestingTooDeep]);
}

#[test]
fn huge_files_are_refused() {
    let p = parse_small_stack("segment s = x\n".repeat(MAX_FILE_BYTES / 14 + 1));
    assert_eq!(kinds(&p), vec![SyntaxErrorKind::FileTooLarge]);
    assert!(p.file.items.is_empty());
    // 10 MB exactly, as the brief says.
    let p = parse_small_stack("x".repeat(10_000_000));
    assert_eq!(kinds(&p), vec![SyntaxErrorKind::FileTooLarge]);
}

#[test]
fn big_files_under_the_limit_parse() {
    // 1 MiB of valid items (the linear cost is what matters; debug builds are slow).
    let item = "segment s = did cart_add within 24h and not did purchase since last cart_add\n";
    let src = item.repeat((1 << 20) / item.len());
    let p = parse_small_stack(src);
    assert!(p.errors.is_empty());
    let p = parse_small_stack(format!("segment s = \"{}", "#{".repeat(3_000_000)));
    assert_eq!(kinds(&p), vec![SyntaxErrorKind::UnterminatedString]);
    let p = parse_small_stack(format!("message m {{ \"{}\" }}", "#{x ?? \"".repeat(500_000)));
    assert!(!p.errors.is_empty());
}

#[test]
fn random_bytes_as_text() {
    // A fixed pseudo-random generator: reproducible, no dependency.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..20 {
        let len = 1 + (next() % 20_000) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                let r = next();
                // Bias towards the grammar's own characters half of the time.
                if round % 2 == 0 {
                    let alphabet = b"{}()[]\"#\\/ \n\tnot-a=.:%0123456789segment";
                    alphabet[(r % alphabet.len() as u64) as usize]
                } else {
                    (r & 0xFF) as u8
                }
            })
            .collect();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let len = text.len();
        let p = parse_small_stack(text.clone());
        for e in &p.errors {
            assert!(e.span.start <= e.span.end && e.span.end <= len);
            assert!(text.is_char_boundary(e.span.start) && text.is_char_boundary(e.span.end));
        }
    }
}
