//! Expansion snapshots (zerocopy's output tests are the model): what the derive generates for
//! three representative structs, formatted by `rustfmt`, compared with
//! `tests/expand/*.expanded.rs`. After a deliberate change of the expansion, re-bless with
//! `SHAREDCTYPES_BLESS=1 cargo test -p shared-derive` and read the diff.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Formats generated code with the toolchain's `rustfmt`.
fn rustfmt(code: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the expansion snapshots need rustfmt (`rustup component add rustfmt`)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(code.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "rustfmt failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn check(name: &str, source: &str) {
    let input: syn::DeriveInput = syn::parse_str(source).unwrap();
    let expanded = crate::derive(&input).unwrap_or_else(|e| panic!("{name}: {e}"));
    let actual = format!(
        "// The expansion of #[derive(SharedLayout)] for:\n{}\n{}",
        source
            .trim()
            .lines()
            .map(|l| format!("// {l}\n"))
            .collect::<String>(),
        rustfmt(&expanded.to_string())
    );
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "expand", name]
        .iter()
        .collect::<PathBuf>()
        .with_extension("expanded.rs");
    if std::env::var_os("SHAREDCTYPES_BLESS").is_some() {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if actual != expected {
        panic!(
            "the expansion for {name} changed; if that is intended, bless it with SHAREDCTYPES_BLESS=1 and review the diff of {}\n--- actual ---\n{actual}",
            path.display()
        );
    }
}

#[test]
fn point_with_declared_layout() {
    check(
        "point",
        r#"
#[repr(C)]
#[shared(size = 16, align = 8)]
pub struct Point {
    #[shared(offset = 0)]
    pub x: f64,
    pub y: f64,
}
"#,
    );
}

#[test]
fn aligned_tuple_struct_with_array_and_nested_fields() {
    check(
        "sample",
        r#"
#[repr(C, align(16))]
struct Sample(u8, [f32; 3], Point);
"#,
    );
}

#[test]
fn renamed_crate_raw_identifier_and_private_fields() {
    check(
        "record",
        r#"
#[repr(C)]
#[shared(crate = "runtime::shared")]
pub(crate) struct Record {
    r#type: CChar,
    pub(crate) len: u32,
}
"#,
    );
}
