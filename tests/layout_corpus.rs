//! Cross-checks `#[derive(SharedLayout)]` and the layout renderers against real compilers.
//!
//! A corpus of `#[repr(C)]` structs (mixed sizes and alignments, char arrays, nested structs,
//! arrays of structs, 2-D arrays, `#[repr(C, align(N))]`, tuple and unit structs, …) is
//! rendered with [`c_declarations`] and [`ctypes_declarations`]; the C file is compiled with
//! the system C compiler and run, the Python file is run with Python >= 3.13, and every size,
//! alignment, field offset and field size they print must equal the derive's [`Layout`].
//!
//! Nothing is skipped: without a C compiler or a suitable Python the tests fail and say what
//! to install or which environment variable to set.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sharedctypes::ctypes::*;
use sharedctypes::layout::{Layout, LayoutKind};
use sharedctypes::layout::{c_declarations, ctypes_declarations};
use sharedctypes::{CBool, CChar, SharedLayout, WChar};

// ---------------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------------

/// A `u8` after a `u64`: 7 bytes of trailing padding.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct U8AfterU64 {
    a: u64,
    b: u8,
}

/// Every fixed-width integer, smallest first: a hole before each wider one.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct IntMix {
    a: i8,
    b: i16,
    c: u8,
    d: i32,
    e: u16,
    f: i64,
    g: u32,
    h: u64,
    i: i8,
}

/// Widest first, then alternating: holes in the middle and at the end.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct IntMixDescending {
    a: u64,
    b: i32,
    c: u16,
    d: i8,
    e: i64,
    f: u8,
    g: i16,
}

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Floats {
    a: f32,
    b: f64,
    c: f32,
    d: [f64; 2],
    e: u8,
}

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Chars {
    c: CChar,
    w: WChar,
    b: CBool,
    name: [CChar; 13],
    flag: CBool,
}

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct CharArrays {
    one: [CChar; 1],
    odd: [CChar; 7],
    wide: [WChar; 3],
    tail: CChar,
    flags: [CBool; 5],
}

/// CPython's `Lib/test/test_multiprocessing` struct `_Foo`.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct _Foo {
    x: c_int,
    y: c_double,
    z: c_longlong,
}

/// Every `ctypes` alias, interleaved so most of them need a hole.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct CtypesAliases {
    a: c_char,
    b: c_short,
    c: c_bool,
    d: c_long,
    e: c_byte,
    f: c_ushort,
    g: c_ubyte,
    h: c_uint,
    i: c_wchar,
    j: c_ulong,
    k: c_float,
    l: c_ulonglong,
    m: c_int8,
    n: c_uint64,
    o: c_ssize_t,
    p: c_uint16,
    q: c_size_t,
}

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Sizes {
    a: u8,
    n: usize,
    b: u16,
    d: isize,
    c: CChar,
}

/// Innermost of three nesting levels.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Level3 {
    a: u8,
    b: f64,
}

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Level2 {
    x: i16,
    inner: Level3,
    y: u8,
}

/// Three levels deep: `Level1` → `Level2` → `Level3`.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Level1 {
    tag: CChar,
    mid: Level2,
    tail: [Level3; 2],
    end: u16,
}

/// Four levels, through an array: `Deep` → `[Level1; 2]` → `Level2` → `Level3`.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Deep {
    flag: CBool,
    levels: [Level1; 2],
    last: u8,
}

/// Size 4, alignment 2.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct SmallPair {
    a: u8,
    b: u16,
}

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct ArrayOfStructs {
    count: u8,
    pairs: [SmallPair; 5],
    last: u8,
    grid: [[SmallPair; 2]; 3],
}

/// 2-D and 3-D arrays.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Matrix {
    tag: u8,
    m: [[f32; 3]; 2],
    cube: [[[u16; 2]; 3]; 4],
    b: u8,
}

/// `align(16)` on a struct whose fields need only 1.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C, align(16))]
struct Aligned16 {
    a: u8,
}

