//! A decision pipeline recorded as an X-Ray trace: choosing the competitors of a product in
//! four steps (keyword generation by an LLM, candidate search, filters, ranking).
//!
//! Runs on a blocking thread because the steps simulate work with `thread::sleep`; each step
//! is entered so the calls it makes nest under it.

use std::thread::sleep;

use pathwise::{Filter, Llm, Ranked, Step};
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::json;

use super::catalog::{CATALOG, Product, ProductCatalog};
use super::errors::DecisionError;
use super::plan::{DemoRng, latency};

/// Share of decision traces in which one step fails.
const FAILURE_SHARE: f64 = 0.05;

/// The steps, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Keywords,
    Candidates,
    Filters,
    Ranking,
}

/// How a decision trace ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionOutcome {
    Completed,
    Failed,
}

/// Runs one competitor selection with the choices drawn from `rng`.
pub fn run(mut rng: DemoRng) -> DecisionOutcome {
    let rng = &mut rng;
    let product = *CATALOG.choose(rng).unwrap_or(&CATALOG[0]);
    let fail_at = rng.random_bool(FAILURE_SHARE).then(|| {
        *[
            Stage::Keywords,
            Stage::Candidates,
            Stage::Filters,
            Stage::Ranking,
        ]
        .choose(rng)
        .unwrap_or(&Stage::Ranking)
    });
    let mut trace = pathwise::trace("competitor-selection")
        .metadata("product_id", product.id)
        .metadata("marketplace", "amazon.com")
        .metadata("pipeline_version", "2.3.1");

    let keywords = {
        let mut step = trace.step("keyword_generation");
        let _current = step.enter(); // work done in the step nests under it
        match generate_keywords(rng, &mut step, &product, fail_at == Some(Stage::Keywords)) {
            Ok(keywords) => keywords,
            Err(error) => return failed(&mut step, &error),
        }
    };
    let candidates = {
        let mut step = trace.step("candidate_search");
        let _current = step.enter(); // work done in the step nests under it
        step.input(&json!({ "keywords": keywords, "limit": 50, "exclude": product.id }));
        let catalog = ProductCatalog {
            shard_down: fail_at == Some(Stage::Candidates),
        };
        match catalog.search(keywords.clone(), product.id, rng) {
            Ok(found) => {
                step.output(&json!({
                    "candidates": found.len(),
                    "ids": found.iter().map(|c| c.id).collect::<Vec<_>>(),
                }));
                step.reasoning(format!(
                    "Kept the {} products matching most keywords, excluding {} itself",
                    found.len(),
                    product.id
                ));
                found
            }
            Err(error) => return failed(&mut step, &DecisionError::from(error)),
        }
    };
    let kept = {
        let mut step = trace.step("apply_filters");
        let _current = step.enter(); // work done in the step nests under it
        match apply_filters(
            rng,
            &mut step,
            &product,
            &candidates,
            fail_at == Some(Stage::Filters),
        ) {
            Ok(kept) => kept,
            Err(error) => return failed(&mut step, &error),
        }
    };
    let mut step = trace.step("ranking");
    let _current = step.enter(); // work done in the step nests under it
    match rank(
        rng,
        &mut step,
        &product,
        kept,
        fail_at == Some(Stage::Ranking),
    ) {
        Ok(Some(top)) => {
            drop(step);
            trace.set_metadata("selected", top);
            DecisionOutcome::Completed
        }
        Ok(None) => DecisionOutcome::Completed,
        Err(error) => failed(&mut step, &error),
    }
}

/// Fails `step` (and so its trace) with `error`.
fn failed(step: &mut Step, error: &DecisionError) -> DecisionOutcome {
    step.reasoning(format!("stopped: {error}"));
    step.fail(error);
    DecisionOutcome::Failed
}

/// Step 1: an LLM turns the product title into search keywords.
fn generate_keywords(
    rng: &mut DemoRng,
    step: &mut Step,
    product: &Product,
    fail: bool,
) -> Result<Vec<String>, DecisionError> {
    step.input(
        &json!({ "product_id": product.id, "title": product.title, "category": product.category }),
    );
    sleep(latency(rng, 20.0, 60.0));
    let input_tokens = rng.random_range(380..900);
    let output_tokens = rng.random_range(24..96);
    let call = Llm::new("gpt-4o")
        .provider("openai")
        .tokens(input_tokens, output_tokens)
        .temperature(0.7)
        .param("max_tokens", 256)
        .prompt(&json!([
            { "role": "system", "content": "Reply with a JSON array of search keywords." },
            { "role": "user", "content": format!("Product: {} ({})", product.title, product.category) },
        ]));
    if fail {
        let prose = "Sure! Here are some great keywords for your product:";
        step.llm(call.completion(prose));
        step.output(&json!({ "raw": prose }));
        return Err(DecisionError::MalformedLlmOutput(
            "expected a JSON array of keywords, got prose".into(),
        ));
    }
    let keywords: Vec<String> = product
        .title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2 && !w.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .collect();
    step.llm(call.completion(&serde_json::to_string(&keywords).unwrap_or_default()));
    step.output(&json!({ "keywords": keywords }));
    step.reasoning(format!(
        "Kept {} distinctive words of \"{}\"; dropped sizes, pack counts and markup",
        keywords.len(),
        product.title
    ));
    Ok(keywords)
}

