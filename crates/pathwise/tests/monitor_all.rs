//! `#[monitor_all]` on an `impl` block, a trait, a trait implementation and an inline module,
//! checked through what is recorded: exactly which functions produce spans, under which names
//! and groups, how they nest, how a failure is recorded, and what is registered.

use std::fmt;

use pathwise::FunctionInfo;
use pathwise::testing::Recorder;
use pathwise_model::{Record, SpanKind, SpanRecord, Status};

// ---- the instrumented code ------------------------------------------------------------------

#[derive(Debug)]
pub struct LedgerError {
    reason: String,
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rejected: {}", self.reason)
    }
}

impl std::error::Error for LedgerError {}

fn reject(reason: &str) -> LedgerError {
    LedgerError {
        reason: reason.into(),
    }
}

#[derive(Debug)]
pub struct Ledger {
    entries: Vec<i64>,
}

#[pathwise::monitor_all(
    include = "^(process_|calculate_|fetch_)",
    exclude("test_", "_helper"),
    group = "trading.ledger"
)]
impl Ledger {
    /// An associated function.
    fn process_opening(balance: i64) -> Self {
        Ledger {
            entries: vec![balance],
        }
    }

    /// `&mut self`, a `Result`, and a nested call.
    fn process_entry(&mut self, amount: i64) -> Result<i64, LedgerError> {
        if amount == 0 {
            return Err(reject("empty entry"));
        }
        self.entries.push(amount);
        Ok(self.calculate_total())
    }

    fn calculate_total(&self) -> i64 {
        self.entries.iter().sum()
    }

    fn calculate_scaled<T: Into<i64>>(&self, factor: T) -> i64 {
        self.calculate_total() * factor.into()
    }

    async fn fetch_remote(&self, id: u32) -> Result<i64, LedgerError> {
        tokio::task::yield_now().await;
        if id == 0 {
            return Err(reject("no such account"));
        }
        Ok(self.calculate_total() + i64::from(id))
    }

    /// `self` by value.
    fn process_close(self) -> i64 {
        self.calculate_helper()
    }

    /// Excluded: contains `_helper`.
    fn calculate_helper(&self) -> i64 {
        self.entries.len() as i64
    }

    /// Excluded: contains `test_`.
    fn fetch_test_fixture(&self) -> usize {
        self.entries.len()
    }

    /// Not included.
    fn len(&self) -> usize {
        self.entries.len()
    }

    /// Keeps its own attribute and is recorded once, under its own name and group.
    #[pathwise::monitor(name = "ledger.audit", group = "audit")]
    fn process_audit(&self) -> usize {
        self.entries.len()
    }

    #[pathwise::skip_monitor]
    fn process_hot(&self) -> i64 {
        self.entries[0]
    }

    /// Left alone (and still usable in a constant).
    const fn calculate_limit() -> i64 {
        1_000
    }

    #[allow(dead_code)]
    fn process_never_called(&self) {}
}

const LIMIT: i64 = Ledger::calculate_limit();

#[pathwise::monitor_all(group = "trading.pricing")]
trait Pricing {
    /// No body: left alone; its implementation is instrumented where it is written.
    fn fetch_price(&self, symbol: &str) -> f64;

    fn calculate_value(&self, symbol: &str, quantity: f64) -> f64 {
        self.fetch_price(symbol) * quantity
    }
}

#[pathwise::monitor_all(group = "trading.pricing")]
impl Pricing for Ledger {
    fn fetch_price(&self, symbol: &str) -> f64 {
        symbol.len() as f64
    }
}

#[pathwise::monitor_all(
    include = "^(process_|calculate_|fetch_)",
    exclude("test_", "_helper"),
    group = "trading.pnl"
)]
mod pnl {
    use super::{LedgerError, reject};

