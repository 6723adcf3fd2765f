//! The checked expression a backend compiles: every field resolved, every value converted to
//! the field's unit (nanoseconds, status codes), every operator valid for its field.

/// A boolean expression over one span and its trace.
///
/// `All(vec![])` is true and `Any(vec![])` is false, which is what relaxing a query for a
/// backend that cannot evaluate some tests produces (see [`Expr::relax`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// Every operand holds (AND).
    All(Vec<Expr>),
    /// Some operand holds (OR).
    Any(Vec<Expr>),
    Not(Box<Expr>),
    Test(Test),
}

/// One field tested one way.
#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    pub field: Field,
    pub op: Op,
}

/// What a test asks of its field. A field that is absent (a span without that attribute, a
/// JSON path that leads nowhere, a value of another type) fails every test but
/// [`Op::Exists`]'s negation: `attr.user != "a"` is false for a span without `user`, while
/// `NOT attr.user == "a"` is true.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Eq(Value),
    Ne(Value),
    Lt(Value),
    Le(Value),
    Gt(Value),
    Ge(Value),
    /// ASCII-case-insensitive substring; on a whole document (`input contains "B0123"`),
    /// a substring of its JSON text.
    Contains(String),
    In(Vec<Value>),
    Exists,
}

/// A literal after conversion: durations and times are nanoseconds ([`Value::Int`]), status
/// and kind names their codes.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
}

impl Value {
    /// The value as a number, for numeric comparisons.
    ///
    /// ```
    /// use pathwise_query::Value;
    /// assert_eq!(Value::Int(3).as_f64(), Some(3.0));
    /// assert_eq!(Value::Text("3".into()).as_f64(), None);
    /// ```
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
}

/// A field of a span (bare, or `steps.` as the planning documents write it) or of its trace
/// (`trace.`).
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    Name,
    Group,
    /// Span status code (`pathwise_model::Status`).
    Status,
    /// Span kind code (`pathwise_model::SpanKind`).
    Kind,
    /// Nanoseconds.
    Duration,
    /// Start, Unix nanoseconds.
    Start,
    /// `root → … → name`.
    Path,
    ErrorType,
    ErrorMessage,
    Reasoning,
    /// One typed attribute; its key verbatim (`attr.http.method` is the key `http.method`).
    Attr(String),
    /// A captured document, or a value inside it.
    Doc(Doc, Vec<Segment>),
    TraceId,
    TraceName,
    /// Trace status code (`pathwise_model::TraceStatus`).
    TraceStatus,
    TraceDuration,
    TraceStart,
    TraceSpanCount,
    TraceErrorCount,
    TraceMetadata(Vec<Segment>),
}

impl Field {
    /// Whether the field belongs to the trace rather than to one of its spans: a conjunction
    /// of such tests can be answered from the trace table alone.
    ///
    /// ```
    /// use pathwise_query::Field;
    /// assert!(Field::TraceName.is_trace_level());
    /// assert!(!Field::Name.is_trace_level());
    /// ```
    pub fn is_trace_level(&self) -> bool {
        matches!(
            self,
            Field::TraceId
                | Field::TraceName
                | Field::TraceStatus
                | Field::TraceDuration
                | Field::TraceStart
                | Field::TraceSpanCount
                | Field::TraceErrorCount
                | Field::TraceMetadata(_)
        )
    }
}

/// A span's captured JSON documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Doc {
    Metadata,
    Input,
    Output,
}

/// One step of a JSON path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

impl Expr {
    /// The operands of a top-level AND (the expression itself otherwise).
    ///
    /// ```
    /// let q = pathwise_query::Query::parse("trace.name == a AND status == error", 0).unwrap();
    /// assert_eq!(q.expr().unwrap().conjuncts().len(), 2);
    /// ```
    pub fn conjuncts(&self) -> Vec<&Expr> {
        match self {
            Expr::All(items) => items.iter().flat_map(Expr::conjuncts).collect(),
            other => vec![other],
        }
    }

    /// Whether every test in the expression is about the trace (see [`Field::is_trace_level`]).
    pub fn is_trace_level(&self) -> bool {
        self.tests().iter().all(|t| t.field.is_trace_level())
    }

    /// Every test in the expression, in order.
    pub fn tests(&self) -> Vec<&Test> {
        let mut out = Vec::new();
        self.collect_tests(&mut out);
        out
    }

    fn collect_tests<'a>(&'a self, out: &mut Vec<&'a Test>) {
        match self {
            Expr::All(items) | Expr::Any(items) => {
                items.iter().for_each(|e| e.collect_tests(out));
            }
            Expr::Not(inner) => inner.collect_tests(out),
            Expr::Test(test) => out.push(test),
        }
    }

    /// A weaker expression in which every test `supported` refuses is replaced by whatever
    /// keeps the result a superset: true where the test counts for a match, false under a
    /// NOT. A backend evaluates the relaxed form where it can and checks each candidate
    /// against the full expression.
    ///
    /// ```
    /// use pathwise_query::{Expr, Field, Query};
    /// let q = Query::parse("name == a AND NOT input.x == 1", 0).unwrap();
    /// let relaxed = q.expr().unwrap().relax(&|t| !matches!(t.field, Field::Doc(..)));
    /// assert_eq!(relaxed.tests().len(), 1);
    /// ```
    pub fn relax(&self, supported: &dyn Fn(&Test) -> bool) -> Expr {
        self.relax_with(supported, true)
    }

    fn relax_with(&self, supported: &dyn Fn(&Test) -> bool, positive: bool) -> Expr {
        match self {
            Expr::All(items) => Expr::All(
                items
                    .iter()
                    .map(|e| e.relax_with(supported, positive))
                    .collect(),
            ),
            Expr::Any(items) => Expr::Any(
                items
                    .iter()
                    .map(|e| e.relax_with(supported, positive))
                    .collect(),
            ),
            Expr::Not(inner) => Expr::Not(Box::new(inner.relax_with(supported, !positive))),
            Expr::Test(test) if supported(test) => Expr::Test(test.clone()),
            // Unknown: true where a match needs it, false where a NOT would turn it into one.
            Expr::Test(_) if positive => Expr::All(Vec::new()),
            Expr::Test(_) => Expr::Any(Vec::new()),
        }
    }
}
