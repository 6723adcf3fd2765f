//! Running statistics that let a sequence decide, after seeing all its
//! elements, whether to print them or collapse into a numeric summary.
//!
//! Only constant-size state is kept per sequence, so the decision costs no
//! buffering beyond the `max_items` summaries the sequence shows anyway.

/// Numeric element kind as serialized. Ordered so that merging two kinds is
/// `max`: unsigned ⊂ signed ⊂ float for the purposes of a type label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    U64,
    I64,
    F64,
}

impl Kind {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::U64 => "[u64]",
            Kind::I64 => "[i64]",
            Kind::F64 => "[f64]",
        }
    }
}

/// What a summarised value looked like, as far as its parent sequence cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Anything that cannot be part of a numeric vector or matrix.
    Other,
    /// A single number.
    Number(Kind),
    /// A sequence of `len` numbers (possibly empty).
    Vector { kind: Kind, len: usize },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NumState {
    Empty,
    Scalars(Kind),
    Rows { kind: Kind, cols: usize },
    Mixed,
}

/// Per-sequence element statistics.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SeqStats {
    pub(crate) count: usize,
    state: NumState,
}

/// How a finished sequence should be rendered.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Show the buffered element summaries.
    List,
    /// `{"type": kind, "len": n}`.
    Vector(Kind, usize),
    /// `{"type": kind, "shape": [rows, cols]}`.
    Matrix(Kind, usize, usize),
}

impl SeqStats {
    pub(crate) fn new() -> Self {
        Self {
            count: 0,
            state: NumState::Empty,
        }
    }

    /// Once mixed, later elements need not even be probed: nothing they
    /// contain can turn the sequence numeric again.
    pub(crate) fn is_mixed(&self) -> bool {
        self.state == NumState::Mixed
    }

    /// Records an element that was not inspected.
    pub(crate) fn skip(&mut self) {
        self.count += 1;
        self.state = NumState::Mixed;
    }

    pub(crate) fn push(&mut self, shape: Shape) {
        use NumState::*;
        self.count += 1;
        self.state = match (self.state, shape) {
            (Mixed, _) | (_, Shape::Other) => Mixed,
            (Empty, Shape::Number(k)) => Scalars(k),
            (Scalars(a), Shape::Number(b)) => Scalars(a.max(b)),
            (Empty, Shape::Vector { kind, len }) => Rows { kind, cols: len },
            (Rows { kind: a, cols }, Shape::Vector { kind: b, len }) if cols == len => Rows {
                kind: a.max(b),
                cols,
            },
            _ => Mixed,
        };
    }

    /// The shape this sequence presents to *its* parent.
    pub(crate) fn shape(&self) -> Shape {
        match self.state {
            // An empty sequence is a zero-length vector; its kind is
            // irrelevant because rows must agree on length to form a matrix.
            NumState::Empty => Shape::Vector {
                kind: Kind::U64,
                len: 0,
            },
            NumState::Scalars(kind) => Shape::Vector {
                kind,
                len: self.count,
            },
            // Three or more dimensions are not summarised specially.
            NumState::Rows { .. } | NumState::Mixed => Shape::Other,
        }
    }

    pub(crate) fn verdict(&self, threshold: usize) -> Verdict {
        match self.state {
            NumState::Scalars(kind) if self.count > threshold => Verdict::Vector(kind, self.count),
            NumState::Rows { kind, cols } if self.count.saturating_mul(cols) > threshold => {
                Verdict::Matrix(kind, self.count, cols)
            }
            _ => Verdict::List,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_merge_kinds() {
        let mut s = SeqStats::new();
        s.push(Shape::Number(Kind::U64));
        s.push(Shape::Number(Kind::I64));
        assert_eq!(s.verdict(1), Verdict::Vector(Kind::I64, 2));
        s.push(Shape::Number(Kind::F64));
        assert_eq!(s.verdict(1), Verdict::Vector(Kind::F64, 3));
        assert_eq!(s.verdict(3), Verdict::List);
    }

    #[test]
    fn rows_need_equal_length() {
        let mut s = SeqStats::new();
        let row = |len| Shape::Vector {
            kind: Kind::F64,
            len,
        };
        s.push(row(4));
        s.push(row(4));
        assert_eq!(s.verdict(7), Verdict::Matrix(Kind::F64, 2, 4));
        assert_eq!(s.verdict(8), Verdict::List);
        s.push(row(3));
        assert!(s.is_mixed());
        assert_eq!(s.verdict(0), Verdict::List);
    }

    #[test]
    fn other_elements_make_it_mixed() {
        let mut s = SeqStats::new();
        s.push(Shape::Number(Kind::U64));
        s.push(Shape::Other);
        s.push(Shape::Number(Kind::U64));
        assert!(s.is_mixed());
        assert_eq!(s.shape(), Shape::Other);
        let mut e = SeqStats::new();
        e.skip();
        assert!(e.is_mixed());
        assert_eq!(SeqStats::new().verdict(0), Verdict::List);
    }
}
