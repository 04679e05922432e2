//! `Process::spawn` (a fresh process of this executable runs a function with shared objects
//! as arguments) and `Process::command` (any program finds shared objects by name): every
//! object kind round-trips with exact values, layouts and handles are checked, a killed
//! holder is reported, descriptors and mappings stay bounded, and a busy multi-threaded
//! parent spawns safely.
//!
//! The programs `Process::command` starts here are this test binary again, running the
//! ignored test `command_child` with `SPAWN_TEST_CHILD` naming what to do.

use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use sharedctypes::share::from_handle;
use sharedctypes::{
    Array, CChar, Error, Exit, Lock, Process, RLock, RawArray, RawValue, SharedLayout, Value, heap,
    inherited,
};

mod common;
use common::wait_for;

#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct Point {
    x: f64,
    y: i32,
}

/// The same name and fields, in another order: another layout.
mod reordered {
    use sharedctypes::SharedLayout;

    #[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
    #[repr(C)]
    pub struct Point {
        pub y: i32,
        pub x: f64,
    }
}

/// Runs `child` to its end, failing (not hanging) after 60 s.
fn finish(child: &Process<'_>) -> i32 {
    match child.join_timeout(Duration::from_secs(60)).unwrap() {
        Some(code) => code,
        None => {
            child.kill().unwrap();
            panic!("child {} did not end within 60 s", child.pid());
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn use_every_kind(
    raw: RawValue<f64>,
    raws: RawArray<i32>,
    value: Value<Point>,
    array: Array<Point, Lock>,
    lock: Lock,
    rlock: RLock,
    copied: Point,
    text: Array<CChar>,
) -> sharedctypes::Result<Exit> {
    // Exactly what the parent put there.
    let ok = raw.get() == 0.25
        && raws.to_vec() == [1, 2, 3]
        && value.get()? == Point { x: 1.5, y: -2 }
        && array.to_vec()? == [Point { x: 0.5, y: 1 }, Point { x: 2.5, y: 3 }]
        && copied == Point { x: 9.0, y: 9 }
        && text.value()? == b"hello";
    raw.update(|x| x * 4.0);
    raws.update(2, |v| v * 100)?;
    value.update_x(|x| x * 2.0)?;
    array.at(1).set_y(30);
    text.set_value(b"HELLO")?;
    // The standalone locks are the parent's: the parent sees them held.
    let _l = lock.acquire()?;
    let _r = rlock.acquire()?;
    std::mem::forget((_l, _r));
    Ok(Exit(if ok { 7 } else { 3 }))
}

#[test]
fn every_kind_of_object_round_trips_through_spawn() {
    let raw = RawValue::new(0.25f64).unwrap();
    let raws = RawArray::from_slice(&[1i32, 2, 3]).unwrap();
    let value = Value::new(Point { x: 1.5, y: -2 }).unwrap();
    let array = Array::with_lock(
        &[Point { x: 0.5, y: 1 }, Point { x: 2.5, y: 3 }],
        Lock::new().unwrap(),
    )
    .unwrap();
    let lock = Lock::new().unwrap();
    let rlock = RLock::new().unwrap();
    let text = Array::from_slice(&b"hello".map(CChar)).unwrap();
    let copied = Point { x: 9.0, y: 9 };
    let child = Process::spawn(
        use_every_kind,
        (&raw, &raws, &value, &array, &lock, &rlock, &copied, &text),
    )
    .unwrap();
    assert_eq!(finish(&child), 7, "the child saw other values");
    assert_eq!(raw.get(), 1.0);
    assert_eq!(raws.to_vec(), [1, 2, 300]);
    assert_eq!(value.get().unwrap(), Point { x: 3.0, y: -2 });
    assert_eq!(array.get(1).unwrap(), Point { x: 2.5, y: 30 });
    assert_eq!(text.value().unwrap(), b"HELLO");
    // The child ended holding the standalone locks: the same locks, reported here.
    for died in [
        lock.acquire().unwrap().dead_owner_pid(),
        rlock.acquire().unwrap().dead_owner_pid(),
    ] {
        assert_eq!(died, Some(child.pid()));
    }
}

/// Set by the parent before it spawns: a fork of the parent would see it.
static MARK: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

#[test]
fn a_spawned_child_is_the_callers_own_child_but_not_a_fork_of_it() {
    // The fork server, an exec of this executable, forks it as a child of this process
    // (CLONE_PARENT): this process waits for it directly, but it is never a copy of this
    // process's memory.
    MARK.store(7, std::sync::atomic::Ordering::SeqCst);
    let pid = std::process::id() as i32;
    let seen = RawArray::<u32>::zeroed(2).unwrap();
    fn report(seen: RawArray<u32>) -> sharedctypes::Result<()> {
        seen.set(0, std::os::unix::process::parent_id())?;
        seen.set(1, MARK.load(std::sync::atomic::Ordering::SeqCst))
    }
    let child = Process::spawn(report, (&seen,)).unwrap();
    assert_eq!(finish(&child), 0);
    assert_eq!(
        seen.get(0).unwrap() as i32,
        pid,
        "the child is this process's own"
    );
    assert_eq!(
        seen.get(1).unwrap(),
        0,
        "the child is not a fork of this process"
    );
}

fn exits_with(code: i32) -> Exit {
    Exit(code)
}

fn panics() {
    panic!("a panic in a spawned child");
}

fn sleeps_forever() {
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[test]
fn exit_codes_panics_signals_and_joins_behave_as_for_start() {
    assert_eq!(finish(&Process::spawn(exits_with, (&5,)).unwrap()), 5);
    assert_eq!(finish(&Process::spawn(panics, ()).unwrap()), 1);
    let worker = Process::spawn(sleeps_forever, ()).unwrap();
    assert!(worker.is_alive());
    assert_eq!(worker.exitcode(), None);
    assert_eq!(
        worker.join_timeout(Duration::from_millis(20)).unwrap(),
        None
    );
    worker.terminate().unwrap();
    assert_eq!(finish(&worker), -15);
    assert!(!worker.is_alive());
    assert_eq!(worker.exitcode(), Some(-15));
    assert_eq!(
        worker.join(),
        Err(Error::AlreadyJoined {
            pid: worker.pid(),
            exitcode: -15
        })
    );
    worker.kill().unwrap(); // ended: nothing to do
    let killed = Process::spawn(sleeps_forever, ()).unwrap();
    killed.kill().unwrap();
    assert_eq!(finish(&killed), -9);
}

fn hold_until_killed(v: Value<i64>, held: RawValue<u32>) {
    let g = v.lock().unwrap();
    g.set(-1); // half-way through an update
    held.set(1);
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[test]
fn a_spawned_holder_killed_is_reported_to_the_next_acquirer() {
    let v = Value::new(100i64).unwrap();
    let held = RawValue::new(0u32).unwrap();
    let child = Process::spawn(hold_until_killed, (&v, &held)).unwrap();
    wait_for(&held, 1);
    child.kill().unwrap();
    assert_eq!(finish(&child), -9);
    let g = v
        .lock_timeout(Duration::from_secs(5))
        .unwrap()
        .expect("never a deadlock");
    assert!(g.owner_died());
    assert_eq!(g.dead_owner_pid(), Some(child.pid()));
    assert_eq!(g.get(), -1);
    g.set(100);
    g.clear_owner_died();
    drop(g);
    assert_eq!(v.get().unwrap(), 100);
}

static LOG: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn log_once(counter: Value<u32>) -> sharedctypes::Result<()> {
    // A fresh process: its global mutex is its own, whatever the parent's threads held.
    LOG.lock().unwrap().push(1);
    let _out = std::io::stdout().lock();
    counter.update(|c| c + 1).map(drop)
}

#[test]
fn a_busy_multi_threaded_parent_spawns_200_children() {
    let counter = Value::new(0u32).unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for t in 0..8 {
            let stop = &stop;
            s.spawn(move || {
                let mut kept = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    LOG.lock().unwrap().push(t);
                    drop(std::io::stdout().lock());
                    kept.push(RawArray::<u8>::zeroed(64 + t as usize).unwrap());
                    if kept.len() > 100 {
                        kept.clear();
                        LOG.lock().unwrap().clear();
                    }
                }
            });
        }
        let children: Vec<Process<'_>> = (0..200)
            .map(|_| Process::spawn(log_once, (&counter,)).unwrap())
            .collect();
        for child in &children {
            assert_eq!(finish(child), 0);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    assert_eq!(counter.get().unwrap(), 200);
}

/// Open descriptors and mappings of this process.
fn fds_and_maps() -> (usize, usize) {
    let fds = std::fs::read_dir("/proc/self/fd").unwrap().count();
    let maps = std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count();
    (fds, maps)
}

fn bump(v: Value<u64>) -> sharedctypes::Result<()> {
    v.update(|x| x + 1).map(drop)
}

#[test]
fn a_thousand_spawns_keep_descriptors_and_mappings_bounded() {
    // Measured in a forked child, which no other test thread shares (it starts a fork server
    // of its own).
    let measure = Process::start(|| {
        let v = Value::new(0u64).unwrap();
        Process::spawn(bump, (&v,)).unwrap().join().unwrap(); // the server is running
        let (fds, maps) = fds_and_maps();
        let mut most = (0, 0);
        for i in 0..1000 {
            let child = Process::spawn(bump, (&v,)).unwrap();
            assert_eq!(finish(&child), 0);
            if i % 50 == 0 {
                let now = fds_and_maps();
                most = (most.0.max(now.0), most.1.max(now.1));
            }
        }
        assert_eq!(v.get().unwrap(), 1001);
        assert!(
            most.0 <= fds + 2,
            "descriptors grew from {fds} to {}",
            most.0
        );
        assert!(
            most.1 <= maps + 2,
            "mappings grew from {maps} to {}",
            most.1
        );
        assert_eq!(fds_and_maps().0, fds, "descriptors left open");
    })
    .unwrap();
    assert_eq!(finish(&measure), 0, "{:?}", measure.failure());
}

/// This test binary, to run as the program of `Process::command`.
fn this_test_binary(role: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "command_child",
        "--test-threads=1",
        "--quiet",
    ]);
    cmd.env("SPAWN_TEST_CHILD", role);
    cmd.stdout(std::process::Stdio::null());
    cmd
}

#[test]
#[ignore = "the program that Process::command starts in the other tests"]
fn command_child() {
    let Ok(role) = std::env::var("SPAWN_TEST_CHILD") else {
        return;
    };
    match role.as_str() {
        "modify" => {
            let value: Value<Point> = inherited("value").unwrap();
            let array: Array<Point, Lock> = inherited("array").unwrap();
            let raws: RawArray<i32> = inherited("raws").unwrap();
            let rlock: RLock = inherited("rlock").unwrap();
            let lock: Lock = inherited("lock").unwrap();
            let raw: RawValue<f64> = inherited("raw").unwrap();
            let copied: Point = inherited("copied").unwrap();
            assert_eq!(raw.get(), 0.5);
            raw.set(-0.5);
            std::mem::forget(lock.acquire().unwrap());
            assert_eq!(value.get().unwrap(), Point { x: 1.5, y: -2 });
            assert_eq!(raws.to_vec(), [1, 2, 3]);
            assert_eq!(copied, Point { x: 9.0, y: 9 });
            value.update_x(|x| x * 2.0).unwrap();
            array.at(0).set_y(10);
            raws.set(0, -1).unwrap();
            std::mem::forget(rlock.acquire().unwrap());
        }
        "reordered" => {
            let err = inherited::<Value<reordered::Point>>("value").unwrap_err();
            let Error::LayoutMismatch {
                expected,
                expected_layout,
                found,
                found_layout,
            } = err
            else {
                panic!("expected a layout mismatch, got {err:?}");
            };
            assert_eq!((expected.as_str(), found.as_str()), ("Point", "Point"));
            assert!(
                expected_layout.contains("y: i32 at 0, x: f64 at 8"),
                "{expected_layout}"
            );
            assert!(
                found_layout.contains("x@0:f64=f64,y@8:i32=i32"),
                "{found_layout}"
            );
            assert!(matches!(
                inherited::<Value<Point, Lock>>("value"),
                Err(Error::InvalidHandle { .. })
            ));
            assert_eq!(
                inherited::<Value<Point>>("nothing").unwrap_err(),
                Error::NotShared {
                    name: "nothing".into(),
                    var: "SHAREDCTYPES_SHARED_nothing".into()
                }
            );
        }
        "scan" => {
            // Every file handed over: one object's, nothing of the parent's other objects.
            for (fd, size) in handed_files("n") {
                assert!(size <= 4096, "a file of {size} bytes for one small value");
                let bytes = std::fs::read(format!("/proc/self/fd/{fd}")).unwrap();
                let secret = 0x5EC2_E7C0_DE00_0001u64.to_le_bytes();
                assert!(
                    !bytes.windows(8).any(|w| w == secret),
                    "the program can read an object it was not handed"
                );
            }
        }
        "truncate" => {
            for (fd, size) in handed_files("n") {
                for len in [0, size / 2, size * 2] {
                    // SAFETY: ftruncate of a descriptor this process inherited.
                    let rc = unsafe { libc::ftruncate(fd, len as libc::off_t) };
                    assert_eq!(rc, -1, "the file could be resized to {len}");
                    assert_eq!(
                        std::io::Error::last_os_error().raw_os_error(),
                        Some(libc::EPERM)
                    );
                }
            }
        }
        "double" => {
            let n: RawValue<u64> = inherited("n").unwrap();
            n.set(n.get() * 2);
        }
        "spawn_args" => {
            let args = std::env::args().count() as u32;
            assert!(args > 1, "{:?}", std::env::args().collect::<Vec<_>>());
            assert_eq!(
                finish(&Process::spawn(same_arguments, (&args,)).unwrap()),
                0
            );
        }
        other => panic!("unknown role {other}"),
    }
}

/// The descriptors (and their files' sizes) the handle of the object shared as `name` names.
fn handed_files(name: &str) -> Vec<(i32, u64)> {
    let handle = std::env::var(format!("SHAREDCTYPES_SHARED_{name}")).unwrap();
    let mut fds: Vec<i32> = handle
        .split(' ')
        .filter_map(|w| {
            let (key, value) = w.split_once('=')?;
            let at = match key {
                "data" => value,
                "lock" => value.split_once(':')?.1,
                _ => return None,
            };
            at.split(':').next()?.parse().ok()
        })
        .collect();
    fds.sort();
    fds.dedup();
    assert!(!fds.is_empty(), "no descriptor in {handle}");
    fds.into_iter()
        .map(|fd| {
            let size = std::fs::metadata(format!("/proc/self/fd/{fd}"))
                .unwrap()
                .len();
            (fd, size)
        })
        .collect()
}

/// A parent of one thread hands objects over with no `pre_exec` hook (so that std may start
/// the program with `posix_spawn`): the program gets them, and they are close-on-exec again
/// in the parent afterwards. A parent of several threads (this test's harness) hands them
/// over through the hook.
#[test]
fn a_parent_of_one_thread_or_of_several_hands_objects_to_a_program() {
    let n = heap::isolated(|| RawValue::new(21u64)).unwrap();
    // The descriptors of this process a program would inherit.
    let inheritable = || -> Vec<i32> {
        let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .flatten()
            .filter_map(|fd| fd.file_name().to_str()?.parse().ok())
            .collect();
        fds.into_iter()
            // SAFETY: F_GETFD on a descriptor number touches no memory (a closed one fails).
            .filter(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } == 0)
            .collect()
    };
    // A program that doubles `n`, run to its end.
    let double = || {
        let program = Process::command(this_test_binary("double"))
            .share("n", &n)
            .unwrap()
            .spawn()
            .unwrap();
        assert_eq!(finish(&program), 0);
    };
    let single = Process::start(|| {
        let before = inheritable();
        double();
        assert_eq!(n.get(), 42);
        assert_eq!(inheritable(), before, "descriptors left inheritable");
    })
    .unwrap();
    assert_eq!(finish(&single), 0);
    assert_eq!(n.get(), 42);
    double();
    assert_eq!(n.get(), 84);
}

#[test]
fn a_program_handed_one_object_cannot_reach_any_other() {
    let secret = Value::new(0x5EC2_E7C0_DE00_0001u64).unwrap(); // in the common heap
    let n = heap::isolated(|| Value::new(1u64)).unwrap();
    let child = Process::command(this_test_binary("scan"))
        .share("n", &n)
        .unwrap()
        .spawn()
        .unwrap();
    assert_eq!(
        finish(&child),
        0,
        "the program found what it was not handed"
    );
    assert_eq!(
        Process::command(this_test_binary("scan"))
            .share("secret", &secret)
            .err(),
        Some(Error::NotIsolated {
            name: "secret".into()
        })
    );
    assert_eq!(secret.get().unwrap(), 0x5EC2_E7C0_DE00_0001);
}

#[test]
fn a_program_cannot_shrink_or_grow_the_memory_it_was_handed() {
    let n = heap::isolated(|| Value::new(77u64)).unwrap();
    let child = Process::command(this_test_binary("truncate"))
        .share("n", &n)
        .unwrap()
        .spawn()
        .unwrap();
    assert_eq!(finish(&child), 0, "the program resized a shared file");
    // Read in a child: had the file shrunk, the read would be a SIGBUS.
    let reader = Process::start(|| Exit(if n.get().unwrap() == 77 { 0 } else { 1 })).unwrap();
    assert_eq!(finish(&reader), 0);
}

#[test]
fn every_kind_of_object_round_trips_through_command() {
    let (value, array, raws, rlock, lock, raw) = heap::isolated(|| {
        (
            Value::new(Point { x: 1.5, y: -2 }).unwrap(),
            Array::with_lock(&[Point { x: 0.5, y: 1 }], Lock::new().unwrap()).unwrap(),
            RawArray::from_slice(&[1i32, 2, 3]).unwrap(),
            RLock::new().unwrap(),
            Lock::new().unwrap(),
            RawValue::new(0.5f64).unwrap(),
        )
    });
    let copied = Point { x: 9.0, y: 9 };
    let child = Process::command(this_test_binary("modify"))
        .share("lock", &lock)
        .unwrap()
        .share("raw", &raw)
        .unwrap()
        .share("value", &value)
        .unwrap()
        .share("array", &array)
        .unwrap()
        .share("raws", &raws)
        .unwrap()
        .share("rlock", &rlock)
        .unwrap()
        .share("copied", &copied)
        .unwrap()
        .spawn()
        .unwrap();
    assert_eq!(finish(&child), 0, "the program failed");
    assert_eq!(value.get().unwrap(), Point { x: 3.0, y: -2 });
    assert_eq!(array.get(0).unwrap(), Point { x: 0.5, y: 10 });
    assert_eq!(raws.to_vec(), [-1, 2, 3]);
    assert_eq!(rlock.acquire().unwrap().dead_owner_pid(), Some(child.pid()));
}

#[test]
fn a_struct_with_its_fields_reordered_is_refused_with_both_layouts() {
    let value = heap::isolated(|| Value::new(Point { x: 1.5, y: -2 })).unwrap();
    let child = Process::command(this_test_binary("reordered"))
        .share("value", &value)
        .unwrap()
        .spawn()
        .unwrap();
    assert_eq!(finish(&child), 0, "the program failed");
}

#[test]
fn a_program_sees_only_the_descriptors_meant_for_it() {
    let small = heap::isolated(|| Value::new(1u8)).unwrap();
    let big = RawArray::<u8>::zeroed(2 << 20).unwrap(); // an arena of its own anyway
    let list = |cmd: sharedctypes::process::Command<'_>| -> Vec<String> {
        let child = cmd.spawn().unwrap();
        let mut out = String::new();
        std::io::Read::read_to_string(&mut child.take_stdout().unwrap(), &mut out).unwrap();
        assert_eq!(finish(&child), 0);
        out.lines().map(str::to_string).collect()
    };
    let ls = || {
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "ls /proc/self/fd; env | grep '^SHAREDCTYPES_SHARED_' | tr ' ' '\\n' | grep -E '^(data|lock)=' || true",
        ]);
        cmd.stdout(std::process::Stdio::piped());
        cmd
    };
    let alone = list(Process::command(ls()));
    let shared = list(
        Process::command(ls())
            .share("small", &small)
            .unwrap()
            .share("big", &big)
            .unwrap(),
    );
    let fds = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l.chars().all(|c| c.is_ascii_digit()))
            .cloned()
            .collect()
    };
    let extra: Vec<String> = fds(&shared)
        .into_iter()
        .filter(|fd| !fds(&alone).contains(fd))
        .collect();
    // The handles name the descriptors (`small`'s value and lock have a file each).
    let mut named: Vec<String> = shared
        .iter()
        .filter_map(|l| {
            l.split_once('=')
                .map(|(_, v)| v.split(':').rev().nth(1).unwrap().to_string())
        })
        .collect();
    named.sort();
    named.dedup();
    let mut extra_sorted = extra.clone();
    extra_sorted.sort();
    assert_eq!(extra.len(), 3, "three files: {alone:?} vs {shared:?}");
    assert_eq!(extra_sorted, named);
}

