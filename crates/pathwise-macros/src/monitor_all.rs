//! Code generation for `#[monitor_all]`: every selected function of an `impl` block, an inline
//! module or a trait's default methods is instrumented exactly as `#[monitor]` would do it (the
//! same expansion, so the same spans, error handling and registration), with the block-wide
//! options.
//!
//! The walk goes through the items the block contains: the functions of a module, the methods
//! of its `impl` blocks and traits, and its inline submodules; not into function bodies. An item
//! carrying its own `#[monitor_all]` is left to that attribute, and a function carrying its own
//! `#[monitor]` keeps it, so nothing is wrapped twice.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{
    Attribute, ImplItem, Item, ItemFn, ItemImpl, ItemMod, ItemTrait, Signature, TraitItem, Type,
    Visibility,
};

use crate::expand::{check_signature, expand_function, or_untouched};
use crate::select::{AllOptions, parse_all_options, skips_for};
use crate::signature::bindings;

/// Expands `#[monitor_all(attr)] item`. On an error the item is kept as it was, after the
/// `compile_error!`s, so that only the real mistakes are reported.
pub fn monitor_all(attr: TokenStream, item: TokenStream) -> TokenStream {
    or_untouched(item.clone(), expand(attr, item))
}

fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = parse_all_options(attr)?;
    let mut item: Item = syn::parse2(item).map_err(|_| not_a_block())?;
    let mut walk = Walk::new(&options);
    match &mut item {
        Item::Impl(block) => walk.impl_block(block),
        Item::Mod(module) if module.content.is_some() => walk.module(module),
        Item::Mod(_) => {
            return Err(syn::Error::new(
                Span::call_site(),
                "#[monitor_all] sees only what is written inside the attribute's item: use it on \
                 an inline `mod name { ... }`, or on the `impl` blocks of a module in its own file",
            ));
        }
        Item::Trait(definition) => walk.trait_definition(definition),
        Item::Fn(_) => {
            return Err(syn::Error::new(
                Span::call_site(),
                "#[monitor_all] instruments the functions of a block; put #[pathwise::monitor] \
                 on a single function",
            ));
        }
        _ => return Err(not_a_block()),
    }
    walk.finish()?;
    Ok(item.into_token_stream())
}

/// Errors about where the attribute is placed point at the attribute itself (`call_site`).
fn not_a_block() -> syn::Error {
    syn::Error::new(
        Span::call_site(),
        "#[monitor_all] applies to an `impl` block, an inline `mod name { ... }` or a `trait` \
         (its default methods)",
    )
}

/// The state of one walk through a block.
struct Walk<'a> {
    options: &'a AllOptions,
    /// Whether `include` matched the name of any function met: if it matched none, the
    /// expression has a mistake (or the functions were renamed) and the attribute does nothing.
    include_matched: bool,
    /// For each `skip` name, whether a selected function has such an argument.
    skip_used: Vec<bool>,
    errors: Option<syn::Error>,
}

impl<'a> Walk<'a> {
    fn new(options: &'a AllOptions) -> Self {
        Walk {
            options,
            include_matched: false,
            skip_used: vec![false; options.monitor.skip.len()],
            errors: None,
        }
    }

    fn module(&mut self, module: &mut ItemMod) {
        let Some((_, items)) = &mut module.content else {
            return; // `mod name;` inside the block: its items are in another file.
        };
        for item in items {
            self.module_item(item);
        }
    }

    fn module_item(&mut self, item: &mut Item) {
        if let Item::Fn(func) = item
            && self.selected(&mut func.attrs, &func.sig)
        {
            let func = func.clone();
            *item = Item::Verbatim(self.instrument(func, None));
            return;
        }
        match item {
            Item::Impl(block) if !has_attribute(&block.attrs, "monitor_all") => {
                self.impl_block(block);
            }
            Item::Mod(module) if !has_attribute(&module.attrs, "monitor_all") => {
                self.module(module);
            }
            Item::Trait(definition) if !has_attribute(&definition.attrs, "monitor_all") => {
                self.trait_definition(definition);
            }
            // Constants, types, `extern` blocks, macro invocations, uses, ...: nothing to record.
            _ => {}
        }
    }

    fn impl_block(&mut self, block: &mut ItemImpl) {
        let owner = impl_owner(block);
        for item in &mut block.items {
            // `default fn` (specialization, nightly) would lose its `default` in the expansion.
            if let ImplItem::Fn(method) = item
                && method.defaultness.is_none()
                && self.selected(&mut method.attrs, &method.sig)
            {
                let func = ItemFn {
                    attrs: method.attrs.clone(),
                    vis: method.vis.clone(),
                    sig: method.sig.clone(),
                    block: Box::new(method.block.clone()),
                };
                *item = ImplItem::Verbatim(self.instrument(func, Some(&owner)));
            }
        }
    }

    /// A trait's default methods; the declarations without a body are left alone (the
    /// implementations are instrumented where they are written).
    fn trait_definition(&mut self, definition: &mut ItemTrait) {
        let owner = definition.ident.unraw().to_string();
        for item in &mut definition.items {
            if let TraitItem::Fn(method) = item
                && let Some(body) = &method.default
                && self.selected(&mut method.attrs, &method.sig)
            {
                let func = ItemFn {
                    attrs: method.attrs.clone(),
                    vis: Visibility::Inherited,
                    sig: method.sig.clone(),
                    block: Box::new(body.clone()),
                };
                *item = TraitItem::Verbatim(self.instrument(func, Some(&owner)));
            }
        }
    }