    /// Fails, through `?`, when one of its children fails.
    pub fn process_trades(trades: &[i64]) -> Result<i64, LedgerError> {
        let mut total = 0;
        for trade in trades {
            total += calculate_pnl(*trade)?;
        }
        Ok(total + calculate_helper())
    }

    pub fn calculate_pnl(trade: i64) -> Result<i64, LedgerError> {
        if trade == 0 {
            return Err(reject("zero trade"));
        }
        Ok(trade * 2)
    }

    pub fn calculate_helper() -> i64 {
        0
    }

    pub fn summarize(values: &[i64]) -> String {
        format!("{values:?}")
    }

    pub async fn fetch_prices(symbols: Vec<&'static str>) -> Vec<f64> {
        tokio::task::yield_now().await;
        symbols.iter().map(|symbol| symbol.len() as f64).collect()
    }

    /// # Safety
    /// `value` points to a live `i64`.
    pub unsafe fn process_raw(value: *const i64) -> i64 {
        unsafe { *value }
    }

    pub extern "C" fn process_ffi(value: i32) -> i32 {
        value + 1
    }

    macro_rules! fetch_constant {
        ($name:ident) => {
            pub fn $name() -> u8 {
                7
            }
        };
    }
    fetch_constant!(fetch_generated);

    pub struct Position {
        pub quantity: i64,
    }

    impl Position {
        pub fn calculate_exposure(&self) -> i64 {
            self.quantity.abs()
        }
    }

    pub mod risk {
        pub fn calculate_var(values: &[i64]) -> i64 {
            values.iter().copied().min().unwrap_or(0)
        }
    }

    #[allow(dead_code)]
    pub fn fetch_unused() {}
}

// ---- helpers --------------------------------------------------------------------------------

/// What a test run recorded: each function span with its root→span path, in the order the
/// spans started, and the registered functions.
struct Recorded {
    spans: Vec<(String, SpanRecord)>,
    functions: Vec<FunctionInfo>,
}

fn record(run: impl FnOnce()) -> Recorded {
    let recorder = Recorder::start();
    let store = recorder.store().clone();
    run();
    let records = recorder.finish();
    let paths = store.paths();
    assert_eq!(records.len(), paths.len());
    let mut spans: Vec<(String, SpanRecord)> = records
        .into_iter()
        .zip(paths)
        .filter_map(|(record, path)| match record {
            Record::Span(span) if span.kind == SpanKind::Function => Some((path, span)),
            _ => None,
        })
        .collect();
    // Within one thread span ids grow, which orders spans that start in the same nanosecond.
    spans.sort_by_key(|(_, span)| (span.start_ns, span.span_id));
    Recorded {
        spans,
        functions: store.functions(),
    }
}

impl Recorded {
    /// One line per span: its path (without this test crate's module prefix), group and status.
    fn lines(&self) -> Vec<String> {
        self.spans
            .iter()
            .map(|(path, span)| {
                format!(
                    "{} [{}] {:?}",
                    path.replace("monitor_all::", ""),
                    span.group.as_deref().unwrap_or("-"),
                    span.status
                )
            })
            .collect()
    }

    fn span(&self, name: &str) -> &SpanRecord {
        let found: Vec<&SpanRecord> = self
            .spans
            .iter()
            .map(|(_, span)| span)
            .filter(|span| span.name == name)
            .collect();
        assert_eq!(found.len(), 1, "one `{name}` expected: {:#?}", self.lines());
        found[0]
    }
}

fn run_async<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

// ---- tests ----------------------------------------------------------------------------------

