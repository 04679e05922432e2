//! The same objects from Python (the package in `python/`, pure Python, standard library):
//! named objects and inherited ones, read and written under the same robust lock, layouts
//! and fingerprints checked, and a holder's death reported in both directions.
//!
//! Needs `python3` (3.8 or later); each test says so and does nothing when it is missing.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use sharedctypes::named::unlink_named;
use sharedctypes::{Array, CChar, Error, Lock, Process, RawArray, RawValue, SharedLayout, Value};

mod common;
use common::wait_for;

#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct Point {
    x: f64,
    y: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C, align(16))]
struct Record {
    id: u32,
    tag: [CChar; 3],
    at: Point,
    history: [i16; 4],
}

fn python() -> Option<&'static str> {
    let ok = Command::new("python3")
        .args(["-c", "import sys; assert sys.version_info >= (3, 8)"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "SKIPPED: python3 (3.8 or later) is not installed: the Python interop tests need it"
        );
    }
    ok.then_some("python3")
}

/// Runs `script` with the module on the path; `args` become `sys.argv[1:]`.
fn run_python(python: &str, script: &str, args: &[&str]) -> Output {
    Command::new(python)
        .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/python"))
        .args(["-W", "always", "-c", script])
        .args(args)
        .output()
        .expect("python3 runs")
}

fn check(out: &Output) -> String {
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn unique(what: &str) -> String {
    format!("sharedctypes-test-py-{what}-{}", std::process::id())
}

#[test]
fn python_modifies_named_objects_under_the_lock_and_rust_reads_exact_values() {
    let Some(py) = python() else { return };
    let points = unique("points");
    let counter = unique("counter");
    let text = unique("text");
    let a = Array::<Point, Lock>::create_named(
        &points,
        &[Point { x: 1.875, y: -6.25 }, Point { x: -5.75, y: 2.0 }],
    )
    .unwrap();
    let n = Value::<i64>::create_named(&counter, 40).unwrap();
    let s = Array::<CChar>::create_named(&text, &b"hello\0\0\0".map(CChar)).unwrap();
    let out = check(&run_python(
        py,
        r#"
import sys, sharedctypes as sc
a = sc.open_named(sys.argv[1])
n = sc.open_named(sys.argv[2])
s = sc.open_named(sys.argv[3])
with a.get_lock():
    for p in a.get_obj():
        p.x **= 2
        p.y **= 2
with n.get_lock():
    n.get_obj().value += 2
s.value = s.value.upper() + b"!"
print(len(a), a[1].x, n.value, s.raw, type(a[0]).__name__)
"#,
        &[&points, &counter, &text],
    ));
    assert_eq!(out, "2 33.0625 42 b'HELLO!\\x00\\x00' Point\n");
    assert_eq!(
        a.to_vec().unwrap(),
        [
            Point {
                x: 3.515625,
                y: 39.0625
            },
            Point { x: 33.0625, y: 4.0 }
        ]
    );
    assert_eq!(n.get().unwrap(), 42);
    assert_eq!(s.value().unwrap(), b"HELLO!");
}

#[test]
fn python_rebuilds_nested_types_with_the_same_fingerprint_and_checks_classes() {
    let Some(py) = python() else { return };
    let name = unique("records");
    let rec = Record {
        id: 7,
        tag: b"abc".map(CChar),
        at: Point { x: 0.5, y: 1.5 },
        history: [1, -2, 3, -4],
    };
    let _r = RawArray::create_named(&name, &[rec, rec]).unwrap();
    let to_ctypes = Record::LAYOUT.to_ctypes();
    let script = format!(
        r#"
import sys, ctypes, sharedctypes as sc
r = sc.open_named(sys.argv[1])
print(hex(r.layout.fingerprint), ctypes.sizeof(r.get_obj()[0]), r[1].id, r[1].at.y, list(r[1].history), r[0].tag)
# The class LAYOUT.to_ctypes() renders is accepted (checked field by field) ...
ns = {{}}
exec({to_ctypes:?}, ns)
typed = sc.open_named(sys.argv[1], cls=ns["Record"])
print(type(typed[0]).__name__, typed[0].history[3])
# ... and a class with another layout is refused.
class Wrong(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64)]
try:
    sc.open_named(sys.argv[1], cls=Wrong)
except sc.LayoutMismatch as e:
    print("refused:", e)
"#
    );
    let out = check(&run_python(py, &script, &[&name]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "{:#x} 32 7 1.5 [1, -2, 3, -4] b'abc'",
            Record::LAYOUT.fingerprint
        )
    );
    assert_eq!(lines[1], "Record -4");
    assert_eq!(
        lines[2],
        "refused: Wrong has 8 bytes, the shared object's type 32"
    );
}

