//! The `#[monitor]` and `#[monitor_all]` attributes of Pathwise.
//!
//! Use it through the SDK (`pathwise::monitor`): the generated code calls the SDK's hidden
//! runtime API at `::pathwise::__private`, so the `pathwise` crate must be a dependency of any
//! crate using the attribute.

use proc_macro::TokenStream;

mod expand;
mod monitor_all;
mod options;
mod select;
mod signature;

/// Records every call of a function as a span: its duration, its place in the current trace,
/// its arguments and its result, and whether it failed.
///
/// ```ignore
/// use pathwise::monitor;
///
/// #[monitor]
/// fn parse(line: &str) -> Result<Order, ParseError> { /* ... */ }
///
/// #[monitor(name = "checkout", group = "billing", sample = 0.1, skip(conn), redact(card))]
/// async fn checkout(cart: Cart, card: Card, conn: &Pool) -> Result<Receipt, Error> { /* ... */ }
///
/// impl Repo {
///     // Methods are named `module::method` unless given a name.
///     #[monitor(name = "Repo::load")]
///     fn load(&self, id: u64) -> Option<&Row> { /* ... */ }
/// }
/// ```
///
/// # What is recorded
///
/// - **Name**: `module_path!()::fn_name` by default. An attribute on a method cannot see the
///   `impl` block around it, so a method is named `module::method` (without the type); pass
///   `name = "Type::method"` to disambiguate methods of different types in one module.
/// - **Arguments**: every argument binding by name, before the body runs. A destructuring
///   argument such as `(x, y): (i32, i32)` records `x` and `y`; `_` records nothing, and the
///   receiver (`self`, `&self`, `&mut self`, ...) is never recorded. A value is captured as
///   JSON if it implements `Serialize`, else by its `Debug` output, else by its type name;
///   inside a generic function only the declared bounds count (`T: Debug` is captured by
///   `Debug` even when the concrete type is `Serialize`).
/// - **Result** and **error**: the return value is captured the same way; a returned
///   `Result::Err` marks the call failed with the error's type, message and source chain. A
///   panic marks it failed too, and an `async fn` whose future is dropped before completion
///   is recorded as cancelled.
///
/// `return` and `?` keep working: the body runs as a closure (or, for an `async fn`, as an
/// `async move` block) whose result is inspected before it is returned.
///
/// # Options
///
/// | option | meaning |
/// |---|---|
/// | `name = "..."` | span name instead of `module::fn` |
/// | `group = "..."` | the component the function belongs to |
/// | `sample = 0.1` | fraction of calls (0.0..=1.0) recorded; failed calls are always kept; default 1.0 |
/// | `skip(a, b)` | never capture these arguments (each must exist) |
/// | `skip_all` | capture no argument (same as `capture_args = false`) |
/// | `capture_args = false` | capture no argument |
/// | `capture_result = false` | do not capture the return value (errors are still detected) |
/// | `max_repr = 200` | longest captured representation; 0 = the global default |
/// | `redact(ssn, "api-key")` | extra field names masked in this function's captures |
/// | `memory_delta` | record the change of the process's resident memory over each call as the span attribute `memory.rss_delta_bytes` (Linux; two reads of `/proc/self/statm`); default off |
///
/// A mistake in the options (unknown option, wrong literal type, `sample` out of range, `skip`
/// of an argument that does not exist) is a compile error pointing at the offending token.
///
/// # Restrictions
///
/// `#[monitor]` applies to functions with a body: free functions, inherent and trait-impl
/// methods, associated functions, generic functions and `async fn`s (including `async fn` in
/// traits). It rejects a `const fn` (nothing can be recorded at compile time), a function
/// returning `!`, and a variadic function.
#[proc_macro_attribute]
pub fn monitor(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::monitor(attr.into(), item.into()).into()
}

/// Each selected function is instrumented exactly as `#[monitor]` would do it: the same
/// spans, captures, error handling and registration (so a selected function that never runs
/// is still reported as never executed).
///
/// # Which functions
///
/// - On `impl Type { .. }` and `impl Trait for Type { .. }`: its methods and associated
///   functions, sync and `async`, generic or not.
/// - On an inline `mod name { .. }`: its functions, and those of the `impl` blocks, traits
///   (default methods) and inline submodules inside it; not functions defined inside function
///   bodies, nor the items of a `mod name;` in another file.
/// - On a `trait` definition: its default methods.
///
/// A function is selected when `include`, a regular expression (the `regex` crate's syntax),
/// matches somewhere in its name (anchor it with `^` and `$` for a prefix or a whole name) and
/// its name contains none of the `exclude` substrings; without `include` every name matches.
/// These are the rules of Python's `auto_instrument_module(module, include_regex, exclude,
/// group)`. The decision is taken at compile time.
///
/// Left alone, whatever their name: a function carrying its own `#[monitor(..)]` (which then
/// applies unchanged, so nothing is recorded twice) or `#[pathwise::skip_monitor]`; an item
/// carrying its own `#[monitor_all(..)]` (its options apply to it); `const fn`s, `extern "ABI"`
/// functions, functions returning `!`, trait methods without a body and macro invocations.
///
/// # Names
///
/// A function of a module is named `module::function`, as with `#[monitor]`. Since the
/// attribute sees the `impl` block, a method is named `module::Type::method`, and a method of a
/// trait implementation `module::<Type as Trait>::method` (so that `Display::fmt` and
/// `Debug::fmt` of one type stay apart); generic parameters of the type are left out, every
/// instance sharing one function. A trait's default method is `module::Trait::method`.
///
/// # Options
///
/// | option | meaning |
/// |---|---|
/// | `include = "regex"` | select the functions whose name the expression matches (searched, not anchored) |
/// | `exclude("a", "b")` | leave out the functions whose name contains one of these substrings |
/// | `group`, `sample`, `skip_all`, `capture_args`, `capture_result`, `max_repr`, `redact(..)`, `memory_delta` | given to every instrumented function, as in `#[monitor]` |
/// | `skip(a, b)` | never capture arguments with these names, in the functions that have them |
///
/// `name`, `fields` and `error_kind` describe one function: give them with `#[monitor]` on it.
///
/// Compile errors, each on the offending token: an invalid regular expression (with the
/// `regex` crate's explanation), an `include` matching the name of no function of the block, a
/// `skip` naming no argument of any instrumented function, and the option mistakes
/// `#[monitor]` reports.
#[proc_macro_attribute]
pub fn monitor_all(attr: TokenStream, item: TokenStream) -> TokenStream {
    monitor_all::monitor_all(attr.into(), item.into()).into()
}

/// `#[skip_monitor]` leaves a function out of the enclosing `#[monitor_all]` (which removes
/// the attribute); anywhere else it changes nothing. It takes no options.
#[proc_macro_attribute]
pub fn skip_monitor(attr: TokenStream, item: TokenStream) -> TokenStream {
    if attr.is_empty() {
        return item;
    }
    let error = syn::Error::new(
        proc_macro2::TokenStream::from(attr)
            .into_iter()
            .next()
            .map_or_else(proc_macro2::Span::call_site, |token| token.span()),
        "#[skip_monitor] takes no options",
    )
    .to_compile_error();
    let item = proc_macro2::TokenStream::from(item);
    quote::quote!(#error #item).into()
}
