//! The request loop: requests drawn from the seed, run at most [`CONCURRENCY`] at a time.

use indicatif::ProgressBar;
use tokio::task::JoinSet;

use super::decision::{self, DecisionOutcome};
use super::plan::{self, DEMO_API_KEY, RequestPlan};
use super::search::{SearchRequest, SearchService};

/// Requests in flight at once.
pub const CONCURRENCY: usize = 16;

/// How one request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Search { ok: bool },
    Decision(DecisionOutcome),
}

/// What the workload did, counted as it ran.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub searches: u64,
    pub failed_searches: u64,
    pub decisions: u64,
    pub failed_decisions: u64,
    /// Requests whose task died (a panic nobody caught): must stay 0.
    pub crashed: u64,
}

impl Tally {
    fn add(&mut self, result: Result<Outcome, tokio::task::JoinError>) {
        match result {
            Ok(Outcome::Search { ok }) => {
                self.searches += 1;
                self.failed_searches += u64::from(!ok);
            }
            Ok(Outcome::Decision(outcome)) => {
                self.decisions += 1;
                self.failed_decisions += u64::from(outcome == DecisionOutcome::Failed);
            }
            Err(_) => self.crashed += 1,
        }
    }
}

/// Runs `iterations` requests of the run seeded with `seed`, ticking `progress` as each ends.
pub async fn run(iterations: u32, seed: u64, progress: ProgressBar) -> Tally {
    let mut tasks = JoinSet::new();
    let mut tally = Tally::default();
    for index in 0..u64::from(iterations) {
        while tasks.len() >= CONCURRENCY {
            if let Some(result) = tasks.join_next().await {
                tally.add(result);
                progress.inc(1);
            }
        }
        tasks.spawn(request(plan::request(seed, index)));
    }
    while let Some(result) = tasks.join_next().await {
        tally.add(result);
        progress.inc(1);
    }
    tally
}

/// One request: a search, or a decision pipeline on a blocking thread (its trace and steps
/// belong to one thread).
async fn request(plan: RequestPlan) -> Outcome {
    match plan {
        RequestPlan::Search(plan) => {
            let request = SearchRequest {
                query: plan.query.clone(),
                limit: plan.limit,
                api_key: DEMO_API_KEY.to_string(),
                client: "pathwise-demo/1.0",
            };
            let ok = SearchService.search(request, plan).await.is_ok();
            Outcome::Search { ok }
        }
        RequestPlan::Decision(rng) => {
            let outcome = tokio::task::spawn_blocking(move || decision::run(rng))
                .await
                .unwrap_or(DecisionOutcome::Failed);
            Outcome::Decision(outcome)
        }
    }
}
