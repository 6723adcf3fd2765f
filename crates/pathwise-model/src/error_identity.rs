//! What an error *is*, as a short, stable name: `OpenAlexError::RateLimit`, not
//! `search_service::clients::openalex::OpenAlexError` for every variant alike. Error types and
//! error patterns group by this name, so two variants of one enum must differ and the same
//! error must read the same wherever it is raised.
//!
//! Rust has no reflection on enum variants; their derived `Debug` output starts with the
//! variant's name (`RateLimit`, `Timeout(30)`, `Http { status: 503 }`), which is what is used
//! here (Sentry's Rust SDK reads error types the same way). Types whose `Debug` is not of
//! that shape are listed in [`OPAQUE_DEBUG`].

use std::fmt::{self, Write};

/// Error types whose `Debug` starts with an identifier that is not a variant of theirs
/// (`io::Error` prints its private representation: `Os { .. }`, `Custom { .. }`).
const OPAQUE_DEBUG: &[&str] = &["std::io::error::Error"];

/// The short name of a type, also inside generics: each path is cut to its last segment;
/// a last segment as generic as `Error` keeps the name people know it by — its crate's
/// (`serde_json::Error`), or for the standard library its module's (`io::Error`, `fmt::Error`).
///
/// ```
/// use pathwise_model::short_type_name;
/// assert_eq!(short_type_name("search::clients::OpenAlexError"), "OpenAlexError");
/// assert_eq!(short_type_name("std::io::error::Error"), "io::Error");
/// assert_eq!(short_type_name("serde_json::error::Error"), "serde_json::Error");
/// assert_eq!(short_type_name("alloc::boxed::Box<dyn core::error::Error>"), "Box<dyn Error>");
/// ```
pub fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut path = String::new();
    let flush = |path: &mut String, out: &mut String| {
        let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            [] => {}
            [first, .., "Error"] if segments.len() > 1 => {
                let owner = if matches!(*first, "std" | "core" | "alloc") {
                    segments[1..segments.len() - 1]
                        .iter()
                        .find(|s| **s != "error")
                } else {
                    Some(first)
                };
                if let Some(owner) = owner {
                    out.push_str(owner);
                    out.push_str("::");
                }
                out.push_str("Error");
            }
            [.., last] => out.push_str(last),
        }
        path.clear();
    };
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            path.push(c);
        } else {
            flush(&mut path, &mut out);
            out.push(c);
        }
    }
    flush(&mut path, &mut out);
    out
}

/// The name an error is grouped by: the short type name and, for an enum with a derived
/// `Debug`, its variant (`OpenAlexError::RateLimit`).
///
/// ```
/// #[derive(Debug)]
/// enum OpenAlexError { RateLimit { retry_after: u32 }, Timeout(u32) }
/// let name = pathwise_model::error_identity::<OpenAlexError>(&OpenAlexError::Timeout(30));
/// assert_eq!(name, "OpenAlexError::Timeout");
/// let other = OpenAlexError::RateLimit { retry_after: 2 };
/// assert_eq!(pathwise_model::error_identity(&other), "OpenAlexError::RateLimit");
/// ```
pub fn error_identity<E: fmt::Debug + ?Sized>(error: &E) -> String {
    let full = std::any::type_name::<E>();
    let short = short_type_name(full);
    if OPAQUE_DEBUG.contains(&full) {
        return short;
    }
    let Some(variant) = leading_variant(error) else {
        return short;
    };
    if short.starts_with("dyn ") {
        // A trait object: its `Debug` names the concrete error (or its variant), which says
        // more than `dyn Error` does.
        return variant;
    }
    let last = short.rsplit("::").next().unwrap_or(&short);
    if last == variant || short.contains('<') {
        // A struct's `Debug` (`ParseError { .. }`), or a generic wrapper whose `Debug` is its
        // content's.
        short
    } else {
        format!("{short}::{variant}")
    }
}

/// The identifier `Debug` output starts with, if it starts like an enum variant: an
/// uppercase identifier followed by nothing, `(` or ` {`. Formatting stops after the
/// identifier, so a huge error costs no more than a small one.
fn leading_variant<E: fmt::Debug + ?Sized>(error: &E) -> Option<String> {
    struct Leading {
        ident: String,
        next: Option<char>,
    }
    impl Write for Leading {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            for c in s.chars() {
                if c.is_alphanumeric() || c == '_' {
                    self.ident.push(c);
                    if self.ident.len() > 64 {
                        return Err(fmt::Error);
                    }
                } else {
                    self.next = Some(c);
                    return Err(fmt::Error); // enough read: stop formatting
                }
            }
            Ok(())
        }
    }
    let mut leading = Leading {
        ident: String::new(),
        next: None,
    };
    let _ = write!(leading, "{error:?}");
    let starts_upper = leading.ident.chars().next()?.is_uppercase();
    let variant_shaped = matches!(leading.next, None | Some('(') | Some(' '));
    (starts_upper && variant_shaped && leading.ident.len() <= 64).then_some(leading.ident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)]
    enum ClientError {
        RateLimit,
        Timeout(u32),
        Http { status: u16 },
    }

    #[derive(Debug)]
    #[allow(dead_code)]
    struct ParseError {
        line: u32,
    }

    #[test]
    fn variants_of_one_enum_are_told_apart() {
        assert_eq!(
            error_identity(&ClientError::RateLimit),
            "ClientError::RateLimit"
        );
        assert_eq!(
            error_identity(&ClientError::Timeout(3)),
            "ClientError::Timeout"
        );
        assert_eq!(
            error_identity(&ClientError::Http { status: 503 }),
            "ClientError::Http"
        );
    }

    #[test]
    fn structs_strings_and_io_errors_keep_their_type() {
        assert_eq!(error_identity(&ParseError { line: 3 }), "ParseError");
        assert_eq!(error_identity(&String::from("Bad input")), "String");
        assert_eq!(error_identity(&std::io::Error::other("x")), "io::Error");
        assert_eq!(error_identity(&"Quoted".to_string()), "String");
    }

    #[test]
    fn trait_objects_are_named_by_what_they_hold() {
        let boxed: Box<dyn std::fmt::Debug> = Box::new(ClientError::Timeout(1));
        assert_eq!(error_identity(&*boxed), "Timeout");
    }

    #[test]
    fn generic_wrappers_are_not_given_their_contents_variant() {
        let wrapped: Option<ClientError> = Some(ClientError::RateLimit);
        assert_eq!(error_identity(&wrapped), "Option<ClientError>");
    }

    #[test]
    fn short_names_cut_paths_inside_generics() {
        assert_eq!(
            short_type_name("core::result::Result<u8, my::mod::Bad>"),
            "Result<u8, Bad>"
        );
        assert_eq!(short_type_name("std::fmt::Error"), "fmt::Error");
        assert_eq!(short_type_name("anyhow::Error"), "anyhow::Error");
        assert_eq!(short_type_name("u32"), "u32");
    }
}
