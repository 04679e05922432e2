//! Step 3: emit the `SharedLayout` impl, the compile-time layout assertions and the accessor
//! views.
//!
//! The assertions compare numbers by type equality: `const _: size_of_Point<16> =
//! size_of_Point::<{ size_of::<Point>() }>;` fails to compile with "expected
//! `size_of_Point<16>`, found `size_of_Point<24>`", which names the struct or field and both
//! numbers (a const panic could not print the computed number).

use proc_macro2::{Group, Literal, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Ident, Member};

use crate::parse::{Field, Input};

/// The accessor methods generated for one field: `x`, `set_x`, `update_x` (`_0`, `set_0`,
/// `update_0` for tuple fields).
pub(crate) struct Accessors {
    pub get: Ident,
    pub set: Ident,
    pub update: Ident,
}

impl Accessors {
    pub fn of(field: &Field<'_>) -> Accessors {
        match &field.member {
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

    pub fn names(&self) -> [Ident; 3] {
        [self.get.clone(), self.set.clone(), self.update.clone()]
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

pub(crate) fn expand(input: &Input<'_>) -> TokenStream {
    let sc = {
        let path = &input.crate_path;
        quote!(#path::__private)
    };
    let name = input.ident;
    let name_str = name.unraw().to_string();
    let view = format_ident!("{}View", name);
    let synced = format_ident!("{}Synced", name);

    let members: Vec<&Member> = input.fields.iter().map(|f| &f.member).collect();
    let tys: Vec<&syn::Type> = input.fields.iter().map(|f| f.ty).collect();
    let offsets: Vec<TokenStream> = members
        .iter()
        .map(|m| quote!(#sc::offset_of!(#name, #m)))
        .collect();
    let layouts: Vec<TokenStream> = tys
        .iter()
        .map(|ty| quote_spanned!(ty.span()=> <#ty as #sc::SharedLayout>::LAYOUT))
        .collect();
    let field_layouts =
        input
            .fields
            .iter()
            .zip(&offsets)
            .zip(&layouts)
            .map(|((field, offset), layout)| {
                let fname = field.name();
                let tname = type_name(field.ty);
                quote!(#sc::FieldLayout::new(#fname, #offset, #tname, &#layout))
            });
    let repr_align = match input.repr.align {
        Some((n, _)) => {
            let n = usize_lit(n);
            quote!(#sc::Some(#n))
        }
        None => quote!(#sc::None),
    };

    // `where FieldType: SharedLayout`, spanned on each field type: a field type that is not
    // shared gets one error, on the field, with the trait's own explanation (rather than
    // errors about supertraits or about methods of `Place` deep in generated code).
    let bounds = tys
        .iter()
        .map(|ty| respan(quote!(#ty: #sc::SharedLayout), ty.span()));
    let where_clause = quote!(where #(#bounds,)*);
    let assertions = assertions(input, &sc, &offsets, &layouts);
    let view_type = view_type(input, &sc, &view, &offsets, &where_clause);
    let synced_type = synced_type(input, &sc, &synced, &offsets, &where_clause);
    let store_value = if members.is_empty() {
        quote!(let _ = value;)
    } else {
        quote!()
    };

    quote! {
        #[automatically_derived]
        #[allow(clippy::undocumented_unsafe_blocks, clippy::multiple_unsafe_ops_per_block)]
        // SAFETY: `#name` is `#[repr(C)]` (checked by the derive), its layout is asserted
        // below to be the C layout of its fields, every field type is `SharedLayout` (so valid
        // for every bit pattern and free of process-local pointers), and `load`/`store` go
        // field by field through the fields' own impls at their `offset_of!` offsets.
        unsafe impl #sc::SharedLayout for #name #where_clause {
            const LAYOUT: #sc::Layout = #sc::Layout::structure(
                #name_str,
                #sc::size_of::<#name>(),
                #sc::align_of::<#name>(),
                &[#(#field_layouts),*],
                #repr_align,
            );
            type View<'a> = #view<'a>;
            type Synced<L: #sc::SharedLock> = #synced<L>;

            #[inline]
            fn load(place: #sc::Place<'_, Self>) -> Self {
                // SAFETY (of each projection): `offset_of!(#name, field)` is the offset of a
                // field of exactly that type inside `Self`, which is what `Place::field`
                // requires; the comment is in the generator because quote! drops comments.
                #name {
                    #(#members: unsafe { place.field::<#tys>(#offsets) }.load(),)*
                }
            }

            #[inline]
            fn store(place: #sc::Place<'_, Self>, value: Self) {
                #store_value
                // SAFETY: as in `load`: each projection is to a field of that type at its
                // `offset_of!` offset.
                #(unsafe { place.field::<#tys>(#offsets) }.store(value.#members);)*
            }

            #[inline]
            fn view(place: #sc::Place<'_, Self>) -> #view<'_> {
                #view { place }
            }
        }

        #assertions
        #view_type
        #synced_type
    }
}

/// `const _: Marker<declared> = Marker::<{ actual }>;` — fails with both numbers.
fn assert_equal(
    marker: &Ident,
    expected: &TokenStream,
    actual: &TokenStream,
    span: Span,
) -> TokenStream {
    // The marker carries the span too, so the error underlines the declared number alone.
    let marker = Ident::new(&marker.to_string(), span);
    quote_spanned! {span=>
        #[allow(non_camel_case_types)]
        struct #marker<const N: usize>;
        const _: #marker<{ #expected }> = #marker::<{ #actual }>;
    }
}

fn assertions(
    input: &Input<'_>,
    sc: &TokenStream,
    offsets: &[TokenStream],
    layouts: &[TokenStream],
) -> TokenStream {
    let name = input.ident;
    let bare = name.unraw();
    let count = input.fields.len();
    let min_align = usize_lit(input.repr.align.map_or(1, |(n, _)| n));
    let size = quote!(#sc::size_of::<#name>());
    let align = quote!(#sc::align_of::<#name>());
    let mut checks = Vec::new();

    // The C rules, computed from the fields' own layouts.
    checks.push(assert_equal(
        &format_ident!("c_rules_size_of_{}", bare),
        &quote!(__C.size),
        &size,
        Span::call_site(),
    ));
    checks.push(assert_equal(
        &format_ident!("c_rules_align_of_{}", bare),
        &quote!(__C.align),
        &align,
        Span::call_site(),
    ));
    for (i, (field, offset)) in input.fields.iter().zip(offsets).enumerate() {
        let marker = format_ident!("c_rules_offset_of_{}", field_marker(field));
        checks.push(assert_equal(
            &marker,
            &quote!(__C.offsets[#i]),
            offset,
            Span::call_site(),
        ));
    }

    // Numbers declared with #[shared(...)], pinned to an external C definition.
    if let Some(d) = input.size {
        let n = usize_lit(d.value);
        checks.push(assert_equal(
            &format_ident!("size_of_{}", bare),
            &quote!(#n),
            &size,
            d.span,
        ));
    }
    if let Some(d) = input.align {
        let n = usize_lit(d.value);
        checks.push(assert_equal(
            &format_ident!("align_of_{}", bare),
            &quote!(#n),
            &align,
            d.span,
        ));
    }
    for (field, offset) in input.fields.iter().zip(offsets) {
        if let Some(d) = field.offset {
            let n = usize_lit(d.value);
            checks.push(assert_equal(
                &format_ident!("offset_of_{}", field_marker(field)),
                &quote!(#n),
                offset,
                d.span,
            ));
        }
    }

    quote! {
        const _: () = {
            const __C: #sc::CStructLayout<#count> = #sc::c_struct_layout(
                [#((#layouts.size, #layouts.align)),*],
                #min_align,
            );
            #(#checks)*
        };
    }
}

/// `x` for a named field, `0` for a tuple field: the part of a marker name after `of_`.
fn field_marker(field: &Field<'_>) -> Ident {
    match &field.member {
        Member::Named(ident) => ident.unraw(),
        Member::Unnamed(index) => format_ident!("field_{}", index.index),
    }
}

fn view_type(
    input: &Input<'_>,
    sc: &TokenStream,
    view: &Ident,
    offsets: &[TokenStream],
    where_clause: &TokenStream,
) -> TokenStream {
    let name = input.ident;
    let vis = input.vis;
    let doc = format!(
        "Field accessors of a [`{name}`] in shared memory: `x()` copies a field out (or gives the nested view of a struct or array field), `set_x(v)` writes it, `update_x(f)` does both. Generated by `#[derive(SharedLayout)]`; reached with `RawValue::view`, `RawArray::at`, or a lock guard."
    );
    let accessors = input.fields.iter().zip(offsets).map(|(field, offset)| {
        let Accessors { get, set, update } = Accessors::of(field);
        let ty = field.ty;
        let fvis = field.vis;
        let fname = field.name();
        let get_doc = format!("Field `{fname}`: a copy of the value, or the view of a struct or array field.");
        let set_doc = format!("Writes field `{fname}`.");
        let update_doc = format!(
            "Writes `f(old)` into field `{fname}` and returns it (a load then a store: hold the lock to make it atomic)."
        );
        quote! {
            #[doc = #get_doc]
            #[inline]
            #fvis fn #get(&self) -> <#ty as #sc::SharedLayout>::View<'a> {
                // SAFETY: `#offset` is `offset_of!` of this field, whose type is `#ty`.
                unsafe { self.place.field::<#ty>(#offset) }.view()
            }
            #[doc = #set_doc]
            #[inline]
            #fvis fn #set(&self, value: #ty) {
                // SAFETY: as in the getter.
                unsafe { self.place.field::<#ty>(#offset) }.store(value)
            }
            #[doc = #update_doc]
            #[inline]
            #fvis fn #update(&self, f: impl ::core::ops::FnOnce(#ty) -> #ty) -> #ty {
                // SAFETY: as in the getter.
                unsafe { self.place.field::<#ty>(#offset) }.update(f)
            }
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug)]
        #vis struct #view<'a> {
            place: #sc::Place<'a, #name>,
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
            #(#accessors)*
        }
    }
}

fn synced_type(
    input: &Input<'_>,
    sc: &TokenStream,
    synced: &Ident,
    offsets: &[TokenStream],
    where_clause: &TokenStream,
) -> TokenStream {
    let name = input.ident;
    let vis = input.vis;
    let doc = format!(
        "What `Value<{name}, L>` dereferences to: per-field accessors that each take the lock once (CPython's synchronized properties). Generated by `#[derive(SharedLayout)]`."
    );
    let accessors = input.fields.iter().zip(offsets).map(|(field, offset)| {
        let Accessors { get, set, update } = Accessors::of(field);
        let ty = field.ty;
        let fvis = field.vis;
        let fname = field.name();
        let get_doc = format!("A copy of field `{fname}`, read under the lock.");
        let set_doc = format!("Writes field `{fname}` under the lock.");
        let update_doc = format!(
            "Writes `f(old)` into field `{fname}` in one acquisition of the lock, and returns it."
        );
        quote! {
            #[doc = #get_doc]
            #fvis fn #get(&self) -> #sc::Result<#ty> {
                // SAFETY: `#offset` is `offset_of!` of this field, whose type is `#ty`.
                self.0.locked(|v| unsafe { v.place().field::<#ty>(#offset) }.load())
            }
            #[doc = #set_doc]
            #fvis fn #set(&self, value: #ty) -> #sc::Result<()> {
                // SAFETY: as in the getter.
                self.0.locked(|v| unsafe { v.place().field::<#ty>(#offset) }.store(value))
            }
            #[doc = #update_doc]
            #fvis fn #update(&self, f: impl ::core::ops::FnOnce(#ty) -> #ty) -> #sc::Result<#ty> {
                // SAFETY: as in the getter.
                self.0.locked(|v| unsafe { v.place().field::<#ty>(#offset) }.update(f))
            }
        }
    });
    quote! {
        #[doc = #doc]
        #[repr(transparent)]
        #vis struct #synced<L: #sc::SharedLock>(#sc::Synchronized<#sc::RawValue<#name>, L>);

        #[automatically_derived]
        #[allow(clippy::undocumented_unsafe_blocks, clippy::multiple_unsafe_ops_per_block, dead_code)]
        impl<L: #sc::SharedLock> #synced<L> #where_clause {
            #(#accessors)*
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
