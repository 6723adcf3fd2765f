//! The demo's sized work, for `pathwise loadtest` without a command: the search service's
//! merge of the datasets its sources found. The demo's own searches do not grow with any
//! input (their latencies are drawn from the seed), so the load test drives this step instead,
//! with real CPU work whose growth is known:
//!
//! - `SearchService.merge_results`: the whole merge, attribute `dataset_count` = n;
//! - `SearchService.dedupe_results`: compares every pair of results for near-duplicate titles,
//!   O(n²) — the finding a load test is for;
//! - `SearchService.index_results`: hashes each result into the search index, O(n).
//!
//! They are manual spans, not `#[monitor]`ed functions: a monitored function is registered by
//! every process that links it, and these would then show as "never executed" in every demo.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The node a load test without a command analyses, with its size attribute.
pub const NODES: [(&str, &str); 2] = [
    ("SearchService.dedupe_results", SIZE_ATTRIBUTE),
    ("SearchService.index_results", SIZE_ATTRIBUTE),
];
/// The attribute holding the number of datasets merged.
pub const SIZE_ATTRIBUTE: &str = "dataset_count";
const GROUP: &str = "search";

/// A dataset as the sources return it; titles have one length so that every comparison
/// reads them whole.
struct Found {
    accession: String,
    title: String,
}

/// `n` datasets of request `request`: every seventh repeats the title of the one three
/// before it (the same dataset from another source); other titles differ almost everywhere.
fn found(n: usize, request: usize) -> Vec<Found> {
    (0..n)
        .map(|i| {
            let series = (request * 1000 + if i % 7 == 6 { i - 3 } else { i }) as u64;
            Found {
                accession: format!("GSE{:06}", request * 1000 + i),
                title: format!(
                    "Expression profile {:016x}{:016x}",
                    splitmix(series),
                    splitmix(!series)
                ),
            }
        })
        .collect()
}

/// splitmix64's output function: distinct inputs, unrelated outputs.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Whether two titles differ in at most one byte in ten; every byte is compared, so each
/// comparison costs the same.
fn near_duplicates(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).filter(|(x, y)| x != y).count() * 10 <= a.len()
}

/// Indexes of the results that repeat an earlier one: every pair compared.
fn dedupe(results: &[Found]) -> Vec<usize> {
    let _span = pathwise::span("SearchService.dedupe_results")
        .group(GROUP)
        .attr(SIZE_ATTRIBUTE, results.len() as i64);
    (1..results.len())
        .filter(|&i| {
            (0..i).any(|j| near_duplicates(black_box(&results[i].title), &results[j].title))
        })
        .collect()
}

/// One FNV-1a key per result, mixed a few rounds as an index's tokenizer would.
fn index(results: &[Found]) -> Vec<u64> {
    let _span = pathwise::span("SearchService.index_results")
        .group(GROUP)
        .attr(SIZE_ATTRIBUTE, results.len() as i64);
    results
        .iter()
        .map(|r| {
            let mut hash = 0xcbf2_9ce4_8422_2325_u64;
            for _round in 0..8 {
                for byte in r.accession.bytes().chain(r.title.bytes()) {
                    hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
                }
            }
            black_box(hash)
        })
        .collect()
}

/// One merge of `size` datasets: a trace of its own.
fn merge(size: usize, request: usize) -> usize {
    let _span = pathwise::span("SearchService.merge_results")
        .group(GROUP)
        .attr(SIZE_ATTRIBUTE, size as i64);
    let results = found(size, request);
    let duplicates = dedupe(&results);
    let keys = index(&results);
    keys.len() - duplicates.len()
}

/// `requests` merges of `size` datasets, `concurrency` at a time on as many threads.
pub fn run_step(size: usize, concurrency: usize, requests: usize) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..concurrency.max(1) {
            scope.spawn(|| {
                loop {
                    let request = next.fetch_add(1, Ordering::Relaxed);
                    if request >= requests {
                        break;
                    }
                    black_box(merge(size, request));
                }
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_and_every_result_is_indexed() {
        let results = found(20, 1);
        // Results 6 and 13 repeat the titles of 3 and 10.
        assert_eq!(dedupe(&results), [6, 13]);
        assert_eq!(index(&results).len(), 20);
        assert_eq!(merge(20, 1), 18);
        assert!(
            found(5, 0)
                .iter()
                .all(|f| f.title.len() == found(5, 0)[0].title.len())
        );
    }
}
