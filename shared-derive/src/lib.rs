//! `#[derive(SharedLayout)]` for [sharedctypes](https://docs.rs/sharedctypes).
//!
//! Use it through the `sharedctypes` crate, which re-exports it and documents it
//! (`sharedctypes::SharedLayout`). The macro works in three steps, like serde_derive:
//!
//! 1. [`parse`]: read the struct, its `#[repr]` and its `#[shared(...)]` attributes;
//! 2. [`validate`]: refuse everything that cannot live in shared memory, with a spanned
//!    message that says why — all problems of one struct reported together;
//! 3. [`generate`]: emit the `SharedLayout` impl, compile-time layout assertions, and the
//!    accessor view types.

#![warn(missing_docs)]

mod generate;
mod parse;
mod validate;

use proc_macro::TokenStream;

/// Derives `sharedctypes::SharedLayout` for a `#[repr(C)]` struct. See the `sharedctypes`
/// crate for the documentation.
#[proc_macro_derive(SharedLayout, attributes(shared))]
pub fn derive_shared_layout(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn expand(input: &syn::DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let mut errors = parse::Errors::default();
    let parsed = parse::Input::from_syn(input, &mut errors);
    validate::check(&parsed, &mut errors);
    errors.finish()?;
    Ok(generate::expand(&parsed))
}
