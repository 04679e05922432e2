//! `#[derive(SharedLayout)]` for [sharedctypes](https://docs.rs/sharedctypes).
//!
//! Use it through the `sharedctypes` crate, which re-exports it and documents it
//! (`sharedctypes::SharedLayout`). Internals in serde_derive's shape:
//!
//! - `ctxt`: the error collector, so that one compilation reports every problem;
//! - `attr`: `#[repr(...)]` and `#[shared(...)]`;
//! - `ast`: the model of the struct, each field with its accessor names;
//! - `check`: refusals of what cannot live in shared memory, each saying why;
//! - `expand`: the `SharedLayout` impl, the compile-time layout checks and the accessors.

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;

use proc_macro::TokenStream;

/// Derives `sharedctypes::SharedLayout` for a `#[repr(C)]` struct. See the `sharedctypes`
/// crate for the documentation.
#[proc_macro_derive(SharedLayout, attributes(shared))]
pub fn derive_shared_layout(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn derive(input: &syn::DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let mut cx = ctxt::Ctxt::default();
    let container = ast::Container::from_syn(input, &mut cx);
    check::check(&container, &mut cx);
    cx.finish()?;
    Ok(expand::expand(&container))
}

#[cfg(test)]
mod snapshots;
