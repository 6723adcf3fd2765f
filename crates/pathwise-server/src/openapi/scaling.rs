//! Scaling analysis: a node's duration against the size of its input, and the fields that
//! hold a size.

use serde_json::{Value, json};

use super::schemas::{list, object, refer};
use super::{answers, get, limit, param, time};
use crate::scaling::{MAX_LIMIT, MAX_NODE_CHARS, MAX_SIZE_CHARS};

fn node() -> Value {
    param(
        "node",
        "query",
        true,
        json!({ "type": "string", "minLength": 1, "maxLength": MAX_NODE_CHARS }),
        "the node (span name) whose calls are analysed",
    )
}

/// The fitted power law (`PowerLaw` of `pathwise-analysis`), or null.
fn power_law() -> Value {
    let number = || json!({ "type": "number" });
    let mut fit = object(json!({
        "exponent": { "type": "number", "description": "slope of ln(duration) on ln(size): the growth order" },
        "standard_error": number(),
        "ci_low": number(), "ci_high": number(),
        "confidence": { "type": "number", "description": "level of the interval (0.95), from Student's t with n − 2 degrees of freedom" },
        "coefficient": { "type": "number", "description": "fitted duration in ms at size 1: duration ≈ coefficient · size^exponent" },
        "r_squared": number(),
        "points": { "type": "integer", "minimum": 10 },
        "distinct_sizes": { "type": "integer", "minimum": 3 },
        "min_size": number(), "max_size": number(),
        "growth": { "enum": ["sub_linear", "linear", "super_linear", "inconclusive"],
            "description": "super_linear: the whole interval above 1.1; sub_linear: below 0.9; linear: within 0.8–1.2; otherwise inconclusive" },
        "super_linear": { "type": "boolean" },
        "complexity": { "type": "string", "description": "the exponent rounded to one decimal: O(1), O(n), O(n^1.9)" },
        "summary": { "type": "string" },
    }));
    fit["type"] = json!(["object", "null"]);
    fit
}

/// `/api/scaling` and `/api/scaling/fields`.
pub(super) fn paths() -> Value {
    let count = || json!({ "type": "integer", "minimum": 0 });
    json!({
        "/api/scaling": get("how a node's duration grows with the size of its input: a log-log least-squares fit over its newest calls in the window (default 24 h; failed calls left out), its exponent with a 95 % interval and growth class, or why there is no basis for one (fewer than 10 calls, 3 sizes, or sizes spanning less than a factor of 4)", vec![
                node(),
                param("size", "query", true,
                    json!({ "type": "string", "minLength": 1, "maxLength": MAX_SIZE_CHARS, "not": { "enum": ["input.", "attr."] } }),
                    "the size of a call: a span attribute (dataset_count), a captured argument (input.items: a number, or an array's length), or attr.<name> for an attribute named like those"),
                time("since"), time("until"),
                limit(pathwise_analysis::scaling::DEFAULT_LIMIT as i64, MAX_LIMIT as i64, "newest calls read")],
            answers("the fit and the calls", object(json!({
                "window": refer("Window"),
                "node": { "type": "string" },
                "size": { "type": "string", "description": "the size field in its text form" },
                "source": { "enum": ["attribute", "input"] },
                "field": { "type": "string", "description": "the attribute or argument name" },
                "calls": { "type": "integer", "minimum": 0, "description": "calls read: the newest calls of the node carrying attributes (or captured input), at most limit" },
                "limit": count(),
                "failed": { "type": "integer", "minimum": 0, "description": "calls left out because they failed" },
                "without_size": { "type": "integer", "minimum": 0, "description": "calls without the field, or whose value is not a size" },
                "not_positive": { "type": "integer", "minimum": 0, "description": "calls whose size or duration is 0 (a log-log fit cannot place them)" },
                "used": { "type": "integer", "minimum": 0, "description": "calls fitted" },
                "fit": power_law(),
                "refused": { "type": ["string", "null"], "description": "why there is no fit" },
                "points": { "type": "array", "maxItems": pathwise_analysis::scaling::MAX_POINTS,
                    "description": "the fitted calls, spread evenly over the sizes",
                    "items": object(json!({ "size": { "type": "number" }, "duration_ms": { "type": "number" } })) },
            })), &[])),
        "/api/scaling/fields": get("the attributes and captured arguments of a node's newest calls (a sample of 200 each) that hold a size, those whose sizes span a factor of 4 first: the scaling panel's choices", vec![
                node(), time("since"), time("until")],
            answers("the fields", object(json!({
                "window": refer("Window"),
                "node": { "type": "string" },
                "fields": list(object(json!({
                    "size": { "type": "string", "description": "what to pass as size=" },
                    "source": { "enum": ["attribute", "input"] },
                    "calls": count(),
                    "min": { "type": "number" }, "max": { "type": "number" },
                    "enough_range": { "type": "boolean", "description": "the sizes span at least the factor of 4 an exponent needs" },
                }))),
            })), &[])),
    })
}
