//! What the expansion needs to know about a function signature: which argument bindings can be
//! captured, and how to spell the return type inside the body.

use proc_macro2::Ident;
use syn::ext::IdentExt;
use syn::visit_mut::VisitMut;
use syn::{FnArg, Pat, ReturnType, Type};

/// The identifiers bound by the non-receiver parameters, in declaration order.
///
/// A plain `x: T` or `mut x: T` binds `x`; a destructuring parameter such as
/// `(x, y): (i32, i32)` or `Point { x, .. }: Point` binds each of its names, and each is captured
/// under its own name (the destructured value as a whole no longer exists once the pattern has
/// run). `_` binds nothing. Receivers (`self`, `&self`, `self: Box<Self>`, ...) are never
/// captured: the object is usually large, and its relevant state is what the arguments select.
pub fn bindings<'a>(inputs: impl IntoIterator<Item = &'a FnArg>) -> Vec<Ident> {
    let mut out = Vec::new();
    for input in inputs {
        if let FnArg::Typed(typed) = input {
            collect(&typed.pat, &mut out);
        }
    }
    out
}

fn collect(pat: &Pat, out: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(binding) => {
            if is_binding(&binding.ident) {
                out.push(binding.ident.clone());
            }
            if let Some((_, sub)) = &binding.subpat {
                collect(sub, out);
            }
        }
        Pat::Tuple(tuple) => tuple.elems.iter().for_each(|p| collect(p, out)),
        Pat::TupleStruct(tuple) => tuple.elems.iter().for_each(|p| collect(p, out)),
        Pat::Struct(strukt) => strukt.fields.iter().for_each(|f| collect(&f.pat, out)),
        Pat::Slice(slice) => slice.elems.iter().for_each(|p| collect(p, out)),
        Pat::Reference(reference) => collect(&reference.pat, out),
        Pat::Paren(paren) => collect(&paren.pat, out),
        Pat::Type(typed) => collect(&typed.pat, out),
        // Every alternative binds the same names; the first one lists them.
        Pat::Or(or) => {
            if let Some(first) = or.cases.first() {
                collect(first, out);
            }
        }
        // `_`, `..`, literals, ranges, paths and macros bind nothing we can name.
        _ => {}
    }
}

/// In a pattern, `Foo` is syntactically a binding but by convention a unit struct or constant
/// (which irrefutable parameter patterns may contain); capturing it would record the constant,
/// not an argument, so capitalised names are not treated as bindings.
fn is_binding(ident: &Ident) -> bool {
    !ident
        .unraw()
        .to_string()
        .starts_with(|c: char| c.is_uppercase())
}

/// The name under which a binding is captured (`r#type` is recorded as `type`).
pub fn arg_name(ident: &Ident) -> String {
    ident.unraw().to_string()
}

/// The return type as it can be written inside the body: `()` when omitted, and every
/// `impl Trait` replaced by `_`, since an opaque type cannot be named in a `let` or a turbofish
/// while `_` lets the compiler take the concrete type from the body. Keeping the rest of the
/// type (rather than inferring all of it) is what lets `?` pick its `From` conversion.
pub fn body_return_type(output: &ReturnType) -> Type {
    match output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => {
            let mut ty = (**ty).clone();
            ImplToInfer.visit_type_mut(&mut ty);
            ty
        }
    }
}

/// Whether the function returns nothing (`()` written or omitted): there is then no result to
/// capture and no error to detect.
pub fn returns_unit(output: &ReturnType) -> bool {
    match output {
        ReturnType::Default => true,
        ReturnType::Type(_, ty) => matches!(&**ty, Type::Tuple(tuple) if tuple.elems.is_empty()),
    }
}

struct ImplToInfer;

impl VisitMut for ImplToInfer {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(_) = ty {
            *ty = Type::Infer(syn::TypeInfer {
                underscore_token: syn::token::Underscore::default(),
            });
        } else {
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;
    use syn::parse_quote;

    fn names(sig: syn::Signature) -> Vec<String> {
        bindings(&sig.inputs).iter().map(arg_name).collect()
    }

    #[test]
    fn plain_mut_and_destructured_bindings() {
        let sig: syn::Signature = parse_quote! {
            fn f(&mut self, a: u8, mut b: String, (x, y): (i32, i32), Point { px, py: renamed, .. }: Point,
                 _: u8, _ignored: u8, [first, ..]: [u8; 4], r#type: &str, whole @ Wrapper(inner): Wrapper, Unit: Unit)
        };
        assert_eq!(
            names(sig),
            [
                "a", "b", "x", "y", "px", "renamed", "_ignored", "first", "type", "whole", "inner"
            ]
        );
    }

    #[test]
    fn receivers_are_never_bindings() {
        let sig: syn::Signature = parse_quote!(fn f(self: Box<Self>, n: u8));
        assert_eq!(names(sig), ["n"]);
    }

    #[test]
    fn return_types() {
        let unit: ReturnType = parse_quote!();
        assert!(returns_unit(&unit));
        assert_eq!(body_return_type(&unit).to_token_stream().to_string(), "()");
        let explicit: ReturnType = parse_quote!(-> ());
        assert!(returns_unit(&explicit));
        let opaque: ReturnType =
            parse_quote!(-> Result<impl Iterator<Item = u8> + '_, Box<impl Error>>);
        assert!(!returns_unit(&opaque));
        assert_eq!(
            body_return_type(&opaque).to_token_stream().to_string(),
            "Result < _ , Box < _ > >"
        );
    }
}
