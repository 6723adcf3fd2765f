//! Panic messages for spans that end while their thread unwinds. A `Drop` impl cannot see the
//! panic payload, so a hook (chained to the previous one) stashes the message per thread.

use std::cell::RefCell;
use std::sync::Once;

use pathwise_model::ErrorInfo;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the hook once per process; the previous hook still runs (panics print as usual).
pub(crate) fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic with a non-string payload".into());
            let location = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()));
            let _ = LAST_PANIC.try_with(|p| {
                *p.borrow_mut() = Some(format!("{message}{}", location.unwrap_or_default()))
            });
            previous(info);
        }));
    });
}

/// The error describing the panic this thread is unwinding from.
pub(crate) fn current_panic() -> ErrorInfo {
    let message = LAST_PANIC
        .try_with(|p| p.borrow().clone())
        .ok()
        .flatten()
        .unwrap_or_else(|| "panic".into());
    ErrorInfo {
        error_type: "panic".into(),
        message,
        chain: Vec::new(),
    }
}
