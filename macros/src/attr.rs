//! Phase 1 of the derive: reading the `#[log(...)]` attributes.
//!
//! This phase only reads what is written; whether the attributes make
//! sense together is decided in [`crate::ast`].

use proc_macro2::Span;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Token};

use crate::ctxt::Ctxt;

/// The name of the helper attribute.
pub const LOG: &str = "log";

/// What `#[log(...)]` accepts on a field, for error messages.
pub const KNOWN: &str = "`rename = \"...\"`, `skip`, `series` or `flatten`";

/// One attribute as written, with where it was written and its position
/// among the field's attributes (to tell which of two came second).
#[derive(Clone, Copy)]
pub struct Flag {
    /// The span of its name.
    pub span: Span,
    /// Its position among the field's `log` attributes.
    pub order: usize,
}

/// The `#[log(...)]` attributes of one field.
#[derive(Default)]
pub struct FieldAttrs {
    /// `rename = "segment"`: the literal and its position.
    pub rename: Option<(LitStr, Flag)>,
    /// `skip`.
    pub skip: Option<Flag>,
    /// `series`.
    pub series: Option<Flag>,
    /// `flatten`.
    pub flatten: Option<Flag>,
}

impl FieldAttrs {
    /// Reads the `log` attributes among `attrs`, reporting every problem to
    /// `cx`. What could be read is returned even when there were errors.
    pub fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> FieldAttrs {
        let mut parsed = FieldAttrs::default();
        let mut order = 0;
        for attr in attrs.iter().filter(|a| a.path().is_ident(LOG)) {
            let result = attr.parse_nested_meta(|meta| {
                order += 1;
                parsed.read_one(cx, &meta, order)
            });
            if let Err(error) = result {
                cx.syn_error(error);
            }
        }
        parsed
    }

    fn read_one(&mut self, cx: &Ctxt, meta: &ParseNestedMeta<'_>, order: usize) -> syn::Result<()> {
        let span = meta.path.get_ident().map_or_else(
            || syn::spanned::Spanned::span(&meta.path),
            |ident| ident.span(),
        );
        let flag = Flag { span, order };
        let name = meta.path.get_ident().map(|i| i.to_string());
        match name.as_deref() {
            Some("rename") => {
                let value: Expr = meta.value()?.parse()?;
                let Expr::Lit(ExprLit {
                    lit: Lit::Str(literal),
                    ..
                }) = value
                else {
                    cx.error_spanned_by(
                        &value,
                        "`rename` takes a string literal: `#[log(rename = \"name\")]`",
                    );
                    return Ok(());
                };
                if self.rename.is_some() {
                    cx.error_at(span, "duplicated `log` attribute `rename`");
                } else {
                    self.rename = Some((literal, flag));
                }
            }
            Some(word @ ("skip" | "series" | "flatten")) => {
                if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
                    skip_value(meta)?;
                    cx.error_at(
                        span,
                        format_args!("`{word}` takes no value: write `#[log({word})]`"),
                    );
                    return Ok(());
                }
                let slot = match word {
                    "skip" => &mut self.skip,
                    "series" => &mut self.series,
                    _ => &mut self.flatten,
                };
                if slot.is_some() {
                    cx.error_at(span, format_args!("duplicated `log` attribute `{word}`"));
                } else {
                    *slot = Some(flag);
                }
            }
            _ => {
                skip_value(meta)?;
                let written = meta.path.to_token_stream().to_string().replace(' ', "");
                cx.error_spanned_by(
                    &meta.path,
                    format_args!("unknown `log` attribute `{written}`: expected {KNOWN}"),
                );
            }
        }
        Ok(())
    }
}

/// Reads past the value of an attribute that is being refused, so the
/// rest of the list can still be read.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.parse::<proc_macro2::TokenTree>()?;
    }
    Ok(())
}
