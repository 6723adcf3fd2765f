//! Alignment: each trace's spans grouped by path, paths in depth-first order of first
//! appearance, occurrences of a path in start order.

use std::collections::HashMap;

use pathwise_store::SpanRow;

/// Rank of a path in the merged order: A's paths (0) in A's order, B-only ones (1) after.
pub(super) type Rank = (u8, usize);

/// One trace's spans grouped by path, paths in depth-first order of first appearance.
pub(super) struct Indexed<'a> {
    pub(super) paths: Vec<(Vec<&'a str>, Vec<&'a SpanRow>)>,
    pub(super) lookup: HashMap<Vec<&'a str>, usize>,
    pub(super) origin_ns: i64,
}

fn occurrence_order(x: &&SpanRow, y: &&SpanRow) -> std::cmp::Ordering {
    (x.start_ns, x.span_id).cmp(&(y.start_ns, y.span_id))
}

/// Groups `spans` by path (see the module's description).
pub(super) fn index(spans: &[SpanRow]) -> Indexed<'_> {
    let position: HashMap<u64, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.span_id, i))
        .collect();
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, span) in spans.iter().enumerate() {
        match position.get(&span.parent_id) {
            Some(&p) if span.parent_id != 0 && p != i => children.entry(p).or_default().push(i),
            _ => roots.push(i),
        }
    }
    let by_start = |list: &mut Vec<usize>| {
        list.sort_by_key(|&i| (spans[i].start_ns, spans[i].span_id));
    };
    by_start(&mut roots);
    children.values_mut().for_each(by_start);
    let mut out = Indexed {
        paths: Vec::new(),
        lookup: HashMap::new(),
        origin_ns: spans.iter().map(|s| s.start_ns).min().unwrap_or(0),
    };
    let mut visited = vec![false; spans.len()];
    // Spans in a parent cycle are reached from no root: they start walks of their own.
    let starts: Vec<usize> = roots.into_iter().chain(0..spans.len()).collect();
    for start in starts {
        let mut stack: Vec<(usize, Option<usize>)> = vec![(start, None)];
        while let Some((i, parent_path)) = stack.pop() {
            if std::mem::replace(&mut visited[i], true) {
                continue;
            }
            let mut segments = parent_path.map_or_else(Vec::new, |p| out.paths[p].0.clone());
            segments.push(spans[i].name.as_str());
            let path = match out.lookup.get(&segments) {
                Some(&p) => p,
                None => {
                    out.lookup.insert(segments.clone(), out.paths.len());
                    out.paths.push((segments, Vec::new()));
                    out.paths.len() - 1
                }
            };
            out.paths[path].1.push(&spans[i]);
            for &child in children.get(&i).into_iter().flatten().rev() {
                stack.push((child, Some(path)));
            }
        }
    }
    for (_, occurrences) in &mut out.paths {
        occurrences.sort_by(occurrence_order);
    }
    out
}

/// A path's occurrences in one trace and the trace's origin, if it has the path.
pub(super) fn occurrences<'i, 'a>(
    indexed: &'i Indexed<'a>,
    segments: &[&str],
) -> Option<(&'i [&'a SpanRow], i64)> {
    let at = *indexed.lookup.get(segments)?;
    Some((indexed.paths[at].1.as_slice(), indexed.origin_ns))
}
