//! Step 1: read the struct, its `#[repr]` and its `#[shared(...)]` attributes into [`Input`].
//! Every problem found is collected; they are reported together.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Ident, LitInt, LitStr, Type, Visibility};

/// Collects errors so that one compilation reports all of them.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    pub(crate) fn add(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.push(syn::Error::new(span, msg));
    }

    /// An error underlining all of `tokens` (not just their first token).
    pub(crate) fn add_spanned(
        &mut self,
        tokens: impl quote::ToTokens,
        msg: impl std::fmt::Display,
    ) {
        self.push(syn::Error::new_spanned(tokens, msg));
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// What kind of item the derive was put on.
pub(crate) enum Kind {
    Struct,
    Enum(Span),
    Union(Span),
}

/// `#[repr(...)]` as far as the layout is concerned.
#[derive(Default)]
pub(crate) struct Repr {
    pub c: bool,
    pub align: Option<(u64, Span)>,
    pub packed: Option<Span>,
    pub transparent: Option<Span>,
    /// `repr(Rust)`, `repr(u8)`, …: anything that is not C-compatible for a struct.
    pub other: Option<(String, Span)>,
}

/// A declared number: `#[shared(size = 16)]`.
#[derive(Clone, Copy)]
pub(crate) struct Declared {
    pub value: u64,
    pub span: Span,
}

pub(crate) struct Field<'a> {
    /// The field's name, or its index in a tuple struct.
    pub member: syn::Member,
    pub ty: &'a Type,
    pub vis: &'a Visibility,
    pub offset: Option<Declared>,
    /// The field's name (or, for a tuple field, its type): where errors about it point.
    pub span: Span,
}

impl Field<'_> {
    /// The name used in layouts and accessors: `x`, or `0` for tuple fields.
    pub fn name(&self) -> String {
        match &self.member {
            syn::Member::Named(ident) => syn::ext::IdentExt::unraw(ident).to_string(),
            syn::Member::Unnamed(index) => index.index.to_string(),
        }
    }
}

pub(crate) struct Input<'a> {
    pub ident: &'a Ident,
    pub vis: &'a Visibility,
    pub generics: &'a syn::Generics,
    pub kind: Kind,
    pub repr: Repr,
    pub fields: Vec<Field<'a>>,
    pub size: Option<Declared>,
    pub align: Option<Declared>,
    pub crate_path: syn::Path,
}

impl<'a> Input<'a> {
    /// Reads the struct. Problems go to `errors`, and reading goes on, so that one compilation
    /// reports every problem of the struct.
    pub fn from_syn(input: &'a DeriveInput, errors: &mut Errors) -> Input<'a> {
        let (kind, raw_fields): (Kind, Vec<&syn::Field>) = match &input.data {
            Data::Struct(data) => (Kind::Struct, data.fields.iter().collect()),
            Data::Enum(data) => (Kind::Enum(data.enum_token.span), Vec::new()),
            Data::Union(data) => (
                Kind::Union(data.union_token.span),
                data.fields.named.iter().collect(),
            ),
        };

        let repr = parse_repr(&input.attrs, errors);
        let mut size = None;
        let mut align = None;
        let mut crate_path = None;
        for attr in shared_attrs(&input.attrs) {
            let parsed = attr.parse_nested_meta(|meta| {
                let result = if meta.path.is_ident("size") {
                    declared(&meta).and_then(|d| set_once(&mut size, d, &meta, "size"))
                } else if meta.path.is_ident("align") {
                    declared(&meta).and_then(|d| set_once(&mut align, d, &meta, "align"))
                } else if meta.path.is_ident("crate") {
                    meta.value()
                        .and_then(|v| v.parse::<LitStr>())
                        .and_then(|lit| lit.parse::<syn::Path>())
                        .and_then(|path| set_once(&mut crate_path, path, &meta, "crate"))
                } else if meta.path.is_ident("offset") {
                    skip_value(&meta)?;
                    Err(meta.error(
                        "`offset` belongs on a field: #[shared(offset = N)] declares that field's offset",
                    ))
                } else {
                    skip_value(&meta)?;
                    Err(meta.error(
                        "unknown #[shared] key on a struct: expected `size = N`, `align = N` or `crate = \"path\"`",
                    ))
                };
                // Report and go on with the next key.
                if let Err(err) = result {
                    errors.push(err);
                }
                Ok(())
            });
            if let Err(err) = parsed {
                errors.push(err);
            }
        }

        let mut fields = Vec::with_capacity(raw_fields.len());
        for (index, field) in raw_fields.into_iter().enumerate() {
            let mut offset = None;
            for attr in shared_attrs(&field.attrs) {
                let parsed = attr.parse_nested_meta(|meta| {
                    let result = if meta.path.is_ident("offset") {
                        declared(&meta).and_then(|d| set_once(&mut offset, d, &meta, "offset"))
                    } else {
                        skip_value(&meta)?;
                        Err(meta.error("unknown #[shared] key on a field: expected `offset = N`"))
                    };
                    if let Err(err) = result {
                        errors.push(err);
                    }
                    Ok(())
                });
                if let Err(err) = parsed {
                    errors.push(err);
                }
            }
            let member = match &field.ident {
                Some(ident) => syn::Member::Named(ident.clone()),
                None => syn::Member::Unnamed(syn::Index {
                    index: index as u32,
                    span: field.ty.span(),
                }),
            };
            let span = field
                .ident
                .as_ref()
                .map_or_else(|| field.ty.span(), Ident::span);
            fields.push(Field {
                member,
                ty: &field.ty,
                vis: &field.vis,
                offset,
                span,
            });
        }

        Input {
            ident: &input.ident,
            vis: &input.vis,
            generics: &input.generics,
            kind,
            repr,
            fields,
            size,
            align,
            crate_path: crate_path.unwrap_or_else(|| syn::parse_quote!(::sharedctypes)),
        }
    }
}

/// Consumes the `= value` or `(...)` of a key that is being rejected, so that parsing can go
/// on with the next key.
fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _content;
        syn::parenthesized!(_content in meta.input);
    }
    Ok(())
}

fn shared_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("shared"))
}

fn declared(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<Declared> {
    let lit: LitInt = meta.value()?.parse()?;
    Ok(Declared {
        value: lit.base10_parse()?,
        span: lit.span(),
    })
}

fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    meta: &syn::meta::ParseNestedMeta<'_>,
    key: &str,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("duplicate #[shared({key} = ...)]")));
    }
    *slot = Some(value);
    Ok(())
}

fn parse_repr(attrs: &[Attribute], errors: &mut Errors) -> Repr {
    let mut repr = Repr::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("repr")) {
        let parsed = attr.parse_nested_meta(|meta| {
            let span = meta.path.span();
            if meta.path.is_ident("C") {
                repr.c = true;
            } else if meta.path.is_ident("align") {
                let content;
                syn::parenthesized!(content in meta.input);
                let lit: LitInt = content.parse()?;
                repr.align = Some((lit.base10_parse()?, lit.span()));
            } else if meta.path.is_ident("packed") {
                if meta.input.peek(syn::token::Paren) {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let _: LitInt = content.parse()?;
                }
                repr.packed = Some(span);
            } else if meta.path.is_ident("transparent") {
                repr.transparent = Some(span);
            } else {
                let name = meta
                    .path
                    .get_ident()
                    .map_or_else(|| "?".to_string(), ToString::to_string);
                repr.other = Some((name, span));
            }
            Ok(())
        });
        if let Err(err) = parsed {
            errors.push(err);
        }
    }
    repr
}
