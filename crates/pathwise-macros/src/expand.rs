//! Code generation for `#[monitor]`.
//!
//! The function keeps its signature, attributes and visibility; only its body is replaced by:
//! a per-function `static` description (registered with `inventory` so that functions which
//! never ran can be reported), the start of the call, the argument captures, the original body
//! run as a closure (sync) or an `async move` block (async) so that `return` and `?` leave the
//! body but not the bookkeeping, then the error/result capture and the end of the call.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::{AttrStyle, Ident, ItemFn, ReturnType, Signature, TraitItemFn, Type};

use crate::options::{Options, parse_options};
use crate::signature::{arg_name, bindings, body_return_type, returns_unit};

/// Expands `#[monitor(attr)] item`. Never fails: an error becomes a `compile_error!` followed by
/// the untouched item, so the user sees the one real mistake rather than a cascade of
/// "cannot find function" errors from callers of a function that disappeared.
pub fn monitor(attr: TokenStream, item: TokenStream) -> TokenStream {
    or_untouched(item.clone(), expand(attr, item))
}

/// `expanded`, or on an error its `compile_error!` followed by the untouched `item`.
pub fn or_untouched(item: TokenStream, expanded: syn::Result<TokenStream>) -> TokenStream {
    match expanded {
        Ok(tokens) => tokens,
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#error #item)
        }
    }
}

fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = parse_options(attr)?;
    let func = parse_function(item)?;
    expand_function(func, &options, None)
}

/// Instruments one function with already parsed options. `owner` is the `impl` or trait the
/// function is defined in, when the caller can see it (`#[monitor_all]` on a block): the
/// default name then becomes `module::Owner::fn` instead of `module::fn`.
pub fn expand_function(
    func: ItemFn,
    options: &Options,
    owner: Option<&str>,
) -> syn::Result<TokenStream> {
    check_signature(&func.sig)?;
    if let Some(kind) = &options.error_kind
        && returns_unit(&func.sig.output)
    {
        return Err(syn::Error::new_spanned(
            kind,
            "`error_kind` needs a function returning `Result<_, E>`; this one returns nothing",
        ));
    }
    let captured = captured_args(&func, options)?;
    Ok(generate(func, options, &captured, owner))
}

fn parse_function(item: TokenStream) -> syn::Result<ItemFn> {
    if let Ok(func) = syn::parse2::<ItemFn>(item.clone()) {
        return Ok(func);
    }
    if let Ok(decl) = syn::parse2::<TraitItemFn>(item) {
        return Err(syn::Error::new_spanned(
            decl.sig,
            "#[monitor] needs a function body: put it on the implementations, not on the trait \
             method declaration",
        ));
    }
    Err(syn::Error::new(
        Span::call_site(),
        "#[monitor] can only be applied to functions and methods",
    ))
}

/// Rejects what cannot be recorded; `#[monitor_all]` uses it to leave such functions alone.
pub fn check_signature(sig: &Signature) -> syn::Result<()> {
    if let Some(constness) = &sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            "cannot monitor a const fn: recording a call is not possible at compile time",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new_spanned(
            variadic,
            "cannot monitor a variadic function",
        ));
    }
    let never = match &sig.output {
        ReturnType::Type(_, ty) => matches!(**ty, Type::Never(_)).then_some(ty),
        ReturnType::Default => None,
    };
    if let Some(never) = never {
        return Err(syn::Error::new_spanned(
            never,
            "cannot monitor a function that never returns (`-> !`): its call never ends",
        ));
    }
    Ok(())
}