#[test]
fn impl_block_methods_and_associated_functions() {
    let recorded = record(|| {
        let mut ledger = Ledger::process_opening(10);
        assert_eq!(ledger.process_entry(5).unwrap(), 15);
        assert_eq!(ledger.process_entry(0).unwrap_err().reason, "empty entry");
        assert_eq!(ledger.calculate_scaled(2_u8), 30);
        assert_eq!(ledger.fetch_test_fixture(), 2);
        assert_eq!(ledger.len(), 2);
        assert_eq!(ledger.process_audit(), 2);
        assert_eq!(ledger.process_hot(), 10);
        assert_eq!(LIMIT, 1_000);
        assert_eq!(ledger.process_close(), 2);
    });
    assert_eq!(
        recorded.lines(),
        [
            "Ledger::process_opening [trading.ledger] Ok",
            "Ledger::process_entry [trading.ledger] Ok",
            "Ledger::process_entry → Ledger::calculate_total [trading.ledger] Ok",
            "Ledger::process_entry [trading.ledger] Error",
            "Ledger::calculate_scaled [trading.ledger] Ok",
            "Ledger::calculate_scaled → Ledger::calculate_total [trading.ledger] Ok",
            "ledger.audit [audit] Ok",
            "Ledger::process_close [trading.ledger] Ok",
        ]
    );
    // The failing call: marked failed with its error type and message, as `#[monitor]` does.
    let failed = recorded
        .spans
        .iter()
        .map(|(_, span)| span)
        .find(|span| span.status == Status::Error)
        .unwrap();
    let error = failed.error().expect("error details");
    assert_eq!(&*error.error_type, "LedgerError");
    assert_eq!(error.message, "rejected: empty entry");
    // Arguments are captured as with `#[monitor]`; the receiver is not.
    let opening = recorded.span("monitor_all::Ledger::process_opening");
    let input = opening.details.as_ref().and_then(|d| d.input.as_deref());
    assert_eq!(input, Some(r#"{"balance":10}"#));
    // A child span's parent is the call that made it.
    let (_, entry) = &recorded.spans[1];
    let (_, total) = &recorded.spans[2];
    assert_eq!(
        (total.parent_id, total.trace_id),
        (entry.span_id, entry.trace_id)
    );
}

#[test]
fn async_methods_trait_impls_and_default_methods() {
    let recorded = record(|| {
        let ledger = Ledger::process_opening(1);
        run_async(async {
            assert_eq!(ledger.fetch_remote(2).await.unwrap(), 3);
            assert_eq!(
                ledger.fetch_remote(0).await.unwrap_err().reason,
                "no such account"
            );
        });
        assert_eq!(ledger.calculate_value("ACME", 2.0), 8.0);
    });
    assert_eq!(
        recorded.lines(),
        [
            "Ledger::process_opening [trading.ledger] Ok",
            "Ledger::fetch_remote [trading.ledger] Ok",
            "Ledger::fetch_remote → Ledger::calculate_total [trading.ledger] Ok",
            "Ledger::fetch_remote [trading.ledger] Error",
            "Pricing::calculate_value [trading.pricing] Ok",
            "Pricing::calculate_value → <Ledger as Pricing>::fetch_price [trading.pricing] Ok",
        ]
    );
    let failed = &recorded.spans[3].1;
    assert_eq!(&*failed.error().unwrap().error_type, "LedgerError");
    assert_eq!(failed.error().unwrap().message, "rejected: no such account");
}

#[test]
fn inline_module_functions_impls_and_submodules() {
    let recorded = record(|| {
        assert_eq!(pnl::process_trades(&[1, 2]).unwrap(), 6);
        assert_eq!(
            pnl::process_trades(&[3, 0, 4]).unwrap_err().reason,
            "zero trade"
        );
        assert_eq!(pnl::summarize(&[1]), "[1]");
        let prices = run_async(pnl::fetch_prices(vec!["AB", "CDE"]));
        assert_eq!(prices, [2.0, 3.0]);
        let value = 41;
        // SAFETY: `value` lives until the call returns.
        assert_eq!(unsafe { pnl::process_raw(&value) }, 41);
        assert_eq!(pnl::process_ffi(1), 2);
        assert_eq!(pnl::fetch_generated(), 7);
        assert_eq!(pnl::Position { quantity: -3 }.calculate_exposure(), 3);
        assert_eq!(pnl::risk::calculate_var(&[4, -2]), -2);
    });
    assert_eq!(
        recorded.lines(),
        [
            "pnl::process_trades [trading.pnl] Ok",
            "pnl::process_trades → pnl::calculate_pnl [trading.pnl] Ok",
            "pnl::process_trades → pnl::calculate_pnl [trading.pnl] Ok",
            "pnl::process_trades [trading.pnl] Error",
            "pnl::process_trades → pnl::calculate_pnl [trading.pnl] Ok",
            "pnl::process_trades → pnl::calculate_pnl [trading.pnl] Error",
            "pnl::fetch_prices [trading.pnl] Ok",
            "pnl::process_raw [trading.pnl] Ok",
            "pnl::Position::calculate_exposure [trading.pnl] Ok",
            "pnl::risk::calculate_var [trading.pnl] Ok",
        ]
    );
    // The failure is recorded on the call that returned the error and on the caller that
    // passed it on with `?`.
    for index in [3, 5] {
        let error = recorded.spans[index].1.error().expect("error details");
        assert_eq!(&*error.error_type, "LedgerError");
        assert_eq!(error.message, "rejected: zero trade");
    }
    let failed_child = &recorded.spans[5].1;
    assert_eq!(failed_child.parent_id, recorded.spans[3].1.span_id);
}

#[test]
fn instrumented_functions_are_registered_even_if_never_called() {
    let recorded = record(|| {});
    assert!(recorded.spans.is_empty());
    let registered = |name: &str| {
        recorded
            .functions
            .iter()
            .find(|function| function.name == format!("monitor_all::{name}"))
    };
    for (name, group, module_path, is_async) in [
        (
            "Ledger::process_never_called",
            "trading.ledger",
            "monitor_all",
            false,
        ),
        (
            "Ledger::process_opening",
            "trading.ledger",
            "monitor_all",
            false,
        ),
        (
            "Ledger::fetch_remote",
            "trading.ledger",
            "monitor_all",
            true,
        ),
        (
            "<Ledger as Pricing>::fetch_price",
            "trading.pricing",
            "monitor_all",
            false,
        ),
        (
            "Pricing::calculate_value",
            "trading.pricing",
            "monitor_all",
            false,
        ),
        (
            "pnl::fetch_unused",
            "trading.pnl",
            "monitor_all::pnl",
            false,
        ),
        ("pnl::fetch_prices", "trading.pnl", "monitor_all::pnl", true),
        (
            "pnl::Position::calculate_exposure",
            "trading.pnl",
            "monitor_all::pnl",
            false,
        ),
        (
            "pnl::risk::calculate_var",
            "trading.pnl",
            "monitor_all::pnl::risk",
            false,
        ),
    ] {
        let function = registered(name).unwrap_or_else(|| panic!("{name} is not registered"));
        assert_eq!(function.group.as_deref(), Some(group), "{name}");
        assert_eq!(&*function.module_path, module_path, "{name}");
        assert_eq!(function.is_async, is_async, "{name}");
        assert!(
            function.file.ends_with("monitor_all.rs") && function.line > 0,
            "{function:?}"
        );
    }
    for left_alone in [
        "Ledger::calculate_helper",
        "Ledger::fetch_test_fixture",
        "Ledger::len",
        "Ledger::process_hot",
        "Ledger::calculate_limit",
        "Ledger::process_audit",
        "pnl::calculate_helper",
        "pnl::summarize",
        "pnl::process_ffi",
        "pnl::fetch_generated",
    ] {
        assert!(
            registered(left_alone).is_none(),
            "{left_alone} is registered"
        );
    }
    // The function with its own `#[monitor]` is registered once, under its own name.
    let audits = recorded
        .functions
        .iter()
        .filter(|function| function.name == "ledger.audit")
        .count();
    assert_eq!(audits, 1);
}
