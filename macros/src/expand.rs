//! Phase 3 of the derive: writing the paths struct and the impls.
//!
//! For `struct Params { lr: f64, #[log(series)] loss: f64, … }` it writes
//!
//! - `struct ParamsPaths { lr: <f64 as LogField>::Paths, loss:
//!   TypedPath<<f64 as SeriesValue>::Kind>, … }` and its `Clone`;
//! - `impl LogNamespace for Params` (`paths_at`, `log_into`, `fetch_from`);
//! - `impl Loggable`, `impl Appendable` and `impl LogField for Params`,
//!   which log it and read it back as a namespace.
//!
//! Everything is named through `::hippocamp::__private`, and the locals of
//! the generated bodies have `Span::mixed_site()` hygiene.
//!
//! When the input has errors, [`stub`] writes the `compile_error!`s and the
//! same items with empty bodies, so that the user sees the errors and not
//! a cascade of "trait not implemented" at every use of the struct.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::{DeriveInput, Ident, LitStr};

use crate::ast::{Container, Field, Role};
use crate::bound::{self, Params};
use crate::ctxt::Ctxt;

fn private() -> TokenStream {
    quote!(::hippocamp::__private)
}

/// The expansion of `#[derive(LogNamespace)]`.
pub fn derive(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let container = Container::from_ast(&cx, input);
    match (container, cx.check()) {
        (Some(container), Ok(())) => expand(&container),
        (_, Err(errors)) => stub(input, errors.into_compile_error()),
        // `from_ast` gives `None` only after reporting why.
        (None, Ok(())) => stub(input, TokenStream::new()),
    }
}

/// The name of the paths struct: `ParamsPaths` for `Params`.
fn paths_ident(ident: &Ident) -> Ident {
    format_ident!("{}Paths", ident, span = ident.span())
}

/// A local of the generated bodies, invisible to the user's code.
fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// What the expansion writes for one kept (not skipped) field.
struct Kept<'a> {
    field: &'a Field<'a>,
    /// The type of its entry in the paths struct.
    paths_ty: TokenStream,
}

