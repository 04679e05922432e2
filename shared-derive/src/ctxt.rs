//! [`Ctxt`]: collects the errors found while reading and checking a struct, so that one
//! compilation reports all of them (serde_derive's `Ctxt`).

use proc_macro2::Span;

/// Collects errors; [`finish`](Self::finish) returns them combined.
#[derive(Default)]
pub(crate) struct Ctxt(Option<syn::Error>);

impl Ctxt {
    /// Records an error.
    pub(crate) fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    /// Records an error at `span`.
    pub(crate) fn error(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.push(syn::Error::new(span, msg));
    }

    /// Records an error underlining all of `tokens` (not just their first token).
    pub(crate) fn error_spanned(
        &mut self,
        tokens: impl quote::ToTokens,
        msg: impl std::fmt::Display,
    ) {
        self.push(syn::Error::new_spanned(tokens, msg));
    }

    /// All errors recorded, combined, if there were any.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}
