//! Refuses what cannot live in shared memory, each with a message that says why.
//!
//! Only what can be seen in the syntax is checked here; that every field type implements
//! `SharedLayout` (which catches pointers hidden behind type aliases, too) is checked by the
//! compiler on the generated code, with the trait's own diagnostic.

use std::collections::BTreeMap;

use proc_macro2::Span;
use syn::{GenericArgument, PathArguments, Type};

use crate::ast::{Container, Kind};
use crate::ctxt::Ctxt;

/// The largest alignment the shared heap provides: `sharedctypes::heap::MAX_ALIGN`. A proc
/// macro cannot read the runtime's constant; `tests/architecture.rs` fails if they drift.
pub(crate) const MAX_ALIGN: u64 = 4096;

pub(crate) fn check(input: &Container<'_>, errors: &mut Ctxt) {
    match input.kind {
        Kind::Struct => {}
        Kind::Enum(span) => {
            return errors.error(
                span,
                "#[derive(SharedLayout)] cannot be used on an enum: the size and valid discriminants of a Rust enum are not fixed by C, and a byte written by another process may be an invalid discriminant; use an integer field with named constants",
            );
        }
        Kind::Union(span) => {
            return errors.error(
                span,
                "#[derive(SharedLayout)] does not support unions (ctypes.Union): shared values are copied field by field, and no process can know which field of a union another process wrote last; use a struct, or a byte array with explicit conversions",
            );
        }
    }
    check_item(input, errors);
    for field in &input.fields {
        check_type(field.ty, &field.name, errors);
    }
    check_accessor_names(input, errors);
}

fn check_item(input: &Container<'_>, errors: &mut Ctxt) {
    let repr = &input.repr;
    if let Some(span) = repr.packed {
        errors.error(
            span,
            "#[repr(packed)] is not supported by #[derive(SharedLayout)]: packed fields can be misaligned, and shared memory is read and written with atomic operations that need natural alignment; use plain #[repr(C)], and reorder the fields or add explicit padding fields to match a packed C definition",
        );
    }
    if let Some(span) = repr.transparent {
        errors.error(
            span,
            "#[derive(SharedLayout)] requires #[repr(C)], not #[repr(transparent)]: write #[repr(C)] so the layout is the C layout every process agrees on",
        );
    }
    if let Some((name, span)) = &repr.other {
        errors.error(
            *span,
            format!(
                "#[repr({name})] is not a C struct layout: #[derive(SharedLayout)] requires #[repr(C)] (optionally with align(N))"
            ),
        );
    }
    if !repr.c && repr.transparent.is_none() && repr.packed.is_none() {
        errors.error(
            input.ident.span(),
            format!(
                "#[derive(SharedLayout)] requires #[repr(C)] on `{}`: Rust's default layout is unspecified and may differ between compilations, so another process, C code or Python's ctypes could see different field offsets",
                input.ident
            ),
        );
    }
    if let Some((align, span)) = repr.align {
        if align > MAX_ALIGN {
            errors.error(
                span,
                format!(
                    "#[repr(align({align}))] is larger than the shared heap's maximum alignment of {MAX_ALIGN} bytes (one page)"
                ),
            );
        }
    }
    let generics = input.generics;
    if let Some(param) = generics.params.first() {
        let msg = match param {
            syn::GenericParam::Lifetime(_) => {
                "#[derive(SharedLayout)] does not support lifetime parameters: a struct in shared memory cannot hold references, which are only valid in the process that created them"
            }
            _ => {
                "#[derive(SharedLayout)] does not support generic structs: the layout is proven at compile time and must not depend on type or const parameters; define a concrete struct for each instantiation"
            }
        };
        errors.error_spanned(&generics.params, msg);
    } else if let Some(clause) = &generics.where_clause {
        errors.error_spanned(
            clause,
            "#[derive(SharedLayout)] does not support where clauses",
        );
    }
}

