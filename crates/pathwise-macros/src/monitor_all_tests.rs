//! Tests of `#[monitor_all]`'s expansion: which functions are instrumented, under which names,
//! with which options, and what is reported as a mistake.

use super::*;
use proc_macro2::TokenTree;
use quote::quote;
use syn::{Expr, ImplItem, Stmt, TraitItem};

/// Every function in `tokens` as (function name, span name if instrumented). The span name is
/// read from the generated description: an explicit name as is, a default one as
/// `{module}::...` followed by what the expansion appends to `module_path!()`.
fn functions(tokens: &TokenStream) -> Vec<(String, Option<String>)> {
    let file: syn::File = syn::parse2(tokens.clone()).expect("the expansion parses");
    let mut out = Vec::new();
    collect_items(&file.items, &mut out);
    out
}

fn collect_items(items: &[Item], out: &mut Vec<(String, Option<String>)>) {
    for item in items {
        match item {
            Item::Fn(func) => out.push((func.sig.ident.to_string(), span_name(&func.block))),
            Item::Impl(block) => {
                for item in &block.items {
                    if let ImplItem::Fn(method) = item {
                        out.push((method.sig.ident.to_string(), span_name(&method.block)));
                    }
                }
            }
            Item::Trait(definition) => {
                for item in &definition.items {
                    if let TraitItem::Fn(method) = item {
                        let name = method.default.as_ref().and_then(span_name);
                        out.push((method.sig.ident.to_string(), name));
                    }
                }
            }
            Item::Mod(module) => {
                if let Some((_, items)) = &module.content {
                    collect_items(items, out);
                }
            }
            _ => {}
        }
    }
}

fn span_name(body: &syn::Block) -> Option<String> {
    body.stmts.iter().find_map(|stmt| match stmt {
        Stmt::Item(Item::Static(description)) if description.ident == "__PATHWISE_FN" => {
            field(&description.expr, "name").map(|name| match name {
                Expr::Lit(literal) => literal.to_token_stream().to_string(),
                Expr::Macro(concat) => {
                    let appended: String = concat
                        .mac
                        .tokens
                        .clone()
                        .into_iter()
                        .filter_map(|token| match token {
                            TokenTree::Literal(text) => Some(text.to_string().replace('"', "")),
                            _ => None,
                        })
                        .collect();
                    format!("{{module}}{appended}")
                }
                other => panic!("unexpected name {}", other.to_token_stream()),
            })
        }
        _ => None,
    })
}

fn field<'e>(description: &'e Expr, name: &str) -> Option<&'e Expr> {
    let Expr::Struct(fields) = description else {
        return None;
    };
    fields.fields.iter().find_map(|field| match &field.member {
        syn::Member::Named(ident) if ident == name => Some(&field.expr),
        _ => None,
    })
}

fn expand_ok(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr, item).unwrap_or_else(|error| panic!("{error}"))
}

fn expand_err(attr: TokenStream, item: TokenStream) -> String {
    match expand(attr, item) {
        Ok(tokens) => panic!("expected an error, got {tokens}"),
        Err(error) => error.to_string(),
    }
}

fn instrumented(found: &[(String, Option<String>)]) -> Vec<(&str, &str)> {
    found
        .iter()
        .filter_map(|(func, name)| Some((func.as_str(), name.as_deref()?)))
        .collect()
}

fn left_alone(found: &[(String, Option<String>)]) -> Vec<&str> {
    found
        .iter()
        .filter(|(_, name)| name.is_none())
        .map(|(func, _)| func.as_str())
        .collect()
}

