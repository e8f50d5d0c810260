//! Segments: each condition checked once, and cycles between them found.

use super::expr::{self, Scope, Trigger};
use super::{Def, Env};
use crate::codes;
use crate::diagnostic::{Diagnostic, Sink};
use camp_grammar::ast::{self, Span};
use std::collections::HashMap;

pub fn check(env: &Env, sink: &mut Sink, duplicates: &[Def<ast::Segment>]) {
    let mut defs: Vec<(&str, &Def<ast::Segment>)> = env.segments.iter().map(|(n, d)| (*n, d)).collect();
    defs.sort_by_key(|(_, d)| (d.file, d.item.span.start));
    let mut uses: HashMap<&str, Vec<(String, Span)>> = HashMap::new();
    for (name, def) in &defs {
        sink.segment_uses.clear();
        expr::condition(
            env,
            sink,
            &Scope::new(def.file, Trigger::Segment { defining: name }),
            &def.item.cond,
        );
        uses.insert(name, std::mem::take(&mut sink.segment_uses));
    }
    for def in duplicates {
        let defining = def.item.name.name.as_str();
        expr::condition(env, sink, &Scope::new(def.file, Trigger::Segment { defining }), &def.item.cond);
    }
    sink.segment_uses.clear();
    cycles(env, sink, &defs, &uses);
}

/// Reports each cycle once, at the segment where it is first entered.
fn cycles(env: &Env, sink: &mut Sink, defs: &[(&str, &Def<ast::Segment>)], uses: &HashMap<&str, Vec<(String, Span)>>) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    let mut marks: HashMap<&str, Mark> = HashMap::new();
    for (root, _) in defs {
        if marks.contains_key(root) {
            continue;
        }
        // Iterative depth-first search; `path` holds (segment, use span).
        let mut path: Vec<(&str, Span)> = Vec::new();
        let mut stack: Vec<(&str, Option<Span>, bool)> = vec![(root, None, false)];
        while let Some((name, via, leaving)) = stack.pop() {
            if leaving {
                marks.insert(name, Mark::Done);
                path.pop();
                continue;
            }
            match marks.get(name) {
                Some(Mark::Done) => continue,
                Some(Mark::Visiting) => {
                    report(env, sink, &path, name, via.unwrap_or_default());
                    continue;
                }
                None => {}
            }
            let Some(def) = env.segments.get(name) else { continue };
            marks.insert(name, Mark::Visiting);
            path.push((name, via.unwrap_or(def.item.name.span)));
            stack.push((name, None, true));
            for (next, span) in uses.get(name).into_iter().flatten().rev() {
                if let Some((key, _)) = env.segments.get_key_value(next.as_str()) {
                    stack.push((*key, Some(*span), false));
                }
            }
        }
    }
}

fn report(env: &Env, sink: &mut Sink, path: &[(&str, Span)], back_to: &str, back_span: Span) {
    let Some(start) = path.iter().position(|(n, _)| *n == back_to) else {
        return;
    };
    let cycle = &path[start..];
    let Some(def) = env.segments.get(back_to) else { return };
    let names: Vec<&str> = cycle.iter().map(|(n, _)| *n).chain([back_to]).collect();
    let mut d = Diagnostic::new(
        codes::SEGMENT_CYCLE,
        def.file,
        def.item.name.span,
        format!("segment `{back_to}` depends on itself: {}", names.join(" -> ")),
        "this segment is part of a cycle",
    );
    // The uses that close the cycle, in the files of the segments using them.
    for window in cycle.windows(2) {
        if let (Some(user), (used, span)) = (env.segments.get(window[0].0), window[1]) {
            d = d.with_label(user.file, span, format!("uses `{used}`"));
        }
    }
    if let Some(last) = cycle.last().and_then(|(n, _)| env.segments.get(n)) {
        d = d.with_label(last.file, back_span, format!("uses `{back_to}` again"));
    }
    sink.push(d.with_help("define one of these segments without the others"));
}
