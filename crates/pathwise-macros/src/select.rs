//! The options of `#[monitor_all(...)]`: which functions of a block are instrumented
//! (`include`, `exclude`) and the `#[monitor]` options given to each of them.
//!
//! The selection follows the Python SDK's `auto_instrument_module`: a function is selected when
//! the `include` regular expression matches somewhere in its name (a search, not a full match:
//! anchor it with `^`/`$` as needed) and its name contains none of the `exclude` substrings.
//! The regular expression is compiled here, at compile time, so a mistake in it is a compile
//! error on the string literal rather than a surprise at run time.

use proc_macro2::{Ident, TokenStream};
use regex::Regex;
use syn::LitStr;
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;

use crate::options::{Options, option_key, parenthesized_list, parse_option};

/// The `#[monitor]` options that mean the same for every function of a block, forwarded as
/// they are.
const FORWARDED: [&str; 9] = [
    "group",
    "sample",
    "skip",
    "skip_all",
    "capture_args",
    "capture_result",
    "max_repr",
    "redact",
    "memory_delta",
];

/// Every option `#[monitor_all]` accepts, for the "unknown option" message.
const KNOWN: &str = "include, exclude, group, sample, skip, skip_all, capture_args, \
     capture_result, max_repr, redact, memory_delta";

/// The parsed options of one `#[monitor_all]` attribute.
pub struct AllOptions {
    pub filter: NameFilter,
    /// What each selected function's `#[monitor]` gets. `skip` lists every name given; each
    /// function receives only the names among its own arguments (see `skips_for`).
    pub monitor: Options,
}

/// Which function names are selected.
#[derive(Default)]
pub struct NameFilter {
    /// The compiled `include` expression and the literal it came from (for error spans).
    include: Option<(Regex, LitStr)>,
    /// Substrings that leave a function out.
    exclude: Vec<String>,
}

impl NameFilter {
    /// Whether `include` matches somewhere in `name` (true without `include`).
    pub fn included(&self, name: &str) -> bool {
        self.include
            .as_ref()
            .is_none_or(|(regex, _)| regex.is_match(name))
    }

    /// Whether the function called `name` is instrumented: `include` matches and no `exclude`
    /// substring occurs in it.
    pub fn selects(&self, name: &str) -> bool {
        self.included(name) && !self.exclude.iter().any(|part| name.contains(part.as_str()))
    }

    /// The `include` literal, for an error about it.
    pub fn include_literal(&self) -> Option<&LitStr> {
        self.include.as_ref().map(|(_, literal)| literal)
    }
}

/// Parses the tokens inside `#[monitor_all(...)]` (empty for a bare `#[monitor_all]`).
pub fn parse_all_options(tokens: TokenStream) -> syn::Result<AllOptions> {
    let mut filter = NameFilter::default();
    let mut monitor = Options::default();
    let mut seen: Vec<String> = Vec::new();
    let parser = syn::meta::parser(|meta| {
        let key = option_key(&meta, &seen, KNOWN)?;
        match key.as_str() {
            "include" => filter.include = Some(parse_include(&meta)?),
            "exclude" => filter.exclude = parse_exclude(&meta)?,
            "name" | "fields" | "error_kind" => {
                return Err(meta.error(format!(
                    "`{key}` describes one function and cannot apply to a whole block: put \
                     `#[pathwise::monitor({key} = ..)]` on that function (#[monitor_all] leaves \
                     a function that has its own #[monitor] alone)"
                )));
            }
            forwarded if FORWARDED.contains(&forwarded) => {
                parse_option(forwarded, &meta, &mut monitor)?;
            }
            _ => {
                return Err(meta.error(format!(
                    "unknown #[monitor_all] option `{key}`; expected one of: {KNOWN}"
                )));
            }
        }
        seen.push(key);
        Ok(())
    });
    parser.parse2(tokens)?;
    Ok(AllOptions { filter, monitor })
}

/// `include = "regex"`, compiled now; an invalid expression is reported on its literal.
fn parse_include(meta: &ParseNestedMeta) -> syn::Result<(Regex, LitStr)> {
    let literal: LitStr = meta.value().and_then(|value| value.parse()).map_err(|_| {
        meta.error("`include` expects a regular expression string, e.g. include = \"^process_\"")
    })?;
    match Regex::new(&literal.value()) {
        Ok(regex) => Ok((regex, literal)),
        Err(error) => Err(syn::Error::new(
            literal.span(),
            format!("`include` is not a valid regular expression: {error}"),
        )),
    }
}

/// `exclude("test_", "_helper")`: substrings, none of them empty (an empty one would leave out
/// every function).
fn parse_exclude(meta: &ParseNestedMeta) -> syn::Result<Vec<String>> {
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(
            "`exclude` expects a parenthesized list of substrings, e.g. exclude(\"test_\", \"_helper\")",
        ));
    }
    let literals = parenthesized_list(meta, |input| input.parse::<LitStr>())?;
    if literals.is_empty() {
        return Err(meta.error("`exclude(..)` needs at least one substring"));
    }
    literals
        .into_iter()
        .map(|literal| match literal.value() {
            text if text.is_empty() => Err(syn::Error::new(
                literal.span(),
                "an empty `exclude` substring would leave out every function",
            )),
            text => Ok(text),
        })
        .collect()
}