#[test]
fn impl_block_selection_and_names() {
    let out = expand_ok(
        quote!(
            include = "^(process_|calculate_)",
            exclude("_helper"),
            group = "trading.pnl"
        ),
        quote! {
            impl<T: Clone> Book<T> {
                pub fn process_order(&mut self, order: T) -> Result<(), Error> { Ok(()) }
                async fn calculate_pnl(&self) -> f64 { 0.0 }
                fn calculate_new(start: u8) -> Self { todo!() }
                fn process_helper(&self) {}
                fn render(&self) -> String { String::new() }
                #[monitor(name = "custom")]
                fn process_custom(&self) {}
                #[pathwise::skip_monitor]
                fn process_hot(&self) {}
                const fn process_const() -> u8 { 1 }
                extern "C" fn process_ffi() {}
                fn process_forever() -> ! { loop {} }
                const LIMIT: u8 = 3;
                some_macro!();
            }
        },
    );
    let found = functions(&out);
    assert_eq!(
        instrumented(&found),
        [
            ("process_order", "{module}::Book::process_order"),
            ("calculate_pnl", "{module}::Book::calculate_pnl"),
            ("calculate_new", "{module}::Book::calculate_new"),
        ]
    );
    assert_eq!(
        left_alone(&found),
        [
            "process_helper",
            "render",
            "process_custom",
            "process_hot",
            "process_const",
            "process_ffi",
            "process_forever"
        ]
    );
    let text = out.to_string();
    assert_eq!(
        text.matches("Some (\"trading.pnl\")").count(),
        3,
        "the group is given to every instrumented function: {text}"
    );
    assert!(
        text.contains("# [monitor (name = \"custom\")] fn process_custom"),
        "its own #[monitor] is kept, to expand by itself: {text}"
    );
    assert!(
        !text.contains("skip_monitor"),
        "the opt-out is consumed: {text}"
    );
    assert!(text.contains("some_macro ! ()") && text.contains("const LIMIT"));
}

#[test]
fn trait_impls_are_named_with_the_trait() {
    let out = expand_ok(
        quote!(),
        quote! {
            impl<'a> From<&'a [u8]> for crate::wire::Frame<'a> {
                fn from(bytes: &'a [u8]) -> Self { todo!() }
            }
        },
    );
    assert_eq!(
        instrumented(&functions(&out)),
        [("from", "{module}::<Frame as From<&'a [u8]>>::from")]
    );
    let out = expand_ok(
        quote!(),
        quote! {
            impl fmt::Display for &dyn Shape {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { Ok(()) }
            }
        },
    );
    assert_eq!(
        instrumented(&functions(&out)),
        [("fmt", "{module}::<&dyn Shape as Display>::fmt")]
    );
}

#[test]
fn module_walk() {
    let out = expand_ok(
        quote!(include = "^fetch_"),
        quote! {
            mod pnl {
                pub fn fetch_prices() -> Vec<f64> { Vec::new() }
                pub(crate) async fn fetch_quotes(symbol: &str) -> Result<f64, Error> { Ok(1.0) }
                fn compute() {}
                struct Cache;
                impl Cache {
                    fn fetch_cached(&self, key: &str) -> Option<f64> { None }
                }
                trait Source {
                    fn fetch_one(&self) -> f64;
                    fn fetch_two(&self) -> f64 { self.fetch_one() * 2.0 }
                }
                mod inner {
                    fn fetch_nested() {}
                }
                #[pathwise::monitor_all(include = "^fetch_", group = "own")]
                mod configured {
                    fn fetch_configured() {}
                }
                #[monitor_all]
                impl Cache {
                    fn fetch_own(&self) {}
                }
                mod elsewhere;
                extern "C" {
                    fn fetch_foreign();
                }
                fn outer() {
                    fn fetch_local() {}
                }
            }
        },
    );
    let found = functions(&out);
    assert_eq!(
        instrumented(&found),
        [
            ("fetch_prices", "{module}::fetch_prices"),
            ("fetch_quotes", "{module}::fetch_quotes"),
            ("fetch_cached", "{module}::Cache::fetch_cached"),
            ("fetch_two", "{module}::Source::fetch_two"),
            ("fetch_nested", "{module}::fetch_nested"),
        ]
    );
    assert_eq!(
        left_alone(&found),
        [
            "compute",
            "fetch_one",
            "fetch_configured",
            "fetch_own",
            "outer"
        ]
    );
    let text = out.to_string();
    assert!(
        text.contains("monitor_all (include = \"^fetch_\" , group = \"own\")"),
        "{text}"
    );
    assert!(text.contains("fn fetch_local"), "{text}");
    assert!(text.contains("fn fetch_foreign ()"), "{text}");
}

