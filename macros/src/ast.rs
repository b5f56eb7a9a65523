//! Phase 2 of the derive: the struct as the expansion sees it, checked.
//!
//! [`Container::from_ast`] turns the `DeriveInput` into a list of fields,
//! each with its role (assigned, appended, flattened or skipped) and the
//! name it is logged under, and reports to the [`Ctxt`] every input the
//! derive refuses: a shape other than a struct with named fields, unknown
//! or duplicated attributes, a `rename` that is not a path segment, two
//! fields logging to one name, and attributes that mean nothing together.

use std::collections::HashMap;

use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::{Data, DeriveInput, Fields, Generics, Ident, LitStr, Token, Type, Visibility};

use crate::attr::{FieldAttrs, Flag, LOG};
use crate::ctxt::Ctxt;

/// The refusal of every shape but a struct with named fields.
pub const SHAPE: &str = "LogNamespace can only be derived for structs with named fields";

/// The struct being derived.
pub struct Container<'a> {
    /// Its name.
    pub ident: &'a Ident,
    /// Its visibility, given to the paths struct.
    pub vis: &'a Visibility,
    /// Its generics.
    pub generics: &'a Generics,
    /// Its fields, in declaration order.
    pub fields: Vec<Field<'a>>,
}

/// How a field is logged.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Assigned at its name (`LogField`).
    Plain,
    /// Appended at its name (`#[log(series)]`, `SeriesValue`).
    Series,
    /// Its own fields logged at this level (`#[log(flatten)]`,
    /// `LogNamespace`).
    Flatten,
    /// Never logged, read back as `Default::default()` (`#[log(skip)]`).
    Skip,
}

/// One field.
pub struct Field<'a> {
    /// Its name in Rust.
    pub ident: &'a Ident,
    /// Its visibility, given to its path.
    pub vis: &'a Visibility,
    /// Its type.
    pub ty: &'a Type,
    /// How it is logged.
    pub role: Role,
    /// The path segment it is logged under (unused for `Flatten`/`Skip`).
    pub name: String,
    /// The `rename` literal, when renamed.
    pub rename: Option<LitStr>,
}

impl<'a> Container<'a> {
    /// Reads and checks the input. Returns `None` when its shape leaves
    /// nothing to derive; the reasons are in `cx`.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Container<'a>> {
        for attr in input.attrs.iter().filter(|a| a.path().is_ident(LOG)) {
            cx.error_spanned_by(
                attr,
                "`#[log(...)]` goes on the fields of a `LogNamespace` struct, not on the struct",
            );
        }
        // Every other shape is refused at its keyword and name.
        let (keyword, what) = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => {
                    return Some(Container::from_fields(cx, input, &named.named))
                }
                Fields::Unnamed(_) => (data.struct_token.to_token_stream(), "a tuple struct"),
                Fields::Unit => (data.struct_token.to_token_stream(), "a unit struct"),
            },
            Data::Enum(data) => (data.enum_token.to_token_stream(), "an enum"),
            Data::Union(data) => (data.union_token.to_token_stream(), "a union"),
        };
        let ident = &input.ident;
        cx.error_spanned_by(quote!(#keyword #ident), format_args!("{SHAPE}, not {what}"));
        None
    }

    /// The checked fields of a struct with named fields.
    fn from_fields(
        cx: &Ctxt,
        input: &'a DeriveInput,
        fields: &'a Punctuated<syn::Field, Token![,]>,
    ) -> Container<'a> {
        let mut checked = Vec::with_capacity(fields.len());
        for field in fields {
            let Some(ident) = field.ident.as_ref() else {
                continue;
            };
            let attrs = FieldAttrs::from_attrs(cx, &field.attrs);
            let rename = attrs.rename.as_ref().map(|(literal, _)| literal.clone());
            let role = role(cx, &attrs);
            let name = match &attrs.rename {
                Some((literal, _)) if role == Role::Plain || role == Role::Series => {
                    let value = literal.value();
                    if let Err(error) = hippocamp_path::validate_segment(&value) {
                        cx.error_spanned_by(
                            literal,
                            format_args!("`{value}` is not a valid path segment: {error}"),
                        );
                    }
                    value
                }
                _ => ident.unraw().to_string(),
            };
            checked.push(Field {
                ident,
                vis: &field.vis,
                ty: &field.ty,
                role,
                name,
                rename,
            });
        }
        check_names(cx, &checked);

        Container {
            ident: &input.ident,
            vis: &input.vis,
            generics: &input.generics,
            fields: checked,
        }
    }
}

/// The field's role, reporting attributes that mean nothing together.
fn role(cx: &Ctxt, attrs: &FieldAttrs) -> Role {
    let rename = attrs.rename.as_ref().map(|(_, flag)| *flag);
    if let Some(skip) = attrs.skip {
        for (other, word) in [
            (rename, "rename"),
            (attrs.series, "series"),
            (attrs.flatten, "flatten"),
        ] {
            if let Some(other) = other {
                let (second, second_word, first_word) = later(skip, "skip", other, word);
                cx.error_at(
                    second.span,
                    format_args!(
                        "`{second_word}` cannot be combined with `{first_word}`: \
                         a `skip` field is never logged"
                    ),
                );
            }
        }
        return Role::Skip;
    }
    if let Some(flatten) = attrs.flatten {
        if let Some(rename) = rename {
            let (second, second_word, first_word) = later(flatten, "flatten", rename, "rename");
            cx.error_at(
                second.span,
                format_args!(
                    "`{second_word}` cannot be combined with `{first_word}`: the fields of a \
                     `flatten` field are logged at this level, so it has no name of its own"
                ),
            );
        }
        if let Some(series) = attrs.series {
            let (second, second_word, first_word) = later(flatten, "flatten", series, "series");
            cx.error_at(
                second.span,
                format_args!(
                    "`{second_word}` cannot be combined with `{first_word}`: a `flatten` field's \
                     own `#[log(series)]` fields say what is appended"
                ),
            );
        }
        return Role::Flatten;
    }
    if attrs.series.is_some() {
        Role::Series
    } else {
        Role::Plain
    }
}

/// Of two attributes, the one written second, its word, and the other's.
fn later(
    a: Flag,
    a_word: &'static str,
    b: Flag,
    b_word: &'static str,
) -> (Flag, &'static str, &'static str) {
    if a.order > b.order {
        (a, a_word, b_word)
    } else {
        (b, b_word, a_word)
    }
}

/// Reports fields that log to a name an earlier field logs to.
fn check_names(cx: &Ctxt, checked: &[Field<'_>]) {
    let mut seen: HashMap<&str, &Ident> = HashMap::new();
    for field in checked {
        if !matches!(field.role, Role::Plain | Role::Series) {
            continue;
        }
        match seen.get(field.name.as_str()) {
            Some(first) => {
                let first = first.unraw();
                let at = match &field.rename {
                    Some(literal) => literal.to_token_stream(),
                    None => field.ident.to_token_stream(),
                };
                cx.error_spanned_by(
                    at,
                    format_args!(
                        "field `{}` logs to `{}`, which field `{first}` already logs to; \
                         two fields cannot share a path (use `#[log(rename = \"...\")]`)",
                        field.ident.unraw(),
                        field.name,
                    ),
                );
            }
            None => {
                seen.insert(&field.name, field.ident);
            }
        }
    }
}
