//! Generics: which field types mention the struct's parameters, the
//! bounds the impls need, and how a field's type is written into them.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::{GenericParam, Generics, Ident, Lifetime, Type};

/// The struct's type and const parameters.
pub struct Params {
    names: HashSet<String>,
}

impl Params {
    /// The type and const parameters of `generics`.
    pub fn of(generics: &Generics) -> Params {
        let names = generics
            .params
            .iter()
            .filter_map(|param| match param {
                GenericParam::Type(t) => Some(t.ident.to_string()),
                GenericParam::Const(c) => Some(c.ident.to_string()),
                GenericParam::Lifetime(_) => None,
            })
            .collect();
        Params { names }
    }

    /// Whether the struct has a type or const parameter.
    pub fn is_generic(&self) -> bool {
        !self.names.is_empty()
    }

    /// Whether `ty` mentions a type or const parameter, in which case a
    /// bound on it is an ordinary where-clause; otherwise it is written as
    /// a higher-ranked bound (see [`predicate`]).
    pub fn mentioned_by(&self, ty: &Type) -> bool {
        !self.names.is_empty()
            && mentions(ty.to_token_stream(), &|ident| {
                self.names.contains(&ident.to_string())
            })
    }
}

/// Whether an identifier for which `hit` holds appears in `tokens`.
fn mentions(tokens: TokenStream, hit: &dyn Fn(&Ident) -> bool) -> bool {
    tokens.into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => hit(&ident),
        TokenTree::Group(group) => mentions(group.stream(), hit),
        _ => false,
    })
}

/// The generic parameters (types and lifetimes) that none of `types`
/// mention: the paths struct holds them in a `PhantomData`.
pub fn unused_params(generics: &Generics, types: &[&Type]) -> Vec<TokenStream> {
    let mut used_idents = HashSet::new();
    let mut used_lifetimes = HashSet::new();
    for ty in types {
        collect(ty.to_token_stream(), &mut used_idents, &mut used_lifetimes);
    }
    generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(t) if !used_idents.contains(&t.ident.to_string()) => {
                let ident = &t.ident;
                Some(quote!(#ident))
            }
            GenericParam::Lifetime(l)
                if !used_lifetimes.contains(&l.lifetime.ident.to_string()) =>
            {
                let lifetime = &l.lifetime;
                Some(quote!(&#lifetime ()))
            }
            _ => None,
        })
        .collect()
}

fn collect(tokens: TokenStream, idents: &mut HashSet<String>, lifetimes: &mut HashSet<String>) {
    let mut after_quote = false;
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => {
                if after_quote {
                    lifetimes.insert(ident.to_string());
                } else {
                    idents.insert(ident.to_string());
                }
                after_quote = false;
            }
            TokenTree::Punct(punct) => after_quote = punct.as_char() == '\'',
            TokenTree::Group(group) => {
                collect(group.stream(), idents, lifetimes);
                after_quote = false;
            }
            TokenTree::Literal(_) => after_quote = false,
        }
    }
}

/// The first and last spans of a type's tokens, so that tokens written
/// around it make the compiler underline exactly the type.
pub fn span_range(ty: &Type) -> (Span, Span) {
    let mut tokens = ty.to_token_stream().into_iter();
    let first = tokens.next().map_or_else(Span::call_site, |t| t.span());
    let last = tokens.last().map_or(first, |t| t.span());
    (first, last)
}

/// `<Ty as Trait>` followed by `rest` (e.g. `::Paths`), spanned at the type
/// so that an unsatisfied `Ty: Trait` is reported at the field's type.
pub fn qualified(ty: &Type, trait_path: &TokenStream, rest: TokenStream) -> TokenStream {
    let (first, last) = span_range(ty);
    let open = quote_spanned!(first=> <);
    let tail = respan(quote!(as #trait_path > #rest), last);
    quote!(#open #ty #tail)
}

/// `tokens` with every span set to `span` (keeping its hygiene: absolute
/// paths resolve the same anywhere).
pub fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &mut tree {
                let mut new =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                new.set_span(span);
                *group = new;
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// A trait bound the impls need on a field's type (or on `Self`):
/// `Ty: Trait` when `Ty` mentions a type or const parameter, otherwise
/// `for<'__hippocamp> Ty: Trait`.
///
/// The two mean the same, but a bound that mentions no parameter is a
/// "trivial" bound, which rustc checks on the spot and reports at every
/// impl that has it, while the higher-ranked form (its lifetime unused) is
/// an assumption inside the impl. So a field type that lacks the trait is
/// reported once, at the field's type in the paths struct, and not again
/// for every generated impl and method; and where the bound holds, rustc
/// still resolves through the real impl.
pub fn predicate(ty: &TokenStream, trait_path: &TokenStream, generic: bool) -> TokenStream {
    if generic {
        quote!(#ty: #trait_path)
    } else {
        let lifetime = Lifetime::new("'__hippocamp", Span::call_site());
        quote!(for<#lifetime> #ty: #trait_path)
    }
}

/// A where clause: the struct's own predicates, then `extra`.
pub fn where_clause(generics: &Generics, extra: &[TokenStream]) -> TokenStream {
    let own = generics
        .where_clause
        .as_ref()
        .map(|w| {
            w.predicates
                .iter()
                .map(ToTokens::to_token_stream)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if own.is_empty() && extra.is_empty() {
        return TokenStream::new();
    }
    quote!(where #(#own,)* #(#extra,)*)
}