#[test]
fn python_opens_an_object_shared_with_it_by_process_command() {
    let Some(py) = python() else { return };
    let v = sharedctypes::heap::isolated(|| Value::new(Point { x: 2.0, y: 3.0 })).unwrap();
    let raw = sharedctypes::heap::isolated(|| RawArray::from_slice(&[1u32, 2, 3])).unwrap();
    let mut cmd = Command::new(py);
    cmd.env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/python"))
        .args([
            "-c",
            r#"
import sharedctypes as sc
v = sc.inherited("point")
raw = sc.inherited("raw")
with v.get_lock():
    p = v.get_obj()
    p.x, p.y = p.y, p.x * 10
raw[2] = raw[0] + raw[1]
"#,
        ]);
    let child = Process::command(cmd)
        .share("point", &v)
        .unwrap()
        .share("raw", &raw)
        .unwrap()
        .spawn()
        .unwrap();
    assert_eq!(
        child.join_timeout(Duration::from_secs(60)).unwrap(),
        Some(0)
    );
    assert_eq!(v.get().unwrap(), Point { x: 3.0, y: 20.0 });
    assert_eq!(raw.to_vec(), [1, 2, 3]);
}

#[test]
fn a_python_holder_killed_is_reported_to_rust() {
    let Some(py) = python() else { return };
    let name = unique("py-holder");
    let v = Value::<i64>::create_named(&name, 100).unwrap();
    let mut child = Command::new(py)
        .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/python"))
        .args([
            "-c",
            r#"
import sys, time, sharedctypes as sc
v = sc.open_named(sys.argv[1])
v.get_lock().acquire()
v.get_obj().value = -1   # half-way through an update...
print("held", flush=True)
time.sleep(60)           # ...and killed
"#,
            &name,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, "held\n");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        v.get(),
        Err(Error::OwnerDied {
            pid: child.id() as i32
        })
    );
    let g = v.lock().unwrap();
    assert_eq!(g.dead_owner_pid(), Some(child.id() as i32));
    assert_eq!(g.get(), -1);
    g.set(100);
    g.clear_owner_died();
    drop(g);
    assert_eq!(v.get().unwrap(), 100);
}

#[test]
fn a_rust_holder_killed_is_reported_to_python() {
    let Some(py) = python() else { return };
    let name = unique("rust-holder");
    let v = Value::<i64>::create_named(&name, 100).unwrap();
    let held = RawValue::new(0u32).unwrap();
    let holder = Process::start(|| {
        let g = v.lock().unwrap();
        g.set(-1);
        held.set(1);
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    })
    .unwrap();
    wait_for(&held, 1);
    holder.kill().unwrap();
    assert_eq!(holder.join().unwrap(), -9);
    let out = check(&run_python(
        py,
        r#"
import sys, warnings, sharedctypes as sc
v = sc.open_named(sys.argv[1])
try:
    v.value
except sc.OwnerDiedError as e:
    print("refused:", e)
lock = v.get_lock()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    lock.acquire()
print("warned:", [str(w.message) for w in caught])
print("died:", lock.owner_died, lock.dead_owner_pid == int(sys.argv[2]), v.get_obj().value)
v.get_obj().value = 100
lock.clear_owner_died()
lock.release()
print("repaired:", v.value)
"#,
        &[&name, &holder.pid().to_string()],
    ));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "refused: a holder of the lock (pid {}) died while holding it: repair the data under get_lock() and call clear_owner_died()",
            holder.pid()
        )
    );
    assert_eq!(
        lines[1],
        format!(
            "warned: ['a holder of the lock (pid {}) died while holding it: the data it guards may be half-updated until a holder repairs it and calls clear_owner_died()']",
            holder.pid()
        )
    );
    assert_eq!(lines[2], "died: True True -1");
    assert_eq!(lines[3], "repaired: 100");
    assert_eq!(v.get().unwrap(), 100);
    assert!(!v.lock().unwrap().owner_died());
    let _ = unlink_named;
}

#[test]
fn python_refuses_foreign_files_and_bad_handles_clearly() {
    let Some(py) = python() else { return };
    let name = unique("foreign");
    std::fs::write(format!("/dev/shm/{name}"), vec![7u8; 200]).unwrap();
    let out = check(&run_python(
        py,
        r#"
import sys, sharedctypes as sc
for attempt in (lambda: sc.open_named(sys.argv[1]), lambda: sc.from_handle("sharedctypes/2 kind=value")):
    try:
        attempt()
    except (sc.NotSharedctypesObject, sc.InvalidHandle) as e:
        print(type(e).__name__, e)
"#,
        &[&name],
    ));
    std::fs::remove_file(format!("/dev/shm/{name}")).unwrap();
    assert_eq!(
        out,
        format!(
            "NotSharedctypesObject '{name}' does not start with the sharedctypes magic bytes\nInvalidHandle it starts with 'sharedctypes/2', not 'sharedctypes/1'\n"
        )
    );
}