/// The bindings whose values are captured, after `skip(..)`. Every skipped name must exist, so
/// that a typo or a renamed argument does not silently start capturing a secret.
fn captured_args(func: &ItemFn, options: &Options) -> syn::Result<Vec<Ident>> {
    let all = bindings(&func.sig.inputs);
    for skipped in &options.skip {
        // Receivers are never captured, so skipping one is allowed and changes nothing.
        if skipped == "self" {
            continue;
        }
        if !all.iter().any(|arg| arg_name(arg) == arg_name(skipped)) {
            let known: Vec<String> = all.iter().map(arg_name).collect();
            let known = if known.is_empty() {
                "it captures no arguments".to_owned()
            } else {
                format!("its arguments are: {}", known.join(", "))
            };
            return Err(syn::Error::new(
                skipped.span(),
                format!(
                    "cannot skip `{}`: the function has no such argument ({known})",
                    arg_name(skipped)
                ),
            ));
        }
    }
    if !options.captures_args() {
        return Ok(Vec::new());
    }
    Ok(all
        .into_iter()
        .filter(|arg| !options.skip.iter().any(|s| arg_name(s) == arg_name(arg)))
        .collect())
}

fn generate(
    func: ItemFn,
    options: &Options,
    captured: &[Ident],
    owner: Option<&str>,
) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = func;
    let (inner_attrs, outer_attrs): (Vec<_>, Vec<_>) = attrs
        .into_iter()
        .partition(|attr| matches!(attr.style, AttrStyle::Inner(_)));
    let is_async = sig.asyncness.is_some();
    let unit = returns_unit(&sig.output);
    let capture_result = options.capture_result && !unit;
    let ret_ty = body_return_type(&sig.output);

    let meta = function_meta(&sig.ident, options, is_async, owner);
    let enter = if is_async {
        // An async call is not the thread's current span: the thread moves on to other tasks at
        // every `.await`. `scope` re-enters the span context on each poll instead.
        quote!(::pathwise::__private::enter_detached)
    } else {
        quote!(::pathwise::__private::enter)
    };
    // `mut` only when something is recorded into the call, so the user's crate does not get
    // an `unused_mut` warning it cannot fix.
    let call_mut =
        (is_async || !captured.is_empty() || capture_result || !options.fields.is_empty())
            .then(|| quote!(mut));
    let arg_capture = arg_capture(captured);
    let fields = field_attrs(options);

    let (run_body, helper) = if is_async {
        // An async block, unlike a closure, cannot be told its output type: it takes the type
        // of its first `return`, so `return Box::new(e)` would fix `Box<E>` where the function
        // declares `Box<dyn Error>`, and `?` would convert into the wrong error. A first,
        // never-taken `return` of the declared type fixes the output type before the body is
        // checked; later `return`s and `?`s then coerce/convert to it as in the original fn.
        let run = quote! {
            ::pathwise::__private::scope(&mut __pathwise_call, async move {
                if false {
                    return __pathwise_declared_output::<#ret_ty>();
                }
                #block
            })
            .await
        };
        let helper = quote! {
            #[inline(always)]
            fn __pathwise_declared_output<R>() -> R {
                ::core::unreachable!()
            }
        };
        (run, helper)
    } else {
        // The body becomes a closure so that its `return`s and `?`s come back here. It is
        // passed to a function taking `FnOnce`: that makes the compiler build an `FnOnce`
        // closure, which may hand out references derived from moved-in captures (e.g. `&mut
        // self` returning `&mut self.field`); an immediately called `(move || ..)()` would be
        // inferred `FnMut` and reject that. The turbofish gives the closure the declared return
        // type, which `?` needs to pick its error conversion and `return` needs to coerce.
        let run = quote! {
            __pathwise_once::<#ret_ty, _>(move || #block)
        };
        let helper = quote! {
            #[inline(always)]
            fn __pathwise_once<R, F: ::core::ops::FnOnce() -> R>(f: F) -> R {
                f()
            }
        };
        (run, helper)
    };

    // `error_kind = f`: the user's name for the error replaces its type and variant.
    let error_kind = options.error_kind.as_ref().map(|kind| {
        quote! {
            if let ::core::result::Result::Err(__pathwise_err) = &__pathwise_ret {
                ::pathwise::__private::FnCall::error_kind(&mut __pathwise_error, (#kind)(__pathwise_err));
            }
        }
    });
    let error_mut = error_kind.is_some().then(|| quote!(mut));
    let finish = if unit {
        // Nothing to inspect: a unit body can only fail by panicking, which the call's drop
        // records.
        quote! {
            #run_body;
            __pathwise_call.finish(::core::option::Option::None);
        }
    } else {
        let result_capture = capture_result.then(|| {
            quote! {
                if let ::core::option::Option::Some(__pathwise_opts) = __pathwise_call.capture_result() {
                    let mut __pathwise_value = ::std::vec::Vec::with_capacity(128);
                    ::pathwise::__private::capture_into!(&__pathwise_ret, __pathwise_opts, &mut __pathwise_value);
                    __pathwise_call.set_result(__pathwise_value);
                }
            }
        });
        quote! {
            let __pathwise_ret: #ret_ty = #run_body;
            let #error_mut __pathwise_error = ::pathwise::__private::outcome!(&__pathwise_ret);
            #error_kind
            #result_capture
            __pathwise_call.finish(__pathwise_error);
            __pathwise_ret
        }
    };

    quote! {
        #(#outer_attrs)*
        #vis #sig {
            #(#inner_attrs)*
            #meta
            #helper
            let #call_mut __pathwise_call = #enter(&__PATHWISE_FN);
            #arg_capture
            #fields
            #finish
        }
    }
}

