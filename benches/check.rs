//! Parse + check of a generated workspace: 2,000 lines (the target: median
//! under 5 ms) and 8,000 lines (linearity: at most 4.5x the 2,000-line time).

use camp_compiler::{Input, Workspace};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::fmt::Write;

/// One campaign file of realistic shape: a segment, three messages and a
/// three-step journey, about 40 lines.
fn campaign_file(i: usize) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"// generated campaign {i}
segment engaged_{i} = customer.marketing_consent
    and (did cart_add within 24h or count(purchase within 90d) >= 3)
    and not did purchase since last cart_add

segment big_spender_{i} = customer.tier in (gold, vip)
    or sum(purchase.amount within 365d) >= 1_000_000

campaign journey_{i} {{
  kind ad
  channel friendtalk fallback lms after 24h
  trigger on cart_add where price >= 10_000
  audience engaged_{i} and not did purchase since trigger
  exit when did purchase since trigger
  wait 24h
  send first_{i}
  wait 24h
  if big_spender_{i} {{
    send second_{i}
  }} else {{
    send third_{i}
  }}
  quiet hours 21:00..08:00 defer
  cap 1 per 24h
  holdout 10%
  goal purchase within 7d
}}

message first_{i} {{
  "(광고) #{{sender}}
  #{{고객명}}님, 장바구니에 담은 #{{trigger.product.상품명}} 재고가 #{{trigger.product.수량}}개 남았습니다.
  #{{optout}}"
}}

message second_{i} {{
  "(광고) #{{sender}}
  #{{고객명}}님, #{{trigger.product.상품명}}을 #{{trigger.price | won}}에 만나보세요.
  #{{optout}}"
}}

message third_{i} {{
  "(광고) #{{sender}}
  #{{고객명}}님, 오늘 주문하면 무료배송입니다.
  #{{optout}}"
}}
"#
    );
    s
}

fn workspace(lines: usize) -> (Workspace, usize) {
    let mut ws = Workspace::new();
    ws.add("schema.camp", Input::Text(camp::fixture::SCHEMA.to_string()));
    ws.add("policy.camp", Input::Text(camp::fixture::POLICY.to_string()));
    let mut total = camp::fixture::SCHEMA.lines().count() + camp::fixture::POLICY.lines().count();
    let mut i = 0;
    while total < lines {
        let text = campaign_file(i);
        total += text.lines().count();
        ws.add(format!("campaigns/c{i}.camp"), Input::Text(text));
        i += 1;
    }
    (ws, total)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_and_check");
    for lines in [2_000, 8_000] {
        let (ws, actual) = workspace(lines);
        let analysis = camp_compiler::analyze(&ws);
        assert!(
            analysis.diagnostics.is_empty(),
            "the generated workspace must be clean: {:?}",
            analysis.diagnostics.first().map(|d| &d.message)
        );
        group.throughput(Throughput::Elements(actual as u64));
        group.bench_with_input(BenchmarkId::from_parameter(format!("{lines}_lines")), &ws, |b, ws| {
            b.iter(|| camp_compiler::analyze(ws))
        });
    }
    group.finish();
}

/// Compile of one typical campaign file (about 50 lines): parse it, check
/// it against the schema and policy, and lower its queries for both
/// dialects. Target: under 250 µs. The schema and policy files are parsed
/// once and kept (`analyze_cached`), as `camp lsp` and a watch loop do; the
/// campaign text changes every iteration, so it is parsed every time.
/// `cold` parses all three files; `plan` adds the plan and its hash.
fn compile_one(c: &mut Criterion) {
    use camp_compiler::lower::{queries, Postgres, Sqlite};
    use camp_compiler::program::Program;
    let text = campaign_file(0);
    let workspace = |campaign: String| {
        let mut ws = Workspace::new();
        ws.add("schema.camp", Input::Text(camp::fixture::SCHEMA.to_string()));
        ws.add("policy.camp", Input::Text(camp::fixture::POLICY.to_string()));
        ws.add("campaigns/c0.camp", Input::Text(campaign));
        ws
    };
    let lower = |analysis: &camp_compiler::Analysis| {
        let program = Program::new(analysis).expect("clean");
        let (_, campaign) = program.campaigns["journey_0"];
        let a = queries::campaign_queries(&program, campaign, &Sqlite);
        let b = queries::campaign_queries(&program, campaign, &Postgres);
        a.render.sql.len() + b.render.sql.len()
    };
    let mut group = c.benchmark_group("compile");
    let mut cache = camp_compiler::ParseCache::default();
    let mut edit = 0u64;
    group.bench_function("typical_campaign_file", |b| {
        b.iter_batched(
            || {
                edit += 1;
                workspace(format!("{text}// edit {edit}\n"))
            },
            |ws| lower(&camp_compiler::analyze_cached(&ws, &mut cache)),
            criterion::BatchSize::SmallInput,
        )
    });
    group.bench_function("typical_campaign_file_cold", |b| {
        b.iter_batched(
            || workspace(text.clone()),
            |ws| lower(&camp_compiler::analyze(&ws)),
            criterion::BatchSize::SmallInput,
        )
    });
    group.bench_function("typical_campaign_file_plan", |b| {
        b.iter_batched(
            || workspace(text.clone()),
            |ws| {
                let analysis = camp_compiler::analyze(&ws);
                let program = Program::new(&analysis).expect("clean");
                camp_compiler::plan::build(&program, "journey_0").expect("plan").hash.len()
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench, compile_one);
criterion_main!(benches);
