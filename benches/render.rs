//! Rendering one realistic message, the shop's cart reminder (customer name,
//! product name, price `| won`, stock, sender, opt-out line), with the same
//! values through camp's template engine and through minijinja. Both
//! templates are compiled once outside the loop and both get their values
//! built once; the loop measures rendering only. Target: camp at least 5x
//! faster.

use camp_compiler::program::Program;
use camp_compiler::templating::{self, CompiledTemplate, Context, Source, Value, Values};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::path::Path;

const NAME: &str = "김민지";
const PRODUCT: &str = "무선 블루투스 이어폰 프로";
const PRICE: i64 = 12_900;
const STOCK: i64 = 3;

/// The same text as `cart_remind` in examples/shop/campaigns/cart.camp.
const JINJA: &str = "(광고) {{ sender }}
{{ name }}님, 장바구니에 담아두신 {{ product_name }}, 아직 고민 중이신가요?
담으실 때 가격 {{ price | won }} 그대로, 지금 남은 수량은 {{ stock }}개예요.

장바구니 바로가기: https://shop.example/cart
{{ optout }}";

fn camp_template() -> (CompiledTemplate, Values) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop");
    let loaded = match camp::load::load(&[root]) {
        Ok(l) => l,
        Err(e) => panic!("examples/shop loads: {}", e.0),
    };
    let analysis = camp_compiler::analyze(&loaded.workspace);
    let Some(program) = Program::new(&analysis) else {
        panic!("examples/shop checks clean")
    };
    let campaign = program.campaigns["cart_reminder"].1;
    let cx = Context::for_campaign(&program, campaign);
    let message = templating::compile_named(&cx, "cart_remind").expect("cart_remind compiles");
    let body = message.body.expect("cart_remind has a body");
    let mut values = Values::for_template(&body);
    for source in &body.inputs {
        let value = match source.to_string().as_str() {
            "customer.name" => Value::Text(NAME.into()),
            "trigger.product.name" => Value::Text(PRODUCT.into()),
            "trigger.price" => Value::Int(PRICE),
            "trigger.product.stock" => Value::Int(STOCK),
            other => panic!("unexpected input {other}"),
        };
        values.insert(source.clone(), value);
    }
    assert!(body.inputs.iter().all(Source::is_stored));
    (body, values)
}

/// `12,900원`, as a minijinja filter.
fn won(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + 8);
    if n < 0 {
        out.push('-');
    }
    // Digits left before the next comma: the first group may be short.
    let mut left = match digits.len() % 3 {
        0 => 3,
        r => r,
    };
    for c in digits.chars() {
        if left == 0 {
            out.push(',');
            left = 3;
        }
        out.push(c);
        left -= 1;
    }
    out.push('원');
    out
}

fn bench(c: &mut Criterion) {
    let (template, values) = camp_template();
    let zone = Some("Asia/Seoul");

    let mut env = minijinja::Environment::new();
    env.add_filter("won", won);
    env.add_template("cart_remind.txt", JINJA).expect("the jinja template compiles");
    let jinja = env.get_template("cart_remind.txt").expect("the jinja template exists");
    let ctx = minijinja::context! {
        sender => "캠프샵 02-1234-5678",
        optout => "무료수신거부 080-123-4567",
        name => NAME,
        product_name => PRODUCT,
        price => PRICE,
        stock => STOCK,
    };

    let ours = templating::render(&template, &values, zone).expect("camp renders");
    let theirs = jinja.render(&ctx).expect("minijinja renders");
    assert_eq!(ours, theirs, "both engines must print the same text");
    assert!(ours.contains("12,900원"));

    let mut group = c.benchmark_group("render_cart_remind");
    group.bench_function("camp", |b| {
        b.iter(|| templating::render(black_box(&template), black_box(&values), black_box(zone)))
    });
    group.bench_function("minijinja", |b| b.iter(|| black_box(&jinja).render(black_box(&ctx))));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
