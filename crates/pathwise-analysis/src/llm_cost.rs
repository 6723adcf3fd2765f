//! What a model call cost: tokens times the model's price per million tokens.
//!
//! Prices change and differ by contract, so the table is the user's: a few list prices ship
//! as a starting point (each dated below), and a TOML file (`pathwise serve --prices FILE`)
//! adds models or replaces any of them:
//!
//! ```toml
//! [models."gpt-4o"]
//! input = 2.50     # USD per million input (prompt) tokens
//! output = 10.00   # USD per million output (completion) tokens
//! ```
//!
//! A model is found by its exact name, else by the longest listed name it extends with a
//! version suffix (`gpt-4o-2024-08-06` → `gpt-4o`), ignoring case. A call whose model has no
//! price has no cost: nothing is guessed.

use std::collections::BTreeMap;

use serde::Deserialize;

/// USD per million tokens.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

/// Model name (lowercase) → price.
#[derive(Clone, Debug, PartialEq)]
pub struct PriceTable {
    models: BTreeMap<String, Price>,
}

/// List prices published by the providers as of 2024-12 (USD per million tokens, input /
/// output), for models a trace is likely to hold. Replace them with your own.
const LIST_PRICES: &[(&str, f64, f64)] = &[
    ("gpt-4o", 2.50, 10.00),
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4-turbo", 10.00, 30.00),
    ("gpt-4", 30.00, 60.00),
    ("gpt-3.5-turbo", 0.50, 1.50),
    ("o1", 15.00, 60.00),
    ("o1-mini", 3.00, 12.00),
    ("claude-3-5-sonnet", 3.00, 15.00),
    ("claude-3-5-haiku", 0.80, 4.00),
    ("claude-3-opus", 15.00, 75.00),
    ("claude-3-haiku", 0.25, 1.25),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PricesFile {
    #[serde(default)]
    models: BTreeMap<String, Price>,
}

impl Default for PriceTable {
    fn default() -> Self {
        PriceTable::list_prices()
    }
}

impl PriceTable {
    /// No prices at all.
    pub fn empty() -> Self {
        PriceTable {
            models: BTreeMap::new(),
        }
    }

    /// The shipped list prices (see [`LIST_PRICES`]).
    pub fn list_prices() -> Self {
        let mut table = PriceTable::empty();
        for &(model, input, output) in LIST_PRICES {
            table.set(model, Price { input, output });
        }
        table
    }

    /// Adds or replaces a model's price.
    pub fn set(&mut self, model: &str, price: Price) {
        self.models.insert(model.to_lowercase(), price);
    }

    /// These prices with a prices file's (TOML, `[models."name"] input = …, output = …`)
    /// added over them; an error names what is wrong.
    ///
    /// ```
    /// use pathwise_analysis::llm_cost::PriceTable;
    /// let table = PriceTable::list_prices()
    ///     .with_toml("[models.\"acme-7b\"]\ninput = 1.0\noutput = 2.0\n")
    ///     .unwrap();
    /// assert_eq!(table.cost("acme-7b", 1_000_000, 500_000), Some(2.0));
    /// assert!(PriceTable::empty().with_toml("[models.x]\ninput = -1\noutput = 1\n").is_err());
    /// ```
    pub fn with_toml(mut self, text: &str) -> Result<Self, String> {
        let file: PricesFile = toml::from_str(text).map_err(|e| e.to_string())?;
        for (model, price) in file.models {
            let finite = |v: f64| v.is_finite() && v >= 0.0;
            if !finite(price.input) || !finite(price.output) {
                return Err(format!(
                    "model {model:?}: prices are USD per million tokens, zero or more"
                ));
            }
            self.set(&model, price);
        }
        Ok(self)
    }

    /// The price of `model`: its own, else that of the longest listed name it extends with a
    /// version suffix (`-`, `:`, `@` or `.` after the name).
    pub fn price(&self, model: &str) -> Option<Price> {
        let model = model.trim().to_lowercase();
        if let Some(price) = self.models.get(&model) {
            return Some(*price);
        }
        self.models
            .iter()
            .filter(|(name, _)| {
                model
                    .strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.starts_with(['-', ':', '@', '.']))
            })
            .max_by_key(|(name, _)| name.len())
            .map(|(_, price)| *price)
    }

    /// USD for a call of `model` with these token counts; `None` when the model has no price.
    ///
    /// ```
    /// use pathwise_analysis::llm_cost::PriceTable;
    /// let table = PriceTable::list_prices();
    /// // 1,000 input tokens at $2.50/M and 500 output tokens at $10/M.
    /// let cost = table.cost("gpt-4o-2024-08-06", 1_000, 500).unwrap();
    /// assert!((cost - 0.0075).abs() < 1e-12);
    /// assert_eq!(table.cost("my-own-model", 1_000, 500), None);
    /// ```
    pub fn cost(&self, model: &str, input_tokens: u64, output_tokens: u64) -> Option<f64> {
        let price = self.price(model)?;
        Some((input_tokens as f64 * price.input + output_tokens as f64 * price.output) / 1e6)
    }

    /// The cost of the call a span's `metadata.llm` describes (`model`, `input_tokens`,
    /// `output_tokens`); `None` without a model, a price or any token count.
    pub fn cost_of_llm(&self, llm: &serde_json::Value) -> Option<f64> {
        let model = llm.get("model")?.as_str()?;
        let tokens = |key: &str| llm.get(key).and_then(serde_json::Value::as_u64);
        let (input, output) = (tokens("input_tokens"), tokens("output_tokens"));
        if input.is_none() && output.is_none() {
            return None;
        }
        self.cost(model, input.unwrap_or(0), output.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_longest_name_a_model_extends_gives_its_price() {
        let table = PriceTable::list_prices();
        // gpt-4o-mini is not priced as gpt-4o, nor gpt-4o as gpt-4.
        assert_eq!(table.price("gpt-4o-mini-2024-07-18").unwrap().input, 0.15);
        assert_eq!(table.price("GPT-4o").unwrap().input, 2.50);
        assert_eq!(table.price("gpt-4").unwrap().input, 30.00);
        assert_eq!(
            table.price("claude-3-5-sonnet-20241022").unwrap().output,
            15.00
        );
        // A longer word is another model, not a version.
        assert_eq!(table.price("gpt-4omega"), None);
        assert_eq!(table.price("llama3"), None);
    }

    #[test]
    fn a_call_costs_its_tokens_at_the_model_price() {
        let table = PriceTable::list_prices();
        // 812 × $2.50/M + 64 × $10/M = $0.00203 + $0.00064.
        let llm = json!({"model": "gpt-4o", "input_tokens": 812, "output_tokens": 64});
        let cost = table.cost_of_llm(&llm).unwrap();
        assert!((cost - 0.00267).abs() < 1e-12, "{cost}");
        // Only output tokens known: those are charged.
        let out_only = json!({"model": "gpt-4", "output_tokens": 1000});
        assert!((table.cost_of_llm(&out_only).unwrap() - 0.06).abs() < 1e-12);
        // No tokens, no model, an unpriced model: no cost.
        assert_eq!(table.cost_of_llm(&json!({"model": "gpt-4o"})), None);
        assert_eq!(table.cost_of_llm(&json!({"input_tokens": 5})), None);
        assert_eq!(
            table.cost_of_llm(&json!({"model": "local", "input_tokens": 5})),
            None
        );
    }

    #[test]
    fn a_prices_file_adds_and_replaces_and_bad_ones_are_refused() {
        let table = PriceTable::list_prices()
            .with_toml("[models.\"gpt-4o\"]\ninput = 1.25\noutput = 5\n[models.Acme]\ninput = 0\noutput = 0\n")
            .unwrap();
        assert_eq!(table.price("gpt-4o").unwrap().input, 1.25);
        assert_eq!(table.cost("acme", 10, 10), Some(0.0));
        for bad in [
            "[models.x]\ninput = 1\n",
            "[models.x]\ninput = 1\noutput = 1\ncurrency = \"EUR\"\n",
            "[models.x]\ninput = nan\noutput = 1\n",
            "[model.x]\ninput = 1\noutput = 1\n",
        ] {
            assert!(PriceTable::empty().with_toml(bad).is_err(), "{bad}");
        }
    }
}