/// Step 3: every candidate against two to four filters.
fn apply_filters(
    rng: &mut DemoRng,
    step: &mut Step,
    product: &Product,
    candidates: &[Product],
    fail: bool,
) -> Result<Vec<Product>, DecisionError> {
    step.input(&json!({
        "candidates": candidates.len(),
        "filters": ["category", "price", "rating", "reviews"],
    }));
    sleep(latency(rng, 1.0, 3.0));
    if fail {
        return Err(DecisionError::FilterConfig(format!(
            "price band for category '{}' is missing",
            product.category
        )));
    }
    let mut kept = Vec::new();
    for candidate in candidates {
        let count = rng.random_range(2..=4);
        let mut filters = vec![Filter::new(
            "category",
            candidate.category == product.category || candidate.category == "Sports",
            format!("{} vs {}", candidate.category, product.category),
        )];
        let band = (product.price * 0.6, product.price * 1.4);
        filters.push(Filter::new(
            "price",
            (band.0..=band.1).contains(&candidate.price),
            format!(
                "${:.2} within ${:.2}–${:.2}",
                candidate.price, band.0, band.1
            ),
        ));
        if count >= 3 {
            filters.push(Filter::new(
                "rating",
                candidate.rating >= 4.0,
                format!("{:.1} ≥ 4.0", candidate.rating),
            ));
        }
        if count >= 4 {
            filters.push(Filter::new(
                "reviews",
                candidate.reviews >= 50,
                format!("{} reviews ≥ 50", candidate.reviews),
            ));
        }
        let qualified = filters.iter().all(|f| f.passed);
        let failed: Vec<&str> = filters
            .iter()
            .filter(|f| !f.passed)
            .map(|f| f.name.as_str())
            .collect();
        let reasoning = if qualified {
            format!("{} passed all {} filters", candidate.title, filters.len())
        } else {
            format!("{} rejected by {}", candidate.title, failed.join(", "))
        };
        step.add_evaluation(
            candidate.id,
            candidate,
            filters,
            qualified,
            Some(&reasoning),
        );
        if qualified {
            kept.push(*candidate);
        }
    }
    step.output(&json!({ "kept": kept.len(), "rejected": candidates.len() - kept.len() }));
    step.reasoning(format!(
        "{} of {} candidates passed every filter",
        kept.len(),
        candidates.len()
    ));
    Ok(kept)
}

/// Step 4: scores by rating and price proximity; returns the top pick's id.
fn rank(
    rng: &mut DemoRng,
    step: &mut Step,
    product: &Product,
    mut kept: Vec<Product>,
    fail: bool,
) -> Result<Option<&'static str>, DecisionError> {
    step.input(&json!({ "candidates": kept.iter().map(|c| c.id).collect::<Vec<_>>() }));
    sleep(latency(rng, 2.0, 6.0));
    if fail {
        return Err(DecisionError::Ranking(format!(
            "score is NaN for {} candidates",
            kept.len().max(1)
        )));
    }
    let score = |c: &Product| {
        let proximity = 1.0 - ((c.price - product.price).abs() / product.price).min(1.0);
        ((0.6 * c.rating / 5.0 + 0.4 * proximity) * 100.0).round() / 100.0
    };
    kept.sort_by(|a, b| score(b).total_cmp(&score(a)).then_with(|| a.id.cmp(b.id)));
    let ranking: Vec<Ranked> = kept
        .iter()
        .take(5)
        .enumerate()
        .map(|(i, c)| {
            let reason = format!(
                "rating {:.1}, ${:.2} vs ${:.2}",
                c.rating, c.price, product.price
            );
            Ranked::new(i as u32 + 1, c.id, score(c), reason)
        })
        .collect();
    step.ranked_candidates(ranking);
    let top = kept.first();
    step.output(&json!({ "ranked": kept.len().min(5), "top": top.map(|c| c.id) }));
    step.reasoning(match top {
        Some(c) => format!(
            "Ranked {} candidates by rating (60 %) and price proximity (40 %); top pick: {}",
            kept.len(),
            c.title
        ),
        None => "No candidate qualified; nothing to rank".to_string(),
    });
    Ok(top.map(|c| c.id))
}