#[derive(Clone, Copy, SharedLayout)]
#[repr(C, align(64))]
struct Aligned64 {
    a: u32,
    b: [u8; 3],
}

/// `align(N)` structs nested inside a plain one.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct ContainsAligned {
    a: u8,
    inner: Aligned16,
    b: u8,
    big: Aligned64,
    c: u16,
}

/// `align(N)` structs as array elements.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct AlignedArrays {
    head: u8,
    items: [Aligned16; 3],
    tail: u32,
    bigs: [Aligned64; 2],
    end: CChar,
}

/// An `align(32)` struct holding an `align(16)` one and an `f64`.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C, align(32))]
struct AlignedOuter {
    inner: Aligned16,
    x: f64,
    c: CChar,
}

/// `align(8)` on a struct whose own fields need 8: the attribute changes nothing.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C, align(8))]
struct AlignedEqual {
    a: u64,
    b: u8,
}

/// `align(4)` below the alignment of a *later* field: the struct gets 8, and the first field
/// can still carry `_Alignas(4)` in C.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C, align(4))]
struct AlignBelowLaterField {
    a: u8,
    b: u64,
}

/// Trailing padding after a small last field.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct TrailingPadding {
    a: f64,
    b: u16,
    c: u8,
}

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Tuple(i32, f64, u8);

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct TupleNested(SmallPair, [CChar; 3], u64, Level3);

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Unit;

/// A zero-sized `align(8)` struct (rendered with `__attribute__((aligned(8)))` in C).
#[derive(Clone, Copy, SharedLayout)]
#[repr(C, align(8))]
struct AlignedUnit;

/// Zero-sized fields: a unit struct, a zero-length array, an aligned unit struct.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct ZeroSizedFields {
    a: u8,
    u: Unit,
    b: u32,
    none: [u64; 0],
    au: AlignedUnit,
    c: u8,
}

/// All the structs whose layouts are checked, nested ones included.
fn corpus() -> Vec<&'static Layout> {
    macro_rules! layouts {
        ($($t:ty),* $(,)?) => {{
            let v: Vec<&'static Layout> = vec![$({
                const L: &Layout = &<$t as SharedLayout>::LAYOUT;
                // The derive's numbers are Rust's own.
                assert_eq!(
                    (L.size, L.align),
                    (size_of::<$t>(), align_of::<$t>()),
                    "LAYOUT of {} disagrees with size_of/align_of",
                    stringify!($t),
                );
                L
            }),*];
            v
        }};
    }
    layouts![
        U8AfterU64,
        IntMix,
        IntMixDescending,
        Floats,
        Chars,
        CharArrays,
        _Foo,
        CtypesAliases,
        Sizes,
        Level3,
        Level2,
        Level1,
        Deep,
        SmallPair,
        ArrayOfStructs,
        Matrix,
        Aligned16,
        Aligned64,
        ContainsAligned,
        AlignedArrays,
        AlignedOuter,
        AlignedEqual,
        AlignBelowLaterField,
        TrailingPadding,
        Tuple,
        TupleNested,
        Unit,
        AlignedUnit,
        ZeroSizedFields,
    ]
}

/// `align(4)` below the alignment of the *first* field (8). Valid Rust (the struct's alignment
/// is 8) and a valid ctypes `_align_`, but C11 forbids an `_Alignas` that is weaker than the
/// type's own alignment (6.7.5p4), so the renderer must not put `_Alignas(4)` on `a`.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C, align(4))]
struct AlignBelowFirstField {
    a: u64,
    b: u8,
}

/// The same with a struct as the first field.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C, align(2))]
struct AlignBelowNestedFirstField {
    inner: Level3,
    c: u8,
}

/// Fields named like C keywords (valid Rust names): rendered `int_`, `default_`, … in C.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct CKeywords {
    int: i32,
    default: u8,
    unsigned: u16,
    char: [CChar; 3],
    r#typeof: f64,
}

