//! Prints the lowered queries of a workspace's campaigns (a development aid).
use camp_compiler::lower::{queries, Postgres, Sqlite};
use camp_compiler::{program::Program, Input, Workspace};

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "examples/shop".into());
    let mut ws = Workspace::new();
    let mut stack = vec![std::path::PathBuf::from(&dir)];
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
        eprintln!("workspace has errors");
        return;
    };
    for (name, (_, c)) in &program.campaigns {
        for d in [&Sqlite as &dyn camp_compiler::lower::Dialect, &Postgres] {
            let q = queries::campaign_queries(&program, c, d);
            println!("== {name} [{}]\n{}", d.name(), serde_json::to_string_pretty(&q).unwrap_or_default());
        }
    }
}
