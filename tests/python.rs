//! The same objects from Python (the package in `python/`, pure Python, standard library):
//! named objects and inherited ones, read and written under the same robust lock, layouts
//! and fingerprints checked, a holder's death reported in both directions, and the waiting
//! primitives (Event, Semaphore, Condition, Barrier) waiting for and waking each other
//! across the two languages, on the same futexes.
//!
//! Needs `python3` (3.9 or later); each test says so and does nothing when it is missing.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sharedctypes::named::unlink_named;
use sharedctypes::{
    Array, Barrier, BoundedSemaphore, BytesQueue, CChar, Condition, Error, Event, Lock, Process,
    Queue, RawArray, RawValue, Semaphore, SharedLayout, Value,
};

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
        .args(["-c", "import sys; assert sys.version_info >= (3, 9)"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "SKIPPED: python3 (3.9 or later) is not installed: the Python interop tests need it"
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
for attempt in (lambda: sc.open_named(sys.argv[1]), lambda: sc.from_handle("sharedctypes/1 kind=value")):
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
            "NotSharedctypesObject '{name}': it does not start with the sharedctypes magic bytes\nInvalidHandle it starts with `sharedctypes/1`, not `sharedctypes/2` (another program, or another format version)\n"
        )
    );
}

/// A Python process running a script, its output read line by line; killed (and reaped)
/// when dropped, so that a failing test leaves no process waiting for ever.
struct PyChild {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl PyChild {
    fn spawn(python: &str, script: &str, args: &[&str]) -> PyChild {
        let mut child = Command::new(python)
            .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/python"))
            .args(["-W", "always", "-c", script])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let out = BufReader::new(child.stdout.take().unwrap());
        PyChild { child, out }
    }

