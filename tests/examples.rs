//! The examples that start other programs, run as a user would and checked byte for byte.

use std::process::Command;

fn cargo(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO"))
        .args(args)
        .args([
            "--manifest-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
        ])
        .output()
        .expect("cargo runs")
}

#[test]
fn the_worker_pool_shares_objects_with_another_program() {
    let built = cargo(&["build", "--quiet", "--example", "worker"]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let run = cargo(&["run", "--quiet", "--example", "worker_pool"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        String::from_utf8(run.stdout).unwrap(),
        "results: [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5]\ndone: 8 (worker 0: 4, worker 1: 4)\n"
    );
}
