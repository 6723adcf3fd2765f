//! Parsing of the `#[monitor(...)]` option list.
//!
//! Every error is a `syn::Error` spanned on the offending token, so the compiler underlines
//! exactly the option the user has to fix rather than the whole attribute.

use proc_macro2::{Ident, TokenStream};
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, Lit, LitStr, Token, UnOp};

/// Every option name, for the "unknown option" message.
const KNOWN: &str = "name, group, sample, skip, skip_all, capture_args, capture_result, max_repr, \
     redact, memory_delta, fields, error_kind";

/// The parsed options of one `#[monitor]` attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Explicit function name; `None` means `module_path!()::fn_name`.
    pub name: Option<String>,
    /// The component the function belongs to.
    pub group: Option<String>,
    /// Fraction of calls recorded, `0.0..=1.0` (the SDK keeps failed calls regardless).
    pub sample: f64,
    /// Arguments never captured. Kept as idents so that an unknown name can be reported at
    /// its own span once the signature is known.
    pub skip: Vec<Ident>,
    /// `skip_all` was given.
    pub skip_all: bool,
    pub capture_args: bool,
    pub capture_result: bool,
    /// Maximum length of a captured value's representation; 0 = the global default.
    pub max_repr: usize,
    /// Extra field names whose values are masked in captures of this function.
    pub redact: Vec<String>,
    /// Record the change of the process's resident memory over each call.
    pub memory_delta: bool,
    /// Attributes computed from the arguments when the call starts: `fields(key = expr)`.
    pub fields: Vec<(String, Expr)>,
    /// A function naming the error of a failed call: `error_kind = path::to::fn`.
    pub error_kind: Option<Expr>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            name: None,
            group: None,
            sample: 1.0,
            skip: Vec::new(),
            skip_all: false,
            capture_args: true,
            capture_result: true,
            max_repr: 0,
            redact: Vec::new(),
            memory_delta: false,
            fields: Vec::new(),
            error_kind: None,
        }
    }
}

impl Options {
    /// Whether any argument may be captured at all.
    pub fn captures_args(&self) -> bool {
        self.capture_args && !self.skip_all
    }
}

/// The name of the option `meta` sets, refused when it is not a plain name or was given
/// before (`seen`); `known` lists the options for the message.
pub fn option_key(
    meta: &syn::meta::ParseNestedMeta<'_>,
    seen: &[String],
    known: &str,
) -> syn::Result<String> {
    let key = meta
        .path
        .get_ident()
        .map(|ident| ident.unraw().to_string())
        .ok_or_else(|| meta.error(format!("expected an option name, one of: {known}")))?;
    if seen.contains(&key) {
        return Err(meta.error(format!("duplicate option `{key}`")));
    }
    Ok(key)
}

/// Parses the tokens inside `#[monitor(...)]` (empty for a bare `#[monitor]`).
pub fn parse_options(tokens: TokenStream) -> syn::Result<Options> {
    let mut options = Options::default();
    let mut seen: Vec<String> = Vec::new();
    let parser = syn::meta::parser(|meta| {
        let key = option_key(&meta, &seen, KNOWN)?;
        parse_option(&key, &meta, &mut options)?;
        seen.push(key);
        Ok(())
    });
    parser.parse2(tokens)?;
    Ok(options)
}