/// Refuses field types that are visibly process-local or not valid for every bit pattern.
fn check_type(ty: &Type, field: &str, errors: &mut Ctxt) {
    match ty {
        Type::Ptr(_) => errors.error_spanned(
            ty,
            format!(
                "field `{field}` is a raw pointer: a pointer is only valid in the process that wrote it, so it cannot be shared; store an index or an offset instead"
            ),
        ),
        Type::Reference(_) => errors.error_spanned(
            ty,
            format!(
                "field `{field}` is a reference: a reference is only valid in the process that created it, so it cannot be shared; store the value itself, or an index"
            ),
        ),
        Type::BareFn(_) => errors.error_spanned(
            ty,
            format!(
                "field `{field}` is a function pointer: a pointer is only valid in the process that wrote it (code may be mapped at other addresses in another process); store an enum tag as an integer instead"
            ),
        ),
        Type::Tuple(t) if t.elems.is_empty() => {}
        Type::Tuple(_) => errors.error_spanned(
            ty,
            format!(
                "field `{field}` is a tuple: Rust tuples have no guaranteed layout; use a #[repr(C)] struct with #[derive(SharedLayout)]"
            ),
        ),
        Type::Slice(_) => errors.error_spanned(
            ty,
            format!(
                "field `{field}` is a slice, whose length is not fixed at compile time; use an array [T; N]"
            ),
        ),
        Type::TraitObject(_) | Type::ImplTrait(_) => errors.error_spanned(
            ty,
            format!(
                "field `{field}` is a trait object: it holds a vtable pointer, which is only valid in the process that created it"
            ),
        ),
        Type::Never(_) => errors.error_spanned(ty, format!("field `{field}` has the never type `!`")),
        Type::Array(array) => check_type(&array.elem, field, errors),
        Type::Paren(inner) => check_type(&inner.elem, field, errors),
        Type::Group(inner) => check_type(&inner.elem, field, errors),
        Type::Path(path) if path.qself.is_none() => {
            if let Some(last) = path.path.segments.last() {
                if let Some(msg) = refused_path(&last.ident.to_string(), field) {
                    errors.error_spanned(ty, msg);
                }
                if let PathArguments::AngleBracketed(args) = &last.arguments {
                    for arg in &args.args {
                        if let GenericArgument::Type(inner) = arg {
                            check_type(inner, field, errors);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

fn refused_path(name: &str, field: &str) -> Option<String> {
    const HEAP: &[&str] = &[
        "Box",
        "Vec",
        "String",
        "Rc",
        "Arc",
        "Weak",
        "HashMap",
        "HashSet",
        "BTreeMap",
        "BTreeSet",
        "VecDeque",
        "BinaryHeap",
        "LinkedList",
        "CString",
        "OsString",
        "PathBuf",
        "Cow",
    ];
    const POINTERS: &[&str] = &["NonNull", "AtomicPtr"];
    let a = if name.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    if HEAP.contains(&name) {
        return Some(format!(
            "field `{field}` is {a} `{name}`: it points to heap memory that is only valid in the process that allocated it; use a fixed-size array [T; N] (or a CChar array for text) instead"
        ));
    }
    if POINTERS.contains(&name) {
        return Some(format!(
            "field `{field}` is {a} `{name}`: a pointer is only valid in the process that wrote it, so it cannot be shared; store an index or an offset instead"
        ));
    }
    match name {
        "bool" => Some(format!(
            "field `{field}` is a `bool`: only the bytes 0 and 1 are valid bools, and another process may write any byte; use `sharedctypes::CBool` (C's _Bool)"
        )),
        "char" => Some(format!(
            "field `{field}` is a `char`: not every 32-bit value is a valid char, and another process may write any; use `sharedctypes::WChar` (C's wchar_t) or `CChar` for bytes"
        )),
        "str" => Some(format!(
            "field `{field}` is a `str`: unsized and not valid for every byte; use a CChar array"
        )),
        _ => None,
    }
}

/// Methods of `Synchronized` (what `Value<T>` is) that would hide a field getter of the same
/// name reached through `Value<T>`'s `Deref`: the inherent methods of `Synchronized<O, L>`
/// and `Synchronized<RawValue<T>, L>` in `shared-core/src/synchronized/`. A proc macro cannot
/// list them itself; `tests/architecture.rs` fails if this list drifts from those impls.
pub(crate) const SYNCHRONIZED_METHODS: &[&str] = &[
    "get_lock",
    "get_obj",
    "into_parts",
    "lock",
    "lock_timeout",
    "locked",
    "set_bytes",
    "to_bytes",
    "try_lock",
    "update",
];

/// Methods of traits in the prelude implemented for every type (`Into`, `TryInto`), which
/// method resolution finds before an accessor taking `&self`.
const BLANKET_TRAIT_METHODS: &[&str] = &["into", "try_into"];

/// Every generated method name must be unique within its view type, and reachable.
fn check_accessor_names(input: &Container<'_>, errors: &mut Ctxt) {
    let mut names: BTreeMap<String, (String, Span)> = BTreeMap::new();
    for reserved in ["get", "set", "place"] {
        names.insert(
            reserved.to_string(),
            (format!("the view's own `{reserved}()`"), Span::call_site()),
        );
    }
    for field in &input.fields {
        let getter = field.accessors.names()[0].clone();
        let name = input.ident;
        let hidden = if SYNCHRONIZED_METHODS.contains(&getter.as_str()) {
            Some(format!(
                "on `Value<{name}>`, by the method `Synchronized::{getter}()`"
            ))
        } else if BLANKET_TRAIT_METHODS.contains(&getter.as_str()) {
            Some(format!(
                "on `Value<{name}>` and on its views, by the prelude's `{getter}()` that every type has"
            ))
        } else {
            None
        };
        if let Some(hidden) = hidden {
            errors.error(
                field.span,
                format!(
                    "field `{getter}` cannot be reached: its accessor `{getter}()` would be hidden {hidden}; rename the field (its name does not affect the layout)"
                ),
            );
        }
        for method in field.accessors.names() {
            let this = format!("field `{}`", field.name);
            if let Some((other, _)) = names.get(&method) {
                errors.error(
                    field.span,
                    format!(
                        "the accessor `{method}()` generated for {this} would collide with {other}; rename the field"
                    ),
                );
            } else {
                names.insert(method, (format!("an accessor of {this}"), field.span));
            }
        }
    }
}