    /// Writes `line` (and a newline) to its standard input.
    fn tell(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// The next line it prints, without its newline.
    fn line(&mut self) -> String {
        let mut line = String::new();
        self.out.read_line(&mut line).unwrap();
        line.trim_end_matches('\n').to_string()
    }

    /// Waits (at most 60 s) for it to exit by itself; its exit code.
    fn finish(&mut self) -> Option<i32> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "python did not finish"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for PyChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The 32-bit word at byte `at` of the state of the named primitive `name` (its data part,
/// found through its header), as it is in shared memory now.
fn state_word(name: &str, at: usize) -> u32 {
    let bytes = std::fs::read(format!("/dev/shm/{name}")).unwrap();
    let data = u64::from_le_bytes(bytes[72..80].try_into().unwrap()) as usize;
    u32::from_le_bytes(bytes[data + at..data + at + 4].try_into().unwrap())
}

/// Polls `done()` until it holds; fails the test after 20 s, saying what it waited for.
fn until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

// The words of the states (docs/format.md section 6). Event: tag, word (bit 0 the flag, the
// others the count of sets), waiters, reserved. Condition: tag, seq, counts (64 bits:
// wake-ups in the low half, waiters in the high one), sleepers.
// Semaphore: tag, count, waiters, bound.
const EVENT_WAITERS: usize = 8;
const EVENT_WORD: usize = 4;
const CONDITION_SEQ: usize = 4;
const CONDITION_WAKEUPS: usize = 8;
const CONDITION_WAITERS: usize = 12;
const SEMAPHORE_WAITERS: usize = 8;

#[test]
fn a_python_waiter_on_a_named_event_is_woken_by_a_rust_set() {
    let Some(py) = python() else { return };
    let name = unique("event-py-waits");
    let e = Event::create_named(&name).unwrap();
    let mut child = PyChild::spawn(
        py,
        r#"
import sys, time, sharedctypes as sc
e = sc.open_named(sys.argv[1])
print(type(e).__name__, e.is_set(), flush=True)
start = time.monotonic()
woken = e.wait(60)
print(woken, time.monotonic() - start < 50, flush=True)
"#,
        &[&name],
    );
    assert_eq!(child.line(), "Event False");
    until("the Python waiter sleeps on the event", || {
        state_word(&name, EVENT_WAITERS) == 1
    });
    e.set();
    assert_eq!(child.line(), "True True");
    assert_eq!(child.finish(), Some(0));
    assert!(e.is_set());
    assert_eq!(
        (
            state_word(&name, EVENT_WAITERS),
            state_word(&name, EVENT_WORD)
        ),
        (0, 0b11) // one set, the flag still set
    );
}

#[test]
fn a_rust_waiter_on_a_named_event_is_woken_by_a_python_set() {
    let Some(py) = python() else { return };
    let name = unique("event-rust-waits");
    let e = Event::create_named(&name).unwrap();
    let (woken, out) = std::thread::scope(|scope| {
        let waiter = scope.spawn(|| e.wait_timeout(Duration::from_secs(60)));
        until("the Rust waiter sleeps on the event", || {
            state_word(&name, EVENT_WAITERS) == 1
        });
        let out = check(&run_python(
            py,
            r#"
import sys, sharedctypes as sc
e = sc.open_named(sys.argv[1])
e.set()
e.clear()   # a pulse: the waiter was released by the set, whatever follows
print(e.is_set())
"#,
            &[&name],
        ));
        (waiter.join().unwrap(), out)
    });
    assert_eq!(out, "False\n");
    assert!(woken);
    assert!(!e.is_set());
    assert_eq!(
        (
            state_word(&name, EVENT_WAITERS),
            state_word(&name, EVENT_WORD)
        ),
        (0, 0b10) // one set, the flag cleared
    );
}

#[test]
fn a_python_process_killed_while_waiting_on_a_condition_disturbs_no_later_notification() {
    let Some(py) = python() else { return };
    let name = unique("condition-killed");
    let c = Condition::create_named(&name).unwrap();
    let mut child = PyChild::spawn(
        py,
        r#"
import sys, sharedctypes as sc
c = sc.open_named(sys.argv[1])
with c:
    print(type(c).__name__, c.get_lock().recursive, flush=True)
    c.wait()   # killed in here
"#,
        &[&name],
    );
    assert_eq!(child.line(), "Condition True");
    until("the Python waiter is counted", || {
        state_word(&name, CONDITION_WAITERS) == 1
    });
    // It released the lock to wait: Rust takes it at once.
    drop(c.acquire().unwrap());
    child.child.kill().unwrap();
    child.child.wait().unwrap();
    assert_eq!(
        (
            state_word(&name, CONDITION_WAITERS),
            state_word(&name, CONDITION_WAKEUPS)
        ),
        (1, 0),
        "a waiter killed while waiting stays counted"
    );
    for round in 1..=2 {
        let notified = std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                let g = c.acquire().unwrap();
                let (g, notified) = c.wait_timeout(g, Duration::from_secs(60)).unwrap();
                drop(g);
                notified
            });
            until("the Rust waiter is counted beside the dead one", || {
                state_word(&name, CONDITION_WAITERS) == 2
            });
            let g = c.acquire().unwrap();
            c.notify(1);
            drop(g);
            waiter.join().unwrap()
        });
        assert!(notified, "round {round}: the live waiter was notified");
        assert_eq!(
            (
                state_word(&name, CONDITION_SEQ),
                state_word(&name, CONDITION_WAITERS),
                state_word(&name, CONDITION_WAKEUPS)
            ),
            (round, 1, 0),
            "round {round}: the wake-up went to the live waiter; the dead one is still counted"
        );
    }
}

