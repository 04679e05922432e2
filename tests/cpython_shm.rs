//! CPython's own `multiprocessing.shared_memory.SharedMemory`, both ways: blocks CPython
//! creates, opened from Rust with `RawArray::open_shm`; blocks Rust creates with
//! `RawArray::create_shm`, attached by CPython by name (with and without numpy); and the
//! checks a plain block allows (size, owner, name, kind of file).
//!
//! The tests that run Python need `python3` (3.8 or later; `SHAREDCTYPES_PYTHON` chooses
//! another) and say `SKIPPED: python3 not found` when it is missing; the numpy tests say
//! that numpy is absent and do nothing when it is.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sharedctypes::named::OpenOptions;
use sharedctypes::{Error, RawArray, SharedLayout};

#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct Point {
    x: f64,
    y: f64,
}

/// A name of this test's own, and the removal of `/dev/shm/<name>` however the test ends.
struct Shm {
    name: String,
}

impl Shm {
    fn new(what: &str) -> Shm {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        Shm {
            name: format!(
                "sharedctypes-test-cpyshm-{what}-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ),
        }
    }

    fn path(&self) -> String {
        format!("/dev/shm/{}", self.name)
    }

    fn exists(&self) -> bool {
        Path::new(&self.path()).exists()
    }

    /// Writes a plain block the way CPython's `SharedMemory(name, create=True)` makes one:
    /// mode 0600, exactly `bytes`.
    fn write(&self, bytes: &[u8]) {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(self.path())
            .unwrap()
            .write_all(bytes)
            .unwrap();
    }
}

impl Drop for Shm {
    fn drop(&mut self) {
        let path = self.path();
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_dir(&path);
    }
}

fn python() -> Option<String> {
    let python = std::env::var("SHAREDCTYPES_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import multiprocessing.shared_memory"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "SKIPPED: python3 not found ({python}, 3.8 or later with multiprocessing.shared_memory): this test runs CPython"
        );
    }
    ok.then_some(python)
}

/// `python()` with numpy importable.
fn python_with_numpy() -> Option<String> {
    let python = python()?;
    let ok = Command::new(&python)
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: numpy is absent (not importable by {python}): this test runs numpy");
    }
    ok.then_some(python)
}

/// How a script attaches to a block it did not create, without letting its resource tracker
/// unlink the block when it exits (gh-82300): the lines the docs show.
const ATTACH: &str = r#"
import sys
from multiprocessing.shared_memory import SharedMemory

def attach(name):
    if sys.version_info >= (3, 13):
        return SharedMemory(name, track=False)
    from multiprocessing import resource_tracker
    shm = SharedMemory(name)
    resource_tracker.unregister(shm._name, "shared_memory")
    return shm
"#;

fn run(python: &str, script: &str, args: &[&str]) -> Output {
    Command::new(python)
        .args(["-W", "always", "-c", script])
        .args(args)
        .output()
        .expect("python runs")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn cpython_creates_rust_opens_reads_exact_values_and_writes_back() {
    let Some(py) = python() else { return };
    let shm = Shm::new("from-cpython");
    // CPython creates (with a leading slash), fills, waits for Rust, reads, and unlinks.
    let script = r#"
import struct, sys
from multiprocessing.shared_memory import SharedMemory
shm = SharedMemory(name="/" + sys.argv[1], create=True, size=40)
shm.buf[:40] = struct.pack("=5d", 1.5, -2.25, 3e300, 0.1, -0.0)
print(shm.size, flush=True)
sys.stdin.readline()
print(list(struct.unpack("=5d", bytes(shm.buf[:40]))), flush=True)
shm.close()
shm.unlink()
"#;
    let mut child = Command::new(&py)
        .args(["-W", "always", "-c", script, &shm.name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "40");

    let a = RawArray::<f64>::open_shm(&shm.name).unwrap();
    let b = RawArray::<f64>::open_shm(&format!("/{}", shm.name)).unwrap(); // the same block
    assert_eq!(a.name(), shm.name);
    assert_eq!(a.len(), 5);
    assert_eq!(
        bits(&a.to_vec()),
        bits(&[1.5, -2.25, 3e300, 0.1, -0.0]),
        "bit for bit"
    );
    b.set(0, 42.125).unwrap();
    a.set(4, -7.5).unwrap();
    assert_eq!(a.get(0), Some(42.125));

    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "written").unwrap();
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "[42.125, -2.25, 3e+300, 0.1, -7.5]"
    );
    assert!(child.wait().unwrap().success());

    // CPython's creator unlinked it; ours never does, and still reads the memory.
    assert!(!shm.exists());
    assert_eq!(
        RawArray::<f64>::open_shm(&shm.name).unwrap_err(),
        Error::NotFound {
            name: shm.name.clone()
        }
    );
    assert_eq!(a.get(4), Some(-7.5));
}

