//! `log!`: parsing, path checks and expansion.
//!
//! ```text
//! log!(TARGET, ENTRY, ENTRY…, OPTION…[,])
//! ENTRY  := "path" => expr      (assign)
//!         | "path" += expr      (append)
//! OPTION := step = expr | timestamp = expr
//! ```
//!
//! A path without placeholders is checked against the path grammar here,
//! at compile time, and an invalid one is an error on the literal. A
//! template (`"cv/fold_{fold}/acc"`) is checked as far as it is known and
//! rendered with `format!` at run time, where the core checks the result.
//!
//! The expansion is one expression of type `Result<(), hippocamp::Error>`:
//!
//! ```text
//! {
//!     let __target = &(TARGET);
//!     let __handler: &Handler = LogTarget::log_target(__target);
//!     let __options = LogOptions::new().step(STEP).timestamp(TIME);
//!     let mut __result = {
//!         static __HIPPOCAMP_SITE: Callsite = Callsite::new("a");
//!         assign_site(__handler, &__HIPPOCAMP_SITE, &(A), &__options)
//!     };
//!     if __result.is_ok() {
//!         __result = append(__handler, &format!("fold_{}/b", fold), &(B), &__options);
//!     }
//!     __result
//! }
//! ```
//!
//! A literal path goes through a static `Callsite` (the core's cache of
//! the field it resolved to); a template is rendered each time. Each entry
//! is a statement of its own, run only while the previous ones
//! succeeded, so the first failure stops the call and the entries after it
//! are not evaluated. There is no closure (so `?`, `return` and borrows in
//! the values mean what they mean around the macro) and no labeled block
//! (inside one, a plain `break` or `continue` in a value would be refused
//! with E0695); temporaries of a value are dropped at the end of its entry.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{BinOp, Expr, Ident, LitStr, Token};

use hippocamp_path::template::{self, Piece, TemplateError};

use crate::ctxt::Ctxt;

/// What an entry does.
enum Op {
    Assign,
    Append,
}

/// `"path" => value` or `"path" += value`.
struct Entry {
    path: LitStr,
    op: Op,
    value: Expr,
}

/// The value of `step = expr` / `timestamp = expr`.
struct Opt {
    value: Expr,
}

struct Input {
    target: Expr,
    entries: Vec<Entry>,
    step: Option<Opt>,
    timestamp: Option<Opt>,
}

const USAGE: &str = "log!(target, \"path\" => value, \"path\" += value, step = s, timestamp = t)";