#[test]
fn python_and_rust_notify_each_other_on_a_named_condition() {
    let Some(py) = python() else { return };
    let name = unique("condition-ping");
    let flag_name = unique("condition-flag");
    let c = Condition::create_named(&name).unwrap();
    let flag = RawValue::<u32>::create_named(&flag_name, 0).unwrap();
    let mut child = PyChild::spawn(
        py,
        r#"
import sys, sharedctypes as sc
c = sc.open_named(sys.argv[1])
flag = sc.open_named(sys.argv[2]).get_obj()
with c:
    print("waiting", flush=True)
    print(c.wait_for(lambda: flag.value == 1, 60), flush=True)
    flag.value = 2
    c.notify_all()
"#,
        &[&name, &flag_name],
    );
    assert_eq!(child.line(), "waiting");
    until("the Python waiter is counted", || {
        state_word(&name, CONDITION_WAITERS) == 1
    });
    let g = c.acquire().unwrap();
    flag.set(1);
    c.notify_all();
    let (g, ok) = c
        .wait_for(g, || flag.get() == 2, Some(Duration::from_secs(60)))
        .unwrap();
    drop(g);
    assert!(ok);
    assert_eq!(child.line(), "True");
    assert_eq!(child.finish(), Some(0));
    assert_eq!(
        (
            state_word(&name, CONDITION_WAITERS),
            state_word(&name, CONDITION_WAKEUPS)
        ),
        (0, 0)
    );
}

#[test]
fn a_named_semaphore_counted_from_python_and_rust_ends_exactly_right() {
    let Some(py) = python() else { return };
    let name = unique("semaphore");
    let counter_name = unique("semaphore-counter");
    // A semaphore of 1 guards a plain counter: every increment is exclusive, from either side
    // (two Python processes, two Rust threads), and none is lost.
    let s = Semaphore::create_named(&name, 1).unwrap();
    let counter = RawValue::<u64>::create_named(&counter_name, 0).unwrap();
    let rounds = 600;
    let script = r#"
import sys, sharedctypes as sc
s = sc.open_named(sys.argv[1])
n = sc.open_named(sys.argv[2]).get_obj()
print(type(s).__name__, flush=True)
for _ in range(int(sys.argv[3])):
    assert s.acquire(timeout=60)
    n.value += 1
    s.release()
print("looped", flush=True)
sys.stdin.readline()  # the extra permits only once nobody counts any more
for _ in range(17):
    s.release()
"#;
    let rounds_text = rounds.to_string();
    let mut children: Vec<PyChild> = (0..2)
        .map(|_| PyChild::spawn(py, script, &[&name, &counter_name, &rounds_text]))
        .collect();
    for child in &mut children {
        assert_eq!(child.line(), "Semaphore");
    }
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                for _ in 0..rounds {
                    let permit = s.acquire();
                    counter.set(counter.get() + 1);
                    drop(permit);
                }
            });
        }
    });
    for child in &mut children {
        assert_eq!(child.line(), "looped");
    }
    assert_eq!(counter.get(), 4 * rounds);
    assert_eq!(s.value(), 1);
    // Then permits added from both sides at once.
    for child in &mut children {
        child.tell("release");
    }
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                for _ in 0..5 {
                    s.release().unwrap();
                }
            });
        }
    });
    for child in &mut children {
        assert_eq!(child.finish(), Some(0));
    }
    assert_eq!(s.value(), 1 + 2 * 17 + 2 * 5);
    assert_eq!(state_word(&name, SEMAPHORE_WAITERS), 0);
}

#[test]
fn a_python_acquire_waits_for_rust_releases_and_a_bound_holds_on_both_sides() {
    let Some(py) = python() else { return };
    let name = unique("semaphore-waits");
    let bounded_name = unique("bounded");
    let s = Semaphore::create_named(&name, 0).unwrap();
    let b = BoundedSemaphore::create_named(&bounded_name, 2).unwrap();
    let mut child = PyChild::spawn(
        py,
        r#"
import sys, sharedctypes as sc
s = sc.open_named(sys.argv[1])
b = sc.open_named(sys.argv[2])
print(type(b).__name__, b.get_value(), flush=True)
print(all([s.acquire(timeout=60) for _ in range(50)]), s.acquire(timeout=0.01), flush=True)
try:
    b.release()
except ValueError as e:
    print(e, flush=True)
b.acquire()
"#,
        &[&name, &bounded_name],
    );
    assert_eq!(child.line(), "BoundedSemaphore 2");
    for _ in 0..50 {
        until("the Python acquirer sleeps", || {
            state_word(&name, SEMAPHORE_WAITERS) == 1
        });
        s.release().unwrap();
    }
    assert_eq!(child.line(), "True False");
    assert_eq!(
        child.line(),
        "Semaphore released too many times: it holds 2 permits, the most it may hold is 2"
    );
    assert_eq!(child.finish(), Some(0));
    assert_eq!((s.value(), b.value()), (0, 1));
    b.release().unwrap();
    assert_eq!(
        b.release(),
        Err(Error::TooManyReleases { value: 2, max: 2 })
    );
}

