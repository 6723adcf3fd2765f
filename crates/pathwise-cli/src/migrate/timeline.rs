//! Copying rows that carry a timestamp but no key the backends share (alert history, cache and
//! pipeline statistics, resource samples). Such rows are compared whole: both stores are read
//! oldest first, one timestamp at a time, and only the source's rows that the target lacks at
//! that timestamp are written. A second run, or a run resumed after an interruption (even one
//! that left a timestamp half written), therefore writes nothing twice; rows the target holds
//! of its own are left alone.

use std::collections::VecDeque;

use crate::error::CliError;

/// Rows read or written at once.
pub(super) const PAGE: usize = 10_000;

/// The most rows one timestamp may hold: its rows are read in one piece.
const GROUP_LIMIT: usize = 1_000_000;

/// One kind of timestamped rows in one store, read oldest first.
pub(super) trait Timeline {
    /// A row; two rows are the same record when they are equal.
    type Row: PartialEq;
    /// What the rows are, for messages (`cache rows`).
    const KIND: &'static str;
    /// Rows stamped after `after_ns`, oldest first, at most `limit`.
    fn page(&self, after_ns: i64, limit: usize) -> Result<Vec<Self::Row>, CliError>;
    /// Rows stamped `ts_ns`, at most `limit`.
    fn at(&self, ts_ns: i64, limit: usize) -> Result<Vec<Self::Row>, CliError>;
    /// A row's timestamp.
    fn ts(row: &Self::Row) -> i64;
}

/// A timeline's rows, one timestamp's worth at a time, oldest first.
struct Groups<'a, T: Timeline + ?Sized> {
    timeline: &'a T,
    page: usize,
    after_ns: i64,
    ready: VecDeque<Vec<T::Row>>,
    done: bool,
}

impl<'a, T: Timeline + ?Sized> Groups<'a, T> {
    fn new(timeline: &'a T, page: usize) -> Self {
        Groups {
            timeline,
            page: page.max(1),
            after_ns: i64::MIN,
            ready: VecDeque::new(),
            done: false,
        }
    }

    fn push_grouped(&mut self, rows: Vec<T::Row>) {
        for row in rows {
            match self.ready.back_mut() {
                Some(group) if group.first().map(T::ts) == Some(T::ts(&row)) => group.push(row),
                _ => self.ready.push_back(vec![row]),
            }
        }
    }

    fn fill(&mut self) -> Result<(), CliError> {
        while self.ready.is_empty() && !self.done {
            let mut rows = self.timeline.page(self.after_ns, self.page)?;
            let Some(last) = rows.last().map(T::ts) else {
                self.done = true;
                break;
            };
            if rows.len() < self.page {
                self.push_grouped(rows);
                self.done = true;
                break;
            }
            // A full page may end part way through the rows of its last timestamp: those are
            // read again, all of them, so every group is whole.
            rows.retain(|r| T::ts(r) < last);
            let group = self.timeline.at(last, GROUP_LIMIT)?;
            if group.len() >= GROUP_LIMIT {
                return Err(CliError::Failed(format!(
                    "more than {GROUP_LIMIT} {} at one timestamp ({last})",
                    T::KIND
                )));
            }
            self.push_grouped(rows);
            self.push_grouped(group);
            self.after_ns = last;
        }
        Ok(())
    }

    fn peek_ts(&mut self) -> Result<Option<i64>, CliError> {
        self.fill()?;
        Ok(self.ready.front().and_then(|g| g.first()).map(T::ts))
    }

    fn next_group(&mut self) -> Result<Option<Vec<T::Row>>, CliError> {
        self.fill()?;
        Ok(self.ready.pop_front())
    }
}