fn expand(c: &Container<'_>) -> TokenStream {
    let private = private();
    let ident = c.ident;
    let paths = paths_ident(ident);
    let params = Params::of(c.generics);
    let (impl_generics, ty_generics, _) = c.generics.split_for_impl();

    let log_field = quote!(#private::LogField);
    let series_value = quote!(#private::SeriesValue);
    let log_namespace = quote!(#private::LogNamespace);
    let clone = quote!(#private::Clone);
    let debug = quote!(#private::Debug);

    // ---- bounds ------------------------------------------------------
    let mut kept = Vec::new();
    // Bounds the paths struct needs to be well-formed (generic fields only:
    // a concrete field type that lacks the trait is reported there).
    let mut struct_preds = Vec::new();
    // Each kept field's type's bound: `LogField`, `SeriesValue` or
    // `LogNamespace`.
    let mut kept_preds = Vec::new();
    // `Default` for the generic types of skipped fields.
    let mut default_preds = Vec::new();
    // Extra bounds of the paths struct's `Clone` and `Debug`.
    let mut clone_preds = Vec::new();
    let mut debug_preds = Vec::new();
    for field in &c.fields {
        let ty = field.ty;
        let generic = params.mentioned_by(ty);
        let ty_tokens = ty.to_token_stream();
        let (bound, paths_ty) = match field.role {
            Role::Plain => (
                &log_field,
                bound::qualified(ty, &log_field, quote!(::Paths)),
            ),
            Role::Series => {
                // Spanned at the field's type, like the projection inside,
                // so that a type without `SeriesValue` is reported there.
                let kind = bound::qualified(ty, &series_value, quote!(::Kind));
                let (first, last) = bound::span_range(ty);
                let open = bound::respan(quote!(#private::TypedPath<), first);
                let close = quote_spanned!(last=> >);
                (&series_value, quote!(#open #kind #close))
            }
            Role::Flatten => (
                &log_namespace,
                bound::qualified(ty, &log_namespace, quote!(::Paths)),
            ),
            Role::Skip => {
                if generic {
                    default_preds.push(quote!(#ty: #private::Default));
                }
                continue;
            }
        };
        let predicate = bound::predicate(&ty_tokens, bound, generic);
        if generic {
            struct_preds.push(predicate.clone());
        }
        kept_preds.push(predicate);
        if field.role != Role::Series {
            // `TypedPath<K>` is always `Clone`; other paths types may not be.
            clone_preds.push(bound::predicate(&paths_ty, &clone, generic));
        }
        debug_preds.push(bound::predicate(&paths_ty, &debug, generic));
        kept.push(Kept { field, paths_ty });
    }
    let field_preds: Vec<TokenStream> = kept_preds.iter().chain(&default_preds).cloned().collect();
    let self_preds = if params.is_generic() {
        field_preds.clone()
    } else {
        vec![bound::predicate(&quote!(Self), &log_namespace, false)]
    };
    let struct_where = bound::where_clause(c.generics, &struct_preds);
    let ns_where = bound::where_clause(c.generics, &field_preds);
    let self_where = bound::where_clause(c.generics, &self_preds);
    let with = |extra: Vec<TokenStream>| {
        let preds: Vec<TokenStream> = kept_preds.iter().cloned().chain(extra).collect();
        bound::where_clause(c.generics, &preds)
    };
    let clone_where = with(clone_preds);
    let debug_where = with(debug_preds);

    // ---- the paths struct ----------------------------------------------
    let vis = c.vis;
    let generic_params = &c.generics.params;
    let struct_generics = if generic_params.is_empty() {
        TokenStream::new()
    } else {
        quote!(<#generic_params>)
    };
    let kept_types: Vec<_> = kept.iter().map(|k| k.field.ty).collect();
    let unused = bound::unused_params(c.generics, &kept_types);
    let phantom = local("__hippocamp_phantom");
    let (phantom_decl, phantom_init) = if unused.is_empty() {
        (TokenStream::new(), TokenStream::new())
    } else {
        (
            quote! {
                #[doc(hidden)]
                #phantom: #private::PhantomData<fn() -> (#(#unused,)*)>,
            },
            quote!(#phantom: #private::PhantomData,),
        )
    };
    let struct_doc = format!(
        " The typed paths of the fields of `{name}`, relative to where it is logged: \
         `{name}::paths()`. Written by `#[derive(LogNamespace)]`.",
        name = ident.unraw(),
    );
    let path_fields = kept.iter().map(|k| {
        let f = k.field;
        let (fvis, fident, paths_ty) = (f.vis, f.ident, &k.paths_ty);
        let doc = field_doc(f);
        quote! {
            #[doc = #doc]
            #fvis #fident: #paths_ty,
        }
    });
    let clone_fields = kept.iter().map(|k| {
        let fident = k.field.ident;
        quote!(#fident: #private::Clone::clone(&self.#fident),)
    });
    let debug_name = LitStr::new(&paths.unraw().to_string(), Span::call_site());
    let debug_fields = kept.iter().map(|k| {
        let fident = k.field.ident;
        let name = LitStr::new(&fident.unraw().to_string(), Span::call_site());
        quote!(.field(#name, &self.#fident))
    });
    let formatter = local("__f");

    // ---- LogNamespace ----------------------------------------------------
    let prefix = local("__prefix");
    let ns = local("__ns");
    let options = local("__options");
    let site = local("__HIPPOCAMP_SITE");
    let path_inits = kept.iter().map(|k| {
        let f = k.field;
        let (fident, ty) = (f.ident, f.ty);
        let name = LitStr::new(&f.name, Span::call_site());
        match f.role {
            Role::Plain => {
                let call = bound::qualified(ty, &log_field, quote!(::paths_at));
                quote!(#fident: #call(#private::child_path(&#prefix, #name)),)
            }
            Role::Series => {
                quote!(#fident: #private::TypedPath::new(#private::child_path(&#prefix, #name)),)
            }
            Role::Flatten => {
                let call = bound::qualified(ty, &log_namespace, quote!(::paths_at));
                quote!(#fident: #call(#private::Clone::clone(&#prefix)),)
            }
            Role::Skip => TokenStream::new(),
        }
    });
    let log_stmts = kept.iter().map(|k| {
        let f = k.field;
        let fident = f.ident;
        let name = LitStr::new(&f.name, Span::call_site());
        // Each field has its static callsite, which remembers the field it
        // last wrote to under the same namespace.
        match f.role {
            Role::Plain => quote! {
                {
                    static #site: #private::Callsite = #private::Callsite::new(#name);
                    #private::Loggable::log_at_site(&self.#fident, #ns, &#site, #options)?;
                }
            },
            Role::Series => quote! {
                {
                    static #site: #private::Callsite = #private::Callsite::new(#name);
                    #private::Appendable::append_at_site(&self.#fident, #ns, &#site, #options)?;
                }
            },
            Role::Flatten => quote! {
                #private::LogNamespace::log_into(&self.#fident, #ns, #options)?;
            },
            Role::Skip => TokenStream::new(),
        }
    });
    let fetch_inits = c.fields.iter().map(|f| {
        let (fident, ty) = (f.ident, f.ty);
        let name = LitStr::new(&f.name, Span::call_site());
        match f.role {
            Role::Plain => {
                let call = bound::qualified(ty, &log_field, quote!(::fetch_at));
                quote!(#fident: #call(#ns, #name)?,)
            }
            Role::Series => {
                let call = bound::qualified(ty, &series_value, quote!(::fetch_last_at));
                quote!(#fident: #call(#ns, #name)?,)
            }
            Role::Flatten => {
                let call = bound::qualified(ty, &log_namespace, quote!(::fetch_from));
                quote!(#fident: #call(#ns)?,)
            }
            Role::Skip => {
                let default = quote!(#private::Default);
                let call = bound::qualified(ty, &default, quote!(::default));
                let (_, last) = bound::span_range(ty);
                let parens = quote_spanned!(last=> ());
                quote!(#fident: #call #parens,)
            }
        }
    });
    // Arguments no generated statement uses are `_`.
    let unused_or = |ident: &Ident, used: bool| {
        if used {
            ident.to_token_stream()
        } else {
            quote!(_)
        }
    };
    let prefix_arg = unused_or(&prefix, !kept.is_empty());
    let log_ns_arg = unused_or(&ns, !kept.is_empty());
    let log_options_arg = unused_or(&options, !kept.is_empty());
    let fetch_ns_arg = unused_or(&ns, !kept.is_empty());

    // ---- Loggable, Appendable, LogField ------------------------------
    let target = local("__target");
    let rel = local("__rel");
    let path = local("__path");

    quote! {
        #[doc = #struct_doc]
        // Which paths a program uses is its business: no warning for the
        // ones it does not.
        #[allow(dead_code)]
        #vis struct #paths #struct_generics #struct_where {
            #(#path_fields)*
            #phantom_decl
        }

        #[automatically_derived]
        impl #impl_generics #private::Clone for #paths #ty_generics #clone_where {
            fn clone(&self) -> Self {
                Self {
                    #(#clone_fields)*
                    #phantom_init
                }
            }
        }

        #[automatically_derived]
        impl #impl_generics #private::Debug for #paths #ty_generics #debug_where {
            fn fmt(&self, #formatter: &mut #private::Formatter<'_>) -> #private::FmtResult {
                #formatter.debug_struct(#debug_name)
                    #(#debug_fields)*
                    .finish()
            }
        }

        #[automatically_derived]
        impl #impl_generics #private::LogNamespace for #ident #ty_generics #ns_where {
            type Paths = #paths #ty_generics;

            fn paths_at(#prefix_arg: #private::CowStr<'static, str>) -> #paths #ty_generics {
                #paths {
                    #(#path_inits)*
                    #phantom_init
                }
            }

            fn log_into(
                &self,
                #log_ns_arg: &#private::Handler,
                #log_options_arg: &#private::LogOptions,
            ) -> #private::Result<()> {
                #(#log_stmts)*
                #private::Ok(())
            }

            fn fetch_from(#fetch_ns_arg: &#private::Handler) -> #private::Result<Self> {
                #private::Ok(Self {
                    #(#fetch_inits)*
                })
            }
        }

        #[automatically_derived]
        impl #impl_generics #private::Loggable for #ident #ty_generics #self_where {
            fn log_at(
                &self,
                #target: &#private::Handler,
                #rel: &str,
                #options: &#private::LogOptions,
            ) -> #private::Result<()> {
                let #ns = #private::child(#target, #rel);
                #private::LogNamespace::log_into(self, &#ns, #options)
            }
        }

        #[automatically_derived]
        impl #impl_generics #private::Appendable for #ident #ty_generics #self_where {
            fn append_at(
                &self,
                #target: &#private::Handler,
                #rel: &str,
                #options: &#private::LogOptions,
            ) -> #private::Result<()> {
                let #ns = #private::child(#target, #rel);
                #private::LogNamespace::log_into(self, &#ns, #options)
            }
        }

        #[automatically_derived]
        impl #impl_generics #private::LogField for #ident #ty_generics #self_where {
            type Paths = <Self as #private::LogNamespace>::Paths;

            fn paths_at(#path: #private::CowStr<'static, str>) -> Self::Paths {
                <Self as #private::LogNamespace>::paths_at(#path)
            }

            fn fetch_at(#target: &#private::Handler, #rel: &str) -> #private::Result<Self> {
                let #ns = #private::child(#target, #rel);
                <Self as #private::LogNamespace>::fetch_from(&#ns)
            }
        }
    }
}

fn field_doc(f: &Field<'_>) -> String {
    let field = f.ident.unraw();
    match f.role {
        Role::Plain => format!(" Where `{field}` is assigned: `{}`.", f.name),
        Role::Series => format!(" Where `{field}` is appended: `{}`.", f.name),
        Role::Flatten => format!(" The paths of the fields of `{field}`, logged at this level."),
        Role::Skip => String::new(),
    }
}

/// The expansion when the input has errors: the errors, and the items the
/// derive would write, with empty bodies.
fn stub(input: &DeriveInput, errors: TokenStream) -> TokenStream {
    let private = private();
    let ident = &input.ident;
    let paths = paths_ident(ident);
    let vis = &input.vis;
    let generics = &input.generics;
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let generic_params = &generics.params;
    let struct_generics = if generic_params.is_empty() {
        TokenStream::new()
    } else {
        quote!(<#generic_params>)
    };
    // No field is looked at: every type and lifetime parameter is held.
    let held = bound::unused_params(generics, &[]);
    let phantom = if held.is_empty() {
        TokenStream::new()
    } else {
        let name = local("__hippocamp_phantom");
        quote!(#name: #private::PhantomData<fn() -> (#(#held,)*)>,)
    };
    quote! {
        #errors

        #vis struct #paths #struct_generics #where_clause {
            #phantom
        }

        impl #impl_generics #private::LogNamespace for #ident #ty_generics #where_clause {
            type Paths = #paths #ty_generics;
            fn paths_at(_: #private::CowStr<'static, str>) -> Self::Paths {
                loop {}
            }
            fn log_into(&self, _: &#private::Handler, _: &#private::LogOptions) -> #private::Result<()> {
                loop {}
            }
            fn fetch_from(_: &#private::Handler) -> #private::Result<Self> {
                loop {}
            }
        }

        impl #impl_generics #private::Loggable for #ident #ty_generics #where_clause {
            fn log_at(&self, _: &#private::Handler, _: &str, _: &#private::LogOptions) -> #private::Result<()> {
                loop {}
            }
        }

        impl #impl_generics #private::Appendable for #ident #ty_generics #where_clause {
            fn append_at(&self, _: &#private::Handler, _: &str, _: &#private::LogOptions) -> #private::Result<()> {
                loop {}
            }
        }

        impl #impl_generics #private::LogField for #ident #ty_generics #where_clause {
            type Paths = #paths #ty_generics;
            fn paths_at(_: #private::CowStr<'static, str>) -> Self::Paths {
                loop {}
            }
            fn fetch_at(_: &#private::Handler, _: &str) -> #private::Result<Self> {
                loop {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::derive;
    use quote::quote;

    fn errors(input: proc_macro2::TokenStream) -> Vec<String> {
        let input = syn::parse2(input).expect("a derive input");
        crate::compile_error_messages(&derive(&input).to_string())
    }

    #[test]
    fn shapes() {
        let message = |what: &str| {
            vec![format!(
                "LogNamespace can only be derived for structs with named fields, not {what}"
            )]
        };
        assert_eq!(
            errors(quote!(
                enum E {
                    A,
                }
            )),
            message("an enum")
        );
        assert_eq!(errors(quote!(union U { a: u8 })), message("a union"));
        assert_eq!(
            errors(quote!(
                struct T(u8);
            )),
            message("a tuple struct")
        );
        assert_eq!(
            errors(quote!(
                struct U;
            )),
            message("a unit struct")
        );
        assert!(errors(quote!(
            struct S {
                a: u8,
            }
        ))
        .is_empty());
    }

    #[test]
    fn field_errors_are_all_reported() {
        assert_eq!(
            errors(quote!(struct S {
                #[log(rename = "a/b")]
                x: u8,
                a: u8,
                #[log(rename = "a")]
                b: u8,
                #[log(nope, skip, skip)]
                c: u8,
            })),
            [
                "`a/b` is not a valid path segment: a segment cannot contain `/` at byte 1",
                "unknown `log` attribute `nope`: expected `rename = \"...\"`, `skip`, `series` or `flatten`",
                "duplicated `log` attribute `skip`",
                "field `b` logs to `a`, which field `a` already logs to; two fields cannot share a \
                 path (use `#[log(rename = \"...\")]`)",
            ]
        );
    }

    #[test]
    fn errors_come_with_stub_impls() {
        let input = syn::parse2(quote!(
            enum E {
                A,
            }
        ))
        .expect("a derive input");
        let text = derive(&input).to_string();
        for item in [
            "struct EPaths",
            "LogNamespace for E",
            "Loggable for E",
            "LogField for E",
        ] {
            assert!(text.contains(item), "{item} in {text}");
        }
    }

    #[test]
    fn bounds_follow_the_generics() {
        let input = syn::parse2(quote!(
            struct W<T> {
                inner: T,
                n: u8,
                #[log(skip)]
                s: Vec<T>,
            }
        ))
        .expect("a derive input");
        let text = derive(&input).to_string();
        // A generic field's bound is an ordinary predicate; a concrete one is
        // higher-ranked so that rustc does not check it in every impl.
        assert!(
            text.contains("T : :: hippocamp :: __private :: LogField"),
            "{text}"
        );
        assert!(
            text.contains("for < '__hippocamp > u8 : :: hippocamp :: __private :: LogField"),
            "{text}"
        );
        assert!(
            text.contains("Vec < T > : :: hippocamp :: __private :: Default"),
            "{text}"
        );
    }
}