#[test]
fn python_and_rust_parties_meet_at_a_named_barrier() {
    let Some(py) = python() else { return };
    let name = unique("barrier");
    let barrier = Barrier::create_named(&name, 3).unwrap();
    let script = r#"
import sys, sharedctypes as sc
b = sc.open_named(sys.argv[1])
print(b.parties, b.wait(60), flush=True)
"#;
    let mut children: Vec<PyChild> = (0..2)
        .map(|_| PyChild::spawn(py, script, &[&name]))
        .collect();
    let mine = barrier.wait_timeout(Duration::from_secs(60)).unwrap();
    let mut indices = vec![mine];
    for child in &mut children {
        let line = child.line();
        let (parties, index) = line.split_once(' ').unwrap();
        assert_eq!(parties, "3");
        indices.push(index.parse().unwrap());
        assert_eq!(child.finish(), Some(0));
    }
    indices.sort_unstable();
    assert_eq!(indices, [0, 1, 2]);
    assert!(!barrier.is_broken());
    // A Python party that times out breaks the barrier for Rust too.
    let out = check(&run_python(
        py,
        r#"
import sys, sharedctypes as sc
b = sc.open_named(sys.argv[1])
try:
    b.wait(0.05)
except sc.BrokenBarrierError:
    print("broken", b.broken)
"#,
        &[&name],
    ));
    assert_eq!(out, "broken True\n");
    assert!(barrier.is_broken());
    assert_eq!(barrier.wait(), Err(Error::BrokenBarrier));
}

#[test]
fn a_rust_producer_feeds_a_python_consumer_through_a_named_queue() {
    let Some(py) = python() else { return };
    let name = unique("queue-to-py");
    // Eight slots for 3000 records: both sides wait for each other again and again.
    let q = Queue::<Record>::create_named(&name, 8).unwrap();
    let mut child = PyChild::spawn(
        py,
        r#"
import sys, sharedctypes as sc
q = sc.open_named(sys.argv[1])
print(type(q).__name__, q.capacity, q.element_type.__name__, flush=True)
n = 0
bad = []
for r in q:
    ok = (r.id == n and bytes(r.tag) == b"abc" and r.at.x == n / 2 and r.at.y == -n
          and list(r.history) == [n % 7, -1, 0, 2])
    if not ok:
        bad.append(n)
    n += 1
print(n, bad[:5], flush=True)
"#,
        &[&name],
    );
    assert_eq!(child.line(), "Queue 8 Record");
    for n in 0..3000u32 {
        let record = Record {
            id: n,
            tag: [CChar(b'a'), CChar(b'b'), CChar(b'c')],
            at: Point {
                x: f64::from(n) / 2.0,
                y: -f64::from(n),
            },
            history: [(n % 7) as i16, -1, 0, 2],
        };
        q.put_timeout(record, Duration::from_secs(60)).unwrap();
    }
    q.close();
    assert_eq!(child.line(), "3000 []");
    assert_eq!(child.finish(), Some(0));
    assert!(q.is_empty());
}

