//! Prints the population query of each segment of a workspace (a
//! development aid for the query benchmark): `segment_sql DIR.. [postgres]`.
use camp_compiler::lower::{queries, Dialect, Postgres, Sqlite};
use camp_compiler::{program::Program, Input, Workspace};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dialect: &dyn Dialect = if args.iter().any(|a| a == "postgres") { &Postgres } else { &Sqlite };
    let mut ws = Workspace::new();
    let mut stack: Vec<std::path::PathBuf> = args.iter().filter(|a| *a != "postgres").map(Into::into).collect();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "camp") {
                ws.add(
                    p.display().to_string(),
                    Input::Text(std::fs::read_to_string(&p).unwrap_or_default()),
                );
            }
        }
    }
    let analysis = camp_compiler::analyze(&ws);
    let Some(program) = Program::new(&analysis) else {
        for d in &analysis.diagnostics {
            eprintln!("{} {}", d.code.id, d.message);
        }
        return;
    };
    for (name, segment) in &program.segments {
        let q = queries::audience_keys(&program, dialect, Some(&segment.cond));
        println!(
            "-- {name}\n{}\n-- params: {}\n",
            q.sql,
            serde_json::to_string(&q.params).unwrap_or_default()
        );
    }
}