/// `fields(key = expr)`: evaluated by reference when the call starts, only if it is recorded.
fn field_attrs(options: &Options) -> TokenStream {
    if options.fields.is_empty() {
        return TokenStream::new();
    }
    let sets = options.fields.iter().map(|(key, value)| {
        quote! {
            __pathwise_call.set_field(#key, ::pathwise::__private::Field::to_attr(&(#value)));
        }
    });
    quote! {
        if __pathwise_call.is_recording() {
            #(#sets)*
        }
    }
}

/// The `static` describing the function, and its registration.
fn function_meta(
    ident: &Ident,
    options: &Options,
    is_async: bool,
    owner: Option<&str>,
) -> TokenStream {
    let fn_name = arg_name(ident);
    let name = match (&options.name, owner) {
        (Some(name), _) => quote!(#name),
        (None, Some(owner)) => {
            quote!(::core::concat!(::core::module_path!(), "::", #owner, "::", #fn_name))
        }
        (None, None) => quote!(::core::concat!(::core::module_path!(), "::", #fn_name)),
    };
    let group = match &options.group {
        Some(group) => quote!(::core::option::Option::Some(#group)),
        None => quote!(::core::option::Option::None),
    };
    let sample = Literal::f64_unsuffixed(options.sample);
    let max_repr = Literal::usize_unsuffixed(options.max_repr);
    let capture_args = options.captures_args();
    let capture_result = options.capture_result;
    let redact = &options.redact;
    let memory_delta = options.memory_delta;
    // Spanned on the function's name so that `line!` reports the `fn` line rather than the
    // attribute's (they differ when other attributes or doc comments sit in between).
    let location = quote_spanned!(ident.span()=> file: ::core::file!(), line: ::core::line!(),);
    quote! {
        static __PATHWISE_FN: ::pathwise::__private::FunctionMeta = ::pathwise::__private::FunctionMeta {
            name: #name,
            group: #group,
            module_path: ::core::module_path!(),
            #location
            is_async: #is_async,
            sample: #sample,
            capture_args: #capture_args,
            capture_result: #capture_result,
            max_repr: #max_repr,
            redact: &[#(#redact),*],
            memory_delta: #memory_delta,
        };
        ::pathwise::__private::inventory::submit! {
            ::pathwise::__private::FunctionRegistration(&__PATHWISE_FN)
        }
    }
}

/// Captures every argument up front, while the body has not yet moved or mutated them, each
/// straight into the call's argument buffer (the options are `'static`, so holding them does
/// not borrow the call).
fn arg_capture(captured: &[Ident]) -> Option<TokenStream> {
    if captured.is_empty() {
        return None;
    }
    let names: Vec<String> = captured.iter().map(arg_name).collect();
    Some(quote! {
        if let ::core::option::Option::Some(__pathwise_opts) = __pathwise_call.capture_args() {
            #(
                // `_name` arguments are captured too: unused by the body, not uninteresting.
                #[allow(clippy::used_underscore_binding)]
                let () = ::pathwise::__private::capture_into!(
                    &#captured,
                    __pathwise_opts,
                    __pathwise_call.arg_buffer(#names)
                );
            )*
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_err(attr: TokenStream, item: TokenStream) -> String {
        expand(attr, item).unwrap_err().to_string()
    }

    #[test]
    fn rejects_what_cannot_be_monitored() {
        assert!(
            expand_err(
                quote!(),
                quote!(
                    struct S;
                )
            )
            .contains("can only be applied to functions")
        );
        assert!(
            expand_err(
                quote!(),
                quote!(
                    const fn f() -> u8 {
                        1
                    }
                )
            )
            .contains("cannot monitor a const fn")
        );
        assert!(
            expand_err(
                quote!(),
                quote!(
                    fn f() -> ! {
                        loop {}
                    }
                )
            )
            .contains("never returns")
        );
        assert!(
            expand_err(
                quote!(),
                quote!(
                    fn f(&self) -> u8;
                )
            )
            .contains("needs a function body")
        );
    }

    #[test]
    fn skip_must_name_an_argument() {
        let message = expand_err(
            quote!(skip(pasword)),
            quote!(
                fn f(password: &str) {}
            ),
        );
        assert!(message.contains("cannot skip `pasword`"), "{message}");
        assert!(message.contains("password"), "{message}");
        assert!(
            expand(
                quote!(skip(self, password)),
                quote!(
                    fn f(&self, password: &str) {}
                )
            )
            .is_ok()
        );
    }

    #[test]
    fn errors_keep_the_original_item() {
        let out = monitor(
            quote!(bogus),
            quote!(
                fn keep_me() {}
            ),
        )
        .to_string();
        assert!(out.contains("compile_error"));
        assert!(out.contains("fn keep_me"));
    }

    #[test]
    fn generated_code_shape() {
        let out = monitor(
            quote!(
                name = "X",
                group = "g",
                sample = 0.1,
                skip(conn),
                max_repr = 200,
                redact(ssn)
            ),
            quote! {
                /// Doc.
                pub fn f(a: u8, conn: &Pool) -> Result<u8, E> { #![allow(unused)] Ok(a) }
            },
        )
        .to_string();
        for needle in [
            "# [doc = r\" Doc.\"] pub fn f",
            "name : \"X\"",
            "group : :: core :: option :: Option :: Some (\"g\")",
            "sample : 0.1",
            "max_repr : 200",
            "redact : & [\"ssn\"]",
            "memory_delta : false",
            "is_async : false",
            ":: pathwise :: __private :: enter (& __PATHWISE_FN)",
            "arg_buffer (\"a\")",
            "__pathwise_once :: < Result < u8 , E > , _ > (move ||",
            "outcome ! (& __pathwise_ret)",
            "set_result",
        ] {
            assert!(out.contains(needle), "missing `{needle}` in {out}");
        }
        assert!(
            !out.contains("\"conn\""),
            "skipped argument captured: {out}"
        );
        // Inner attributes stay at the top of the function body.
        assert!(
            out.contains("{ # ! [allow (unused)] static __PATHWISE_FN"),
            "{out}"
        );
    }

    #[test]
    fn async_and_unit_shapes() {
        let out = monitor(
            quote!(capture_result = false),
            quote!(
                async fn f(x: u8) -> u8 {
                    x
                }
            ),
        )
        .to_string();
        assert!(out.contains("enter_detached"), "{out}");
        let body = "async move { if false { return __pathwise_declared_output :: < u8 > () ; } { x } }) . await";
        assert!(out.contains(body), "{out}");
        assert!(
            !out.contains("set_result") && !out.contains("__pathwise_once"),
            "{out}"
        );

        let out = monitor(
            quote!(skip_all),
            quote!(
                fn g(x: u8) {
                    drop(x)
                }
            ),
        )
        .to_string();
        assert!(
            !out.contains("arg_buffer") && !out.contains("outcome"),
            "{out}"
        );
        assert!(
            out.contains("let __pathwise_call"),
            "no `mut` when nothing is recorded: {out}"
        );
        assert!(out.contains("capture_args : false"), "{out}");
    }
}
