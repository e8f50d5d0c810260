//! Instruction-count probe: parses argv[2] repeated argv[1] times, once.
fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let line = args.next().unwrap_or_else(|| "  wait 24h\n".to_string()).replace("\\n", "\n");
    let pre = args.next().unwrap_or_default().replace("\\n", "\n");
    let post = args.next().unwrap_or_default().replace("\\n", "\n");
    let src = format!("{pre}{}{post}", line.repeat(n));
    let p = camp_grammar::parse(&src);
    println!("{} items, {} errors", p.file.items.len(), p.errors.len());
}