#[test]
fn a_python_producer_feeds_a_rust_consumer_through_a_named_bytes_queue() {
    let Some(py) = python() else { return };
    let name = unique("bytes-from-py");
    let q = BytesQueue::create_named(&name, 256).unwrap();
    let mut child = PyChild::spawn(
        py,
        r#"
import sys, sharedctypes as sc
q = sc.open_named(sys.argv[1])
print(type(q).__name__, q.capacity, flush=True)
for i in range(2000):
    q.put(bytes([i % 251]) * (i % 61), timeout=60)
q.close()
print("sent", flush=True)
"#,
        &[&name],
    );
    assert_eq!(child.line(), "BytesQueue 256");
    let mut n = 0usize;
    loop {
        match q.get_timeout(Duration::from_secs(60)) {
            Ok(Some(message)) => {
                assert_eq!(message, vec![(n % 251) as u8; n % 61], "message {n}");
                n += 1;
            }
            Ok(None) => panic!("no message for 60 s after {n}"),
            Err(Error::Closed) => break,
            Err(e) => panic!("after {n}: {e}"),
        }
    }
    assert_eq!(n, 2000);
    assert_eq!(child.line(), "sent");
    assert_eq!(child.finish(), Some(0));
}

/// Python's getters read `tail` afresh and leave `tail_seen` (the Rust getters' last look) as
/// it is: Rust getters that take turns with them still get every item once, in order, both
/// when their last look still lies ahead of `head` and when Python's gets took `head` past it
/// (then only `tail_seen - head` beyond the capacity keeps a Rust getter from reading slots
/// already taken), around a ring that wraps.
#[test]
fn rust_and_python_getters_take_turns_on_one_queue_in_order() {
    let Some(py) = python() else { return };
    let name = unique("queue-turns");
    let q = Queue::<u64>::create_named(&name, 8).unwrap();
    // Python puts `from..to` (if any), then takes `n` with blocking gets.
    let python_turn = |from: u64, to: u64, n: usize| -> String {
        let script = "import sys, sharedctypes as sc\nq = sc.open_named(sys.argv[1])\n\
                      for i in range(int(sys.argv[2]), int(sys.argv[3])): q.put(i)\n\
                      print(*[q.get() for _ in range(int(sys.argv[4]))])";
        let args = [&name, &from.to_string(), &to.to_string(), &n.to_string()];
        check(&run_python(py, script, &args.map(String::as_str)))
            .trim()
            .to_string()
    };
    let rust_takes =
        |n: u64| -> Vec<u64> { (0..n).map(|_| q.try_get().unwrap().unwrap()).collect() };
    for i in 0..6 {
        q.put(i).unwrap();
    }
    assert_eq!(rust_takes(1), [0]); // its last look at `tail`: 6
    assert_eq!(python_turn(0, 0, 3), "1 2 3"); // `head` 4, behind it
    for i in 6..10 {
        q.put(i).unwrap();
    }
    // 4 and 5 from its last look, then a new one (10).
    assert_eq!(rust_takes(3), [4, 5, 6]);
    // Python puts 10..14 and takes `head` past the Rust getters' last look (10), to empty.
    assert_eq!(python_turn(10, 14, 7), "7 8 9 10 11 12 13");
    assert_eq!(q.try_get().unwrap(), None, "nothing taken twice");
    for i in 14..17 {
        q.put(i).unwrap();
    }
    assert_eq!(rust_takes(3), [14, 15, 16]);
    assert_eq!(q.try_get().unwrap(), None);
}

