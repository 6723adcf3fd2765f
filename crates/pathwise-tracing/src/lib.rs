//! A [`tracing_subscriber::Layer`] that records the spans of the `tracing` ecosystem
//! (`#[tracing::instrument]`, `info_span!`, events) into Pathwise, so instrumented apps and
//! libraries record unchanged.
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! #[tracing::instrument]
//! fn load(id: i64) -> Result<u64, String> {
//!     Ok(7)
//! }
//!
//! #[tracing::instrument(err)]
//! fn handle(user: &str) -> Result<u64, String> {
//!     load(42)?;
//!     Err(format!("{user} has no quota"))
//! }
//!
//! // An app calls `pathwise::init(pathwise::Config::default())` here: the layer only produces
//! // spans, the SDK's pipeline stores them. Tests record into memory instead.
//! let recorder = pathwise::testing::Recorder::start();
//! let subscriber = tracing_subscriber::registry().with(pathwise_tracing::layer());
//! tracing::subscriber::with_default(subscriber, || {
//!     let _ = handle("ada");
//! });
//! assert!(recorder.paths().contains(&"handle → load".to_string()));
//! ```
//!
//! In an app, install it next to the other layers, once:
//! `tracing_subscriber::registry().with(pathwise_tracing::layer()).with(fmt_layer).init()`.
//!
//! What becomes of what:
//! - A tracing span is one Pathwise span (kind `span`) from its creation to its close, however
//!   often it is entered in between (an async span is entered at every poll, on whichever
//!   thread polls it). Name: the span's name; group: see [`GroupBy`].
//! - Parent: the tracing parent (explicit `parent:` or the contextual current span), looked up
//!   in the registry. A contextual span with no tracing parent nests under the thread's current
//!   Pathwise span (inside a `#[pathwise::monitor]` function, say), and so does one created
//!   inside a Pathwise span that was itself opened inside the entered tracing parent: the
//!   innermost span wins, as for `pathwise::span`. `parent: None` starts a new trace.
//! - While a tracing span is entered, its Pathwise context is current on the thread, so
//!   `pathwise::span` and `#[pathwise::monitor]` calls inside nest under it.
//! - Fields (at creation and when `record`ed later; the last value of a field wins): typed
//!   attributes — integers `I64`, floats `F64`, booleans `Bool`, strings and `%display` /
//!   `?debug` values `Str`.
//! - A textual `error` field, an ERROR-level event inside the span, or an event whose only
//!   field is `error` (what `#[instrument(err)]` emits, at whatever level it was given) marks
//!   the span failed. The first failure is kept: it is the cause, later ones tend to be its
//!   consequences (the `#[instrument(err)]` event after an `error!` inside). See
//!   [`PathwiseLayer`] for the error type and message.
//! - Other events are counted, not stored: attribute [`EVENTS_ATTR`] holds the span's event
//!   count and [`LAST_WARNING_ATTR`] the text of its last WARN event. Events are logs; keeping
//!   each would make every `debug!` a record, and the count plus the last warning is what a
//!   span view needs to say "look at the logs here".
//!
//! Nothing is recorded while no Pathwise pipeline runs, and the layer never panics into the
//! host: missing spans, missing extensions and threads shutting down are all skipped.

mod fields;
mod stack;