/// The names of `skip` that are arguments of a function whose argument bindings are
/// `arguments`. A block-wide `skip(conn)` applies to the functions that take a `conn`; that
/// every name is an argument of at least one of them is checked once the block is walked.
pub fn skips_for(skip: &[Ident], arguments: &[Ident]) -> Vec<Ident> {
    skip.iter()
        .filter(|name| *name == "self" || arguments.iter().any(|arg| arg.unraw() == name.unraw()))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn filter(tokens: TokenStream) -> NameFilter {
        parse_all_options(tokens).unwrap().filter
    }

    fn err(tokens: TokenStream) -> String {
        match parse_all_options(tokens) {
            Ok(_) => panic!("expected an error"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn include_is_a_search_and_exclude_a_substring() {
        let filter = filter(quote!(
            include = "^(process_|calculate_|fetch_)",
            exclude("test_", "_helper")
        ));
        for selected in ["process_trade", "calculate_pnl", "fetch_prices", "fetch_"] {
            assert!(filter.selects(selected), "{selected}");
        }
        for left_out in [
            "trade_process_", // `^` anchors the search at the start
            "load",
            "process_helper_x", // contains `_helper`
            "fetch_test_data",  // contains `test_`
            "calculate_helper",
        ] {
            assert!(!filter.selects(left_out), "{left_out}");
        }
        // Without `^` the expression may match anywhere, as Python's `re.search` does.
        let anywhere = self::filter(quote!(include = "price"));
        assert!(anywhere.selects("fetch_prices") && anywhere.selects("price"));
        assert!(!anywhere.selects("fetch_quotes"));
    }

    #[test]
    fn no_filter_selects_everything() {
        let all = filter(quote!());
        assert!(all.selects("anything") && all.included("anything"));
        let excluded = filter(quote!(exclude("_unchecked")));
        assert!(excluded.selects("get") && !excluded.selects("get_unchecked"));
        assert!(excluded.included("get_unchecked"));
    }

    #[test]
    fn forwards_the_monitor_options() {
        let options = parse_all_options(quote!(
            group = "trading.pnl",
            sample = 0.5,
            capture_args = false,
            capture_result = false,
            max_repr = 64,
            redact(account),
            memory_delta,
            skip(conn)
        ))
        .unwrap()
        .monitor;
        assert_eq!(options.group.as_deref(), Some("trading.pnl"));
        assert_eq!(options.sample, 0.5);
        assert!(!options.captures_args() && !options.capture_result);
        assert_eq!((options.max_repr, options.memory_delta), (64, true));
        assert_eq!(options.redact, ["account"]);
        assert_eq!(options.skip.len(), 1);
        // The shared parser's checks still apply.
        assert!(err(quote!(sample = 2.0)).contains("between 0.0 and 1.0"));
        assert!(err(quote!(group = 1)).contains("`group` expects a string literal"));
    }

    #[test]
    fn rejects_per_function_options() {
        for tokens in [
            quote!(name = "x"),
            quote!(fields(a = 1)),
            quote!(error_kind = kind),
        ] {
            let message = err(tokens);
            assert!(
                message.contains("cannot apply to a whole block"),
                "{message}"
            );
        }
    }

    #[test]
    fn option_mistakes() {
        let message = err(quote!(include = "^(process_"));
        assert!(
            message.contains("`include` is not a valid regular expression"),
            "{message}"
        );
        assert!(message.contains("unclosed group"), "{message}");
        assert!(err(quote!(include = 3)).contains("expects a regular expression string"));
        assert!(err(quote!(include)).contains("expects a regular expression string"));
        assert!(err(quote!(exclude = "x")).contains("parenthesized list of substrings"));
        assert!(err(quote!(exclude())).contains("at least one substring"));
        assert!(err(quote!(exclude(""))).contains("leave out every function"));
        assert!(err(quote!(exclude(x))).contains("expected string literal"));
        assert!(err(quote!(inclde = "x")).contains("unknown #[monitor_all] option `inclde`"));
        assert!(err(quote!(include = "a", include = "b")).contains("duplicate option `include`"));
    }

    #[test]
    fn regex_errors_explain_the_mistake() {
        let message = err(quote!(group = "g", include = "[z-a]"));
        assert!(
            message.contains("invalid character class range"),
            "{message}"
        );
        let message = err(quote!(include = "(?<=x)y"));
        assert!(message.contains("look-around"), "{message}");
    }

    #[test]
    fn skips_apply_to_the_functions_that_have_the_argument() {
        let skip: Vec<Ident> = vec![syn::parse_quote!(conn), syn::parse_quote!(password)];
        let arguments: Vec<Ident> = vec![syn::parse_quote!(id), syn::parse_quote!(r#conn)];
        let names: Vec<String> = skips_for(&skip, &arguments)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(names, ["conn"]);
        assert!(skips_for(&skip, &[]).is_empty());
    }
}