/// Rust's batches and Python's meet on one queue: a batch put in Rust comes out of Python's
/// `get_many` whole and in order, a batch put in Python out of Rust's `get_many`, around a
/// ring that wraps.
#[test]
fn rust_batches_and_python_batches_move_the_same_items() {
    let Some(py) = python() else { return };
    let name = unique("queue-batches");
    let q = Queue::<u64>::create_named(&name, 6).unwrap();
    let python = |script: &str| {
        let script =
            format!("import sys, sharedctypes as sc\nq = sc.open_named(sys.argv[1])\n{script}");
        check(&run_python(py, &script, &[&name])).trim().to_string()
    };
    assert_eq!(q.put_many(&[1, 2, 3, 4]), Ok(4));
    assert_eq!(python("print(*q.get_many(3))"), "1 2 3");
    assert_eq!(q.put_many(&[5, 6, 7, 8, 9, 10]), Ok(5)); // room for five, around the end
    assert_eq!(python("print(*q.get_many(10))"), "4 5 6 7 8 9");
    assert_eq!(python("print(q.put_many(range(11, 18)))"), "6"); // room for six
    assert_eq!(q.get_many(4), Ok(vec![11, 12, 13, 14]));
    assert_eq!(q.get_many(4), Ok(vec![15, 16]));
    assert_eq!(q.try_get(), Ok(None));
    // Messages: 16 + 8 + 24 bytes of a ring of 64, then around its end.
    let name = unique("bytes-queue-batches");
    let b = BytesQueue::create_named(&name, 64).unwrap();
    let python = |script: &str| {
        let script =
            format!("import sys, sharedctypes as sc\nq = sc.open_named(sys.argv[1])\n{script}");
        check(&run_python(py, &script, &[&name])).trim().to_string()
    };
    assert_eq!(b.put_many(&[&b"abc"[..], b"", b"0123456789"]), Ok(3));
    assert_eq!(python("print(q.get_many(2))"), "[b'abc', b'']");
    assert_eq!(
        python("print(q.put_many([b'wraps', b'x' * 12, b'y']))"),
        "2"
    ); // 16 + 24
    assert_eq!(
        b.get_many(8).unwrap(),
        [&b"0123456789"[..], b"wraps", &[b'x'; 12]]
    );
}

/// Rust and Python putters and getters at once on a small ring (Python's blocking `put` and
/// `get` make their first attempts inline; Rust's getters keep `tail_seen`, Python's do not):
/// every item received exactly once, each putter's items in order at each getter.
#[test]
fn rust_and_python_put_and_get_at_once_on_a_small_ring() {
    let Some(py) = python() else { return };
    const N: u64 = 20_000;
    let name = unique("queue-both-sides");
    let q = Queue::<u64>::create_named(&name, 8).unwrap();
    let spawn = |script: &str| {
        Command::new(py)
            .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/python"))
            .args(["-c", script, &name, &N.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let python_puts = spawn(
        "import sys, sharedctypes as sc\nq = sc.open_named(sys.argv[1])\nn = int(sys.argv[2])\n\
         for i in range(n, 2 * n): q.put(i)\nprint('done', flush=True)",
    );
    let python_gets = spawn(
        "import sys, sharedctypes as sc\nq = sc.open_named(sys.argv[1])\nprint(*list(q), flush=True)",
    );
    let rust_got = std::thread::scope(|s| {
        let getter = s.spawn(|| {
            let mut got = Vec::new();
            loop {
                match q.get() {
                    Ok(x) => got.push(x),
                    Err(Error::Closed) => return got,
                    Err(e) => panic!("a Rust get failed: {e}"),
                }
            }
        });
        for i in 0..N {
            q.put(i).unwrap();
        }
        let out = python_puts.wait_with_output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "done");
        q.close();
        getter.join().unwrap()
    });
    let out = python_gets.wait_with_output().unwrap();
    assert!(out.status.success());
    let python_got: Vec<u64> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|w| w.parse().unwrap())
        .collect();
    for got in [&rust_got, &python_got] {
        for putter in [0..N, N..2 * N] {
            let mine: Vec<u64> = got.iter().copied().filter(|x| putter.contains(x)).collect();
            assert!(mine.windows(2).all(|w| w[0] < w[1]), "out of order");
        }
    }
    let mut all: Vec<u64> = rust_got.into_iter().chain(python_got).collect();
    all.sort_unstable();
    assert_eq!(all, (0..2 * N).collect::<Vec<_>>());
}
