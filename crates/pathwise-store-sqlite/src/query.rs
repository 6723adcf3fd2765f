//! The query language compiled to SQLite SQL.
//!
//! Plan: the top-level AND's tests about the trace (`trace.*`) filter `traces t` directly,
//! where the indexes by start, status and name apply; the rest becomes one correlated
//! `EXISTS` over the trace's spans (a primary-key range: a trace's spans are contiguous), so
//! "a trace having such a span" is evaluated span by span and every test of the expression
//! sees the same span. Listing walks traces newest first and stops at the page size, so a
//! query that matches often is cheap and one that matches rarely scans the window's spans.
//!
//! Every test yields 0 or 1, never NULL (a missing field fails the test), so NOT behaves as
//! the language says.

use pathwise_query::{Doc, Expr, Field, Op, Segment, Test, Value};
use rusqlite::types::Value as SqlValue;

/// SQL text and its arguments, in placeholder order.
#[derive(Default)]
pub(crate) struct Sql {
    pub(crate) text: String,
    pub(crate) args: Vec<SqlValue>,
}

/// The WHERE clauses (ANDed) over `traces t` that select the traces `expr` matches.
pub(crate) fn trace_clauses(expr: &Expr, out: &mut Vec<String>, args: &mut Vec<SqlValue>) {
    let (trace_level, span_level): (Vec<&Expr>, Vec<&Expr>) = expr
        .conjuncts()
        .into_iter()
        .partition(|e| e.is_trace_level());
    for e in trace_level {
        let mut sql = Sql::default();
        sql.expr(e);
        out.push(sql.text);
        args.extend(sql.args);
    }
    if span_level.is_empty() {
        return;
    }
    let mut sql = Sql::default();
    let conjunction = Expr::All(span_level.into_iter().cloned().collect());
    sql.expr(&conjunction);
    let details = conjunction.tests().iter().any(|t| needs_details(&t.field));
    let paths = conjunction.tests().iter().any(|t| t.field == Field::Path);
    let mut from = String::from("spans s");
    if details {
        from.push_str(
            " LEFT JOIN span_details d ON d.trace_id = s.trace_id AND d.span_id = s.span_id",
        );
    }
    if paths {
        from.push_str(" JOIN paths p ON p.id = s.path_id");
    }
    out.push(format!(
        "EXISTS (SELECT 1 FROM {from} WHERE s.trace_id = t.trace_id AND {})",
        sql.text
    ));
    args.extend(sql.args);
}

/// The least duration (ns) `expr` requires of the trace itself: the largest lower bound on
/// `trace.duration_ms` among its top-level AND's tests, if any. Listing uses it as a duration
/// filter too, which lets the slow-trace index serve `trace.duration_ms > 20s`.
pub(crate) fn trace_duration_floor(expr: &Expr) -> Option<i64> {
    expr.conjuncts()
        .into_iter()
        .filter_map(|e| match e {
            Expr::Test(Test {
                field: Field::TraceDuration,
                op,
            }) => match op {
                Op::Ge(Value::Int(ns)) => Some(*ns),
                Op::Gt(Value::Int(ns)) => ns.checked_add(1),
                Op::Ge(Value::Float(ns)) => Some(ns.ceil() as i64),
                Op::Gt(Value::Float(ns)) => (ns.floor() as i64).checked_add(1),
                _ => None,
            },
            _ => None,
        })
        .max()
}

fn needs_details(field: &Field) -> bool {
    matches!(
        field,
        Field::ErrorMessage | Field::Reasoning | Field::Attr(_) | Field::Doc(..)
    )
}

impl Sql {
    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn arg(&mut self, value: SqlValue) {
        self.text.push('?');
        self.args.push(value);
    }

    fn expr(&mut self, expr: &Expr) {
        match expr {
            Expr::All(items) => self.join(items, " AND ", "1"),
            Expr::Any(items) => self.join(items, " OR ", "0"),
            Expr::Not(inner) => {
                self.push("NOT (");
                self.expr(inner);
                self.push(")");
            }
            Expr::Test(test) => self.test(test),
        }
    }

