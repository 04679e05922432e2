//! The model of a struct the derive reads: its kind, `#[repr]`, `#[shared]` attributes and
//! fields, each field with the names of the accessors it gets.

use proc_macro2::Span;
use quote::format_ident;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Ident, Member, Type, Visibility};

use crate::attr;
use crate::ctxt::Ctxt;

/// What kind of item the derive was put on.
pub(crate) enum Kind {
    Struct,
    Enum(Span),
    Union(Span),
}

/// The struct being derived.
pub(crate) struct Container<'a> {
    pub ident: &'a Ident,
    pub vis: &'a Visibility,
    pub generics: &'a syn::Generics,
    pub kind: Kind,
    pub repr: attr::Repr,
    pub attrs: attr::Container,
    pub fields: Vec<Field<'a>>,
    /// The path of the runtime crate: `::sharedctypes`, or `#[shared(crate = "...")]`.
    pub crate_path: syn::Path,
}

/// One field.
pub(crate) struct Field<'a> {
    /// The field's name, or its index in a tuple struct.
    pub member: Member,
    /// The name used in layouts and messages: `x` (raw identifiers unescaped), or `0`.
    pub name: String,
    pub ty: &'a Type,
    pub vis: &'a Visibility,
    pub attrs: attr::Field,
    /// The field's name (or, for a tuple field, its type): where errors about it point.
    pub span: Span,
    pub accessors: Accessors,
}

/// The accessor methods generated for one field: `x`, `set_x`, `update_x` (`_0`, `set_0`,
/// `update_0` for tuple fields).
pub(crate) struct Accessors {
    pub get: Ident,
    pub set: Ident,
    pub update: Ident,
}

impl Accessors {
    fn of(member: &Member) -> Accessors {
        match member {
            Member::Named(ident) => {
                let bare = ident.unraw();
                Accessors {
                    get: ident.clone(),
                    set: format_ident!("set_{}", bare, span = ident.span()),
                    update: format_ident!("update_{}", bare, span = ident.span()),
                }
            }
            Member::Unnamed(index) => Accessors {
                get: format_ident!("_{}", index.index, span = index.span),
                set: format_ident!("set_{}", index.index, span = index.span),
                update: format_ident!("update_{}", index.index, span = index.span),
            },
        }
    }

    /// The three method names, without the `r#` of raw identifiers.
    pub(crate) fn names(&self) -> [String; 3] {
        [&self.get, &self.set, &self.update].map(|i| i.unraw().to_string())
    }
}

impl<'a> Container<'a> {
    /// Reads the struct. Problems go to `cx`, and reading goes on, so that one compilation
    /// reports every problem of the struct.
    pub(crate) fn from_syn(input: &'a DeriveInput, cx: &mut Ctxt) -> Container<'a> {
        let (kind, raw_fields): (Kind, Vec<&syn::Field>) = match &input.data {
            Data::Struct(data) => (Kind::Struct, data.fields.iter().collect()),
            Data::Enum(data) => (Kind::Enum(data.enum_token.span), Vec::new()),
            Data::Union(data) => (
                Kind::Union(data.union_token.span),
                data.fields.named.iter().collect(),
            ),
        };
        let repr = attr::Repr::from_attrs(&input.attrs, cx);
        let mut attrs = attr::Container::from_attrs(&input.attrs, cx);
        let crate_path = attrs
            .crate_path
            .take()
            .unwrap_or_else(|| syn::parse_quote!(::sharedctypes));
        let fields = raw_fields
            .into_iter()
            .enumerate()
            .map(|(index, field)| Field::from_syn(index, field, cx))
            .collect();
        Container {
            ident: &input.ident,
            vis: &input.vis,
            generics: &input.generics,
            kind,
            repr,
            attrs,
            fields,
            crate_path,
        }
    }
}

impl<'a> Field<'a> {
    fn from_syn(index: usize, field: &'a syn::Field, cx: &mut Ctxt) -> Field<'a> {
        let member = match &field.ident {
            Some(ident) => Member::Named(ident.clone()),
            None => Member::Unnamed(syn::Index {
                index: index as u32,
                span: field.ty.span(),
            }),
        };
        let name = match &member {
            Member::Named(ident) => ident.unraw().to_string(),
            Member::Unnamed(index) => index.index.to_string(),
        };
        let span = field
            .ident
            .as_ref()
            .map_or_else(|| field.ty.span(), Ident::span);
        Field {
            accessors: Accessors::of(&member),
            member,
            name,
            ty: &field.ty,
            vis: &field.vis,
            attrs: attr::Field::from_attrs(&field.attrs, cx),
            span,
        }
    }
}
