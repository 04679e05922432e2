//! The compile-time layout checks: that `#[repr(C)]` produced exactly the C layout of the
//! fields (size, alignment, every offset), that the numbers declared with `#[shared(...)]`
//! hold, and that every field type is a shared-memory type.
//!
//! Numbers are compared by type equality: `const _: size_of_Point<16> =
//! size_of_Point::<{ size_of::<Point>() }>;` fails with "expected `size_of_Point<16>`, found
//! `size_of_Point<24>`", which names the struct or field and both numbers in bytes.
//! `static_assertions` has no equally clear form for these: `const_assert_eq!` reports an
//! arithmetic overflow in a constant, `assert_eq_size!` a transmute between sizes in bits,
//! and `assert_impl_all!` for the field types repeats the trait's own error (which the
//! `where` clauses of the generated impls already give, on the field) with an extra note.
//! It checks the alignment against the heap's limit, as a backstop that can never drift.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;
use syn::ext::IdentExt;

use super::{Ctx, usize_lit};
use crate::ast::Field;

/// `const _: Marker<declared> = Marker::<{ actual }>;`: fails with both numbers.
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

/// `x` for a named field, `field_0` for a tuple field: the part of a marker name after `of_`.
fn field_marker(field: &Field<'_>) -> Ident {
    match &field.member {
        syn::Member::Named(ident) => ident.unraw(),
        syn::Member::Unnamed(index) => format_ident!("field_{}", index.index),
    }
}

pub(super) fn assertions(cx: &Ctx<'_>) -> TokenStream {
    let sc = &cx.sc;
    let input = cx.input;
    let name = input.ident;
    let bare = name.unraw();
    let count = input.fields.len();
    let min_align = usize_lit(input.repr.align.map_or(1, |(n, _)| n));
    let size = quote!(::core::mem::size_of::<#name>());
    let align = quote!(::core::mem::align_of::<#name>());
    let layouts: Vec<TokenStream> = input.fields.iter().map(|f| cx.field_layout(f)).collect();
    let mut checks = Vec::new();

    // The heap's limit, from the runtime's own constant: a backstop behind the derive's
    // spanned check of `#[repr(align(N))]` (so the two can never disagree in a build).
    checks.push(quote! {
        #sc::static_assertions::const_assert!(#align <= #sc::MAX_ALIGN);
    });

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
    for (i, field) in input.fields.iter().enumerate() {
        checks.push(assert_equal(
            &format_ident!("c_rules_offset_of_{}", field_marker(field)),
            &quote!(__C.offsets[#i]),
            &cx.offset_of(field),
            Span::call_site(),
        ));
    }

    // Numbers declared with #[shared(...)], pinned to an external C definition.
    if let Some(d) = input.attrs.size {
        let n = usize_lit(d.value);
        checks.push(assert_equal(
            &format_ident!("size_of_{}", bare),
            &quote!(#n),
            &size,
            d.span,
        ));
    }
    if let Some(d) = input.attrs.align {
        let n = usize_lit(d.value);
        checks.push(assert_equal(
            &format_ident!("align_of_{}", bare),
            &quote!(#n),
            &align,
            d.span,
        ));
    }
    for field in &input.fields {
        if let Some(d) = field.attrs.offset {
            let n = usize_lit(d.value);
            checks.push(assert_equal(
                &format_ident!("offset_of_{}", field_marker(field)),
                &quote!(#n),
                &cx.offset_of(field),
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
