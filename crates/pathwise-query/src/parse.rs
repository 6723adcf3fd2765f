//! From text to a checked [`Expr`]: the PEG grammar (`grammar.pest`), then one walk over its
//! parse tree that resolves fields and converts values, reporting the column of whatever it
//! refuses.

use pest::Parser;
use pest::iterators::Pair;

use crate::QueryError;
use crate::ast::{Expr, Field, Op, Segment, Test, Value};
use crate::fields::{self, Kind};

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct Grammar;

/// Longest accepted query, in bytes.
pub const MAX_QUERY_BYTES: usize = 4096;
/// Deepest accepted nesting of parentheses: the grammar recurses once per level.
pub const MAX_DEPTH: usize = 32;
/// Most values in one `in (...)` list.
pub const MAX_LIST: usize = 1000;

pub(crate) fn parse(text: &str, now_ns: i64) -> Result<Option<Expr>, QueryError> {
    if text.len() > MAX_QUERY_BYTES {
        return Err(QueryError::at(
            text,
            MAX_QUERY_BYTES,
            format!("the query is longer than {MAX_QUERY_BYTES} bytes"),
        ));
    }
    check_depth(text)?;
    let mut pairs = Grammar::parse(Rule::query, text).map_err(|e| syntax_error(text, &e))?;
    let walker = Walker { text, now_ns };
    let query = pairs.next().expect("the grammar's top rule matched");
    for pair in query.into_inner() {
        if pair.as_rule() == Rule::or_expr {
            return walker.or_expr(pair).map(Some);
        }
    }
    Ok(None)
}

/// Refuses nesting deeper than [`MAX_DEPTH`] before the recursive grammar sees it.
fn check_depth(text: &str) -> Result<(), QueryError> {
    let (mut depth, mut quote, mut escaped) = (0usize, None, false);
    for (offset, c) in text.char_indices() {
        match (quote, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => {
                depth += 1;
                if depth > MAX_DEPTH {
                    let message = format!("parentheses nested deeper than {MAX_DEPTH}");
                    return Err(QueryError::at(text, offset, message));
                }
            }
            (None, ')') => depth = depth.saturating_sub(1),
            (None, _) => {}
        }
    }
    Ok(())
}

fn syntax_error(text: &str, error: &pest::error::Error<Rule>) -> QueryError {
    let offset = match error.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((p, _)) => p,
    };
    let expected = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&str> = positives.iter().filter_map(|r| describe(*r)).collect();
            names.dedup();
            let mut seen = Vec::new();
            names.retain(|n| {
                let new = !seen.contains(n);
                seen.push(*n);
                new
            });
            // "the end of the query" reads best last.
            names.sort_by_key(|n| *n == END);
            names
        }
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let found = match text[offset..].split_whitespace().next() {
        Some(token) => format!("found `{}`", token.chars().take(24).collect::<String>()),
        None => "the query ends".to_string(),
    };
    let message = match expected.as_slice() {
        [] => format!("unexpected input: {found}"),
        [one] => format!("expected {one}; {found}"),
        [init @ .., last] => format!("expected {} or {last}; {found}", init.join(", ")),
    };
    QueryError::at(text, offset, message)
}

const END: &str = "the end of the query";

/// How an expected rule reads in an error message; `None` for rules a user never types.
fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => END,
        Rule::or_expr | Rule::and_expr | Rule::unary | Rule::predicate | Rule::text => {
            "a condition"
        }
        Rule::not_op | Rule::kw_not => "NOT",
        Rule::kw_and => "AND",
        Rule::kw_or => "OR",
        Rule::field | Rule::ident => "a field",
        Rule::cmp_op | Rule::exists | Rule::in_list | Rule::not_in | Rule::kw_in => {
            "an operator (==, !=, <, <=, >, >=, contains, in, exists)"
        }
        Rule::value | Rule::string | Rule::number | Rule::duration | Rule::boolean => "a value",
        Rule::list => "a list in parentheses",
        Rule::close => "`)`",
        Rule::index => "a list index",
        _ => return None,
    })
}

struct Walker<'t> {
    text: &'t str,
    now_ns: i64,
}