    fn join(&mut self, items: &[Expr], glue: &str, empty: &str) {
        if items.is_empty() {
            return self.push(empty);
        }
        self.push("(");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.push(glue);
            }
            self.expr(item);
        }
        self.push(")");
    }

    fn test(&mut self, test: &Test) {
        match &test.field {
            Field::Name => self.dictionary("s.name_id", false, &test.op),
            Field::Group => self.dictionary("s.group_id", true, &test.op),
            Field::ErrorType => self.dictionary("s.error_type_id", true, &test.op),
            Field::TraceName => self.dictionary("t.name_id", false, &test.op),
            Field::Status => self.column("s.status", false, &test.op),
            Field::Kind => self.column("s.kind", false, &test.op),
            Field::Duration => self.column("s.duration_ns", false, &test.op),
            Field::Start => self.column("s.start_ns", false, &test.op),
            Field::TraceStatus => self.column("t.status", false, &test.op),
            Field::TraceStart => self.column("t.start_ns", false, &test.op),
            Field::TraceSpanCount => self.column("t.span_count", false, &test.op),
            Field::TraceErrorCount => self.column("t.error_count", false, &test.op),
            Field::TraceDuration => self.column("t.duration_ns", true, &test.op),
            Field::Path => self.column("p.path", false, &test.op),
            Field::ErrorMessage => self.column("d.error_message", true, &test.op),
            Field::Reasoning => self.column("pw_text(d.reasoning)", true, &test.op),
            Field::TraceId => self.trace_id(&test.op),
            Field::Attr(key) => {
                let path = json_path(&[Segment::Key(key.clone())]);
                self.json("d.attrs", &path, &test.op);
            }
            Field::Doc(doc, segments) => {
                let column = match doc {
                    Doc::Metadata => "pw_text(d.metadata)",
                    Doc::Input => "pw_text(d.input)",
                    Doc::Output => "pw_text(d.output)",
                };
                self.document(column, segments, &test.op);
            }
            Field::TraceMetadata(segments) => self.document("t.metadata", segments, &test.op),
        }
    }

    /// A name kept in the `names` dictionary: the test runs on the (small) dictionary and the
    /// span or trace row is matched by id, which lets `traces_by_name` serve trace names.
    fn dictionary(&mut self, column: &str, nullable: bool, op: &Op) {
        let lookup = |sql: &mut Sql, negated: bool, build: &dyn Fn(&mut Sql)| {
            if negated && nullable {
                sql.push(&format!("({column} IS NOT NULL AND "));
            }
            sql.push(&format!(
                "{column} {}IN (SELECT id FROM names WHERE ",
                if negated { "NOT " } else { "" }
            ));
            build(sql);
            sql.push(")");
            if negated && nullable {
                sql.push(")");
            }
        };
        match op {
            Op::Exists if nullable => self.push(&format!("({column} IS NOT NULL)")),
            Op::Exists => self.push("1"),
            Op::Eq(v) => lookup(self, false, &|sql| sql.compare("name", "=", v)),
            Op::Ne(v) => lookup(self, true, &|sql| sql.compare("name", "=", v)),
            Op::Contains(text) => lookup(self, false, &|sql| sql.contains("name", text)),
            Op::In(values) => lookup(self, false, &|sql| sql.one_of("name", values)),
            // The parser refuses ordering on text.
            Op::Lt(_) | Op::Le(_) | Op::Gt(_) | Op::Ge(_) => self.push("0"),
        }
    }

    /// A plain column; a nullable one is wrapped so a NULL fails the test instead of
    /// poisoning the expression.
    fn column(&mut self, column: &str, nullable: bool, op: &Op) {
        if nullable {
            self.push("COALESCE((");
        }
        match op {
            Op::Exists if nullable => self.push(&format!("{column} IS NOT NULL")),
            Op::Exists => self.push("1"),
            Op::Eq(v) => self.compare(column, "=", v),
            Op::Ne(v) => self.compare(column, "<>", v),
            Op::Lt(v) => self.compare(column, "<", v),
            Op::Le(v) => self.compare(column, "<=", v),
            Op::Gt(v) => self.compare(column, ">", v),
            Op::Ge(v) => self.compare(column, ">=", v),
            Op::Contains(text) => self.contains(column, text),
            Op::In(values) => self.one_of(column, values),
        }
        if nullable {
            self.push("), 0)");
        }
    }

    fn trace_id(&mut self, op: &Op) {
        let blob = |v: &Value| match v {
            Value::Text(hex) => pathwise_model::TraceId::parse_hex(hex)
                .map_or(SqlValue::Null, |id| SqlValue::Blob(id.to_bytes().to_vec())),
            _ => SqlValue::Null,
        };
        match op {
            // Bare, not wrapped like a nullable column: the trace id is never NULL, and a
            // bare `t.trace_id = ?` is a primary-key lookup (wrapped, every trace is read).
            Op::Eq(v) | Op::Ne(v) => match blob(v) {
                SqlValue::Null => self.push(if matches!(op, Op::Eq(_)) { "0" } else { "1" }),
                id => {
                    let symbol = if matches!(op, Op::Eq(_)) { "=" } else { "<>" };
                    self.push(&format!("t.trace_id {symbol} "));
                    self.arg(id);
                }
            },
            Op::In(values) => {
                self.push("t.trace_id IN (");
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        self.push(", ");
                    }
                    self.arg(blob(v));
                }
                self.push(")");
            }
            Op::Exists => self.push("1"),
            _ => self.push("0"),
        }
    }

    /// A whole document (`contains` on its text, `exists`) or a value inside it.
    fn document(&mut self, column: &str, segments: &[Segment], op: &Op) {
        if segments.is_empty() {
            return self.column(column, true, op);
        }
        self.json(column, &json_path(segments), op);
    }

    /// A JSON value, compared only with literals of its own type.
    fn json(&mut self, column: &str, path: &str, op: &Op) {
        self.push("COALESCE((");
        let ty = |sql: &mut Sql| {
            sql.push(&format!("json_type({column}, "));
            sql.arg(SqlValue::Text(path.to_string()));
            sql.push(")");
        };
        let value = |sql: &mut Sql| {
            sql.push(&format!("json_extract({column}, "));
            sql.arg(SqlValue::Text(path.to_string()));
            sql.push(")");
        };
        let typed = |sql: &mut Sql, v: &Value, symbol: &str| match v {
            Value::Text(_) | Value::Int(_) | Value::Float(_) => {
                ty(sql);
                sql.push(if matches!(v, Value::Text(_)) {
                    " = 'text' AND "
                } else {
                    " IN ('integer', 'real') AND "
                });
                value(sql);
                sql.push(&format!(" {symbol} "));
                sql.arg(sql_value(v));
            }
            Value::Bool(b) => {
                ty(sql);
                let wanted = if symbol == "=" { *b } else { !*b };
                sql.push(if wanted { " = 'true'" } else { " = 'false'" });
            }
            Value::Null => {
                ty(sql);
                sql.push(if symbol == "=" {
                    " = 'null'"
                } else {
                    " <> 'null'"
                });
            }
        };
        match op {
            Op::Exists => {
                ty(self);
                self.push(" IS NOT NULL");
            }
            Op::Eq(v) => typed(self, v, "="),
            Op::Ne(v) => typed(self, v, "<>"),
            Op::Lt(v) => typed(self, v, "<"),
            Op::Le(v) => typed(self, v, "<="),
            Op::Gt(v) => typed(self, v, ">"),
            Op::Ge(v) => typed(self, v, ">="),
            Op::Contains(text) => {
                ty(self);
                self.push(" = 'text' AND instr(lower(");
                value(self);
                self.push("), lower(");
                self.arg(SqlValue::Text(text.clone()));
                self.push(")) > 0");
            }
            Op::In(values) => {
                self.push("0");
                for v in values {
                    self.push(" OR (");
                    typed(self, v, "=");
                    self.push(")");
                }
            }
        }
        self.push("), 0)");
    }

    fn compare(&mut self, column: &str, symbol: &str, value: &Value) {
        self.push(&format!("{column} {symbol} "));
        self.arg(sql_value(value));
    }

    fn contains(&mut self, column: &str, text: &str) {
        self.push(&format!("instr(lower({column}), lower("));
        self.arg(SqlValue::Text(text.to_string()));
        self.push(")) > 0");
    }

    fn one_of(&mut self, column: &str, values: &[Value]) {
        self.push(&format!("{column} IN ("));
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.arg(sql_value(v));
        }
        self.push(")");
    }
}

fn sql_value(value: &Value) -> SqlValue {
    match value {
        Value::Text(t) => SqlValue::Text(t.clone()),
        Value::Int(i) => SqlValue::Integer(*i),
        Value::Float(f) => SqlValue::Real(*f),
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Null => SqlValue::Null,
    }
}

/// SQLite's JSON path: `$."llm"."model"[0]` (keys quoted, so dots and spaces in keys stay
/// keys).
fn json_path(segments: &[Segment]) -> String {
    let mut path = String::from("$");
    for segment in segments {
        match segment {
            Segment::Key(key) => {
                path.push_str(".\"");
                path.push_str(key);
                path.push('"');
            }
            Segment::Index(i) => path.push_str(&format!("[{i}]")),
        }
    }
    path
}
