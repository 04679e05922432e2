//! Attributes: `#[repr(...)]` as far as the layout is concerned, and `#[shared(...)]` on the
//! struct (`size`, `align`, `crate`) and on fields (`offset`).

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, LitInt, LitStr};

use crate::ctxt::Ctxt;

/// `#[repr(...)]`, as far as the layout is concerned.
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

/// `#[shared(...)]` on the struct.
#[derive(Default)]
pub(crate) struct Container {
    pub size: Option<Declared>,
    pub align: Option<Declared>,
    pub crate_path: Option<syn::Path>,
}

/// `#[shared(...)]` on a field.
#[derive(Default)]
pub(crate) struct Field {
    pub offset: Option<Declared>,
}

impl Container {
    pub(crate) fn from_attrs(attrs: &[Attribute], cx: &mut Ctxt) -> Container {
        let mut out = Container::default();
        for attr in shared_attrs(attrs) {
            let parsed = attr.parse_nested_meta(|meta| {
                let result = if meta.path.is_ident("size") {
                    declared(&meta).and_then(|d| set_once(&mut out.size, d, &meta, "size"))
                } else if meta.path.is_ident("align") {
                    declared(&meta).and_then(|d| set_once(&mut out.align, d, &meta, "align"))
                } else if meta.path.is_ident("crate") {
                    meta.value()
                        .and_then(|v| v.parse::<LitStr>())
                        .and_then(|lit| lit.parse::<syn::Path>())
                        .and_then(|path| set_once(&mut out.crate_path, path, &meta, "crate"))
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
                    cx.push(err);
                }
                Ok(())
            });
            if let Err(err) = parsed {
                cx.push(err);
            }
        }
        out
    }
}

impl Field {
    pub(crate) fn from_attrs(attrs: &[Attribute], cx: &mut Ctxt) -> Field {
        let mut out = Field::default();
        for attr in shared_attrs(attrs) {
            let parsed = attr.parse_nested_meta(|meta| {
                let result = if meta.path.is_ident("offset") {
                    declared(&meta).and_then(|d| set_once(&mut out.offset, d, &meta, "offset"))
                } else {
                    skip_value(&meta)?;
                    Err(meta.error("unknown #[shared] key on a field: expected `offset = N`"))
                };
                if let Err(err) = result {
                    cx.push(err);
                }
                Ok(())
            });
            if let Err(err) = parsed {
                cx.push(err);
            }
        }
        out
    }
}

impl Repr {
    pub(crate) fn from_attrs(attrs: &[Attribute], cx: &mut Ctxt) -> Repr {
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
                cx.push(err);
            }
        }
        repr
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