impl Walker<'_> {
    fn error(&self, pair: &Pair<Rule>, message: impl Into<String>) -> QueryError {
        QueryError::at(self.text, pair.as_span().start(), message.into())
    }

    fn or_expr(&self, pair: Pair<Rule>) -> Result<Expr, QueryError> {
        let items = pair
            .into_inner()
            .filter(|p| p.as_rule() == Rule::and_expr)
            .map(|p| self.and_expr(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(one_or(items, Expr::Any))
    }

    fn and_expr(&self, pair: Pair<Rule>) -> Result<Expr, QueryError> {
        let items = pair
            .into_inner()
            .filter(|p| p.as_rule() == Rule::unary)
            .map(|p| self.unary(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(one_or(items, Expr::All))
    }

    fn unary(&self, pair: Pair<Rule>) -> Result<Expr, QueryError> {
        let mut negations = 0;
        let mut expr = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::not_op => negations += 1,
                Rule::close => {}
                Rule::or_expr => expr = Some(self.or_expr(inner)?),
                Rule::predicate => expr = Some(self.predicate(inner)?),
                Rule::text => expr = Some(self.text(inner)?),
                other => unreachable!("unary holds {other:?}"),
            }
        }
        let expr = expr.expect("the grammar requires a primary");
        // Two-valued logic: NOT NOT x is x.
        Ok(if negations % 2 == 1 {
            Expr::Not(Box::new(expr))
        } else {
            expr
        })
    }

    /// Free text: a trace id (32 hex digits) finds that trace; anything else is a
    /// case-insensitive substring of the trace name.
    fn text(&self, pair: Pair<Rule>) -> Result<Expr, QueryError> {
        let inner = pair
            .into_inner()
            .next()
            .expect("text holds a string or word");
        let text = match inner.as_rule() {
            Rule::string => self.string(inner)?,
            _ => inner.as_str().to_string(),
        };
        let test = if text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            Test {
                field: Field::TraceId,
                op: Op::Eq(Value::Text(text.to_ascii_lowercase())),
            }
        } else {
            Test {
                field: Field::TraceName,
                op: Op::Contains(text),
            }
        };
        Ok(Expr::Test(test))
    }

    fn predicate(&self, pair: Pair<Rule>) -> Result<Expr, QueryError> {
        let mut inner = pair.into_inner();
        let field_pair = inner.next().expect("a predicate starts with a field");
        let path = self.field_path(field_pair.clone())?;
        let (field, kind) = fields::resolve(&path).map_err(|m| self.error(&field_pair, m))?;
        let test_pair = inner.next().expect("a predicate has a test");
        let name = field_pair.as_str();
        let (op, negate) = match test_pair.as_rule() {
            Rule::exists => (Op::Exists, false),
            Rule::in_list | Rule::not_in => {
                let negate = test_pair.as_rule() == Rule::not_in;
                let list = test_pair
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::list)
                    .expect("in has a list");
                let values: Vec<Pair<Rule>> = list.into_inner().collect();
                if values.len() > MAX_LIST {
                    return Err(self.error(
                        &values[MAX_LIST],
                        format!("more than {MAX_LIST} values in one list"),
                    ));
                }
                let converted = values
                    .iter()
                    .map(|v| self.value(v.clone(), kind, name, "in"))
                    .collect::<Result<Vec<_>, _>>()?;
                (Op::In(converted), negate)
            }
            Rule::comparison => {
                let mut parts = test_pair.into_inner();
                let op_pair = parts.next().expect("comparison has an operator");
                let value_pair = parts.next().expect("comparison has a value");
                let symbol = op_pair.as_str().to_ascii_lowercase();
                (
                    self.comparison(&op_pair, &symbol, value_pair, kind, name)?,
                    false,
                )
            }
            other => unreachable!("test {other:?}"),
        };
        let expr = Expr::Test(Test { field, op });
        Ok(if negate {
            Expr::Not(Box::new(expr))
        } else {
            expr
        })
    }

    fn comparison(
        &self,
        op_pair: &Pair<Rule>,
        symbol: &str,
        value_pair: Pair<Rule>,
        kind: Kind,
        name: &str,
    ) -> Result<Op, QueryError> {
        let ordering = matches!(symbol, "<" | "<=" | ">" | ">=");
        let allowed = match kind {
            Kind::Text | Kind::Id | Kind::Code(_) => {
                !ordering && (symbol != "contains" || kind == Kind::Text)
            }
            Kind::Nanos | Kind::Time | Kind::Count => symbol != "contains",
            Kind::Json => true,
            Kind::Document => symbol == "contains",
        };
        if !allowed {
            return Err(self.error(op_pair, refusal(kind, name, symbol)));
        }
        if symbol == "contains" {
            let value = self.value(value_pair.clone(), Kind::Text, name, symbol)?;
            let Value::Text(text) = value else {
                return Err(self.error(&value_pair, "contains takes text"));
            };
            return Ok(Op::Contains(text));
        }
        let value = self.value(value_pair.clone(), kind, name, symbol)?;
        if kind == Kind::Json && ordering && value.as_f64().is_none() {
            return Err(self.error(
                &value_pair,
                format!("`{symbol}` on `{name}` compares numbers; got a non-number"),
            ));
        }
        Ok(match symbol {
            "==" | "=" => Op::Eq(value),
            "!=" => Op::Ne(value),
            "<" => Op::Lt(value),
            "<=" => Op::Le(value),
            ">" => Op::Gt(value),
            ">=" => Op::Ge(value),
            other => unreachable!("operator {other}"),
        })
    }

    fn field_path(&self, pair: Pair<Rule>) -> Result<Vec<Segment>, QueryError> {
        pair.into_inner()
            .map(|p| match p.as_rule() {
                Rule::ident => Ok(Segment::Key(p.as_str().to_string())),
                Rule::string => self.string(p).map(Segment::Key),
                Rule::index => p
                    .as_str()
                    .parse()
                    .map(Segment::Index)
                    .map_err(|_| self.error(&p, "list index too large")),
                other => unreachable!("field segment {other:?}"),
            })
            .collect()
    }

    /// Converts a literal to the field's unit.
    fn value(
        &self,
        pair: Pair<Rule>,
        kind: Kind,
        name: &str,
        op: &str,
    ) -> Result<Value, QueryError> {
        let literal = pair.into_inner().next().expect("value holds one literal");
        let rule = literal.as_rule();
        let wrong = |what: &str| self.error(&literal, format!("`{name}` {what}"));
        match (kind, rule) {
            (Kind::Text, Rule::string | Rule::bare) => Ok(Value::Text(self.text_of(&literal)?)),
            (Kind::Text, _) => Err(wrong("is text: quote the value, e.g. \"checkout\"")),
            (Kind::Code(codes), Rule::string | Rule::bare) => {
                fields::code(codes, &self.text_of(&literal)?)
                    .map(Value::Int)
                    .map_err(|m| self.error(&literal, m))
            }
            (Kind::Code(codes), _) => Err(wrong(&format!(
                "is one of {}",
                codes.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ))),
            (Kind::Nanos, Rule::number) => {
                let ms: f64 = literal
                    .as_str()
                    .parse()
                    .map_err(|_| wrong("needs a number"))?;
                nanos(ms * 1e6).map_err(|m| self.error(&literal, m))
            }
            (Kind::Nanos, Rule::duration) => {
                let ns = duration_ns(literal.as_str());
                nanos(ns).map_err(|m| self.error(&literal, m))
            }
            (Kind::Nanos, _) => Err(wrong(
                "is a duration: write milliseconds (5000) or a unit (5s, 250ms)",
            )),
            (Kind::Time, _) => self.time(&literal).map(Value::Int),
            (Kind::Count, Rule::number) => literal
                .as_str()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .map(Value::Int)
                .ok_or_else(|| wrong("is a count: write a whole number")),
            (Kind::Count, _) => Err(wrong("is a count: write a whole number")),
            (Kind::Id, Rule::string | Rule::bare) => {
                let text = self.text_of(&literal)?;
                if text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok(Value::Text(text.to_ascii_lowercase()))
                } else {
                    Err(wrong("is a trace id: 32 hexadecimal digits in quotes"))
                }
            }
            (Kind::Id, _) => Err(wrong("is a trace id: 32 hexadecimal digits in quotes")),
            (Kind::Json | Kind::Document, Rule::string | Rule::bare) => {
                Ok(Value::Text(self.text_of(&literal)?))
            }
            (Kind::Json, Rule::number) => Ok(number(literal.as_str())),
            (Kind::Json, Rule::boolean) => {
                Ok(Value::Bool(literal.as_str().eq_ignore_ascii_case("true")))
            }
            (Kind::Json, Rule::null) => Ok(Value::Null),
            (Kind::Json | Kind::Document, _) => Err(self.error(
                &literal,
                format!("`{op}` on `{name}` takes a string, number, true, false or null"),
            )),
        }
    }

    fn text_of(&self, literal: &Pair<Rule>) -> Result<String, QueryError> {
        if literal.as_rule() == Rule::string {
            self.string(literal.clone())
        } else {
            Ok(literal.as_str().to_string())
        }
    }

    /// An instant: RFC 3339 (`"2026-12-01T10:00:00Z"`, or a date), `now`, `now - 1h`, `-1h`.
    fn time(&self, literal: &Pair<Rule>) -> Result<i64, QueryError> {
        let hint = "is a time: write \"2026-12-01T10:00:00Z\", now - 1h or -1h";
        match literal.as_rule() {
            Rule::relative => {
                let back = literal
                    .clone()
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::duration)
                    .map_or(0.0, |d| duration_ns(d.as_str()).abs());
                Ok(self.now_ns.saturating_sub(back as i64))
            }
            Rule::duration if literal.as_str().starts_with('-') => Ok(self
                .now_ns
                .saturating_add(duration_ns(literal.as_str()) as i64)),
            Rule::string => {
                let text = self.string(literal.clone())?;
                let full = if text.len() == 10 {
                    format!("{text}T00:00:00Z")
                } else {
                    text
                };
                let at = humantime::parse_rfc3339_weak(full.trim_end_matches('Z'))
                    .map_err(|e| self.error(literal, format!("not a time ({e}); {hint}")))?;
                let since = at
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_err(|_| self.error(literal, "a time before 1970"))?;
                i64::try_from(since.as_nanos())
                    .map_err(|_| self.error(literal, "a time too far ahead"))
            }
            _ => Err(self.error(literal, format!("the field {hint}"))),
        }
    }

    fn string(&self, pair: Pair<Rule>) -> Result<String, QueryError> {
        let inner = pair.into_inner().next().expect("a string has a body");
        let mut out = String::with_capacity(inner.as_str().len());
        let mut chars = inner.as_str().char_indices();
        while let Some((_, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((offset, escaped)) = chars.next() else {
                break;
            };
            out.push(match escaped {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                '\\' | '"' | '\'' => escaped,
                other => {
                    let at = inner.as_span().start() + offset - 1;
                    return Err(QueryError::at(
                        self.text,
                        at,
                        format!("unknown escape `\\{other}` (use \\\\, \\\", \\', \\n, \\t)"),
                    ));
                }
            });
        }
        Ok(out)
    }
}