/// Parses the option `key` (already read from `meta`) into `options`. Shared with
/// `#[monitor_all]`, which forwards the options that make sense for every function.
pub fn parse_option(key: &str, meta: &ParseNestedMeta, options: &mut Options) -> syn::Result<()> {
    match key {
        "name" => options.name = Some(non_empty_str(key, meta)?),
        "group" => options.group = Some(non_empty_str(key, meta)?),
        "sample" => options.sample = parse_sample(meta)?,
        "skip" => {
            let names = parenthesized_list(meta, parse_arg_name)?;
            if names.is_empty() {
                return Err(meta.error("`skip(..)` needs at least one argument name"));
            }
            options.skip = names;
        }
        "skip_all" => {
            no_value(key, meta)?;
            options.skip_all = true;
        }
        // `memory_delta` alone, or `memory_delta = true/false`.
        "memory_delta" => {
            options.memory_delta = if meta.input.peek(Token![=]) {
                parse_bool(key, meta)?
            } else {
                no_value(key, meta)?;
                true
            };
        }
        "capture_args" => options.capture_args = parse_bool(key, meta)?,
        "capture_result" => options.capture_result = parse_bool(key, meta)?,
        "max_repr" => match literal(key, meta)? {
            Lit::Int(int) => options.max_repr = int.base10_parse::<usize>()?,
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "`max_repr` expects an integer",
                ));
            }
        },
        "redact" => {
            let names = parenthesized_list(meta, parse_field_name)?;
            if names.is_empty() {
                return Err(meta.error("`redact(..)` needs at least one field name"));
            }
            options.redact = names;
        }
        "fields" => {
            let fields = parenthesized_list(meta, parse_field)?;
            if fields.is_empty() {
                return Err(meta.error("`fields(..)` needs at least one `key = expression`"));
            }
            options.fields = fields;
        }
        "error_kind" => {
            let value = meta.value().map_err(|_| {
                meta.error("`error_kind` expects `error_kind = path::to::function`")
            })?;
            match value.parse::<Expr>()? {
                path @ (Expr::Path(_) | Expr::Closure(_)) => options.error_kind = Some(path),
                other => {
                    return Err(syn::Error::new_spanned(
                        other,
                        "`error_kind` expects a function or closure taking `&E` (the error) and returning its name",
                    ));
                }
            }
        }
        _ => {
            return Err(meta.error(format!(
                "unknown #[monitor] option `{key}`; expected one of: {KNOWN}"
            )));
        }
    }
    Ok(())
}

