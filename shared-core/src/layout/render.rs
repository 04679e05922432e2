//! Rendering layouts: a pahole-style table (`Display`), C declarations, Python `ctypes`
//! classes.

use core::fmt::{self, Write as _};

use super::{Layout, LayoutKind};

impl fmt::Display for Layout {
    /// A pahole-style table: every field with its offset and size, every hole between fields,
    /// the trailing padding, and a summary line.
    ///
    /// ```
    /// use sharedctypes::SharedLayout;
    /// assert_eq!(f64::LAYOUT.to_string(), "f64 /* size: 8, align: 8 */");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let LayoutKind::Struct { fields, repr_align } = self.kind else {
            return write!(
                f,
                "{} /* size: {}, align: {} */",
                self.type_name(),
                self.size,
                self.align
            );
        };
        let mut rows: Vec<(String, String)> = Vec::new();
        rows.push((
            format!("struct {} {{", self.name),
            "/* offset  size */".into(),
        ));
        let mut end = 0;
        let (mut holes, mut hole_bytes) = (0, 0);
        for field in fields {
            if field.offset > end {
                holes += 1;
                hole_bytes += field.offset - end;
                rows.push((
                    format!("    /* XXX {} hole */", bytes(field.offset - end)),
                    String::new(),
                ));
            }
            rows.push((
                format!("    {}: {},", field.name, field.type_name),
                format!("/* {:>6} {:>5} */", field.offset, field.size),
            ));
            end = field.offset + field.size;
        }
        let padding = self.size.saturating_sub(end);
        if padding > 0 {
            rows.push((
                format!("    /* XXX {} padding */", bytes(padding)),
                String::new(),
            ));
        }
        let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0).max(32) + 2;
        if let Some(n) = repr_align {
            writeln!(f, "#[repr(C, align({n}))]")?;
        }
        for (left, right) in &rows {
            if right.is_empty() {
                writeln!(f, "{left}")?;
            } else {
                writeln!(f, "{left:<width$}{right}")?;
            }
        }
        write!(
            f,
            "{:<width$}/* size: {}, align: {}, members: {}, holes: {holes} ({hole_bytes} bytes), padding: {padding}, fingerprint: {:#018x} */",
            "}",
            self.size,
            self.align,
            fields.len(),
            self.fingerprint,
        )
    }
}

fn bytes(n: usize) -> String {
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

impl Layout {
    /// The equivalent C declaration, self-contained: the `#include`s it needs, then every
    /// nested struct, then this one. Tuple fields are named `_0`, `_1`, …; a field named like
    /// a C keyword gets a trailing underscore (`int` → `int_`); different structs that share
    /// a name (`a::P`, `b::P`) are told apart by their fingerprint (`P_3dbd…`). A struct whose layout C would lay out differently cannot
    /// exist: the derive checks the C rules at compile time.
    ///
    /// ```
    /// use sharedctypes::SharedLayout;
    /// assert_eq!(<[i32; 3]>::LAYOUT.to_c(), "#include <stddef.h>\n#include <stdint.h>\n#include <wchar.h>\n\ntypedef int32_t array_t[3];\n");
    /// ```
    #[must_use]
    pub fn to_c(&self) -> String {
        c_declarations(&[self])
    }

    /// The equivalent Python `ctypes` declaration, self-contained (`import ctypes`, nested
    /// structs first). `#[repr(align(N))]` becomes `_align_ = N`, which needs Python 3.13.
    ///
    /// ```
    /// use sharedctypes::SharedLayout;
    /// assert_eq!(f64::LAYOUT.to_ctypes(), "import ctypes\n\nT = ctypes.c_double\n");
    /// ```
    #[must_use]
    pub fn to_ctypes(&self) -> String {
        ctypes_declarations(&[self])
    }
}

/// The names structs get in rendered declarations: their own name, or, where different
/// structs share a name (`a::P` and `b::P`), the name followed by their fingerprint.
struct Names(Vec<(u64, String)>);

impl Names {
    fn of(structs: &[&Layout]) -> Names {
        Names(
            structs
                .iter()
                .map(|l| {
                    let shared = structs
                        .iter()
                        .any(|o| o.name == l.name && o.fingerprint != l.fingerprint);
                    let name = if shared {
                        format!("{}_{:016x}", l.name, l.fingerprint)
                    } else {
                        l.name.to_string()
                    };
                    (l.fingerprint, name)
                })
                .collect(),
        )
    }

    fn get<'a>(&'a self, layout: &'a Layout) -> &'a str {
        self.0
            .iter()
            .find(|(f, _)| *f == layout.fingerprint)
            .map_or(layout.name, |(_, n)| n.as_str())
    }
}

/// The structs reachable from `roots`, dependencies first, each once.
fn structs_in_order<'a>(roots: &[&'a Layout]) -> Vec<&'a Layout> {
    fn visit<'a>(layout: &'a Layout, out: &mut Vec<&'a Layout>) {
        match layout.kind {
            LayoutKind::Array { elem, .. } => visit(elem, out),
            LayoutKind::Struct { fields, .. } => {
                if out.iter().any(|l| l.fingerprint == layout.fingerprint) {
                    return;
                }
                for field in fields {
                    visit(field.layout, out);
                }
                out.push(layout);
            }
            LayoutKind::Primitive { .. } => {}
        }
    }
    let mut out = Vec::new();
    for &root in roots {
        visit(root, &mut out);
    }
    out
}