fn one_or(mut items: Vec<Expr>, many: fn(Vec<Expr>) -> Expr) -> Expr {
    if items.len() == 1 {
        items.pop().expect("one item")
    } else {
        many(items)
    }
}

fn refusal(kind: Kind, name: &str, symbol: &str) -> String {
    match kind {
        Kind::Text => format!("`{name}` is text: use ==, !=, contains or in, not `{symbol}`"),
        Kind::Id | Kind::Code(_) => format!("`{name}` takes ==, != or in, not `{symbol}`"),
        Kind::Document => format!(
            "`{name}` is a whole document: use contains or exists, or name a path inside it (`{name}.key`)"
        ),
        _ => format!("`{name}` is a number: `{symbol}` needs text"),
    }
}

/// A JSON number literal: an integer where it is one.
fn number(text: &str) -> Value {
    match text.parse::<i64>() {
        Ok(i) => Value::Int(i),
        Err(_) => Value::Float(text.parse().unwrap_or(f64::NAN)),
    }
}

fn nanos(ns: f64) -> Result<Value, String> {
    if !ns.is_finite() || ns < 0.0 {
        return Err("a duration cannot be negative".to_string());
    }
    if ns > i64::MAX as f64 {
        return Err("a duration too large".to_string());
    }
    Ok(Value::Int(ns.round() as i64))
}

/// Nanoseconds in a duration literal such as `1.5s` or `-1h` (the grammar checked its shape).
fn duration_ns(text: &str) -> f64 {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        "d" => 86_400e9,
        other => unreachable!("unit {other}"),
    };
    number.parse::<f64>().unwrap_or(0.0) * scale
}