#[test]
fn a_cpython_block_opens_as_repr_c_structs_checked_by_size_only() {
    let Some(py) = python() else { return };
    let shm = Shm::new("structs");
    let script = r#"
import struct, sys
from multiprocessing.shared_memory import SharedMemory
shm = SharedMemory(name=sys.argv[1], create=True, size=48)
shm.buf[:48] = struct.pack("=6d", 1.0, -1.0, 0.5, 2.5, -3.75, 1e-300)
print("ready", flush=True)
sys.stdin.readline()
shm.close()
shm.unlink()
"#;
    let mut child = Command::new(&py)
        .args(["-W", "always", "-c", script, &shm.name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");

    let points = RawArray::<Point>::open_shm(&shm.name).unwrap();
    assert_eq!(
        points.to_vec(),
        [
            Point { x: 1.0, y: -1.0 },
            Point { x: 0.5, y: 2.5 },
            Point {
                x: -3.75,
                y: 1e-300
            }
        ]
    );
    // No header, no fingerprint: the same 48 bytes open as any type whose size divides 48.
    assert_eq!(RawArray::<u64>::open_shm(&shm.name).unwrap().len(), 6);
    assert_eq!(RawArray::<[u8; 3]>::open_shm(&shm.name).unwrap().len(), 16);
    assert_eq!(
        RawArray::<[u8; 5]>::open_shm(&shm.name).unwrap_err(),
        Error::LengthMismatch {
            expected: 45,
            actual: 48
        }
    );

    writeln!(child.stdin.take().unwrap(), "done").unwrap();
    assert!(child.wait().unwrap().success());
    assert!(!shm.exists());
}

#[test]
fn rust_creates_and_cpython_attaches_by_name_without_numpy() {
    let Some(py) = python() else { return };
    let shm = Shm::new("to-cpython");
    let a = RawArray::<i32>::create_shm(&format!("/{}", shm.name), 6).unwrap();
    assert_eq!(
        a.name(),
        shm.name,
        "the name without its slash, as CPython's shm.name"
    );
    assert_eq!(a.to_vec(), [0; 6], "zeroed");
    a.copy_from_slice(&[-3, 7, i32::MAX, i32::MIN, 0, 0])
        .unwrap();
    let meta = std::fs::metadata(shm.path()).unwrap();
    assert_eq!(
        (meta.len(), meta.mode() & 0o777, meta.uid()),
        (24, 0o600, my_uid()),
        "exactly 6 * 4 bytes, no header, mode 0600, ours"
    );

    let script = format!(
        r#"{ATTACH}
shm = attach(sys.argv[1])
a = shm.buf.cast("i")
print(shm.size, len(a), list(a))
a[int(sys.argv[2])] = a[0] + a[1]
a.release()
shm.close()
"#
    );
    // By its name, with and without the leading slash.
    assert_eq!(
        stdout(&run(&py, &script, &[&shm.name, "4"])),
        "24 6 [-3, 7, 2147483647, -2147483648, 0, 0]\n"
    );
    let out = run(&py, &script, &[&format!("/{}", shm.name), "5"]);
    assert_eq!(
        stdout(&out),
        "24 6 [-3, 7, 2147483647, -2147483648, 4, 0]\n"
    );
    assert_eq!(a.to_vec(), [-3, 7, i32::MAX, i32::MIN, 4, 4]);
    // Opted out of the resource tracker: nothing leaked, nothing unlinked at its exit.
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("resource_tracker"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(shm.exists());

    drop(a); // the creator removes the name
    assert!(!shm.exists());
}

/// This process's effective user id, from the file it just created (no `unsafe` needed).
fn my_uid() -> u32 {
    let probe = Shm::new("euid");
    probe.write(&[0]);
    std::fs::metadata(probe.path()).unwrap().uid()
}

#[test]
fn cpython_attaching_with_its_default_tracking_unlinks_the_block_at_exit() {
    // gh-82300, as the docs warn: a process that merely attaches with SharedMemory(name)
    // (track=True, the default in every version) has its resource tracker unlink the block
    // when it exits. The Rust creator's handle then finds the name gone and removes nothing.
    let Some(py) = python() else { return };
    let shm = Shm::new("tracked");
    let a = RawArray::<u8>::create_shm(&shm.name, 100).unwrap();
    let script = r#"
import sys
from multiprocessing.shared_memory import SharedMemory
shm = SharedMemory(sys.argv[1])
shm.buf[0] = 9
shm.close()
"#;
    let out = run(&py, script, &[&shm.name]);
    assert!(out.status.success());
    let start = Instant::now();
    while shm.exists() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!shm.exists(), "the resource tracker unlinked it");
    assert_eq!(a.get(0), Some(9), "the memory stays while mapped");
    // Another block made under the name since is not the creator's to remove.
    let other = RawArray::<u8>::create_shm(&shm.name, 1).unwrap();
    other.persist();
    drop(a);
    assert!(shm.exists(), "not the file `a` created");
}

#[test]
fn numpy_wraps_a_rust_block_without_a_copy() {
    let Some(py) = python_with_numpy() else {
        return;
    };
    let shm = Shm::new("numpy");
    let a = RawArray::<f64>::create_shm(&shm.name, 1000).unwrap();
    let values: Vec<f64> = (0..1000).map(|i| i as f64 * 0.25).collect();
    a.copy_from_slice(&values).unwrap();
    let script = format!(
        r#"{ATTACH}
import numpy as np
shm = attach(sys.argv[1])
a = np.ndarray((shm.size // 8,), dtype=np.float64, buffer=shm.buf)
print(a.dtype, a.shape, float(a.sum()), float(a[-1]))
a *= 2
a[-1] = 888.0
del a
shm.close()
"#
    );
    assert_eq!(
        stdout(&run(&py, &script, &[&shm.name])),
        "float64 (1000,) 124875.0 249.75\n"
    );
    let mut want: Vec<f64> = (0..1000).map(|i| i as f64 * 0.5).collect();
    want[999] = 888.0;
    assert_eq!(a.to_vec(), want, "numpy wrote the block itself");
    assert!(shm.exists());
}

#[test]
fn numpy_creates_a_structured_block_that_rust_opens() {
    let Some(py) = python_with_numpy() else {
        return;
    };
    let shm = Shm::new("numpy-struct");
    let script = r#"
import sys
import numpy as np
from multiprocessing.shared_memory import SharedMemory
shm = SharedMemory(name=sys.argv[1], create=True, size=2 * 16)
a = np.ndarray((2,), dtype=[("x", "<f8"), ("y", "<f8")], buffer=shm.buf)
a["x"] = [1.25, -8.0]
a["y"] = [0.125, 6.5]
print("ready", flush=True)
sys.stdin.readline()
print(a.tolist(), flush=True)
del a
shm.close()
shm.unlink()
"#;
    let mut child = Command::new(&py)
        .args(["-W", "always", "-c", script, &shm.name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    let p = RawArray::<Point>::open_shm(&shm.name).unwrap();
    assert_eq!(
        p.to_vec(),
        [Point { x: 1.25, y: 0.125 }, Point { x: -8.0, y: 6.5 }]
    );
    p.at(1).set_y(-0.5);
    writeln!(child.stdin.take().unwrap(), "go").unwrap();
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "[(1.25, 0.125), (-8.0, -0.5)]"
    );
    assert!(child.wait().unwrap().success());
    assert!(!shm.exists());
}

#[test]
fn a_size_that_is_not_whole_elements_is_a_length_mismatch_naming_the_bytes() {
    let shm = Shm::new("mismatch");
    shm.write(&[7; 20]); // as SharedMemory(name, create=True, size=20) leaves it
    let err = RawArray::<f64>::open_shm(&shm.name).unwrap_err();
    assert_eq!(
        err,
        Error::LengthMismatch {
            expected: 16,
            actual: 20
        }
    );
    assert!(err.to_string().contains("16") && err.to_string().contains("20"));
    assert_eq!(
        RawArray::<u64>::open_shm(&shm.name).unwrap_err(),
        Error::LengthMismatch {
            expected: 16,
            actual: 20
        }
    );
    assert_eq!(
        RawArray::<[u8; 32]>::open_shm(&shm.name).unwrap_err(),
        Error::LengthMismatch {
            expected: 0,
            actual: 20
        }
    );
    let words = RawArray::<u32>::open_shm(&shm.name).unwrap();
    assert_eq!(words.to_vec(), [0x0707_0707; 5]);
    let bytes = RawArray::<u8>::open_shm(&shm.name).unwrap();
    assert_eq!(bytes.len(), 20);
    drop((words, bytes));
    assert!(shm.exists(), "an opener never removes the name");
}

#[test]
fn missing_names_are_not_found() {
    let shm = Shm::new("missing");
    let not_found = Error::NotFound {
        name: shm.name.clone(),
    };
    assert_eq!(RawArray::<f64>::open_shm(&shm.name).unwrap_err(), not_found);
    assert_eq!(
        RawArray::<f64>::open_shm(&format!("/{}", shm.name)).unwrap_err(),
        not_found
    );
    assert_eq!(RawArray::<u8>::unlink_shm(&shm.name), Err(not_found));
}

#[test]
fn leading_slashes_name_the_same_block_and_bad_names_are_refused() {
    let shm = Shm::new("slash");
    let a = RawArray::<u16>::create_shm(&format!("//{}", shm.name), 3).unwrap();
    assert_eq!(a.name(), shm.name);
    assert!(shm.exists());
    a.set(1, 513).unwrap();
    for name in [shm.name.clone(), format!("/{}", shm.name)] {
        assert_eq!(
            RawArray::<u16>::open_shm(&name).unwrap().to_vec(),
            [0, 513, 0]
        );
    }
    assert_eq!(
        RawArray::<u16>::create_shm(&shm.name, 3).unwrap_err(),
        Error::AlreadyExists {
            name: shm.name.clone()
        }
    );
    for bad in ["", "/", "a/b", "/..", "."] {
        assert!(
            matches!(
                RawArray::<u8>::open_shm(bad),
                Err(Error::InvalidName { ref name, .. }) if name == bad
            ),
            "{bad:?}"
        );
        assert!(matches!(
            RawArray::<u8>::create_shm(bad, 1),
            Err(Error::InvalidName { .. })
        ));
    }
    let long = "x".repeat(256);
    assert!(matches!(
        RawArray::<u8>::create_shm(&long, 1),
        Err(Error::InvalidName { .. })
    ));
}

#[test]
fn empty_blocks_are_refused_both_ways() {
    let shm = Shm::new("empty");
    for err in [
        RawArray::<f64>::create_shm(&shm.name, 0).unwrap_err(),
        RawArray::<[u8; 0]>::create_shm(&shm.name, 10).unwrap_err(),
    ] {
        assert!(
            matches!(&err, Error::InvalidArgument { reason } if reason.contains("CPython's SharedMemory refuses size 0")),
            "{err}"
        );
    }
    assert!(!shm.exists(), "nothing was created");

    shm.write(&[]); // a block CPython is still creating (shm_open, then ftruncate)
    let err = RawArray::<f64>::open_shm(&shm.name).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument { reason } if reason.contains("is empty (0 bytes)")),
        "{err}"
    );
}

#[test]
fn create_is_exclusive_exact_zeroed_and_removed_by_its_handle_only() {
    let shm = Shm::new("create");
    let a = RawArray::<u64>::create_shm(&shm.name, 1001).unwrap();
    assert_eq!(
        std::fs::metadata(shm.path()).unwrap().len(),
        8008,
        "not page-rounded"
    );
    assert!(a.iter().all(|v| v == 0));
    assert_eq!(
        RawArray::<u8>::create_shm(&shm.name, 1).unwrap_err(),
        Error::AlreadyExists {
            name: shm.name.clone()
        }
    );
    let opened = RawArray::<u64>::open_shm(&shm.name).unwrap();
    opened.set(1000, u64::MAX).unwrap();
    assert_eq!(a.get(1000), Some(u64::MAX));
    drop(opened);
    assert!(shm.exists());

    // persist: the name stays after the handle, for a later attacher to remove.
    a.persist();
    drop(a);
    assert!(shm.exists());
    assert_eq!(
        RawArray::<u64>::open_shm(&shm.name).unwrap().get(1000),
        Some(u64::MAX)
    );
    RawArray::<u64>::unlink_shm(&shm.name).unwrap();
    assert!(!shm.exists());
}

#[test]
fn another_users_block_is_refused_unless_allowed() {
    let shm = Shm::new("owner");
    let a = RawArray::<u32>::create_shm(&shm.name, 2).unwrap();
    a.set(1, 77).unwrap();
    let me = std::fs::metadata(shm.path()).unwrap().uid();
    let other = if me == 65534 { 65533 } else { 65534 };
    if let Err(e) = std::os::unix::fs::chown(shm.path(), Some(other), None) {
        eprintln!(
            "SKIPPED: cannot give a file to another user here ({e}): the other-owner check needs root"
        );
        return;
    }
    assert_eq!(
        RawArray::<u32>::open_shm(&shm.name).unwrap_err(),
        Error::OtherOwner {
            name: shm.name.clone(),
            owner: other,
            user: me
        }
    );
    let allowed = RawArray::<u32>::open_shm_with(
        &shm.name,
        OpenOptions {
            allow_other_owner: true,
        },
    )
    .unwrap();
    assert_eq!(allowed.to_vec(), [0, 77]);
}

#[test]
fn directories_and_named_objects_are_not_plain_blocks() {
    let dir = Shm::new("dir");
    std::fs::create_dir(dir.path()).unwrap();
    assert_eq!(
        RawArray::<u8>::open_shm(&dir.name).unwrap_err(),
        Error::NotNamedObject {
            name: dir.name.clone(),
            reason: "it is a directory".into()
        }
    );

    // A sharedctypes named object starts with its header: open_shm would read it as data.
    let named = Shm::new("named");
    let obj = RawArray::create_named(&named.name, &[1u64, 2, 3]).unwrap();
    let err = RawArray::<u64>::open_shm(&named.name).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument { reason } if reason.contains("open it with open_named")),
        "{err}"
    );
    drop(obj);

    // And the other way: a plain block is not a named object.
    let plain = Shm::new("plain");
    let _a = RawArray::<u64>::create_shm(&plain.name, 3).unwrap();
    assert!(matches!(
        RawArray::<u64>::open_named(&plain.name),
        Err(Error::NotNamedObject { .. })
    ));
}

#[test]
fn a_plain_block_goes_to_a_forked_child_like_any_array() {
    let shm = Shm::new("fork");
    let a = RawArray::<i64>::create_shm(&shm.name, 4).unwrap();
    let child = sharedctypes::Process::start(|| {
        a.set(3, -12).unwrap();
    })
    .unwrap();
    child.join().unwrap();
    assert_eq!(a.to_vec(), [0, 0, 0, -12]);
}

#[test]
fn the_numpy_example_runs_and_prints_python_result() {
    if python().is_none() {
        return;
    }
    let run = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--example", "numpy_from_rust"])
        .args([
            "--manifest-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
        ])
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert!(
        run.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&run.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("rust: created /dev/shm/sharedctypes-example-numpy-"));
    assert!(lines[0].ends_with(": 1000000 f64 (8000000 bytes), a[i] = i"));
    assert!(lines[1].starts_with("python (numpy ") || lines[1].starts_with("python (memoryview"));
    assert!(
        lines[1].ends_with("1000000 elements, sum 499999500000, max 999999; squared them in place"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "rust: a[3] = 9, a[999999] = 999998000001");
}