    /// Whether the function is instrumented. Removes its `#[skip_monitor]`, which only says
    /// "not this one" to this walk.
    fn selected(&mut self, attrs: &mut Vec<Attribute>, sig: &Signature) -> bool {
        let name = sig.ident.unraw().to_string();
        self.include_matched |= self.options.filter.included(&name);
        let opted_out = has_attribute(attrs, "skip_monitor");
        attrs.retain(|attr| !is_attribute(attr, "skip_monitor"));
        !opted_out
            && !has_attribute(attrs, "monitor")
            && can_be_monitored(sig)
            && self.options.filter.selects(&name)
    }

    fn instrument(&mut self, func: ItemFn, owner: Option<&str>) -> TokenStream {
        let mut options = self.options.monitor.clone();
        options.skip = skips_for(&options.skip, &bindings(&func.sig.inputs));
        for (used, name) in self.skip_used.iter_mut().zip(&self.options.monitor.skip) {
            *used |= options.skip.contains(name);
        }
        match expand_function(func.clone(), &options, owner) {
            Ok(tokens) => tokens,
            Err(error) => {
                self.error(error);
                func.into_token_stream()
            }
        }
    }

    fn error(&mut self, error: syn::Error) {
        match &mut self.errors {
            Some(errors) => errors.combine(error),
            None => self.errors = Some(error),
        }
    }

    /// The checks that need the whole block: an `include` that matched nothing and a `skip`
    /// naming no argument are mistakes, not empty selections.
    fn finish(mut self) -> syn::Result<()> {
        if !self.include_matched
            && let Some(literal) = self.options.filter.include_literal()
        {
            self.error(syn::Error::new(
                literal.span(),
                format!(
                    "`include = {:?}` matches the name of no function in this block",
                    literal.value()
                ),
            ));
        }
        let unused: Vec<_> = self
            .skip_used
            .iter()
            .zip(&self.options.monitor.skip)
            .filter(|(used, _)| !**used)
            .map(|(_, name)| name.clone())
            .collect();
        for name in unused {
            self.error(syn::Error::new(
                name.span(),
                format!(
                    "cannot skip `{}`: no instrumented function of this block has such an argument",
                    name.unraw()
                ),
            ));
        }
        self.errors.map_or(Ok(()), Err)
    }
}

/// What `#[monitor]` can record and an automatic selection should touch: not a `const fn`, a
/// variadic or never-returning function (which `#[monitor]` rejects), nor an `extern "ABI"` fn,
/// which is called from foreign code that a panic or an unwinding bookkeeping must not reach.
fn can_be_monitored(sig: &Signature) -> bool {
    sig.abi.is_none() && check_signature(sig).is_ok()
}

/// Whether an attribute named `name` (`name`, `pathwise::name`, `::pathwise::name`) is present.
fn has_attribute(attrs: &[Attribute], name: &str) -> bool {
    attrs.iter().any(|attr| is_attribute(attr, name))
}

fn is_attribute(attr: &Attribute, name: &str) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == name)
}

/// What the span names of an `impl` block's methods put between the module and the method:
/// `Type` for an inherent impl, `<Type as Trait>` for a trait impl (Rust's own spelling, so that
/// `Display::fmt` and `Debug::fmt` of one type stay apart).
fn impl_owner(block: &ItemImpl) -> String {
    let self_type = type_label(&block.self_ty);
    match &block.trait_ {
        Some((_, trait_path, _)) => {
            let trait_name = trait_path
                .segments
                .last()
                .map(|segment| compact(&segment.to_token_stream().to_string()))
                .unwrap_or_default();
            format!("<{self_type} as {trait_name}>")
        }
        None => self_type,
    }
}

/// A type's name without its module path and generic parameters (`Stack` for
/// `crate::Stack<T>`: every instance shares the one function description); other types
/// (references, tuples, `dyn Trait`) as written.
fn type_label(ty: &Type) -> String {
    match ty {
        Type::Path(path) if path.qself.is_none() && !path.path.segments.is_empty() => path
            .path
            .segments
            .last()
            .map_or_else(String::new, |segment| segment.ident.unraw().to_string()),
        other => compact(&other.to_token_stream().to_string()),
    }
}

/// Token text without the spaces `to_string` puts between tokens (`From < u8 >` → `From<u8>`),
/// keeping those that separate two words (`dyn Trait`), end a lifetime (`&'a [u8]`), follow a
/// comma or surround a `+`.
fn compact(text: &str) -> String {
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '\'';
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut in_lifetime = false;
    for (index, &c) in chars.iter().enumerate() {
        if c != ' ' {
            in_lifetime = (c == '\'' && !out.ends_with(is_word)) || (in_lifetime && is_word(c));
            out.push(c);
            continue;
        }
        let previous = out.chars().last();
        let next = chars.get(index + 1).copied();
        let ends_lifetime = in_lifetime && !matches!(next, Some('>' | ','));
        if ends_lifetime
            || matches!(previous, Some(',' | '+'))
            || next == Some('+')
            || (previous.is_some_and(is_word) && next.is_some_and(is_word))
        {
            out.push(' ');
        }
        in_lifetime = false;
    }
    out
}

#[cfg(test)]
#[path = "monitor_all_tests.rs"]
mod tests;
