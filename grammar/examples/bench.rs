//! Times `parse` on a realistic 2,000-line workspace (run with `--release`).
use std::time::Instant;

fn main() {
    let unit = include_str!("../tests/fixtures/design_cart.camp");
    let schema = include_str!("../tests/fixtures/design_schema.camp");
    let mut src = String::from(schema);
    let mut n = 0;
    while src.lines().count() < 2000 {
        src.push_str(&unit.replace("cart_reminder", &format!("cart_reminder_{n}")));
        n += 1;
    }
    let lines = src.lines().count();
    let runs: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let start = Instant::now();
    let mut errors = 0;
    for _ in 0..runs {
        errors += camp_grammar::parse(&src).errors.len();
    }
    let per = start.elapsed() / runs;
    println!("{lines} lines, {} bytes: {per:?} per parse ({errors} errors)", src.len());
}