#[test]
fn forged_truncated_and_out_of_range_handles_are_refused() {
    // A shared-memory file this process opened: 4096 zero bytes.
    // SAFETY: memfd_create with a valid name; the descriptor is owned below.
    let fd = unsafe { libc::memfd_create(c"forged".as_ptr(), libc::MFD_CLOEXEC) };
    assert!(fd >= 0);
    // SAFETY: the descriptor was just created and is owned by nothing else.
    let file = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    file.set_len(4096).unwrap();
    let fd = file.as_raw_fd();
    let fp = |l: sharedctypes::layout::Layout| format!("{:016x}", l.fingerprint);
    let i32_fp = fp(i32::LAYOUT);
    let good = format!(
        "sharedctypes/2 kind=value type=i32 size=4 align=4 fingerprint={i32_fp} count=1 data={fd}:8 layout=i32"
    );
    let v: RawValue<i32> = from_handle(&good).unwrap();
    assert_eq!(v.get(), 0);
    v.set(5);
    let again: RawValue<i32> = from_handle(&good).unwrap();
    assert_eq!(again.get(), 5, "the same memory, mapped once");
    let invalid = |h: &str| match from_handle::<RawValue<i32>>(h) {
        Err(Error::InvalidHandle { reason }) => reason,
        other => panic!("{h}: expected InvalidHandle, got {other:?}"),
    };
    let with = |from: &str, to: &str| good.replace(from, to);
    assert_eq!(
        invalid(&with(":8 ", ":4096 ")),
        "its data (bytes 4096..4100) runs past the end of the file (4096 bytes)"
    );
    assert_eq!(
        invalid(&with(":8 ", ":4094 ")),
        "its data (bytes 4094..4098) runs past the end of the file (4096 bytes)"
    );
    assert_eq!(
        invalid(&with(":8 ", ":18446744073709551614 ")),
        "its data (bytes 18446744073709551614..18446744073709551615) runs past the end of the file (4096 bytes)"
    );
    assert_eq!(
        invalid(&with(":8 ", ":6 ")),
        "its data (bytes 6..10) is not aligned to 4 bytes"
    );
    assert_eq!(
        invalid(&with(&format!("data={fd}:"), "data=99999:")),
        "file 99999 is not open in this process"
    );
    assert!(invalid(&with("sharedctypes/2", "sharedctypes/9")).contains("another format version"));
    assert_eq!(
        invalid(&with("kind=value", "kind=event")),
        "count=1, but only a value, an array or a queue has a count, not kind=event"
    );
    assert_eq!(
        invalid(&good[..good.find(" data=").unwrap()]),
        "a type without layout="
    );
    assert_eq!(
        invalid(&good.replace(&format!(" data={fd}:8"), "")),
        "a value without its data"
    );
    assert_eq!(
        invalid(&with(" size=4", " size=x")),
        "size=x is not a number"
    );
    assert_eq!(invalid(&format!("{good} extra=1")), "unknown field `extra`");
    // A lock that names bytes which are not a lock, or a lock of the other kind.
    let lock_at = |kind: &str, off: u64| format!("sharedctypes/2 kind=lock lock={kind}:{fd}:{off}");
    assert!(matches!(
        from_handle::<Lock>(&lock_at("lock", 64)),
        Err(Error::InvalidHandle { reason }) if reason == "the handle names not a lock (tag 0x00000000) where a Lock is expected"
    ));
    assert!(matches!(
        from_handle::<RLock>(&lock_at("lock", 64)),
        Err(Error::InvalidHandle { reason }) if reason == "it holds a Lock, not an RLock"
    ));
    // An array whose size overflows.
    let huge = format!(
        "sharedctypes/2 kind=array type=i32 size=4 align=4 fingerprint={i32_fp} count=4611686018427387904 data={fd}:0 layout=i32"
    );
    assert!(matches!(
        from_handle::<RawArray<i32>>(&huge),
        Err(Error::InvalidHandle { .. })
    ));
    // Another type: refused with both layouts.
    assert!(matches!(
        from_handle::<RawValue<u32>>(&good),
        Err(Error::LayoutMismatch { expected, found, .. }) if expected == "u32" && found == "i32"
    ));
}