/// Splits nested arrays into the innermost element and the dimensions, outermost first.
fn array_dims(mut layout: &Layout) -> (&Layout, Vec<usize>) {
    let mut dims = Vec::new();
    while let LayoutKind::Array { elem, len } = layout.kind {
        dims.push(len);
        layout = elem;
    }
    (layout, dims)
}

/// A Python identifier for a field (`0` → `_0`).
fn field_ident(name: &str) -> String {
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name.to_string()
    }
}

/// The keywords of C (C89 to C23), separated by spaces. A Rust field can be named like any of
/// them (those that are Rust keywords too as raw identifiers, `r#struct`).
const C_KEYWORDS: &str = "alignas alignof auto bool break case char const constexpr continue \
    default do double else enum extern false float for goto if inline int long nullptr \
    register restrict return short signed sizeof static static_assert struct switch \
    thread_local true typedef typeof typeof_unqual union unsigned void volatile while \
    _Alignas _Alignof _Atomic _BitInt _Bool _Complex _Decimal32 _Decimal64 _Decimal128 \
    _Generic _Imaginary _Noreturn _Static_assert _Thread_local";

/// A C identifier for a field: `0` → `_0`, and a C keyword gets a trailing underscore
/// (`int` → `int_`).
fn c_field_ident(name: &str) -> String {
    let ident = field_ident(name);
    if C_KEYWORDS.split_whitespace().any(|k| k == ident) {
        ident + "_"
    } else {
        ident
    }
}

fn c_base(layout: &Layout, names: &Names) -> String {
    match layout.kind {
        LayoutKind::Primitive { c_type, .. } => c_type.to_string(),
        _ => format!("struct {}", names.get(layout)),
    }
}

fn c_declarator(layout: &Layout, name: &str, names: &Names) -> String {
    let (base, dims) = array_dims(layout);
    let mut out = format!("{} {name}", c_base(base, names));
    for d in dims {
        let _ = write!(out, "[{d}]");
    }
    out
}