/// The expansion of `log!(…)`.
pub fn expand(tokens: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let parsed = (|input: ParseStream<'_>| parse(&cx, input)).parse2(tokens);
    let input = match parsed {
        Ok(input) => Some(input),
        Err(error) => {
            cx.syn_error(error);
            None
        }
    };
    let paths: Vec<Path> = input
        .as_ref()
        .map(|input| {
            input
                .entries
                .iter()
                .map(|e| path_expr(&cx, &e.path))
                .collect()
        })
        .unwrap_or_default();
    match (input, cx.check()) {
        (Some(input), Ok(())) => generate(&input, &paths),
        (_, Err(errors)) => error_expr(errors),
        (None, Ok(())) => error_expr(syn::Error::new(Span::call_site(), USAGE)),
    }
}

fn parse(cx: &Ctxt, input: ParseStream<'_>) -> syn::Result<Input> {
    if input.is_empty() {
        return Err(input.error(format_args!(
            "`log!` needs a target and at least one entry: {USAGE}"
        )));
    }
    if input.peek(LitStr) && (input.peek2(Token![=>]) || input.peek2(Token![+=])) {
        return Err(input.error(format_args!(
            "`log!` takes the target to log to first: {USAGE}"
        )));
    }
    let target: Expr = input.parse()?;
    let mut parsed = Input {
        target,
        entries: Vec::new(),
        step: None,
        timestamp: None,
    };
    // The first option, once one is seen: entries may not follow it.
    let mut first_option: Option<Ident> = None;
    // Entries refused for their path still count as entries for the
    // "no entry" error, which would only repeat the problem.
    let mut refused_entries = 0;
    while !input.is_empty() {
        input.parse::<Token![,]>()?;
        if input.is_empty() {
            break;
        }
        if input.peek(LitStr) {
            let entry = parse_entry(input)?;
            if let Some(option) = &first_option {
                cx.error_spanned_by(
                    &entry.path,
                    format_args!(
                        "entries go before the options: move this entry before `{option} = …`"
                    ),
                );
            }
            parsed.entries.push(entry);
        } else if input.peek(Ident::peek_any)
            && input.peek2(Token![=])
            && !input.peek2(Token![=>])
            && !input.peek2(Token![==])
        {
            let name = input.call(Ident::parse_any)?;
            input.parse::<Token![=]>()?;
            let value: Expr = input.parse()?;
            let option = Opt { value };
            first_option.get_or_insert_with(|| name.clone());
            let slot = match name.to_string().as_str() {
                "step" => &mut parsed.step,
                "timestamp" => &mut parsed.timestamp,
                other => {
                    cx.error_spanned_by(
                        &name,
                        format_args!("unknown option `{other}`: expected `step` or `timestamp`"),
                    );
                    continue;
                }
            };
            if slot.is_some() {
                cx.error_spanned_by(&name, format_args!("duplicated option `{name}`"));
            } else {
                *slot = Some(option);
            }
        } else {
            // Not a string literal where a path goes: say so at it, then
            // read past the entry to look for more errors.
            let expr: Expr = input.parse()?;
            let path = match &expr {
                Expr::Binary(binary) if matches!(binary.op, BinOp::AddAssign(_)) => &*binary.left,
                _ => &expr,
            };
            cx.error_spanned_by(
                path,
                "the path of a `log!` entry must be a string literal, like \"train/loss\" \
                 or a template like \"fold_{k}/acc\"",
            );
            refused_entries += 1;
            if input.peek(Token![=>]) {
                input.parse::<Token![=>]>()?;
                input.parse::<Expr>()?;
            }
        }
    }
    if parsed.entries.is_empty() && refused_entries == 0 {
        cx.error_at(
            Span::call_site(),
            format_args!(
                "`log!` needs at least one entry, `\"path\" => value` (assign) or \
                 `\"path\" += value` (append): {USAGE}"
            ),
        );
    }
    Ok(parsed)
}

fn parse_entry(input: ParseStream<'_>) -> syn::Result<Entry> {
    let path: LitStr = input.parse()?;
    let op = if input.peek(Token![=>]) {
        input.parse::<Token![=>]>()?;
        Op::Assign
    } else if input.peek(Token![+=]) {
        input.parse::<Token![+=]>()?;
        Op::Append
    } else {
        let message = format!(
            "expected `=>` (assign) or `+=` (append) after the path {}",
            path.to_token_stream()
        );
        return Err(if input.is_empty() {
            syn::Error::new(path.span(), message)
        } else {
            input.error(message)
        });
    };
    let value: Expr = input.parse()?;
    Ok(Entry { path, op, value })
}

/// The path of an entry, as the expansion writes it.
enum Path {
    /// A checked path without placeholders (braces unescaped).
    Literal(LitStr),
    /// `&format!(…)` of a template, or nothing after an error.
    Rendered(TokenStream),
}

/// The path of an entry: a checked literal, or `&format!(…)` for a
/// template. Errors go to `cx` (the returned path is then unused).
fn path_expr(cx: &Ctxt, literal: &LitStr) -> Path {
    let text = literal.value();
    let parsed = match template::parse(&text) {
        Ok(parsed) => parsed,
        Err(TemplateError::Path(error)) => {
            cx.error_spanned_by(literal, format_args!("invalid path `{text}`: {error}"));
            return Path::Rendered(TokenStream::new());
        }
        Err(error) => {
            cx.error_spanned_by(
                literal,
                format_args!("invalid path template `{text}`: {error}"),
            );
            return Path::Rendered(TokenStream::new());
        }
    };
    if parsed.is_literal() {
        let plain: String = parsed
            .pieces
            .iter()
            .filter_map(|piece| match piece {
                Piece::Literal(text) => Some(text.as_str()),
                Piece::Placeholder { .. } => None,
            })
            .collect();
        return Path::Literal(LitStr::new(&plain, literal.span()));
    }
    let mut format = String::new();
    let mut args = Vec::new();
    for piece in &parsed.pieces {
        match piece {
            Piece::Literal(text) => format.push_str(&text.replace('{', "{{").replace('}', "}}")),
            Piece::Placeholder { name, .. } => {
                format.push_str("{}");
                match syn::parse_str::<Ident>(name) {
                    Ok(mut ident) => {
                        // Resolved where the literal is, so the variable is
                        // the user's and "cannot find value" points there.
                        ident.set_span(literal.span());
                        args.push(ident);
                    }
                    Err(_) => cx.error_spanned_by(
                        literal,
                        format_args!(
                            "invalid path template `{text}`: placeholder `{{{name}}}` is not \
                             the name of a variable (a keyword cannot be one)"
                        ),
                    ),
                }
            }
        }
    }
    let format = LitStr::new(&format, literal.span());
    let private = quote_spanned!(literal.span()=> ::hippocamp::__private);
    Path::Rendered(quote_spanned!(literal.span()=> &#private::format!(#format, #(#args),*)))
}

/// The expression `log!` expands to.
fn generate(input: &Input, paths: &[Path]) -> TokenStream {
    let private = quote!(::hippocamp::__private);
    let target_expr = &input.target;
    let target_span = target_expr.span();
    // Located at the target so that "`log!` cannot log to a `T`" points
    // at it; hygienic so that it cannot clash with the user's names.
    let target = Ident::new("__target", Span::mixed_site().located_at(target_span));
    let handler = Ident::new("__handler", Span::mixed_site());
    let options = Ident::new("__options", Span::mixed_site());
    let result = Ident::new("__result", Span::mixed_site());

    let mut options_expr = quote!(#private::LogOptions::new());
    if let Some(Opt { value }) = &input.step {
        let dot = quote_spanned!(value.span()=> .step);
        options_expr = quote!(#options_expr #dot(#value));
    }
    if let Some(Opt { value }) = &input.timestamp {
        let dot = quote_spanned!(value.span()=> .timestamp);
        options_expr = quote!(#options_expr #dot(#value));
    }

    let site = Ident::new("__HIPPOCAMP_SITE", Span::mixed_site());
    let calls = input.entries.iter().zip(paths).map(|(entry, path)| {
        let value = &entry.value;
        let borrowed = quote_spanned!(value.span()=> &(#value));
        match path {
            // A literal path goes through a static callsite, which
            // remembers the field it resolved to.
            Path::Literal(literal) => {
                let function = match entry.op {
                    Op::Assign => quote!(#private::assign_site),
                    Op::Append => quote!(#private::append_site),
                };
                quote! {{
                    static #site: #private::Callsite = #private::Callsite::new(#literal);
                    #function(#handler, &#site, #borrowed, &#options)
                }}
            }
            Path::Rendered(rendered) => {
                let function = match entry.op {
                    Op::Assign => quote!(#private::assign),
                    Op::Append => quote!(#private::append),
                };
                quote!(#function(#handler, #rendered, #borrowed, &#options))
            }
        }
    });
    let mut statements = TokenStream::new();
    for (i, call) in calls.enumerate() {
        if i == 0 {
            let binding = if input.entries.len() > 1 {
                quote!(let mut #result)
            } else {
                quote!(let #result)
            };
            statements.extend(quote!(#binding = #call;));
        } else {
            statements.extend(quote! {
                if #result.is_ok() {
                    #result = #call;
                }
            });
        }
    }
    let target_ref = quote_spanned!(target_span=> &(#target_expr));
    let log_target = quote_spanned!(target_span=> #private::LogTarget::log_target(#target));
    quote! {
        {
            let #target = #target_ref;
            let #handler: &#private::Handler = #log_target;
            let #options = #options_expr;
            #statements
            #result
        }
    }
}

/// `compile_error!`s as an expression that takes any type, so that the
/// code around the macro reports nothing more.
fn error_expr(errors: syn::Error) -> TokenStream {
    let mut errors: Vec<TokenStream> = errors.into_iter().map(|e| e.to_compile_error()).collect();
    let last = errors.pop().unwrap_or_default();
    quote! {
        {
            #(#errors;)*
            #last
        }
    }
}

#[cfg(test)]
mod tests {
    use super::expand;
    use quote::quote;

    /// The messages of the `compile_error!`s in an expansion.
    fn errors(tokens: proc_macro2::TokenStream) -> Vec<String> {
        crate::compile_error_messages(&expand(tokens).to_string())
    }

    #[test]
    fn a_plain_path_is_checked_at_compile_time() {
        assert_eq!(
            errors(quote!(run, "a//b" => 1)),
            ["invalid path `a//b`: empty segment (`//`) at byte 2"]
        );
        assert_eq!(
            errors(quote!(run, "/lead" => 1)),
            ["invalid path `/lead`: path starts with `/` at byte 0"]
        );
        assert!(errors(quote!(run, "a/b" => 1, "c" += 2, step = 3)).is_empty());
    }

    #[test]
    fn every_error_is_reported() {
        assert_eq!(
            errors(quote!(run, "a" => 1, stp = 3, step = 1, step = 2, "b" => 2, "c//" => 3)),
            [
                "unknown option `stp`: expected `step` or `timestamp`",
                "duplicated option `step`",
                "entries go before the options: move this entry before `stp = …`",
                "entries go before the options: move this entry before `stp = …`",
                "invalid path `c//`: path ends with `/` at byte 2",
            ]
        );
    }

    #[test]
    fn templates_render_with_format() {
        let text = expand(quote!(run, "cv/fold_{fold}/{{x}}" += 1)).to_string();
        assert!(text.contains("format !"), "{text}");
        assert!(text.contains(r#""cv/fold_{}/{{x}}""#), "{text}");
        assert!(text.contains("fold"), "{text}");
        let literal = expand(quote!(run, "a/{{x}}" => 1)).to_string();
        assert!(
            literal.contains(r#"Callsite :: new ("a/{x}")"#),
            "{literal}"
        );
        assert_eq!(
            errors(quote!(run, "a/{type}" => 1)),
            [
                "invalid path template `a/{type}`: placeholder `{type}` is not the name of a \
              variable (a keyword cannot be one)"
            ]
        );
    }

    #[test]
    fn shapes_that_are_not_log_calls() {
        assert_eq!(errors(quote!()).len(), 1);
        assert_eq!(errors(quote!("a" => 1)).len(), 1);
        assert_eq!(errors(quote!(run)).len(), 1);
        assert_eq!(errors(quote!(run, step = 1)).len(), 1);
        assert_eq!(errors(quote!(run, "a" = 1)).len(), 1);
        assert_eq!(errors(quote!(run, path += 1, "b" => 2)).len(), 1);
    }
}