#[test]
fn trait_definition_default_methods() {
    let out = expand_ok(
        quote!(group = "shapes"),
        quote! {
            pub trait Shape {
                fn area(&self) -> f64;
                fn describe(&self) -> String { format!("{}", self.area()) }
                async fn load() -> Self where Self: Sized { todo!() }
            }
        },
    );
    let found = functions(&out);
    assert_eq!(
        instrumented(&found),
        [
            ("describe", "{module}::Shape::describe"),
            ("load", "{module}::Shape::load")
        ]
    );
    assert_eq!(left_alone(&found), ["area"]);
}

#[test]
fn block_wide_skip_and_capture_options() {
    let out = expand_ok(
        quote!(skip(conn), capture_result = false, sample = 0.25),
        quote! {
            impl Repo {
                fn load(&self, conn: &Pool, id: u64) -> Row { todo!() }
                fn count(&self, table: &str) -> u64 { 0 }
            }
        },
    );
    let text = out.to_string();
    assert!(
        text.contains("arg_buffer (\"id\")") && text.contains("arg_buffer (\"table\")"),
        "{text}"
    );
    assert!(!text.contains("arg_buffer (\"conn\")"), "{text}");
    assert_eq!(text.matches("sample : 0.25").count(), 2, "{text}");
    assert_eq!(text.matches("capture_result : false").count(), 2, "{text}");
    assert!(!text.contains("set_result"), "{text}");
}

#[test]
fn mistakes_that_need_the_whole_block() {
    let message = expand_err(
        quote!(include = "^proces_"),
        quote!(impl Book { fn process_order(&self) {} }),
    );
    assert!(
        message.contains("`include = \"^proces_\"` matches the name of no function"),
        "{message}"
    );
    // Matching only functions that are left alone is not a mistake.
    assert!(
        expand(
            quote!(include = "^process_"),
            quote!(impl Book { #[monitor] fn process_order(&self) {} })
        )
        .is_ok()
    );
    let message = expand_err(
        quote!(skip(conn, pasword)),
        quote!(impl Repo { fn load(&self, conn: &Pool, password: &str) {} }),
    );
    assert!(message.contains("cannot skip `pasword`"), "{message}");
    assert!(!message.contains("`conn`"), "{message}");
}

#[test]
fn rejects_what_is_not_a_block() {
    assert!(
        expand_err(
            quote!(),
            quote!(
                fn process() {}
            )
        )
        .contains("put #[pathwise::monitor] on a single function")
    );
    assert!(
        expand_err(
            quote!(),
            quote!(
                mod pnl;
            )
        )
        .contains("inline `mod name { ... }`")
    );
    assert!(
        expand_err(
            quote!(),
            quote!(
                struct Book;
            )
        )
        .contains("applies to an `impl` block")
    );
    assert!(expand_err(quote!(), quote!(not an item)).contains("applies to an `impl` block"));
}

#[test]
fn errors_keep_the_original_item() {
    let out = monitor_all(
        quote!(include = "("),
        quote!(impl Book { fn process(&self) {} }),
    )
    .to_string();
    assert!(out.contains("compile_error"), "{out}");
    assert!(
        out.contains("impl Book { fn process (& self) { } }"),
        "{out}"
    );
}

#[test]
fn compact_type_text() {
    for (tokens, expected) in [
        ("From < u8 >", "From<u8>"),
        ("HashMap < K , V >", "HashMap<K, V>"),
        ("& 'a str", "&'a str"),
        ("From < & 'a [u8] >", "From<&'a [u8]>"),
        ("Formatter < '_ >", "Formatter<'_>"),
        ("Ref < 'a , T >", "Ref<'a, T>"),
        ("& mut dyn Trait + Send", "&mut dyn Trait + Send"),
        ("[u8 ; 4]", "[u8;4]"),
        ("(A , B)", "(A, B)"),
    ] {
        assert_eq!(compact(tokens), expected);
    }
}