/// Fields named like C keywords that are Rust keywords too (raw identifiers).
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct RawKeywords {
    r#struct: u8,
    r#if: u64,
    r#return: i16,
}

/// Two different structs named `P`, nested in one: the renderers must keep them apart.
mod same_name_a {
    #[derive(Clone, Copy, sharedctypes::SharedLayout)]
    #[repr(C)]
    pub struct P {
        pub x: u8,
    }
}

mod same_name_b {
    #[derive(Clone, Copy, sharedctypes::SharedLayout)]
    #[repr(C)]
    pub struct P {
        pub y: f64,
        pub z: u32,
    }
}

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct BothPs {
    a: same_name_a::P,
    b: same_name_b::P,
}

/// Structs kept out of [`corpus`] so that a failure here does not hide the corpus results.
fn edge_corpus() -> Vec<&'static Layout> {
    vec![
        &AlignBelowFirstField::LAYOUT,
        &AlignBelowNestedFirstField::LAYOUT,
        &CKeywords::LAYOUT,
        &RawKeywords::LAYOUT,
    ]
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The structs reachable from `roots` (roots first, then what they nest), each once. Panics
/// if two different structs share a name: one C file or Python module could not hold both.
fn all_structs(roots: &[&'static Layout]) -> Vec<&'static Layout> {
    fn visit(layout: &'static Layout, out: &mut Vec<&'static Layout>) {
        match layout.kind {
            LayoutKind::Array { elem, .. } => visit(elem, out),
            LayoutKind::Struct { fields, .. } => {
                if let Some(seen) = out.iter().find(|l| l.name == layout.name) {
                    assert_eq!(
                        seen.fingerprint, layout.fingerprint,
                        "two different structs named `{}` in the corpus",
                        layout.name
                    );
                    return;
                }
                out.push(layout);
                for f in fields {
                    visit(f.layout, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for &root in roots {
        visit(root, &mut out);
    }
    out
}

/// The Python identifier of a field: tuple fields `0`, `1` are rendered `_0`, `_1`.
fn ident(field_name: &str) -> String {
    if field_name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{field_name}")
    } else {
        field_name.to_string()
    }
}

/// The C identifier of a field: as in Python, and a C keyword gets a trailing underscore.
fn c_ident(field_name: &str) -> String {
    match ident(field_name) {
        id if [
            "int", "default", "unsigned", "char", "typeof", "struct", "if", "return",
        ]
        .contains(&id.as_str()) =>
        {
            id + "_"
        }
        id => id,
    }
}

/// A fresh directory under the system temp dir. Left in place when a test fails, so the
/// generated sources can be inspected; removed by [`ScratchDir::remove`] on success.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(tag: &str) -> ScratchDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "sharedctypes-layout-corpus-{tag}-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
        ));
        std::fs::create_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot create scratch dir {}: {e}", dir.display()));
        ScratchDir(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    fn write(&self, file: &str, text: &str) -> PathBuf {
        let path = self.path(file);
        std::fs::write(&path, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    fn remove(self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn describe(output: &Output) -> String {
    format!(
        "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Prefixes every line with its number, for failure messages.
fn numbered(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| format!("{:4} | {l}\n", i + 1))
        .collect()
}

/// What a generated program printed: `size S n`, `align S n`, `offset S f n`, `fsize S f n`,
/// `fields S n` (Python only), one number per line.
#[derive(Default)]
struct Measured(BTreeMap<(String, String, String), usize>);

impl Measured {
    fn parse(stdout: &str) -> Measured {
        let mut map = BTreeMap::new();
        for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let (key, value) = match words.as_slice() {
                [kind, s, v] => ((*kind, *s, ""), *v),
                [kind, s, f, v] => ((*kind, *s, *f), *v),
                _ => panic!("unparsable output line {line:?}"),
            };
            let value: usize = value
                .parse()
                .unwrap_or_else(|e| panic!("unparsable number in output line {line:?}: {e}"));
            let key = (key.0.to_string(), key.1.to_string(), key.2.to_string());
            assert!(
                map.insert(key, value).is_none(),
                "duplicate output line {line:?}"
            );
        }
        Measured(map)
    }

    fn get(&self, kind: &str, s: &str, f: &str) -> Option<usize> {
        self.0
            .get(&(kind.to_string(), s.to_string(), f.to_string()))
            .copied()
    }
}

/// Compares what `tool` measured with every struct's `LAYOUT`; returns one line per mismatch.
fn compare(tool: &str, prefix: &str, structs: &[&Layout], measured: &Measured) -> Vec<String> {
    let mut errors = Vec::new();
    let mut check = |what: &str, s: &str, f: &str, expected: usize| {
        let kind = format!("{prefix}{what}");
        match measured.get(&kind, s, f) {
            Some(actual) if actual == expected => {}
            Some(actual) => {
                let place = if f.is_empty() {
                    format!("struct {s}")
                } else {
                    format!("struct {s}, field `{f}`")
                };
                errors.push(format!(
                    "{place}: {what}: LAYOUT says {expected}, {tool} says {actual}"
                ));
            }
            None => errors.push(format!("{tool} printed no `{kind} {s} {f}` line")),
        }
    };
    for layout in structs {
        check("size", layout.name, "", layout.size);
        check("align", layout.name, "", layout.align);
        for field in layout.fields() {
            check("offset", layout.name, field.name, field.offset);
            check("fsize", layout.name, field.name, field.size);
        }
    }
    errors
}

fn assert_no_mismatch(tool: &str, errors: &[String], sources: &[(&Path, &str)]) {
    if errors.is_empty() {
        return;
    }
    let mut msg = format!(
        "{} layout mismatch(es) between the derive's LAYOUT and {tool}:\n",
        errors.len()
    );
    for e in errors {
        let _ = writeln!(msg, "  - {e}");
    }
    for (path, text) in sources {
        let _ = write!(
            msg,
            "\ngenerated source {} (kept):\n{}",
            path.display(),
            numbered(text)
        );
    }
    panic!("{msg}");
}

// ---------------------------------------------------------------------------------------------
// C
// ---------------------------------------------------------------------------------------------

/// The C compiler: `$CC`, or `cc`. Fails the test, saying how to provide one, if it cannot run.
fn c_compiler() -> String {
    let cc = std::env::var("CC")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "cc".to_string());
    match Command::new(&cc).arg("--version").output() {
        Ok(out) if out.status.success() => cc,
        Ok(out) => panic!(
            "the C compiler `{cc}` does not run (`{cc} --version`: {}); this test compiles the \
             rendered C declarations and cannot check them without one. Install a C11 compiler \
             (e.g. `apt-get install gcc`) or set CC=/path/to/compiler",
            describe(&out)
        ),
        Err(e) => panic!(
            "no C compiler: cannot run `{cc}` ({e}); this test compiles the rendered C \
             declarations and cannot check them without one. Install a C11 compiler \
             (e.g. `apt-get install gcc`, which provides `cc`) or set CC=/path/to/compiler"
        ),
    }
}

const C_FLAGS: [&str; 3] = ["-std=c11", "-Wall", "-Werror"];

/// A `main` that prints size, alignment and every field's offset and size of each struct.
fn c_main(structs: &[&Layout]) -> String {
    let mut out = String::from("\n#include <stdio.h>\n\nint main(void) {\n");
    for l in structs {
        let s = l.name;
        let _ = writeln!(out, "    printf(\"size {s} %zu\\n\", sizeof(struct {s}));");
        let _ = writeln!(
            out,
            "    printf(\"align {s} %zu\\n\", _Alignof(struct {s}));"
        );
        for f in l.fields() {
            let (name, id) = (f.name, c_ident(f.name));
            let _ = writeln!(
                out,
                "    printf(\"offset {s} {name} %zu\\n\", offsetof(struct {s}, {id}));"
            );
            let _ = writeln!(
                out,
                "    printf(\"fsize {s} {name} %zu\\n\", sizeof(((struct {s} *)0)->{id}));"
            );
        }
    }
    out.push_str("    return 0;\n}\n");
    out
}

/// `to_c()` of one struct followed by `_Static_assert`s of its numbers: compiling it proves
/// the declaration is self-contained and agrees with `LAYOUT`.
fn c_static_asserts(l: &Layout) -> String {
    let s = l.name;
    let mut out = l.to_c();
    let _ = writeln!(
        out,
        "\n_Static_assert(sizeof(struct {s}) == {}, \"sizeof {s}\");",
        l.size
    );
    let _ = writeln!(
        out,
        "_Static_assert(_Alignof(struct {s}) == {}, \"_Alignof {s}\");",
        l.align
    );
    for f in l.fields() {
        let (name, id) = (f.name, c_ident(f.name));
        let _ = writeln!(
            out,
            "_Static_assert(offsetof(struct {s}, {id}) == {}, \"offsetof {s}.{name}\");",
            f.offset
        );
        let _ = writeln!(
            out,
            "_Static_assert(sizeof(((struct {s} *)0)->{id}) == {}, \"sizeof {s}.{name}\");",
            f.size
        );
    }
    out
}

/// Compiles all `structs` into one program, runs it and compares; then compiles every
/// struct's own `to_c()` (with static assertions) in a single syntax-only compiler run.
fn check_c(tag: &str, roots: &[&'static Layout]) {
    let cc = c_compiler();
    let structs = all_structs(roots);
    let dir = ScratchDir::new(tag);

    let source = c_declarations(roots) + &c_main(&structs);
    let c_path = dir.write("corpus.c", &source);
    let exe = dir.path("corpus");
    let out = Command::new(&cc)
        .args(C_FLAGS)
        .arg(&c_path)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{cc}`: {e}"));
    assert!(
        out.status.success(),
        "`{cc} {}` rejected the rendered C declarations: {}\n\ngenerated source {} (kept):\n{}",
        C_FLAGS.join(" "),
        describe(&out),
        c_path.display(),
        numbered(&source)
    );
    let run = Command::new(&exe)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    assert!(
        run.status.success(),
        "{} failed: {}",
        exe.display(),
        describe(&run)
    );
    let measured = Measured::parse(&String::from_utf8_lossy(&run.stdout));
    let errors = compare("C", "", &structs, &measured);
    assert_no_mismatch("C", &errors, &[(&c_path, &source)]);

    // Each `to_c()` alone: self-contained, and the same numbers.
    let singles: Vec<(PathBuf, String)> = structs
        .iter()
        .map(|l| {
            let text = c_static_asserts(l);
            (dir.write(&format!("single_{}.c", l.name), &text), text)
        })
        .collect();
    let out = Command::new(&cc)
        .args(C_FLAGS)
        .arg("-fsyntax-only")
        .args(singles.iter().map(|(p, _)| p))
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{cc}`: {e}"));
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let failing: Vec<String> = singles
            .iter()
            .filter(|(p, _)| stderr.contains(&*p.to_string_lossy()))
            .map(|(p, text)| format!("\n{} (kept):\n{}", p.display(), numbered(text)))
            .collect();
        panic!(
            "`{cc} {} -fsyntax-only` rejected a struct's own `to_c()` (with static assertions of \
             its LAYOUT): {}\n{}",
            C_FLAGS.join(" "),
            describe(&out),
            failing.concat()
        );
    }
    dir.remove();
}

#[test]
fn c_compiler_agrees_with_layout() {
    check_c("c", &corpus());
}

#[test]
fn c_compiler_agrees_with_layout_align_below_first_field() {
    check_c("c-edge", &edge_corpus());
}

// ---------------------------------------------------------------------------------------------
// Python
// ---------------------------------------------------------------------------------------------

const PY_PROBE: &str = "import sys, ctypes; print(sys.version_info[0], sys.version_info[1])";

/// `(major, minor)` of `python`, or why it cannot be used.
fn python_version(python: &Path) -> Result<(u32, u32), String> {
    let out = Command::new(python)
        .args(["-c", PY_PROBE])
        .output()
        .map_err(|e| format!("does not run ({e})"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr.lines().next().unwrap_or("").trim();
        return Err(format!(
            "fails to run `import sys, ctypes` ({}: {first})",
            out.status
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut words = stdout.split_whitespace().map(str::parse::<u32>);
    match (words.next(), words.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => Ok((major, minor)),
        _ => Err(format!("printed an unexpected version {:?}", stdout.trim())),
    }
}

/// `~/.pyenv/versions/3.1[3-9]*/bin/python3`, newest first.
fn pyenv_candidates() -> Vec<PathBuf> {
    let mut homes = Vec::new();
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        homes.push(PathBuf::from(home));
    }
    homes.push(PathBuf::from("/root"));
    homes.dedup();
    let mut found: Vec<((u32, u32, String), PathBuf)> = Vec::new();
    for home in homes {
        let Ok(entries) = std::fs::read_dir(home.join(".pyenv/versions")) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(rest) = name.strip_prefix("3.1") else {
                continue;
            };
            if !rest.starts_with(['3', '4', '5', '6', '7', '8', '9']) {
                continue;
            }
            let minor_digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let minor = format!("1{minor_digits}").parse().unwrap_or(0);
            let python = entry.path().join("bin/python3");
            if python.exists() {
                found.push(((3, minor, name), python));
            }
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, p)| p).collect()
}

/// The first Python >= 3.13 (with `ctypes`) of: `$SHAREDCTYPES_PYTHON`, `python3.13`,
/// `~/.pyenv/versions/3.1[3-9]*/bin/python3`, `python3`. Fails the test if there is none.
fn python() -> PathBuf {
    const ENV: &str = "SHAREDCTYPES_PYTHON";
    let from_env = std::env::var_os(ENV)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    let mut candidates: Vec<PathBuf> = from_env.iter().cloned().collect();
    candidates.push("python3.13".into());
    let pyenv = pyenv_candidates();
    let mut tried = String::new();
    if pyenv.is_empty() {
        tried.push_str("  (no ~/.pyenv/versions/3.1[3-9]*/bin/python3, with HOME or /root as ~)\n");
    }
    candidates.extend(pyenv);
    candidates.push("python3".into());

    for python in candidates {
        let why = match python_version(&python) {
            Ok(v) if v >= (3, 13) => return python,
            Ok((major, minor)) => format!("Python {major}.{minor}, older than 3.13"),
            Err(why) => why,
        };
        if from_env.as_ref() == Some(&python) {
            eprintln!("note: ignoring {ENV}={}: {why}", python.display());
        }
        let _ = writeln!(tried, "  {}: {why}", python.display());
    }
    panic!(
        "no Python >= 3.13 with ctypes found. This test runs the rendered ctypes declarations, \
         and `#[repr(C, align(N))]` renders as `_align_ = N`, which only Python 3.13+ honours.\n\
         Tried, in order:\n{tried}\
         Provide one by setting SHAREDCTYPES_PYTHON=/path/to/python3.13 (or newer), by putting \
         `python3.13` on PATH, or with `pyenv install 3.13`."
    );
}

/// Prints size, alignment, field count and every field's offset and size of each struct.
fn py_report(structs: &[&Layout]) -> String {
    let mut out = String::from("\n\n# --- layout report ---\n");
    for l in structs {
        let s = l.name;
        let _ = writeln!(out, "print('size', '{s}', ctypes.sizeof({s}))");
        let _ = writeln!(out, "print('align', '{s}', ctypes.alignment({s}))");
        let _ = writeln!(out, "print('fields', '{s}', len({s}._fields_))");
        for f in l.fields() {
            let (name, id) = (f.name, ident(f.name));
            let _ = writeln!(
                out,
                "print('offset', '{s}', '{name}', getattr({s}, '{id}').offset)"
            );
            let _ = writeln!(
                out,
                "print('fsize', '{s}', '{name}', getattr({s}, '{id}').size)"
            );
        }
    }
    out
}

/// Runs every struct's own `to_ctypes()` in a fresh namespace and prints the same report for
/// it (prefixed `single_`), proving each declaration is self-contained.
fn py_singles(dir: &ScratchDir, structs: &[&Layout]) -> (String, Vec<(PathBuf, String)>) {
    let mut script = String::from("\n# --- every struct's own to_ctypes() ---\n");
    let mut files = Vec::new();
    for l in structs {
        let s = l.name;
        let text = l.to_ctypes();
        let path = dir.write(&format!("single_{s}.py"), &text);
        let _ = writeln!(
            script,
            "ns = {{}}\nwith open({:?}) as f:\n    exec(compile(f.read(), {:?}, 'exec'), ns)",
            path.to_string_lossy(),
            path.to_string_lossy()
        );
        let _ = writeln!(script, "cls = ns['{s}']");
        let _ = writeln!(script, "print('single_size', '{s}', ctypes.sizeof(cls))");
        let _ = writeln!(
            script,
            "print('single_align', '{s}', ctypes.alignment(cls))"
        );
        for f in l.fields() {
            let (name, id) = (f.name, ident(f.name));
            let _ = writeln!(
                script,
                "print('single_offset', '{s}', '{name}', getattr(cls, '{id}').offset)"
            );
            let _ = writeln!(
                script,
                "print('single_fsize', '{s}', '{name}', getattr(cls, '{id}').size)"
            );
        }
        files.push((path, text));
    }
    (script, files)
}

fn check_python(tag: &str, roots: &[&'static Layout]) {
    let python = python();
    let structs = all_structs(roots);
    let dir = ScratchDir::new(tag);

    let declarations = ctypes_declarations(roots);
    let (singles, single_files) = py_singles(&dir, &structs);
    let source = declarations.clone() + &py_report(&structs) + &singles;
    let py_path = dir.write("corpus.py", &source);
    let run = Command::new(&python)
        .arg(&py_path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        run.status.success(),
        "{} {} failed: {}\n\ngenerated source {} (kept):\n{}",
        python.display(),
        py_path.display(),
        describe(&run),
        py_path.display(),
        numbered(&source)
    );
    let measured = Measured::parse(&String::from_utf8_lossy(&run.stdout));

    let tool = format!("Python ctypes ({})", python.display());
    let mut errors = compare(&tool, "", &structs, &measured);
    for l in &structs {
        match measured.get("fields", l.name, "") {
            Some(n) if n == l.fields().len() => {}
            other => errors.push(format!(
                "struct {}: _fields_ has {other:?} entries, LAYOUT has {}",
                l.name,
                l.fields().len()
            )),
        }
    }
    let single_errors = compare(
        &format!("{tool}, own to_ctypes()"),
        "single_",
        &structs,
        &measured,
    );
    errors.extend(single_errors);
    let mut sources: Vec<(&Path, &str)> = vec![(&py_path, &declarations)];
    if !errors.is_empty() {
        sources.extend(single_files.iter().map(|(p, t)| (p.as_path(), t.as_str())));
    }
    assert_no_mismatch(&tool, &errors, &sources);
    dir.remove();
}

#[test]
fn python_ctypes_agrees_with_layout() {
    check_python("py", &corpus());
}

#[test]
fn python_ctypes_agrees_with_layout_align_below_first_field() {
    check_python("py-edge", &edge_corpus());
}

// ---------------------------------------------------------------------------------------------
// Fingerprints
// ---------------------------------------------------------------------------------------------

#[test]
fn fingerprints_are_pairwise_distinct() {
    let mut corpus = corpus();
    corpus.extend(edge_corpus());
    let mut seen: BTreeMap<u64, &str> = BTreeMap::new();
    for l in &corpus {
        if let Some(other) = seen.insert(l.fingerprint, l.name) {
            panic!(
                "structs `{other}` and `{}` have the same fingerprint {:#018x}",
                l.name, l.fingerprint
            );
        }
    }
    let names: BTreeSet<&str> = corpus.iter().map(|l| l.name).collect();
    assert_eq!(names.len(), corpus.len(), "corpus lists a struct twice");
}

/// Same struct name, same field types, different field names.
mod names_a {
    #[derive(Clone, Copy, sharedctypes::SharedLayout)]
    #[repr(C)]
    pub struct Pair {
        pub x: i32,
        pub y: f64,
    }
}

mod names_b {
    #[derive(Clone, Copy, sharedctypes::SharedLayout)]
    #[repr(C)]
    pub struct Pair {
        pub left: i32,
        pub right: f64,
    }
}

/// Same field types and names as `names_a::Pair`, under another struct name.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct OtherPair {
    x: i32,
    y: f64,
}

#[test]
fn field_names_change_the_fingerprint() {
    let a = names_a::Pair::LAYOUT;
    let b = names_b::Pair::LAYOUT;
    // Everything but the field names is equal...
    assert_eq!((a.name, a.size, a.align), (b.name, b.size, b.align));
    let shape = |l: &Layout| -> Vec<(usize, usize, &str, u64)> {
        l.fields()
            .iter()
            .map(|f| (f.offset, f.size, f.type_name, f.layout.fingerprint))
            .collect()
    };
    assert_eq!(shape(&a), shape(&b));
    // ... and the fingerprints still differ.
    assert_ne!(
        a.fingerprint, b.fingerprint,
        "`Pair {{ x: i32, y: f64 }}` and `Pair {{ left: i32, right: f64 }}` share fingerprint {:#018x}",
        a.fingerprint
    );
    // The struct name counts too.
    assert_eq!(shape(&a), shape(&OtherPair::LAYOUT));
    assert_ne!(a.fingerprint, OtherPair::LAYOUT.fingerprint);
}

/// Two different structs with the same name nested in one (`BothPs`): C and ctypes must see
/// the same offsets as Rust (the renderers give such structs distinct names).
#[test]
fn structs_sharing_a_name_are_rendered_apart() {
    let layout = &BothPs::LAYOUT;
    let expected = format!(
        "{} {} {}",
        layout.size,
        layout.fields()[0].offset,
        layout.fields()[1].offset
    );
    assert_eq!(expected, "24 0 8");

    let cc = c_compiler();
    let dir = ScratchDir::new("same-name");
    let source = layout.to_c()
        + "#include <stdio.h>\nint main(void) { printf(\"%zu %zu %zu\", sizeof(struct BothPs), \
           offsetof(struct BothPs, a), offsetof(struct BothPs, b)); return 0; }\n";
    let c_path = dir.write("same_name.c", &source);
    let exe = dir.path("same_name");
    let out = Command::new(&cc)
        .args(C_FLAGS)
        .arg(&c_path)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        describe(&out),
        numbered(&source)
    );
    let run = Command::new(&exe).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        expected,
        "C:\n{source}"
    );

    let python = python();
    let script = layout.to_ctypes()
        + "print(ctypes.sizeof(BothPs), BothPs.a.offset, BothPs.b.offset, end='')\n";
    let py_path = dir.write("same_name.py", &script);
    let run = Command::new(&python).arg(&py_path).output().unwrap();
    assert!(
        run.status.success(),
        "{}\n{}",
        describe(&run),
        numbered(&script)
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        expected,
        "ctypes:\n{script}"
    );
    dir.remove();
}
