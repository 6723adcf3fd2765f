//! `GET /api/scaling` and `/api/scaling/fields` over the scaling fixture
//! (`tests/common/db_scaling.rs`): the exponents the fixture was built with, the growth
//! classes told apart, refusals as answers, refused parameters named, and the answers'
//! documented shape.

mod common;

use common::db_scaling::{FIXED, LINEAR, QUADRATIC};
use reqwest::StatusCode;
use serde_json::Value;

/// `path` with its query parameters percent-encoded.
async fn get(path: &str, params: &[(&str, &str)]) -> (StatusCode, Value) {
    let url =
        reqwest::Url::parse_with_params(&format!("{}{path}", common::db_scaling::server()), params)
            .unwrap();
    let response = reqwest::get(url).await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn exponents_of_the_fixture_come_back() {
    let (status, body) = get(
        "/api/scaling",
        &[("node", QUADRATIC), ("size", "dataset_count")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fit = &body["fit"];
    let exponent = fit["exponent"].as_f64().unwrap();
    assert!((exponent - 2.0).abs() < 0.1, "{body}");
    assert!(fit["ci_low"].as_f64().unwrap() <= 2.0 && 2.0 <= fit["ci_high"].as_f64().unwrap());
    assert_eq!(fit["growth"], "super_linear");
    assert_eq!(fit["super_linear"], true);
    assert_eq!(fit["complexity"], "O(n^2)");
    assert_eq!(
        (body["calls"].as_u64(), body["used"].as_u64()),
        (Some(120), Some(120))
    );
    assert_eq!(body["points"].as_array().unwrap().len(), 120);
    assert_eq!(
        (body["source"].as_str(), body["field"].as_str()),
        (Some("attribute"), Some("dataset_count"))
    );
    assert!(body["window"]["since_ns"].is_i64());

    let (status, body) = get(
        "/api/scaling",
        &[("node", LINEAR), ("size", "input.items"), ("since", "1h")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let exponent = body["fit"]["exponent"].as_f64().unwrap();
    assert!((exponent - 1.0).abs() < 0.1, "{body}");
    assert_eq!(body["fit"]["growth"], "linear");
    assert_eq!(body["fit"]["complexity"], "O(n)");
    assert_eq!(body["source"], "input");

    // At most `limit` of the newest calls.
    let (_, body) = get(
        "/api/scaling",
        &[("node", LINEAR), ("size", "input.items"), ("limit", "30")],
    )
    .await;
    assert_eq!(body["calls"], 30);
}

#[tokio::test]
async fn no_basis_for_an_exponent_is_an_answer_with_a_reason() {
    let (status, body) = get(
        "/api/scaling",
        &[("node", FIXED), ("size", "dataset_count")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["fit"].is_null());
    assert_eq!(
        body["refused"],
        "only 1 distinct sizes; an exponent needs at least 3"
    );
    let (status, body) = get("/api/scaling", &[("node", "no.such.node"), ("size", "n")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["refused"],
        "no calls of no.such.node with attributes in the window"
    );
    let (_, body) = get(
        "/api/scaling",
        &[
            ("node", QUADRATIC),
            ("size", "dataset_count"),
            ("until", "1h"),
        ],
    )
    .await;
    assert_eq!(
        body["calls"], 0,
        "the fixture's calls are newer than an hour ago: {body}"
    );
}

#[tokio::test]
async fn fields_that_hold_a_size_are_offered() {
    let (status, body) = get("/api/scaling/fields", &[("node", LINEAR)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fields = body["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 1, "a boolean is no size: {body}");
    assert_eq!(fields[0]["size"], "input.items");
    assert_eq!(
        (fields[0]["min"].as_f64(), fields[0]["max"].as_f64()),
        (Some(10.0), Some(320.0))
    );
    assert_eq!(fields[0]["enough_range"], true);
    let (_, body) = get("/api/scaling/fields", &[("node", FIXED)]).await;
    assert_eq!(body["fields"][0]["size"], "dataset_count");
    assert_eq!(body["fields"][0]["enough_range"], false);
    let (_, body) = get("/api/scaling/fields", &[("node", "no.such.node")]).await;
    assert_eq!(body["fields"], serde_json::json!([]));
}

#[tokio::test]
async fn bad_parameters_are_refused_by_name() {
    let long = "x".repeat(1001);
    let long_size = "x".repeat(201);
    for (path, params, parameter) in [
        ("/api/scaling", vec![("size", "n")], "node"),
        ("/api/scaling", vec![("node", ""), ("size", "n")], "node"),
        (
            "/api/scaling",
            vec![("node", long.as_str()), ("size", "n")],
            "node",
        ),
        ("/api/scaling", vec![("node", QUADRATIC)], "size"),
        (
            "/api/scaling",
            vec![("node", QUADRATIC), ("size", "input.")],
            "size",
        ),
        (
            "/api/scaling",
            vec![("node", QUADRATIC), ("size", "attr.")],
            "size",
        ),
        (
            "/api/scaling",
            vec![("node", QUADRATIC), ("size", long_size.as_str())],
            "size",
        ),
        (
            "/api/scaling",
            vec![("node", QUADRATIC), ("size", "n"), ("limit", "0")],
            "limit",
        ),
        (
            "/api/scaling",
            vec![("node", QUADRATIC), ("size", "n"), ("limit", "20001")],
            "limit",
        ),
        (
            "/api/scaling",
            vec![("node", QUADRATIC), ("size", "n"), ("since", "yesterday")],
            "since",
        ),
        (
            "/api/scaling",
            vec![
                ("node", QUADRATIC),
                ("size", "n"),
                ("since", "1h"),
                ("until", "2h"),
            ],
            "until",
        ),
        ("/api/scaling/fields", vec![], "node"),
        (
            "/api/scaling/fields",
            vec![("node", QUADRATIC), ("until", "soon")],
            "until",
        ),
    ] {
        let (status, body) = get(path, &params).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {params:?}: {body}");
        assert_eq!(
            body["error"]["parameter"], parameter,
            "{path} {params:?}: {body}"
        );
    }
    // A parameter given twice.
    let url = format!(
        "{}/api/scaling?node=a&node=b&size=n",
        common::db_scaling::server()
    );
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

/// The answer holds exactly what the document requires, and the fit what its schema lists.
#[tokio::test]
async fn answers_have_the_documented_shape() {
    let (_, doc) = get("/api/openapi.json", &[]).await;
    let schema = &doc["paths"]["/api/scaling"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    let required = |schema: &Value| -> Vec<String> {
        serde_json::from_value(schema["required"].clone()).unwrap()
    };
    for node in [QUADRATIC, FIXED] {
        let (_, body) = get("/api/scaling", &[("node", node), ("size", "dataset_count")]).await;
        let mut keys = required(schema);
        keys.sort();
        let mut got: Vec<String> = body.as_object().unwrap().keys().cloned().collect();
        got.sort();
        assert_eq!(got, keys, "{node}");
        if let Some(fit) = body["fit"].as_object() {
            let mut keys = required(&schema["properties"]["fit"]);
            keys.sort();
            let mut got: Vec<String> = fit.keys().cloned().collect();
            got.sort();
            assert_eq!(got, keys);
        }
    }
    let fields = &doc["paths"]["/api/scaling/fields"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    let (_, body) = get("/api/scaling/fields", &[("node", LINEAR)]).await;
    let row = body["fields"][0].as_object().unwrap();
    let mut keys = required(&fields["properties"]["fields"]["items"]);
    keys.sort();
    let mut got: Vec<String> = row.keys().cloned().collect();
    got.sort();
    assert_eq!(got, keys);
}
