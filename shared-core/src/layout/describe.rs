//! A layout as one line of text: compact and unambiguous for programs (a spawned child, the
//! Python module), and a summary for error messages.
//!
//! ```text
//! desc   := NAME                                   a scalar: f64, i32, CChar, ...
//!         | "[" desc ";" LEN "]"                   an array
//!         | NAME "(" SIZE "," ALIGN ["," REPR_ALIGN] ")" "{" [field {"," field}] "}"
//! field  := NAME "@" OFFSET ":" TYPE_NAME "=" desc
//! ```
//!
//! Names and type names are percent-encoded: every byte outside `[A-Za-z0-9_]` is `%XX`.

use core::fmt::Write as _;

use super::{Layout, LayoutKind};

/// `s` with every byte outside `[A-Za-z0-9_]` written as `%XX`.
fn encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

impl Layout {
    /// The layout as one line of text (grammar in the module docs), as handles of shared
    /// objects and named objects' headers carry it, for programs that have no Rust type to
    /// check against (the Python package `sharedctypes` rebuilds a `ctypes` type from it and checks
    /// its fingerprint).
    ///
    /// ```
    /// use sharedctypes::{SharedLayout, ctypes::c_double};
    ///
    /// #[derive(Clone, Copy, SharedLayout)]
    /// #[repr(C)]
    /// struct Point {
    ///     x: c_double,
    ///     y: [u8; 2],
    /// }
    ///
    /// assert_eq!(
    ///     Point::LAYOUT.describe(),
    ///     "Point(16,8){x@0:c_double=f64,y@8:%5Bu8%3B%202%5D=[u8;2]}"
    /// );
    /// assert_eq!(i32::LAYOUT.describe(), "i32");
    /// ```
    #[must_use]
    pub fn describe(&self) -> String {
        let mut out = String::new();
        self.describe_into(&mut out);
        out
    }

    fn describe_into(&self, out: &mut String) {
        match self.kind {
            LayoutKind::Primitive { .. } => encode(self.name, out),
            LayoutKind::Array { elem, len } => {
                out.push('[');
                elem.describe_into(out);
                let _ = write!(out, ";{len}]");
            }
            LayoutKind::Struct { fields, repr_align } => {
                encode(self.name, out);
                let _ = write!(out, "({},{}", self.size, self.align);
                if let Some(n) = repr_align {
                    let _ = write!(out, ",{n}");
                }
                out.push_str("){");
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    encode(f.name, out);
                    let _ = write!(out, "@{}:", f.offset);
                    encode(f.type_name, out);
                    out.push('=');
                    f.layout.describe_into(out);
                }
                out.push('}');
            }
        }
    }

    /// A one-line summary for messages: size, alignment, fingerprint and, for a struct, its
    /// fields.
    ///
    /// ```
    /// use sharedctypes::SharedLayout;
    ///
    /// #[derive(Clone, Copy, SharedLayout)]
    /// #[repr(C)]
    /// struct Pair {
    ///     a: u8,
    ///     b: u32,
    /// }
    ///
    /// assert_eq!(
    ///     Pair::LAYOUT.summary(),
    ///     format!("8 bytes, align 4, fingerprint {:#018x}: a: u8 at 0, b: u32 at 4", Pair::LAYOUT.fingerprint)
    /// );
    /// ```
    #[must_use]
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{} bytes, align {}, fingerprint {:#018x}",
            self.size, self.align, self.fingerprint
        );
        let fields = self.fields();
        for (i, f) in fields.iter().enumerate() {
            out.push_str(if i == 0 { ": " } else { ", " });
            let _ = write!(out, "{}: {} at {}", f.name, f.type_name, f.offset);
        }
        out
    }
}
