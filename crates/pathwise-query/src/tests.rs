use crate::*;

const NOW: i64 = 1_800_000_000_000_000_000;

fn parse(text: &str) -> Expr {
    Query::parse(text, NOW)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .expr()
        .cloned()
        .expect("non-empty query")
}

fn test(field: Field, op: Op) -> Expr {
    Expr::Test(Test { field, op })
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn key(k: &str) -> Segment {
    Segment::Key(k.to_string())
}

fn error(text: &str) -> QueryError {
    match Query::parse(text, NOW) {
        Ok(q) => panic!("{text} parsed as {:?}", q.expr()),
        Err(e) => e,
    }
}

#[test]
fn the_planning_documents_examples_parse_verbatim() {
    assert_eq!(
        parse(r#"metadata.llm.model == "gpt-4""#),
        test(
            Field::Doc(Doc::Metadata, vec![key("llm"), key("model")]),
            Op::Eq(text("gpt-4"))
        )
    );
    assert_eq!(
        parse("duration_ms > 5000"),
        test(Field::Duration, Op::Gt(Value::Int(5_000_000_000)))
    );
    assert_eq!(
        parse(r#"steps.name == "apply_filters" AND steps.status == "failed""#),
        Expr::All(vec![
            test(Field::Name, Op::Eq(text("apply_filters"))),
            test(Field::Status, Op::Eq(Value::Int(1))),
        ])
    );
}

#[test]
fn precedence_is_or_then_and_then_not() {
    assert_eq!(
        parse("name == a OR name == b AND NOT status == ok"),
        Expr::Any(vec![
            test(Field::Name, Op::Eq(text("a"))),
            Expr::All(vec![
                test(Field::Name, Op::Eq(text("b"))),
                Expr::Not(Box::new(test(Field::Status, Op::Eq(Value::Int(0))))),
            ]),
        ])
    );
    assert_eq!(
        parse("(name == a || name == b) && !status = error"),
        Expr::All(vec![
            Expr::Any(vec![
                test(Field::Name, Op::Eq(text("a"))),
                test(Field::Name, Op::Eq(text("b"))),
            ]),
            Expr::Not(Box::new(test(Field::Status, Op::Eq(Value::Int(1))))),
        ])
    );
    assert_eq!(
        parse("not not name == a"),
        test(Field::Name, Op::Eq(text("a")))
    );
}

#[test]
fn keywords_are_case_insensitive_and_words_may_contain_them() {
    assert_eq!(
        parse("name == android and group CONTAINS 'Or'"),
        Expr::All(vec![
            test(Field::Name, Op::Eq(text("android"))),
            test(Field::Group, Op::Contains("Or".into())),
        ])
    );
}

#[test]
fn values_convert_to_the_fields_units() {
    assert_eq!(
        parse("duration >= 1.5s"),
        test(Field::Duration, Op::Ge(Value::Int(1_500_000_000)))
    );
    assert_eq!(
        parse("trace.duration_ms < 250ms"),
        test(Field::TraceDuration, Op::Lt(Value::Int(250_000_000)))
    );
    assert_eq!(
        parse("start > now - 1h"),
        test(Field::Start, Op::Gt(Value::Int(NOW - 3_600_000_000_000)))
    );
    assert_eq!(
        parse("trace.start >= -30m"),
        test(
            Field::TraceStart,
            Op::Ge(Value::Int(NOW - 1_800_000_000_000))
        )
    );
    assert_eq!(
        parse(r#"trace.start < "2026-12-01T10:00:00Z""#),
        test(
            Field::TraceStart,
            Op::Lt(Value::Int(1_796_119_200_000_000_000))
        )
    );
    assert_eq!(
        parse(r#"trace.start < "2026-12-01""#),
        test(
            Field::TraceStart,
            Op::Lt(Value::Int(1_796_083_200_000_000_000))
        )
    );
    assert_eq!(
        parse("trace.status in (running, 'failed')"),
        test(
            Field::TraceStatus,
            Op::In(vec![Value::Int(0), Value::Int(2)])
        )
    );
    assert_eq!(
        parse("kind not in (step, function)"),
        Expr::Not(Box::new(test(
            Field::Kind,
            Op::In(vec![Value::Int(2), Value::Int(1)])
        )))
    );
}

#[test]
fn json_paths_keep_the_literals_type() {
    assert_eq!(
        parse(r#"input.items[2]."unit price" <= 29.5"#),
        test(
            Field::Doc(
                Doc::Input,
                vec![key("items"), Segment::Index(2), key("unit price")]
            ),
            Op::Le(Value::Float(29.5))
        )
    );
    assert_eq!(
        parse("output.ok == true"),
        test(
            Field::Doc(Doc::Output, vec![key("ok")]),
            Op::Eq(Value::Bool(true))
        )
    );
    assert_eq!(
        parse("trace.metadata.user == null"),
        test(Field::TraceMetadata(vec![key("user")]), Op::Eq(Value::Null))
    );
    assert_eq!(
        parse("attr.http.status_code != 200"),
        test(
            Field::Attr("http.status_code".into()),
            Op::Ne(Value::Int(200))
        )
    );
    assert_eq!(
        parse("attr.user exists"),
        test(Field::Attr("user".into()), Op::Exists)
    );
    assert_eq!(
        parse(r#"input contains "B0123""#),
        test(Field::Doc(Doc::Input, vec![]), Op::Contains("B0123".into()))
    );
}

#[test]
fn strings_unescape() {
    assert_eq!(
        parse(r#"name == "a \"q\" \\ \n""#),
        test(Field::Name, Op::Eq(text("a \"q\" \\ \n")))
    );
    assert_eq!(
        parse(r"name == 'it\'s'"),
        test(Field::Name, Op::Eq(text("it's")))
    );
    assert_eq!(
        parse("name == 'ünïcødé → x'"),
        test(Field::Name, Op::Eq(text("ünïcødé → x")))
    );
}

#[test]
fn free_text_searches_trace_names_and_ids() {
    assert_eq!(
        parse("checkout"),
        test(Field::TraceName, Op::Contains("checkout".into()))
    );
    assert_eq!(
        parse("'check out' AND status == error"),
        Expr::All(vec![
            test(Field::TraceName, Op::Contains("check out".into())),
            test(Field::Status, Op::Eq(Value::Int(1))),
        ])
    );
    assert_eq!(
        parse("0195ABCDEF0123456789abcdef012345"),
        test(
            Field::TraceId,
            Op::Eq(text("0195abcdef0123456789abcdef012345"))
        )
    );
}

#[test]
fn syntax_errors_point_at_the_column() {
    let e = error("duration_ms > ");
    assert_eq!((e.line, e.column), (1, 15));
    assert!(e.message.contains("expected a value"), "{e}");
    let e = error("name == a AND (status == error");
    assert_eq!(e.column, 31, "{e}");
    let e = error("name == a ANDD status == ok");
    assert_eq!(e.column, 11, "{e}");
    let e = error("name == \"open");
    assert_eq!(e.column, 9, "{e}");
    let e = error("status == ok\n  AND name ==");
    assert_eq!((e.line, e.column), (2, 14), "{e}");
    assert!(e.to_string().starts_with("line 2, column 14: "), "{e}");
}

#[test]
fn check_errors_point_at_the_field_or_value() {
    let e = error("status == ok AND nme == 1");
    assert_eq!(e.column, 18);
    assert!(e.message.starts_with("unknown field `nme`"), "{e}");
    let e = error("status == meh");
    assert_eq!(e.column, 11);
    assert!(e.message.contains("is not one of ok, error"), "{e}");
    let e = error("duration_ms == \"slow\"");
    assert_eq!(e.column, 16);
    let e = error("name > 3");
    assert_eq!(e.column, 6);
    assert!(e.message.contains("is text"), "{e}");
    let e = error("input.x > \"a\"");
    assert_eq!(e.column, 11);
    let e = error("trace.bogus == 1");
    assert!(e.message.contains("unknown trace field"), "{e}");
    let e = error("duration_ms > -5s");
    assert!(e.message.contains("negative"), "{e}");
    let e = error("start > 5");
    assert!(e.message.contains("is a time"), "{e}");
    let e = error("trace.id == 'xyz'");
    assert!(e.message.contains("32 hexadecimal"), "{e}");
    let e = error(r"name == 'a\qb'");
    assert_eq!(e.column, 11, "{e}");
    let e = error("attr == 1");
    assert!(e.message.contains("needs a key"), "{e}");
    let e = error("input > 1");
    assert!(e.message.contains("whole document"), "{e}");
}

#[test]
fn hostile_input_is_refused_cleanly() {
    let deep = format!("{}name == a{}", "(".repeat(100), ")".repeat(100));
    let e = error(&deep);
    assert!(e.message.contains("nested deeper"), "{e}");
    assert_eq!(e.column, MAX_DEPTH + 1);
    let ok = format!(
        "{}name == a{}",
        "(".repeat(MAX_DEPTH),
        ")".repeat(MAX_DEPTH)
    );
    assert!(Query::parse(&ok, NOW).is_ok());
    let long = "name == a OR ".repeat(400);
    assert!(error(&long).message.contains("longer than"));
    let list = format!("attr.x in ({})", vec!["1"; MAX_LIST + 1].join(","));
    assert!(error(&list).message.contains("more than"));
    // Parentheses inside strings do not count as nesting.
    let quoted = format!("name == '{}'", "(".repeat(100));
    assert!(Query::parse(&quoted, NOW).is_ok());
    for junk in [
        "==",
        ")",
        "((",
        "name ==== a",
        "\"",
        "a in",
        "NOT",
        "AND",
        "name == (a)",
    ] {
        let _ = error(junk);
    }
    // Control characters are just text.
    assert!(Query::parse("\u{0}", NOW).is_ok());
    let many_nots = format!("{} name == a", "NOT ".repeat(1000));
    assert!(Query::parse(&many_nots, NOW).is_ok());
}

#[test]
fn relax_keeps_a_superset() {
    let q = parse("name == a AND (input.x == 1 OR status == error) AND NOT output.y == 2");
    let relaxed = q.relax(&|t| !matches!(t.field, Field::Doc(..)));
    assert_eq!(
        relaxed,
        Expr::All(vec![
            test(Field::Name, Op::Eq(text("a"))),
            Expr::Any(vec![
                Expr::All(vec![]),
                test(Field::Status, Op::Eq(Value::Int(1))),
            ]),
            Expr::Not(Box::new(Expr::Any(vec![]))),
        ])
    );
}