/// Writes the rows of `source` that `target` lacks, at most `page` at a time, oldest first;
/// returns how many were written.
///
/// The target is read while it is written: rows written so far are stamped no later than the
/// timestamp being compared, whose target rows were read before, so they never count as a
/// later timestamp's rows.
pub(super) fn copy_missing<T: Timeline + ?Sized>(
    source: &T,
    target: &T,
    page: usize,
    mut write: impl FnMut(&[T::Row]) -> Result<(), CliError>,
) -> Result<u64, CliError> {
    let mut from = Groups::new(source, page);
    let mut into = Groups::new(target, page);
    let mut pending: Vec<T::Row> = Vec::new();
    let mut written = 0u64;
    while let Some(group) = from.next_group()? {
        let ts = group.first().map(T::ts).unwrap_or_default();
        let mut held = Vec::new();
        while let Some(seen) = into.peek_ts()? {
            if seen > ts {
                break;
            }
            let rows = into.next_group()?.unwrap_or_default();
            if seen == ts {
                held = rows;
            }
        }
        for row in group {
            // Each target row accounts for one source row: twice the same row in the source
            // is twice in the target.
            match held.iter().position(|h| *h == row) {
                Some(i) => {
                    held.swap_remove(i);
                }
                None => pending.push(row),
            }
        }
        if pending.len() >= page {
            write(&pending)?;
            written += pending.len() as u64;
            pending.clear();
        }
    }
    if !pending.is_empty() {
        write(&pending)?;
        written += pending.len() as u64;
    }
    Ok(written)
}

/// How many rows a timeline holds.
pub(super) fn count<T: Timeline + ?Sized>(timeline: &T) -> Result<u64, CliError> {
    let mut groups = Groups::new(timeline, PAGE);
    let mut total = 0u64;
    while let Some(group) = groups.next_group()? {
        total += group.len() as u64;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// Rows `(ts, value)` in memory, in the order they were written.
    #[derive(Default)]
    struct Rows(RefCell<Vec<(i64, u32)>>);

    impl Timeline for Rows {
        type Row = (i64, u32);
        const KIND: &'static str = "rows";

        fn page(&self, after_ns: i64, limit: usize) -> Result<Vec<(i64, u32)>, CliError> {
            let mut rows: Vec<_> = self
                .0
                .borrow()
                .iter()
                .copied()
                .filter(|r| r.0 > after_ns)
                .collect();
            rows.sort_by_key(|r| r.0);
            rows.truncate(limit);
            Ok(rows)
        }

        fn at(&self, ts_ns: i64, limit: usize) -> Result<Vec<(i64, u32)>, CliError> {
            let mut rows: Vec<_> = self
                .0
                .borrow()
                .iter()
                .copied()
                .filter(|r| r.0 == ts_ns)
                .collect();
            rows.truncate(limit);
            Ok(rows)
        }

        fn ts(row: &(i64, u32)) -> i64 {
            row.0
        }
    }

    fn sorted(rows: &Rows) -> Vec<(i64, u32)> {
        let mut v = rows.0.borrow().clone();
        v.sort();
        v
    }

    fn copy(source: &Rows, target: &Rows, page: usize) -> u64 {
        copy_missing(source, target, page, |rows| {
            target.0.borrow_mut().extend_from_slice(rows);
            Ok(())
        })
        .unwrap()
    }

    /// Many rows per timestamp, a duplicate row, and timestamps that straddle pages.
    fn source() -> Rows {
        let mut rows = Vec::new();
        for ts in 0..20i64 {
            for v in 0..(ts % 4) as u32 + 1 {
                rows.push((ts * 10, v));
            }
        }
        rows.push((50, 0));
        Rows(RefCell::new(rows))
    }

    #[test]
    fn every_page_size_copies_everything_once() {
        for page in [1, 2, 3, 7, 10_000] {
            let source = source();
            let target = Rows::default();
            let total = source.0.borrow().len() as u64;
            assert_eq!(copy(&source, &target, page), total, "page {page}");
            assert_eq!(sorted(&target), sorted(&source), "page {page}");
            assert_eq!(copy(&source, &target, page), 0, "page {page}: a second run");
            assert_eq!(count(&target).unwrap(), total);
        }
    }

    #[test]
    fn a_half_written_copy_is_completed_without_duplicates() {
        let source = source();
        let all = sorted(&source);
        // An interrupted copy: the first rows, and part of one timestamp's rows.
        let mut partial: Vec<_> = all.iter().copied().filter(|r| r.0 < 50).collect();
        partial.push((50, 1));
        // A row the target has of its own stays, and is not the source's.
        partial.push((55, 9));
        let target = Rows(RefCell::new(partial));
        let written = copy(&source, &target, 3);
        assert_eq!(written, all.iter().filter(|r| r.0 >= 50).count() as u64 - 1);
        let mut expected = all.clone();
        expected.push((55, 9));
        expected.sort();
        assert_eq!(sorted(&target), expected);
        assert_eq!(copy(&source, &target, 2), 0);
    }
}
