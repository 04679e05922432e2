//! Expansion: the `SharedLayout` impl, the compile-time layout checks, and the accessor
//! types.
//!
//! Every value a generated `unsafe` block relies on (field offsets) comes from
//! `::core::mem::offset_of!`, never from the user-chosen `#[shared(crate = "...")]` path,
//! whose items are only named in trait bounds and safe calls.

mod accessors;
mod assertions;

use proc_macro2::{Group, Literal, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use crate::ast::{Container, Field};
use accessors::Flavour;

/// What every part of the expansion needs.
pub(crate) struct Ctx<'a> {
    input: &'a Container<'a>,
    /// `path::__private`, where the runtime items the expansion names live.
    sc: TokenStream,
}

impl Ctx<'_> {
    /// `::core::mem::offset_of!(Name, field)`.
    fn offset_of(&self, field: &Field<'_>) -> TokenStream {
        let name = self.input.ident;
        let member = &field.member;
        quote!(::core::mem::offset_of!(#name, #member))
    }

    /// `<FieldType as SharedLayout>::LAYOUT`, spanned on the field type.
    fn field_layout(&self, field: &Field<'_>) -> TokenStream {
        let sc = &self.sc;
        let ty = field.ty;
        quote_spanned!(ty.span()=> <#ty as #sc::SharedLayout>::LAYOUT)
    }
}

/// The source spelling of a type, without the spaces token printing adds: `[f64; 4]`.
fn type_name(ty: &syn::Type) -> String {
    let mut s = ty.to_token_stream().to_string();
    for (from, to) in [
        (" ;", ";"),
        (" ,", ","),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        ("[ ", "["),
        (" ]", "]"),
        ("( ", "("),
        (" )", ")"),
        (" :: ", "::"),
        (":: ", "::"),
        ("& ", "&"),
    ] {
        s = s.replace(from, to);
    }
    s
}

fn usize_lit(n: u64) -> Literal {
    Literal::u64_unsuffixed(n)
}

/// Expands a struct that passed the checks.
pub(crate) fn expand(input: &Container<'_>) -> TokenStream {
    let path = &input.crate_path;
    let cx = Ctx {
        input,
        sc: quote!(#path::__private),
    };
    let layout_impl = layout_impl(&cx);
    let assertions = assertions::assertions(&cx);
    let view_type = view_type(&cx);
    let synced_type = synced_type(&cx);
    quote! {
        #layout_impl
        #assertions
        #view_type
        #synced_type
    }
}

/// `where FieldType: SharedLayout, ...`, each bound spanned on its field type: a field type
/// that is not shared gets its error on the field, with the trait's own explanation, rather
/// than errors about methods of `Place` deep in generated code.
fn where_clause(cx: &Ctx<'_>) -> TokenStream {
    let sc = &cx.sc;
    let mut seen = std::collections::BTreeSet::new();
    let bounds = cx
        .input
        .fields
        .iter()
        .filter(|f| seen.insert(type_name(f.ty)))
        .map(|f| {
            let ty = f.ty;
            respan(quote!(#ty: #sc::SharedLayout), ty.span())
        });
    quote!(where #(#bounds,)*)
}

fn layout_impl(cx: &Ctx<'_>) -> TokenStream {
    let sc = &cx.sc;
    let input = cx.input;
    let name = input.ident;
    let name_str = name.unraw().to_string();
    let view = format_ident!("{}View", name);
    let synced = format_ident!("{}Synced", name);
    let members: Vec<&syn::Member> = input.fields.iter().map(|f| &f.member).collect();
    let tys: Vec<&syn::Type> = input.fields.iter().map(|f| f.ty).collect();
    let offsets: Vec<TokenStream> = input.fields.iter().map(|f| cx.offset_of(f)).collect();
    let field_layouts = input.fields.iter().map(|field| {
        let fname = &field.name;
        let tname = type_name(field.ty);
        let offset = cx.offset_of(field);
        let layout = cx.field_layout(field);
        quote!(#sc::FieldLayout::new(#fname, #offset, #tname, &#layout))
    });
    let repr_align = match input.repr.align {
        Some((n, _)) => {
            let n = usize_lit(n);
            quote!(#sc::Some(#n))
        }
        None => quote!(#sc::None),
    };
    let where_clause = where_clause(cx);
    let store_value = if members.is_empty() {
        quote!(let _ = value;)
    } else {
        quote!()
    };
    // SAFETY (of the impl, stated here because quote! drops comments): `#name` is
    // `#[repr(C)]` (checked by the derive), its layout is asserted at compile time to be the
    // C layout of its fields, every field type is `SharedLayout` (so valid for every bit
    // pattern and free of process-local pointers), `load`/`store` go field by field through
    // the fields' own impls at their `::core::mem::offset_of!` offsets (each projection is to
    // a field of exactly that type, as `Place::field` requires), and `Synced<S>` is the
    // generated `#[repr(transparent)]` wrapper around `S`.
    quote! {
        #[automatically_derived]
        #[allow(clippy::undocumented_unsafe_blocks, clippy::multiple_unsafe_ops_per_block)]
        unsafe impl #sc::SharedLayout for #name #where_clause {
            const LAYOUT: #sc::Layout = #sc::Layout::structure(
                #name_str,
                ::core::mem::size_of::<#name>(),
                ::core::mem::align_of::<#name>(),
                &[#(#field_layouts),*],
                #repr_align,
            );
            type View<'a> = #view<'a>;
            type Synced<S> = #synced<S>;

            #[inline]
            fn load(place: #sc::Place<'_, Self>) -> Self {
                #name {
                    #(#members: unsafe { place.field::<#tys>(#offsets) }.load(),)*
                }
            }

            #[inline]
            fn store(place: #sc::Place<'_, Self>, value: Self) {
                #store_value
                #(unsafe { place.field::<#tys>(#offsets) }.store(value.#members);)*
            }

            #[inline]
            fn view(place: #sc::Place<'_, Self>) -> #view<'_> {
                #view { place }
            }
        }
    }
}

fn view_type(cx: &Ctx<'_>) -> TokenStream {
    let sc = &cx.sc;
    let input = cx.input;
    let name = input.ident;
    let vis = input.vis;
    let view = format_ident!("{}View", name);
    let doc = format!(
        "Field accessors of a [`{name}`] in shared memory: `x()` copies a field out (or gives the nested view of a struct or array field), `set_x(v)` writes it, `update_x(f)` does both. Generated by `#[derive(SharedLayout)]`; reached with `RawValue::view`, `RawArray::at`, or a lock guard."
    );
    let where_clause = where_clause(cx);
    let accessors = accessors::accessors(cx, Flavour::View);
    let view_str = view.to_string();
    quote! {
        #[doc = #doc]
        #[derive(Clone, Copy)]
        #vis struct #view<'a> {
            place: #sc::Place<'a, #name>,
        }

        // `PointView(Point { x: 1.0, y: 2.0 })`: the value, read now, never the address; only
        // if the struct is `Debug` (the higher-ranked bound is how a derive says so for a
        // concrete type without a compile error when it is not).
        #[automatically_derived]
        impl<'a> ::core::fmt::Debug for #view<'a> #where_clause for<'x> #name: ::core::fmt::Debug {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_tuple(#view_str).field(&self.place.load()).finish()
            }
        }

        #[automatically_derived]
        #[allow(clippy::undocumented_unsafe_blocks, clippy::multiple_unsafe_ops_per_block, dead_code)]
        impl<'a> #view<'a> #where_clause {
            /// A copy of the whole struct.
            #[inline]
            pub fn get(&self) -> #name {
                self.place.load()
            }
            /// Overwrites the whole struct, field by field.
            #[inline]
            pub fn set(&self, value: #name) {
                self.place.store(value)
            }
            /// The place of the struct in shared memory.
            #[inline]
            pub fn place(&self) -> #sc::Place<'a, #name> {
                self.place
            }
            #accessors
        }
    }
}

fn synced_type(cx: &Ctx<'_>) -> TokenStream {
    let sc = &cx.sc;
    let input = cx.input;
    let name = input.ident;
    let vis = input.vis;
    let synced = format_ident!("{}Synced", name);
    let doc = format!(
        "What `Value<{name}, L>` dereferences to: per-field accessors that each take the lock once (CPython's synchronized properties). Generated by `#[derive(SharedLayout)]`."
    );
    let where_clause = where_clause(cx);
    let accessors = accessors::accessors(cx, Flavour::Synced);
    quote! {
        #[doc = #doc]
        #[repr(transparent)]
        #vis struct #synced<S>(S);

        #[automatically_derived]
        #[allow(clippy::undocumented_unsafe_blocks, clippy::multiple_unsafe_ops_per_block, dead_code)]
        impl<__SharedLock: #sc::SharedLock> #synced<#sc::Synchronized<#sc::RawValue<#name>, __SharedLock>> #where_clause {
            #accessors
        }
    }
}

/// `tokens` with every token (recursively) given `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(group) = &tt {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tt = TokenTree::Group(inner);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}