use pathwise::{AttrValue, Context, DetachedSpan, ErrorInfo, SpanKind};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{self, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use fields::{ERROR_FIELD, EventFields, SpanFields};

/// Attribute holding how many events were emitted inside the span (only when there were any).
pub const EVENTS_ATTR: &str = "tracing.events";
/// Attribute holding the text of the last WARN-level event inside the span.
pub const LAST_WARNING_ATTR: &str = "tracing.last_warning";

/// What becomes the Pathwise group (the dashboard's component) of a tracing span.
///
/// The default is [`GroupBy::Target`]: a span's target is the module path it was created in
/// (`myapp::db::pool`) unless the code named one (`target: "http"`), which is exactly a
/// component name. `#[monitor]` leaves the group to the user, and the OTLP ingest uses the
/// service name; for tracing, a module is the closest thing to a component that every span
/// has without any change to the app, and the component view then shows health per module.
///
/// ```
/// let layer = pathwise_tracing::PathwiseLayer::new().group_by(pathwise_tracing::GroupBy::Crate);
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GroupBy {
    /// The metadata target: the module path (`myapp::db::pool`) or a custom `target:`.
    #[default]
    Target,
    /// The target's first segment (`myapp`): one component per crate.
    Crate,
    /// No group: the spans show as ungrouped.
    None,
}

impl GroupBy {
    fn of(self, target: &'static str) -> Option<&'static str> {
        match self {
            GroupBy::Target => Some(target),
            GroupBy::Crate => target.split("::").next(),
            GroupBy::None => None,
        }
    }
}

/// The layer; see the [crate docs](crate) for what it records.
///
/// Failures: the error message is the `error` field's display (for a `&dyn Error` value also
/// its source chain), after the event's message if it has one (`error!(error = %e, "query
/// failed")` → `"query failed: <e>"`), or the event's message alone. The error type is the
/// target (module path) where the failure was reported: tracing fields carry no type, and the
/// module tells errors apart in the by-type view better than a constant would.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let recorder = pathwise::testing::Recorder::start();
/// let subscriber = tracing_subscriber::registry().with(pathwise_tracing::PathwiseLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let _span = tracing::info_span!("checkout", items = 3_i64).entered();
///     tracing::error!(error = "card declined", "payment failed");
/// });
/// let records = recorder.finish();
/// let pathwise_model::Record::Span(span) = &records[0] else { unreachable!() };
/// assert_eq!(span.error().unwrap().message, "payment failed: card declined");
/// ```
#[derive(Clone, Debug, Default)]
pub struct PathwiseLayer {
    group_by: GroupBy,
}

/// A [`PathwiseLayer`] with the defaults.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// let subscriber = tracing_subscriber::registry().with(pathwise_tracing::layer());
/// # let _ = subscriber;
/// ```
pub fn layer() -> PathwiseLayer {
    PathwiseLayer::new()
}

impl PathwiseLayer {
    /// The layer with the defaults (group by target).
    ///
    /// ```
    /// let layer = pathwise_tracing::PathwiseLayer::new();
    /// # let _ = layer;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Chooses what becomes the spans' group; see [`GroupBy`].
    ///
    /// ```
    /// use pathwise_tracing::{GroupBy, PathwiseLayer};
    /// let layer = PathwiseLayer::new().group_by(GroupBy::None);
    /// # let _ = layer;
    /// ```
    pub fn group_by(mut self, group_by: GroupBy) -> Self {
        self.group_by = group_by;
        self
    }
}

/// What the layer keeps in a tracing span's extensions while it lives.
struct Recorded {
    span: DetachedSpan,
    /// The span's context, copied out so that entering needs only a read of the extensions.
    ctx: Context,
    /// Kept here until the close, not on the span: a field recorded again replaces its value.
    attrs: Vec<(&'static str, AttrValue)>,
    events: u32,
    last_warning: Option<String>,
}

impl Recorded {
    fn apply(&mut self, fields: SpanFields, target: &'static str) {
        for (key, value) in fields.attrs {
            match self.attrs.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => self.attrs.push((key, value)),
            }
        }
        if let Some(error) = fields.error {
            self.fail(error.into_info(target));
        }
    }

    fn fail(&mut self, error: ErrorInfo) {
        if !self.span.is_failed() {
            self.span.fail(error);
        }
    }

    fn end(self) {
        let Recorded {
            mut span,
            attrs,
            events,
            last_warning,
            ..
        } = self;
        for (key, value) in attrs {
            span.set_attr(key, value);
        }
        if events > 0 {
            span.set_attr(EVENTS_ATTR, i64::from(events));
        }
        if let Some(warning) = last_warning {
            span.set_attr(LAST_WARNING_ATTR, warning);
        }
        span.end();
    }
}

/// The Pathwise context of `span` or, if it was not recorded (created before recording
/// started), of its nearest recorded ancestor.
fn recorded_in_scope<S>(span: SpanRef<'_, S>) -> Option<Context>
where
    S: for<'a> LookupSpan<'a>,
{
    span.scope()
        .find_map(|s| s.extensions().get::<Recorded>().map(|r| r.ctx))
}

/// Where a new span nests; see the crate docs.
fn parent_of<S>(attrs: &Attributes<'_>, ctx: &layer::Context<'_, S>) -> Option<Context>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if attrs.is_root() {
        return None;
    }
    if let Some(parent) = attrs.parent() {
        return ctx.span(parent).and_then(recorded_in_scope);
    }
    let tracing_parent = ctx.lookup_current().and_then(recorded_in_scope);
    let current = Context::current();
    match (tracing_parent, current) {
        // The tracing parent is entered here, so its context is on the thread's stack; a
        // different current context sits above it: a Pathwise span opened inside it.
        (Some(parent), Some(current)) if current != parent && stack::is_entered(parent) => {
            Some(current)
        }
        (Some(parent), _) => Some(parent),
        (None, current) => current,
    }
}

/// Whether an event has the shape `#[instrument(err)]` gives it: `error` as its only field.
fn is_bare_error(meta: &Metadata<'_>) -> bool {
    let fields = meta.fields();
    fields.len() == 1 && fields.field(ERROR_FIELD).is_some()
}

impl<S> Layer<S> for PathwiseLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: layer::Context<'_, S>) {
        let Some(span_ref) = ctx.span(id) else { return };
        if span_ref.extensions().get::<Recorded>().is_some() {
            return; // a second PathwiseLayer in the stack: the first one records this span
        }
        let meta = attrs.metadata();
        let parent = parent_of(attrs, &ctx);
        let mut span = pathwise::start_detached(meta.name(), SpanKind::Span, parent);
        let Some(span_ctx) = span.context() else {
            return; // not recording
        };
        if let Some(group) = self.group_by.of(meta.target()) {
            span.set_group(group);
        }
        let mut fields = SpanFields::default();
        attrs.record(&mut fields);
        // Each field occurs once in a span's attributes: no duplicates to merge yet.
        let mut recorded = Recorded {
            span,
            ctx: span_ctx,
            attrs: std::mem::take(&mut fields.attrs),
            events: 0,
            last_warning: None,
        };
        recorded.apply(fields, meta.target());
        span_ref.extensions_mut().insert(recorded);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: layer::Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        if span.extensions().get::<Recorded>().is_none() {
            return; // not recorded: do not format values for nothing
        }
        let mut fields = SpanFields::default();
        values.record(&mut fields);
        if let Some(recorded) = span.extensions_mut().get_mut::<Recorded>() {
            recorded.apply(fields, span.metadata().target());
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: layer::Context<'_, S>) {
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let meta = event.metadata();
        let level = *meta.level();
        let fails = level == Level::ERROR || is_bare_error(meta);
        // Only events that fail the span or become its last warning are looked into; the rest
        // cost a count.
        let fields = (fails || level == Level::WARN).then(|| {
            let mut fields = EventFields::default();
            event.record(&mut fields);
            fields
        });
        let mut extensions = span.extensions_mut();
        let Some(recorded) = extensions.get_mut::<Recorded>() else {
            return;
        };
        recorded.events = recorded.events.saturating_add(1);
        match fields {
            Some(fields) if fails => {
                recorded.fail(fields.into_error(meta.name()).into_info(meta.target()));
            }
            Some(fields) => {
                recorded.last_warning = fields.message.or(fields.error.map(|e| e.message));
            }
            None => {}
        }
    }

    fn on_enter(&self, id: &Id, ctx: layer::Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let span_ctx = span.extensions().get::<Recorded>().map(|r| r.ctx);
        if let Some(span_ctx) = span_ctx {
            stack::enter(id, span_ctx);
        }
    }

    fn on_exit(&self, id: &Id, _ctx: layer::Context<'_, S>) {
        stack::exit(id);
    }

    fn on_close(&self, id: Id, ctx: layer::Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let recorded = span.extensions_mut().remove::<Recorded>();
        // Ended after the extensions are released: ending may hand records to the pipeline.
        if let Some(recorded) = recorded {
            recorded.end();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_come_from_the_target() {
        assert_eq!(GroupBy::Target.of("app::db::pool"), Some("app::db::pool"));
        assert_eq!(GroupBy::Crate.of("app::db::pool"), Some("app"));
        assert_eq!(GroupBy::Crate.of("http"), Some("http"));
        assert_eq!(GroupBy::None.of("app::db"), None);
    }
}
