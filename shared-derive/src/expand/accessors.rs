//! The field accessors, generated once for two flavours: the view (`PointView<'a>`, reached
//! from any shared location of the struct, unlocked) and the synchronized wrapper
//! (`PointSynced<S>`, what `Value<Point, L>` dereferences to, each call under the lock).

use proc_macro2::TokenStream;
use quote::quote;

use super::Ctx;
use crate::ast::Field;

/// Which accessors to generate.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavour {
    /// On the view: `x()` gives the field's own view (the value for a scalar), `set_x(v)`,
    /// `update_x(f)`; no lock.
    View,
    /// On `Value<T, L>`: `x()?`, `set_x(v)?`, `update_x(f)?`, each in one acquisition of
    /// the lock.
    Synced,
}

/// The three accessors of every field, in `flavour`.
pub(super) fn accessors(cx: &Ctx<'_>, flavour: Flavour) -> TokenStream {
    cx.input
        .fields
        .iter()
        .map(|field| field_accessors(cx, field, flavour))
        .collect()
}

fn field_accessors(cx: &Ctx<'_>, field: &Field<'_>, flavour: Flavour) -> TokenStream {
    let sc = &cx.sc;
    let ty = field.ty;
    let vis = field.vis;
    let name = &field.name;
    let [get, set, update] = [
        &field.accessors.get,
        &field.accessors.set,
        &field.accessors.update,
    ];
    // The place of the field. Its offset comes from `::core` whatever `crate = ".."` says,
    // so that the `unsafe` projection relies on nothing a user-chosen path provides.
    let offset = cx.offset_of(field);
    let project = |place: TokenStream| {
        quote! {
            // SAFETY: `offset_of!` (from `::core`) gives the offset of this field, whose type
            // is exactly the one projected to, which is what `Place::field` requires.
            unsafe { #place.field::<#ty>(#offset) }
        }
    };
    match flavour {
        Flavour::View => {
            let field_place = project(quote!(self.place));
            let get_doc = format!(
                "Field `{name}`: a copy of the value, or the view of a struct or array field."
            );
            let set_doc = format!("Writes field `{name}`.");
            let update_doc = format!(
                "Writes `f(old)` into field `{name}` and returns it (a load then a store: hold the lock to make it atomic)."
            );
            quote! {
                #[doc = #get_doc]
                #[inline]
                #vis fn #get(&self) -> <#ty as #sc::SharedLayout>::View<'a> {
                    #field_place.view()
                }
                #[doc = #set_doc]
                #[inline]
                #vis fn #set(&self, value: #ty) {
                    #field_place.store(value)
                }
                #[doc = #update_doc]
                #[inline]
                #vis fn #update(&self, f: impl ::core::ops::FnOnce(#ty) -> #ty) -> #ty {
                    #field_place.update(f)
                }
            }
        }
        Flavour::Synced => {
            let field_place = project(quote!(v.place()));
            let get_doc = format!("A copy of field `{name}`, read under the lock.");
            let set_doc = format!("Writes field `{name}` under the lock.");
            let update_doc = format!(
                "Writes `f(old)` into field `{name}` in one acquisition of the lock, and returns it."
            );
            quote! {
                #[doc = #get_doc]
                #vis fn #get(&self) -> #sc::Result<#ty> {
                    self.0.locked(|v| #field_place.load())
                }
                #[doc = #set_doc]
                #vis fn #set(&self, value: #ty) -> #sc::Result<()> {
                    self.0.locked(|v| #field_place.store(value))
                }
                #[doc = #update_doc]
                #vis fn #update(&self, f: impl ::core::ops::FnOnce(#ty) -> #ty) -> #sc::Result<#ty> {
                    self.0.locked(|v| #field_place.update(f))
                }
            }
        }
    }
}
