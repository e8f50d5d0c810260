//! Prints the AST and errors of the files given: `cargo run -p camp-grammar --example dump -- FILE..`.
fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let parsed = camp_grammar::parse(&text);
        println!("== {path}\n{:#?}", parsed.file);
        for e in &parsed.errors {
            println!(
                "{:?} {}..{} {} [{}] help: {:?}",
                e.kind, e.span.start, e.span.end, e.message, e.label, e.help
            );
        }
    }
}
