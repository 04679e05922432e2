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

/// `cargo run`s example `name` and gives its standard output, failing on a failed run.
fn run_example(name: &str) -> String {
    let run = cargo(&["run", "--quiet", "--example", name]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8(run.stdout).unwrap()
}

/// Builds example `name` and gives the path of its executable.
fn build_example(name: &str) -> std::path::PathBuf {
    // In the profile this test was built in: its example directory is the one used below.
    let profile: &[&str] = if cfg!(debug_assertions) {
        &[]
    } else {
        &["--release"]
    };
    let built = cargo(&[&["build", "--quiet", "--example", name], profile].concat());
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    // This test is <target>/<profile>/deps/examples-<hash>; the example,
    // <target>/<profile>/examples/.
    std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("examples")
        .join(name)
}

#[test]
fn the_worker_pool_shares_objects_with_another_program() {
    build_example("worker");
    let out = run_example("worker_pool");
    assert_eq!(
        out,
        "results: [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5]\ndone: 8 (worker 0: 4, worker 1: 4)\n"
    );
}

#[test]
fn two_runs_of_named_counter_count_into_one_object() {
    let exe = build_example("named_counter");
    // A name of this run's own: other runs on the machine, or one that was cancelled and
    // left its object behind, do not count into it.
    let name = format!(
        "sharedctypes-test-example-counter-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let runs: Vec<_> = (0..2)
        .map(|_| {
            Command::new(&exe)
                .args(["2", &name])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for run in runs {
        let out = run.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8(out.stdout).unwrap(), "total: 2000000\n");
    }
}

#[test]
fn python_squares_the_points_of_a_rust_array_under_its_lock() {
    if !Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("SKIPPED: python3 is not installed: the Python interop example needs it");
        return;
    }
    let out = run_example("python_points");
    assert_eq!(
        out,
        "[(3.515625, 39.0625), (33.0625, 4.0), (5.640625, 90.25)]\n"
    );
}

#[test]
fn the_ring_buffer_delivers_every_record_in_order_to_every_reader() {
    // The checksum every reader must print: FNV-style over each record's sequence number,
    // value and tag, in order, as the example's `checksum` defines it.
    let mut sum = 0u64;
    for i in 0..10_000u64 {
        let tag = format!("rec{:05}", i % 100_000);
        sum ^= i;
        sum = sum.wrapping_mul(0x0000_0100_0000_01b3) ^ (i as f64 * 0.5).to_bits();
        for b in tag.bytes() {
            sum = sum.wrapping_mul(0x0000_0100_0000_01b3) ^ u64::from(b);
        }
    }
    let out = run_example("ring_buffer");
    let expected = format!(
        "10000 records through 16 slots to 3 readers\n{}",
        (0..3)
            .map(|r| format!("reader {r}: checksum {sum:#018x}\n"))
            .collect::<String>()
    );
    assert_eq!(out, expected);
}

#[test]
fn a_rust_producer_feeds_the_python_consumer_example() {
    let out = run_example("python_queue_consumer");
    if out.contains("was not found") {
        eprintln!("SKIPPED: {out}");
        return;
    }
    assert_eq!(
        out,
        "rust: sent 100000 readings through a queue of 1024\n\
         python: 100000 readings (Reading), in order, sum of values[0] = 2.49998e+09\n"
    );
}

#[test]
fn the_pool_sums_every_row_of_the_shared_matrix() {
    // Row r holds 500r .. 500r+499: its sum is 500 * 500r + 124750.
    assert_eq!(
        run_example("pool_row_sums"),
        "2000 rows of 500 summed by 4 workers: row 0 = 124750, row 1999 = 499874750, total = 499999500000\n"
    );
}

#[test]
fn structured_messages_cross_a_bytes_queue_with_serde() {
    let out = run_example("bytes_queue_serde");
    let mut lines: Vec<&str> = out.lines().collect();
    let last = lines.pop();
    lines.sort_unstable(); // the workers start in any order
    assert_eq!(
        lines,
        [
            "worker 0 started: \"primes below 10000\"",
            "worker 1 started: \"primes below 20000\"",
            "worker 2 started: \"primes below 30000\""
        ]
    );
    assert_eq!(
        last,
        Some("3 workers, 8 progress reports, results: [1229, 2262, 3245]")
    );
}

#[test]
fn two_programs_meet_at_a_named_queue() {
    let exe = build_example("named_queue");
    let name = format!("sharedctypes-test-example-jobs-{}", std::process::id());
    // The producer may start first: it waits for the consumer's queue to appear.
    let producer = Command::new(&exe)
        .args(["produce", "50000", &name])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let consumer = Command::new(&exe)
        .args(["consume", &name])
        .output()
        .unwrap();
    let producer = producer.wait_with_output().unwrap();
    assert!(consumer.status.success() && producer.status.success());
    assert_eq!(
        String::from_utf8(producer.stdout).unwrap(),
        "produced 50000 jobs\n"
    );
    assert_eq!(
        String::from_utf8(consumer.stdout).unwrap(),
        "consumed 50000 jobs in order, sum of sizes 1249975000\n"
    );
    assert!(!std::path::Path::new(&format!("/dev/shm/{name}")).exists());
}
