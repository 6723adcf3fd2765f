//! GenAI semantic conventions (`gen_ai.*`) and OpenInference (`openinference.span.kind`,
//! `llm.*`, `input.value`, `output.value`, `metadata`) → the decision-step fields a Pathwise
//! span has natively: input and output JSON, metadata, and `metadata.llm` (the LLM card's
//! model, provider, tokens, temperature, parameters, prompt and completion).
//!
//! Payload-sized attributes (input, output, messages) move into those fields instead of being
//! stored twice; the small ones stay attributes too, so patterns and queries see them.

use pathwise_model::{AttrValue, Name, SpanKind, SpanRecord};
use serde_json::{Map, Value, json};

/// Attributes whose whole content moves into a decision field.
fn is_payload(key: &str) -> bool {
    matches!(
        key,
        "input.value"
            | "output.value"
            | "metadata"
            | "gen_ai.prompt"
            | "gen_ai.completion"
            | "gen_ai.input.messages"
            | "gen_ai.output.messages"
            | "llm.invocation_parameters"
    ) || key.starts_with("llm.input_messages.")
        || key.starts_with("llm.output_messages.")
}

pub(crate) fn fill_decision_fields(record: &mut SpanRecord, attrs: &mut Vec<(Name, AttrValue)>) {
    let is_decision = attrs.iter().any(|(k, _)| {
        k.starts_with("gen_ai.")
            || k == "openinference.span.kind"
            || k.starts_with("llm.")
            || k == "input.value"
            || k == "output.value"
    });
    if !is_decision {
        return;
    }
    record.kind = SpanKind::Step;
    let get = |key: &str| attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let text = |key: &str| match get(key) {
        Some(AttrValue::Str(s)) => Some(s.to_string()),
        _ => None,
    };
    let number = |keys: &[&str]| keys.iter().find_map(|k| get(k).and_then(as_f64));
    let mut llm = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(v) = value.filter(|v| !v.is_null()) {
            llm.insert(key.into(), v);
        }
    };
    let model = text("gen_ai.response.model")
        .or_else(|| text("gen_ai.request.model"))
        .or_else(|| text("llm.model_name"));
    put("model", model.clone().map(Value::from));
    put(
        "provider",
        text("gen_ai.provider.name")
            .or_else(|| text("gen_ai.system"))
            .or_else(|| text("llm.provider"))
            .or_else(|| text("llm.system"))
            .map(Value::from),
    );
    let input_tokens = number(&[
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.prompt_tokens",
        "llm.token_count.prompt",
    ]);
    let output_tokens = number(&[
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
        "llm.token_count.completion",
    ]);
    put("input_tokens", input_tokens.map(json_number));
    put("output_tokens", output_tokens.map(json_number));
    let total = number(&["llm.token_count.total"]).or_else(|| Some(input_tokens? + output_tokens?));
    put("total_tokens", total.map(json_number));
    let params: Option<Value> = text("llm.invocation_parameters")
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .filter(Value::is_object);
    let temperature = number(&["gen_ai.request.temperature"])
        .map(Value::from)
        .or_else(|| params.as_ref().and_then(|p| p.get("temperature").cloned()));
    put("temperature", temperature);
    let mut request_params: Map<String, Value> = attrs
        .iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("gen_ai.request.")?;
            (name != "model" && name != "temperature").then(|| (name.to_string(), attr_json(v)))
        })
        .collect();
    if let Some(Value::Object(p)) = &params {
        for (k, v) in p {
            if k != "temperature" {
                request_params.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    if !request_params.is_empty() {
        put("params", Some(Value::Object(request_params)));
    }
    put(
        "prompt",
        text("gen_ai.prompt")
            .map(|t| parse_or_text(&t))
            .or_else(|| text("gen_ai.input.messages").map(|t| parse_or_text(&t)))
            .or_else(|| messages(attrs, "llm.input_messages.")),
    );
    put(
        "completion",
        text("gen_ai.completion")
            .map(|t| parse_or_text(&t))
            .or_else(|| text("gen_ai.output.messages").map(|t| parse_or_text(&t)))
            .or_else(|| messages(attrs, "llm.output_messages.")),
    );
    let mut metadata = text("metadata")
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .unwrap_or_default();
    if model.is_some() || llm.len() > 1 {
        metadata.insert("llm".into(), Value::Object(llm));
    }
    let input = text("input.value").map(|t| parse_or_text(&t).to_string());
    let output = text("output.value").map(|t| parse_or_text(&t).to_string());
    attrs.retain(|(k, _)| !is_payload(k));
    let details = record.details_mut();
    details.input = input.or(details.input.take());
    details.output = output.or(details.output.take());
    if !metadata.is_empty() {
        details.metadata = Some(Value::Object(metadata).to_string());
    }
}

/// OpenInference flattens messages as `llm.input_messages.<i>.message.<field>`.
fn messages(attrs: &[(Name, AttrValue)], prefix: &str) -> Option<Value> {
    let mut by_index: std::collections::BTreeMap<u32, Map<String, Value>> = Default::default();
    for (key, value) in attrs {
        let Some(rest) = key.strip_prefix(prefix) else {
            continue;
        };
        let Some((index, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(index) = index.parse::<u32>() else {
            continue;
        };
        let field = field.strip_prefix("message.").unwrap_or(field);
        by_index
            .entry(index)
            .or_default()
            .insert(field.to_string(), attr_json(value));
    }
    (!by_index.is_empty())
        .then(|| Value::Array(by_index.into_values().map(Value::Object).collect()))
}

/// JSON text stays structured; anything else is kept as a string.
fn parse_or_text(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ (Value::Object(_) | Value::Array(_))) => v,
        _ => Value::String(text.to_string()),
    }
}

fn attr_json(value: &AttrValue) -> Value {
    match value {
        AttrValue::Bool(b) => json!(b),
        AttrValue::I64(i) => json!(i),
        AttrValue::F64(f) => json!(f),
        AttrValue::Str(s) => Value::String(s.to_string()),
    }
}

fn as_f64(value: &AttrValue) -> Option<f64> {
    match value {
        AttrValue::I64(i) => Some(*i as f64),
        AttrValue::F64(f) => Some(*f),
        AttrValue::Str(s) => s.parse().ok(),
        AttrValue::Bool(_) => None,
    }
}

/// Token counts are integers; keep them so in JSON.
fn json_number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathwise_model::TraceId;

    fn run(attrs: Vec<(&'static str, AttrValue)>) -> (SpanRecord, Vec<(Name, AttrValue)>) {
        let mut record = SpanRecord::new(TraceId(1), 1, 0, "llm".into(), SpanKind::Span);
        let mut attrs: Vec<(Name, AttrValue)> = attrs
            .into_iter()
            .map(|(k, v)| (Name::Borrowed(k), v))
            .collect();
        fill_decision_fields(&mut record, &mut attrs);
        (record, attrs)
    }

    fn metadata(record: &SpanRecord) -> Value {
        serde_json::from_str(
            record
                .details
                .as_ref()
                .unwrap()
                .metadata
                .as_deref()
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn gen_ai_attributes_make_an_llm_card() {
        let (record, attrs) = run(vec![
            ("gen_ai.request.model", "gpt-4".into()),
            ("gen_ai.system", "openai".into()),
            ("gen_ai.usage.input_tokens", 812i64.into()),
            ("gen_ai.usage.output_tokens", 64i64.into()),
            ("gen_ai.request.temperature", 0.7f64.into()),
            ("gen_ai.request.max_tokens", 256i64.into()),
            ("gen_ai.prompt", "Rank these datasets".into()),
            ("gen_ai.completion", "[\"B0123\"]".into()),
        ]);
        assert_eq!(record.kind, SpanKind::Step);
        let llm = &metadata(&record)["llm"];
        assert_eq!(llm["model"], "gpt-4");
        assert_eq!(llm["provider"], "openai");
        assert_eq!(
            (llm["input_tokens"].as_i64(), llm["output_tokens"].as_i64()),
            (Some(812), Some(64))
        );
        assert_eq!(llm["total_tokens"], 876);
        assert_eq!(llm["temperature"], 0.7);
        assert_eq!(llm["params"]["max_tokens"], 256);
        assert_eq!(llm["prompt"], "Rank these datasets");
        assert_eq!(llm["completion"], json!(["B0123"]));
        // Small attributes stay queryable; the payloads moved.
        assert!(attrs.iter().any(|(k, _)| k == "gen_ai.request.model"));
        assert!(!attrs.iter().any(|(k, _)| k == "gen_ai.prompt"));
    }

    #[test]
    fn openinference_fills_input_output_and_messages() {
        let (record, attrs) = run(vec![
            ("openinference.span.kind", "LLM".into()),
            ("llm.model_name", "claude-3".into()),
            ("llm.token_count.prompt", 10i64.into()),
            ("llm.token_count.completion", 5i64.into()),
            ("llm.token_count.total", 15i64.into()),
            (
                "llm.invocation_parameters",
                r#"{"temperature":0.2,"top_p":0.9}"#.into(),
            ),
            ("llm.input_messages.0.message.role", "user".into()),
            ("llm.input_messages.0.message.content", "hi".into()),
            ("input.value", r#"{"query":"rna-seq"}"#.into()),
            ("output.value", "plain text answer".into()),
            ("metadata", r#"{"user":"u1"}"#.into()),
        ]);
        let details = record.details.as_ref().unwrap();
        assert_eq!(details.input.as_deref(), Some(r#"{"query":"rna-seq"}"#));
        assert_eq!(details.output.as_deref(), Some(r#""plain text answer""#));
        let meta = metadata(&record);
        assert_eq!(meta["user"], "u1");
        assert_eq!(meta["llm"]["model"], "claude-3");
        assert_eq!(meta["llm"]["temperature"], 0.2);
        assert_eq!(meta["llm"]["params"]["top_p"], 0.9);
        assert_eq!(meta["llm"]["total_tokens"], 15);
        assert_eq!(
            meta["llm"]["prompt"],
            json!([{"role": "user", "content": "hi"}])
        );
        assert!(
            attrs
                .iter()
                .all(|(k, _)| !k.starts_with("llm.input_messages"))
        );
    }

    #[test]
    fn plain_spans_are_left_alone() {
        let (record, attrs) = run(vec![("http.method", "GET".into())]);
        assert_eq!(record.kind, SpanKind::Span);
        assert!(record.details.is_none());
        assert_eq!(attrs.len(), 1);
    }
}