/// C declarations for several layouts at once: the `#include`s, then every struct reachable
/// from `roots`, each once, dependencies first. Non-struct roots become `typedef`s named
/// `array_t` / `T`.
///
/// ```
/// use sharedctypes::{SharedLayout, layout::c_declarations};
///
/// #[derive(Clone, Copy, SharedLayout)]
/// #[repr(C)]
/// struct Vec2 {
///     x: f32,
///     y: f32,
/// }
///
/// #[derive(Clone, Copy, SharedLayout)]
/// #[repr(C)]
/// struct Body {
///     pos: Vec2,
///     vel: Vec2,
///     mass: f64,
/// }
///
/// let header = c_declarations(&[&Body::LAYOUT, &Vec2::LAYOUT, &<[u16; 4]>::LAYOUT]);
/// assert_eq!(header, "\
/// #include <stddef.h>
/// #include <stdint.h>
/// #include <wchar.h>
///
/// struct Vec2 {
///     float x;
///     float y;
/// };
///
/// struct Body {
///     struct Vec2 pos;
///     struct Vec2 vel;
///     double mass;
/// };
///
/// typedef uint16_t array_t[4];
/// ");
/// ```
pub fn c_declarations(roots: &[&Layout]) -> String {
    let mut out = String::from("#include <stddef.h>\n#include <stdint.h>\n#include <wchar.h>\n");
    let structs = structs_in_order(roots);
    let names = Names::of(&structs);
    for layout in structs {
        let LayoutKind::Struct { fields, repr_align } = layout.kind else {
            continue;
        };
        out.push('\n');
        match (repr_align, fields.is_empty()) {
            (Some(n), true) => {
                let _ = writeln!(
                    out,
                    "struct __attribute__((aligned({n}))) {} {{",
                    names.get(layout)
                );
            }
            _ => {
                let _ = writeln!(out, "struct {} {{", names.get(layout));
            }
        }
        // `align(N)` only matters when N exceeds every field's alignment; C11 forbids an
        // `_Alignas` weaker than the field it is written on, so it is written only then.
        let natural = fields.iter().map(|f| f.layout.align).max().unwrap_or(1);
        for (i, field) in fields.iter().enumerate() {
            let align = match repr_align {
                Some(n) if i == 0 && n > natural => format!("_Alignas({n}) "),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "    {align}{};",
                c_declarator(field.layout, &c_field_ident(field.name), &names)
            );
        }
        out.push_str("};\n");
    }
    for &root in roots {
        if !root.is_struct() {
            let name = if matches!(root.kind, LayoutKind::Array { .. }) {
                "array_t"
            } else {
                "T"
            };
            let _ = writeln!(out, "\ntypedef {};", c_declarator(root, name, &names));
        }
    }
    out
}

fn ctypes_type(layout: &Layout, names: &Names) -> String {
    let (base, dims) = array_dims(layout);
    let mut out = match base.kind {
        LayoutKind::Primitive { ctypes, .. } => format!("ctypes.{ctypes}"),
        _ => names.get(base).to_string(),
    };
    for d in dims.iter().rev() {
        let _ = write!(out, " * {d}");
    }
    out
}

/// Python `ctypes` declarations for several layouts at once: `import ctypes`, then a
/// `ctypes.Structure` class for every struct reachable from `roots`, each once, dependencies
/// first. Non-struct roots become assignments to `T`.
///
/// ```
/// use sharedctypes::{SharedLayout, layout::ctypes_declarations};
///
/// #[derive(Clone, Copy, SharedLayout)]
/// #[repr(C)]
/// struct Vec2 {
///     x: f32,
///     y: f32,
/// }
///
/// #[derive(Clone, Copy, SharedLayout)]
/// #[repr(C)]
/// struct Body {
///     pos: Vec2,
///     vel: Vec2,
///     mass: f64,
/// }
///
/// let module = ctypes_declarations(&[&Body::LAYOUT, &Vec2::LAYOUT]);
/// assert_eq!(module, r#"import ctypes
///
/// class Vec2(ctypes.Structure):
///     _fields_ = [
///         ("x", ctypes.c_float),
///         ("y", ctypes.c_float),
///     ]
///
/// class Body(ctypes.Structure):
///     _fields_ = [
///         ("pos", Vec2),
///         ("vel", Vec2),
///         ("mass", ctypes.c_double),
///     ]
/// "#);
/// ```
pub fn ctypes_declarations(roots: &[&Layout]) -> String {
    let mut out = String::from("import ctypes\n");
    let structs = structs_in_order(roots);
    let names = Names::of(&structs);
    for layout in structs {
        let LayoutKind::Struct { fields, repr_align } = layout.kind else {
            continue;
        };
        let _ = write!(out, "\nclass {}(ctypes.Structure):\n", names.get(layout));
        if let Some(n) = repr_align {
            let _ = writeln!(out, "    _align_ = {n}");
        }
        out.push_str("    _fields_ = [\n");
        for field in fields {
            let _ = writeln!(
                out,
                "        (\"{}\", {}),",
                field_ident(field.name),
                ctypes_type(field.layout, &names)
            );
        }
        out.push_str("    ]\n");
    }
    for &root in roots {
        if !root.is_struct() {
            let _ = writeln!(out, "\nT = {}", ctypes_type(root, &names));
        }
    }
    out
}