/// The literal after `key =`; anything that is not a literal is rejected at its own span.
fn literal(key: &str, meta: &ParseNestedMeta) -> syn::Result<Lit> {
    let value = meta
        .value()
        .map_err(|_| meta.error(format!("`{key}` expects `{key} = <value>`")))?;
    match value.parse::<Expr>()? {
        Expr::Lit(lit) => Ok(lit.lit),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{key}` expects a literal value"),
        )),
    }
}

fn non_empty_str(key: &str, meta: &ParseNestedMeta) -> syn::Result<String> {
    match literal(key, meta)? {
        Lit::Str(text) if text.value().trim().is_empty() => Err(syn::Error::new(
            text.span(),
            format!("`{key}` must not be empty"),
        )),
        Lit::Str(text) => Ok(text.value()),
        other => Err(syn::Error::new(
            other.span(),
            format!("`{key}` expects a string literal, e.g. {key} = \"checkout\""),
        )),
    }
}

fn parse_bool(key: &str, meta: &ParseNestedMeta) -> syn::Result<bool> {
    match literal(key, meta)? {
        Lit::Bool(flag) => Ok(flag.value),
        other => Err(syn::Error::new(
            other.span(),
            format!("`{key}` expects `true` or `false`"),
        )),
    }
}

fn parse_sample(meta: &ParseNestedMeta) -> syn::Result<f64> {
    const RANGE: &str = "`sample` must be between 0.0 and 1.0";
    let value = meta
        .value()
        .map_err(|_| meta.error("`sample` expects `sample = <0.0..=1.0>`"))?;
    let (lit, rate) = match value.parse::<Expr>()? {
        // `-0.5` is an expression, not a literal: report it as out of range, not as a type error.
        Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => {
            return Err(syn::Error::new_spanned(unary, RANGE));
        }
        Expr::Lit(expr) => {
            let rate = match &expr.lit {
                Lit::Float(float) => float.base10_parse::<f64>()?,
                // `sample = 1` / `sample = 0` read naturally; accept them.
                Lit::Int(int) => int.base10_parse::<f64>()?,
                other => {
                    return Err(syn::Error::new(
                        other.span(),
                        "`sample` expects a number between 0.0 and 1.0, e.g. sample = 0.1",
                    ));
                }
            };
            (expr.lit, rate)
        }
        other => {
            return Err(syn::Error::new_spanned(
                other,
                "`sample` expects a number literal",
            ));
        }
    };
    if !(0.0..=1.0).contains(&rate) {
        return Err(syn::Error::new(lit.span(), RANGE));
    }
    Ok(rate)
}

/// Rejects `skip_all = ..` / `skip_all(..)`: a flag takes no value.
fn no_value(key: &str, meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.is_empty() || meta.input.peek(Token![,]) {
        Ok(())
    } else {
        Err(meta.error(format!("`{key}` is a flag and takes no value")))
    }
}

/// `key(a, b, c)` with each element parsed by `element`.
pub fn parenthesized_list<T>(
    meta: &ParseNestedMeta,
    element: fn(syn::parse::ParseStream) -> syn::Result<T>,
) -> syn::Result<Vec<T>> {
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error("expected a parenthesized list, e.g. `skip(password, conn)`"));
    }
    let content;
    syn::parenthesized!(content in meta.input);
    let list = Punctuated::<T, Token![,]>::parse_terminated_with(&content, element)?;
    Ok(list.into_iter().collect())
}

/// An argument name for `skip(..)`; keywords are accepted so that `skip(self)` parses.
fn parse_arg_name(input: syn::parse::ParseStream) -> syn::Result<Ident> {
    if input.peek(syn::Ident::peek_any) {
        Ident::parse_any(input)
    } else {
        Err(input.error("expected an argument name"))
    }
}

/// `key = expression` in `fields(..)`; the key is an identifier or a string literal (for
/// dotted names such as `"db.rows"`).
fn parse_field(input: syn::parse::ParseStream) -> syn::Result<(String, Expr)> {
    let key = parse_field_name(input)?;
    input
        .parse::<Token![=]>()
        .map_err(|_| input.error(format!("expected `{key} = <expression>` in `fields(..)`")))?;
    let value: Expr = input.parse()?;
    Ok((key, value))
}

/// A field name for `redact(..)`: an identifier or a string literal (for names that are not
/// valid identifiers, such as `"api-key"`).
fn parse_field_name(input: syn::parse::ParseStream) -> syn::Result<String> {
    if input.peek(LitStr) {
        let text: LitStr = input.parse()?;
        if text.value().is_empty() {
            return Err(syn::Error::new(
                text.span(),
                "a field name must not be empty",
            ));
        }
        Ok(text.value())
    } else if input.peek(syn::Ident::peek_any) {
        Ok(Ident::parse_any(input)?.unraw().to_string())
    } else {
        Err(input.error("expected a field name (identifier or string literal)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn err(tokens: TokenStream) -> String {
        parse_options(tokens).unwrap_err().to_string()
    }

    #[test]
    fn defaults() {
        let options = parse_options(TokenStream::new()).unwrap();
        assert_eq!(options, Options::default());
        assert_eq!(options.sample, 1.0);
        assert!(options.capture_args && options.capture_result && options.captures_args());
        assert_eq!(options.max_repr, 0);
        assert!(options.name.is_none() && options.group.is_none());
    }

    #[test]
    fn all_options() {
        let options = parse_options(quote!(
            name = "X",
            group = "g",
            sample = 0.1,
            skip(conn, r#type),
            max_repr = 200,
            redact(ssn, "api-key"),
            capture_result = false,
            capture_args = true,
        ))
        .unwrap();
        assert_eq!(options.name.as_deref(), Some("X"));
        assert_eq!(options.group.as_deref(), Some("g"));
        assert_eq!(options.sample, 0.1);
        let skipped: Vec<String> = options.skip.iter().map(|i| i.unraw().to_string()).collect();
        assert_eq!(skipped, ["conn", "type"]);
        assert_eq!(options.max_repr, 200);
        assert_eq!(options.redact, ["ssn", "api-key"]);
        assert!(!options.capture_result);
        assert!(options.captures_args());
    }

    #[test]
    fn flags_and_integer_sample() {
        let options = parse_options(quote!(skip_all, sample = 1)).unwrap();
        assert!(options.skip_all && !options.captures_args());
        assert_eq!(options.sample, 1.0);
        assert_eq!(parse_options(quote!(sample = 0)).unwrap().sample, 0.0);
        assert!(
            !parse_options(quote!(capture_args = false))
                .unwrap()
                .captures_args()
        );
        assert!(parse_options(quote!(skip(self))).is_ok());
    }

    #[test]
    fn memory_delta() {
        assert!(!Options::default().memory_delta);
        assert!(parse_options(quote!(memory_delta)).unwrap().memory_delta);
        assert!(
            parse_options(quote!(group = "g", memory_delta, sample = 0.5))
                .unwrap()
                .memory_delta
        );
        assert!(
            parse_options(quote!(memory_delta = true))
                .unwrap()
                .memory_delta
        );
        assert!(
            !parse_options(quote!(memory_delta = false))
                .unwrap()
                .memory_delta
        );
        assert!(err(quote!(memory_delta = 1)).contains("expects `true` or `false`"));
        assert!(err(quote!(memory_delta(x))).contains("takes no value"));
        assert!(
            err(quote!(memory_delta, memory_delta)).contains("duplicate option `memory_delta`")
        );
        assert!(err(quote!(memroy_delta)).contains("memory_delta"));
    }

    #[test]
    fn unknown_and_duplicate_options() {
        assert!(err(quote!(nmae = "x")).contains("unknown #[monitor] option `nmae`"));
        assert!(err(quote!(name = "a", name = "b")).contains("duplicate option `name`"));
        assert!(err(quote!(a::b = 1)).contains("expected an option name"));
    }

    #[test]
    fn wrong_literal_types() {
        assert!(err(quote!(name = 3)).contains("`name` expects a string literal"));
        assert!(err(quote!(group = true)).contains("`group` expects a string literal"));
        assert!(err(quote!(name = "")).contains("must not be empty"));
        assert!(err(quote!(name = foo)).contains("expects a literal value"));
        assert!(err(quote!(sample = "0.5")).contains("`sample` expects a number"));
        assert!(err(quote!(max_repr = 1.5)).contains("`max_repr` expects an integer"));
        assert!(err(quote!(max_repr = -1)).contains("expects a literal value"));
        assert!(err(quote!(capture_args = 1)).contains("expects `true` or `false`"));
        assert!(err(quote!(name)).contains("`name` expects `name = <value>`"));
    }

    #[test]
    fn sample_range() {
        assert!(err(quote!(sample = 1.5)).contains("between 0.0 and 1.0"));
        assert!(err(quote!(sample = 2)).contains("between 0.0 and 1.0"));
        assert!(err(quote!(sample = -0.5)).contains("between 0.0 and 1.0"));
        assert_eq!(parse_options(quote!(sample = 0.0)).unwrap().sample, 0.0);
        assert_eq!(parse_options(quote!(sample = 1.0)).unwrap().sample, 1.0);
    }

    #[test]
    fn lists() {
        assert!(err(quote!(skip)).contains("parenthesized list"));
        assert!(err(quote!(skip())).contains("at least one argument"));
        assert!(err(quote!(redact())).contains("at least one field"));
        assert!(err(quote!(redact(1))).contains("expected a field name"));
        assert!(err(quote!(redact(""))).contains("must not be empty"));
        assert!(err(quote!(skip_all = true)).contains("takes no value"));
        let message = err(quote!(skip("a")));
        assert!(message.contains("expected an argument name"), "{message}");
    }
}