fn write_until_killed(v: RawValue<u64>) {
    loop {
        v.update(|x| x + 1);
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits (at most 20 s) until the heap has reused every quarantined block.
fn wait_until_unquarantined() -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        heap::trim();
        if heap::stats().quarantined_blocks == 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn memory_a_spawned_or_started_program_may_map_is_not_reused_while_it_runs() {
    // In a forked child, whose heap no other test thread shares.
    let probe = Process::start(|| {
        // A spawned child, whose `Process` is leaked: the borrow checker no longer protects
        // the object, the lifeline does.
        let v = RawValue::new(0u64).unwrap();
        let child = Process::spawn(write_until_killed, (&v,)).unwrap();
        let pid = child.pid();
        std::mem::forget(child);
        drop(v);
        assert_eq!(
            heap::stats().quarantined_blocks,
            1,
            "freed while the child maps it"
        );
        // SAFETY: sends SIGKILL to the spawned child (not reaped by anyone but its server).
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
        assert!(
            wait_until_unquarantined(),
            "the child's end was never noticed"
        );

        // A program started with `command` can reach only the files of its own objects,
        // which are never reused: freeing common blocks while it runs quarantines nothing.
        let common = RawValue::new(0u64).unwrap();
        let w = heap::isolated(|| RawValue::new(0u64)).unwrap();
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let program = Process::command(cmd)
            .share("w", &w)
            .unwrap()
            .spawn()
            .unwrap();
        let pid = program.pid();
        std::mem::forget(program);
        drop((w, common));
        // (Quarantined at most until the fork that started it has exec'd.)
        assert!(
            wait_until_unquarantined(),
            "a running program kept common blocks from being reused"
        );
        // SAFETY: ends our own child, then reaps it.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
        let mut status = 0;
        // SAFETY: waits for our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    })
    .unwrap();
    assert_eq!(finish(&probe), 0, "{:?}", probe.failure());
}

/// A value whose existence proves that some set-up ran in this process (a common sound
/// pattern): no safe code may make one anywhere else.
#[derive(Clone, Copy)]
struct SetUp(());

fn set_up() -> SetUp {
    SetUp(())
}

#[test]
fn a_closure_is_refused_even_when_it_captures_only_a_zero_sized_token() {
    let token = set_up();
    let v = RawValue::new(0u32).unwrap();
    let refused = Process::spawn(
        move |v: RawValue<u32>| {
            let SetUp(()) = token; // the closure holds the token
            v.set(1);
        },
        (&v,),
    )
    .err();
    match refused {
        Some(Error::SpawnFailed {
            op: "spawn",
            reason,
        }) => assert!(
            reason.contains("is a closure: Process::spawn runs a plain `fn` item"),
            "{reason}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(v.get(), 0, "nothing ran");
    // Even a closure that captures nothing: whether it does cannot be told apart.
    assert!(Process::spawn(|v: RawValue<u32>| v.set(2), (&v,)).is_err());
    // A plain fn item is what spawn runs.
    fn set_three(v: RawValue<u32>) {
        v.set(3)
    }
    assert_eq!(finish(&Process::spawn(set_three, (&v,)).unwrap()), 0);
    assert_eq!(v.get(), 3);
}

/// 1 if this process holds a descriptor of the pipe whose inode is `ino`.
fn holds_pipe(ino: u64) -> Exit {
    let target = format!("pipe:[{ino}]");
    let held = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .any(|e| std::fs::read_link(e.path()).is_ok_and(|l| l.to_str() == Some(&target)));
    Exit(i32::from(held))
}

#[test]
fn a_spawned_child_holds_no_descriptor_the_caller_left_inheritable() {
    // In a forked child, which starts its fork server after making the pipe.
    let probe = Process::start(|| {
        let mut fds = [0; 2];
        // SAFETY: pipe writes two descriptors into the array; no O_CLOEXEC on purpose.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let [read, write] = fds;
        let ino = {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(format!("/proc/self/fd/{write}"))
                .unwrap()
                .ino()
        };
        let child = Process::spawn(holds_pipe, (&ino,)).unwrap();
        assert_eq!(finish(&child), 0, "the child holds the pipe's write end");
        // With this process's copy closed, the reader sees the end of the pipe at once:
        // neither the fork server nor a child holds the write end.
        // SAFETY: closes a descriptor this process made and uses no more.
        assert_eq!(unsafe { libc::close(write) }, 0);
        let mut poll = libc::pollfd {
            fd: read,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, a 10 s timeout.
        let ready = unsafe { libc::poll(&mut poll, 1, 10_000) };
        assert_eq!(ready, 1, "the pipe never reached its end");
        let mut byte = 0u8;
        // SAFETY: reads at most one byte into a valid buffer.
        let got = unsafe { libc::read(read, (&mut byte as *mut u8).cast(), 1) };
        assert_eq!(got, 0, "end of the pipe");
    })
    .unwrap();
    assert_eq!(finish(&probe), 0, "{:?}", probe.failure());
}

/// Ten fields of eight bytes, and structs of ten of the one below: a layout description that
/// grows tenfold with each level (about 200 KB at the fourth).
macro_rules! wide {
    ($name:ident, $t:ty) => {
        #[derive(Clone, Copy, SharedLayout)]
        #[repr(C)]
        struct $name {
            f0: $t,
            f1: $t,
            f2: $t,
            f3: $t,
            f4: $t,
            f5: $t,
            f6: $t,
            f7: $t,
            f8: $t,
            f9: $t,
        }
    };
}
wide!(Wide0, u64);
wide!(Wide1, Wide0);
wide!(Wide2, Wide1);
wide!(Wide3, Wide2);

fn takes_wide(_: RawValue<Wide3>) {}

fn until_set(go: sharedctypes::Event, runs: RawValue<u64>) -> Exit {
    while !go.is_set() {
        runs.update(|n| n + 1);
        std::thread::sleep(Duration::from_millis(1));
    }
    Exit(5)
}

#[test]
fn an_oversized_request_fails_alone_and_breaks_no_running_child() {
    let probe = Process::start(|| {
        assert!(Wide3::LAYOUT.describe().len() > 128 * 1024);
        let go = sharedctypes::Event::new().unwrap();
        let runs = RawValue::new(0u64).unwrap();
        let running = Process::spawn(until_set, (&go, &runs)).unwrap();
        let wide = RawValue::<Wide3>::zeroed().unwrap();
        match Process::spawn(takes_wide, (&wide,)).err() {
            Some(Error::SpawnFailed { reason, .. }) => assert!(
                reason.contains("more than the 131072 one request to the fork server may carry"),
                "{reason}"
            ),
            other => panic!("expected a refusal, got {other:?}"),
        }
        // The running child is untouched, and the server still serves.
        assert_eq!(finish(&Process::spawn(exits_with, (&3,)).unwrap()), 3);
        go.set();
        assert_eq!(finish(&running), 5);
        assert!(runs.get() > 0);
    })
    .unwrap();
    assert_eq!(finish(&probe), 0, "{:?}", probe.failure());
}

#[test]
fn a_description_too_big_for_the_environment_is_a_clear_error() {
    let wide = heap::isolated(RawValue::<Wide3>::zeroed).unwrap();
    match Process::command(Command::new("true"))
        .share("wide", &wide)
        .err()
    {
        Some(Error::InvalidArgument { reason }) => assert!(
            reason.starts_with("the description of `wide` is ")
                && reason.contains("an environment variable holds at most 131072 bytes"),
            "{reason}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The pids of this process's children (`/proc/<pid>/task/<tid>/children` of every thread).
fn children_of_this_process() -> Vec<i32> {
    let mut pids = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let text = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        pids.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok()),
        );
    }
    pids
}

/// This process's CPU time.
fn cpu_time() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into a valid timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn burn_then_wait(go: sharedctypes::Event, runs: RawValue<u64>) -> Exit {
    // 300 ms of CPU time (not of the clock: on a busy machine this process may wait for a
    // CPU), which the parent collects when it reaps this.
    while cpu_time() < Duration::from_millis(300) {
        for _ in 0..10_000 {
            std::hint::spin_loop(); // user time: the clock above is a system call
        }
    }
    until_set(go, runs)
}

#[test]
fn a_spawned_child_outlives_a_killed_fork_server_and_is_joined_as_usual() {
    let probe = Process::start(|| {
        let go = sharedctypes::Event::new().unwrap();
        let runs = RawValue::new(0u64).unwrap();
        let child = Process::spawn(burn_then_wait, (&go, &runs)).unwrap();
        let server: Vec<i32> = children_of_this_process()
            .into_iter()
            .filter(|&p| p != child.pid())
            .collect();
        assert_eq!(
            server.len(),
            1,
            "the fork server and the child are children here"
        );
        // SAFETY: kills the fork server, this process's child.
        assert_eq!(unsafe { libc::kill(server[0], libc::SIGKILL) }, 0);
        // The child goes on without the server: it ends its burn and counts.
        let counting = |above: u64| {
            let start = std::time::Instant::now();
            while runs.get() <= above {
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "the child stopped working without the server"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        counting(0);
        assert!(child.is_alive(), "the child goes on without the server");
        counting(runs.get());
        go.set();
        assert_eq!(child.join().unwrap(), 5);
        // Its CPU time counts as this process's children's.
        // SAFETY: getrusage writes into a valid struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
        assert_eq!(rc, 0);
        let ms = |t: libc::timeval| t.tv_sec * 1000 + t.tv_usec / 1000;
        let cpu_ms = ms(usage.ru_utime) + ms(usage.ru_stime);
        assert!(cpu_ms >= 150, "children's CPU time is {cpu_ms} ms");
        // The next spawn starts a new server.
        assert_eq!(finish(&Process::spawn(exits_with, (&4,)).unwrap()), 4);
    })
    .unwrap();
    assert_eq!(finish(&probe), 0, "{:?}", probe.failure());
}

fn same_directory(dir: u64) -> Exit {
    use std::os::unix::fs::MetadataExt;
    Exit(i32::from(
        std::fs::metadata(".").map(|m| m.ino()).ok() != Some(dir),
    ))
}

fn same_arguments(args: u32) -> Exit {
    Exit(i32::from(std::env::args().count() as u32 != args))
}

#[test]
fn a_spawned_child_works_in_the_callers_directory_even_a_removed_one() {
    use std::os::unix::fs::MetadataExt;
    let probe = Process::start(|| {
        let dir = std::env::temp_dir().join(format!("sharedctypes-cwd-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        std::env::set_current_dir(&dir).unwrap();
        let ino = std::fs::metadata(".").unwrap().ino();
        std::fs::remove_dir(&dir).unwrap(); // the working directory is gone
        let child = Process::spawn(same_directory, (&ino,)).unwrap();
        assert_eq!(finish(&child), 0, "the child works in another directory");
    })
    .unwrap();
    assert_eq!(finish(&probe), 0, "{:?}", probe.failure());
}

#[test]
fn a_spawned_child_has_the_callers_arguments() {
    // Run in a program with several arguments (this test binary, started by `command`).
    let program = Process::command(this_test_binary("spawn_args"))
        .spawn()
        .unwrap();
    assert_eq!(finish(&program), 0, "the spawned child had other arguments");
}

#[test]
fn spawn_from_a_shared_library_is_refused_at_once_saying_why() {
    let python_ok = Command::new("python3")
        .args(["-c", "import ctypes"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !python_ok {
        eprintln!("SKIPPED: python3 is not installed: it loads the library in this test");
        return;
    }
    let built = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--example", "spawn_from_library"])
        .args([
            "--manifest-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
        ])
        // Beside this test's own binary: in target/release under `cargo test --release`.
        .args((!cfg!(debug_assertions)).then_some("--release"))
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let lib = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("examples/libspawn_from_library.so");
    let mut python = Command::new("python3");
    python
        .args([
            "-c",
            "import ctypes, sys\n\
             lib = ctypes.CDLL(sys.argv[1])\n\
             out = ctypes.create_string_buffer(4096)\n\
             print(lib.sharedctypes_try_spawn(out, 4096), out.value.decode())",
        ])
        .arg(&lib)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let child = python.spawn().unwrap();
    let pid = child.id();
    // A watchdog: the bug was a fork server that waits for ever on python's standard input.
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(60));
        // SAFETY: signals the python process if it is still there.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    });
    let out = child.wait_with_output().unwrap();
    drop(watchdog);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "python ended with {:?}: {text}",
        out.status
    );
    assert!(
        text.starts_with("0 could not spawn: the function lies in `")
            && text.contains("libspawn_from_library.so`, which is not the running executable"),
        "{text}"
    );
}
