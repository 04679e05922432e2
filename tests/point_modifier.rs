//! Runs the reference program (`cargo run --example point_modifier`) and its spawn variant
//! (`point_modifier_spawn`) and compares their output byte for byte with the output
//! DESIGN.md specifies.

use std::process::Command;

const EXPECTED: &str = "49\n0.1111111111111111\nHELLO WORLD\n[(3.515625, 39.0625), (33.0625, 4.0), (5.640625, 90.25)]\n";

fn run_example(name: &str) -> std::process::Output {
    Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--example", name, "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("cargo runs")
}

#[test]
fn point_modifier_prints_exactly_the_reference_output() {
    let output = run_example("point_modifier");
    assert!(
        output.status.success(),
        "the example failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8(output.stdout).unwrap(), EXPECTED);
}

#[test]
fn point_modifier_spawn_prints_exactly_the_reference_output() {
    let output = run_example("point_modifier_spawn");
    assert!(
        output.status.success(),
        "the example failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8(output.stdout).unwrap(), EXPECTED);
}
