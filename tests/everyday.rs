//! The everyday API that ports of real Python programs needed: objects as bytes and typed
//! access at byte offsets, zeroed construction, printing, iteration under a held lock,
//! children whose closures return values, and children telling their parent why they failed.

use std::process::Command;
use std::time::Duration;

use sharedctypes::process::MAX_FAILURE_LEN;
use sharedctypes::{
    Array, Barrier, CChar, Error, Event, Exit, Lock, Process, RLock, RawArray, RawValue, Semaphore,
    SharedLayout, Value,
};

/// `a` at 0, three bytes of padding, `b` at 4, `c` at 8, two bytes of padding: 12 bytes.
#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct Padded {
    a: u8,
    b: u32,
    c: u16,
}

const PADDED: Padded = Padded {
    a: 1,
    b: 0x0203_0405,
    c: 0x0607,
};
const PADDED_BYTES: [u8; 12] = [1, 0, 0, 0, 5, 4, 3, 2, 7, 6, 0, 0];

#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct Point {
    x: f64,
    y: f64,
}

// ---------------------------------------------------------------------------------------
// Bytes

#[test]
fn a_struct_with_padding_round_trips_through_bytes() {
    let v = RawValue::new(PADDED).unwrap();
    assert_eq!(v.to_bytes(), PADDED_BYTES);

    let w = RawValue::new(Padded::zeroed()).unwrap();
    w.set_bytes(&PADDED_BYTES).unwrap();
    assert_eq!(w.get(), PADDED);
    assert_eq!(w.to_bytes(), PADDED_BYTES);

    // Padding is not part of the value: bytes written there come back as zero.
    let noisy = [9, 0xaa, 0xbb, 0xcc, 1, 0, 0, 0, 2, 0, 0xdd, 0xee];
    w.set_bytes(&noisy).unwrap();
    assert_eq!(w.get(), Padded { a: 9, b: 1, c: 2 });
    assert_eq!(w.to_bytes(), [9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]);

    assert_eq!(
        w.set_bytes(&PADDED_BYTES[..11]),
        Err(Error::LengthMismatch {
            expected: 12,
            actual: 11
        })
    );
    assert_eq!(
        w.get(),
        Padded { a: 9, b: 1, c: 2 },
        "a refused write writes nothing"
    );
}

#[test]
fn arrays_and_locked_objects_round_trip_through_bytes() {
    let arr = RawArray::from_slice(&[PADDED, Padded { a: 2, b: 3, c: 4 }]).unwrap();
    let mut expected = PADDED_BYTES.to_vec();
    expected.extend_from_slice(&[2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0]);
    assert_eq!(arr.to_bytes(), expected);
    let copy = RawArray::<Padded>::zeroed(2).unwrap();
    copy.set_bytes(&expected).unwrap();
    assert_eq!(copy.to_vec(), arr.to_vec());
    assert_eq!(
        copy.set_bytes(&expected[..12]),
        Err(Error::LengthMismatch {
            expected: 24,
            actual: 12
        })
    );

    let value = Value::new(PADDED).unwrap();
    assert_eq!(value.to_bytes().unwrap(), PADDED_BYTES);
    value.set_bytes(&[0; 12]).unwrap();
    assert_eq!(value.get().unwrap(), Padded { a: 0, b: 0, c: 0 });

    let array = Array::from_slice(&[0x1122u16, 0x3344]).unwrap();
    assert_eq!(array.to_bytes().unwrap(), [0x22, 0x11, 0x44, 0x33]);
    array.set_bytes(&[1, 0, 2, 0]).unwrap();
    assert_eq!(array.to_vec().unwrap(), [1, 2]);
    assert_eq!(
        array.set_bytes(&[1, 0, 2]),
        Err(Error::LengthMismatch {
            expected: 4,
            actual: 3
        })
    );
    assert_eq!(
        RawArray::<u64>::zeroed(0).unwrap().to_bytes(),
        Vec::<u8>::new()
    );
}

#[test]
fn views_at_every_legal_offset_and_errors_at_the_others() {
    const LEN: usize = 64;
    let mut buf = RawArray::<u8>::zeroed(LEN).unwrap();
    for offset in 0..LEN + 8 {
        let expected = if offset + 12 > LEN {
            Err(Error::RangeOutOfBounds {
                start: offset,
                end: offset + 12,
                len: LEN,
            })
        } else if offset % 4 != 0 {
            Err(Error::Misaligned { offset, align: 4 })
        } else {
            Ok(())
        };
        assert_eq!(
            buf.read_at::<Padded>(offset).map(drop),
            expected,
            "read_at({offset})"
        );
        assert_eq!(
            buf.write_at(offset, PADDED),
            expected,
            "write_at({offset}) writes nothing when refused"
        );
        assert_eq!(
            buf.view_at::<Padded>(offset).map(drop),
            expected,
            "view_at({offset})"
        );
    }
    // Every legal slot now holds PADDED; they overlap, so rewrite them one by one and check
    // each through a view and through the bytes.
    buf.set_bytes(&[0; LEN]).unwrap();
    for slot in (0..=LEN - 12).step_by(12).filter(|o| o % 4 == 0) {
        let view = buf.view_at::<Padded>(slot).unwrap();
        view.set_a(slot as u8);
        view.set_b(0x0100 + slot as u32);
        view.update_c(|c| c + 7);
        assert_eq!(
            buf.read_at::<Padded>(slot).unwrap(),
            Padded {
                a: slot as u8,
                b: 0x0100 + slot as u32,
                c: 7
            }
        );
        assert_eq!(
            buf.get_range(slot..slot + 12).unwrap(),
            [slot as u8, 0, 0, 0, slot as u8, 1, 0, 0, 7, 0, 0, 0]
        );
    }
    assert_eq!(
        buf.read_at::<u8>(usize::MAX),
        Err(Error::RangeOutOfBounds {
            start: usize::MAX,
            end: usize::MAX,
            len: LEN
        })
    );
    // Bytes 8..16: slot 0's `c` and padding, then slot 12's `a` and padding.
    assert_eq!(buf.read_at::<u64>(8).unwrap(), 7 | (12 << 32));
    assert_eq!(
        buf.read_at::<u64>(12),
        Err(Error::Misaligned {
            offset: 12,
            align: 8
        })
    );
}

#[test]
fn a_view_written_by_a_child_is_read_by_the_parent() {
    let mut buf = RawArray::<u8>::zeroed(40).unwrap();
    {
        let slots = &buf;
        let child = Process::start(move || slots.write_at(24, Point { x: 1.5, y: -2.0 })).unwrap();
        assert_eq!(child.join().unwrap(), 0);
    }
    let p = buf.view_at::<Point>(24).unwrap();
    assert_eq!((p.x(), p.y()), (1.5, -2.0));
    p.update_y(|y| y * 4.0);
    assert_eq!(buf.read_at::<Point>(24).unwrap(), Point { x: 1.5, y: -8.0 });
}

// ---------------------------------------------------------------------------------------
// Zeroed construction

#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
struct Message {
    id: u32,
    body: [u8; 1000],
    weight: f64,
    flags: [CChar; 3],
}

#[test]
fn zeroed_builds_a_struct_with_a_large_array_field() {
    let m = Message::zeroed();
    assert_eq!(m.id, 0);
    assert_eq!(m.body, [0u8; 1000]);
    assert_eq!(m.weight, 0.0);
    assert_eq!(m.flags.map(|c| c.0), [0; 3]);
    let shared = RawValue::new(Message {
        id: 7,
        ..Message::zeroed()
    })
    .unwrap();
    let bytes = shared.to_bytes();
    assert_eq!(bytes.len(), 1024); // 1019 bytes of fields, padded to a multiple of 8
    assert_eq!(bytes[..4], [7, 0, 0, 0]);
    assert!(bytes[4..].iter().all(|&b| b == 0));
    assert_eq!(u64::zeroed(), 0);
    assert_eq!(<[Point; 2]>::zeroed(), [Point { x: 0.0, y: 0.0 }; 2]);
}

/// `zeroed` is a provided method of the trait, so generic code can use it too.
fn fresh<T: SharedLayout>() -> T {
    T::zeroed()
}

#[test]
fn generic_code_can_build_zeroed_values() {
    assert_eq!(fresh::<[i16; 4]>(), [0; 4]);
    assert_eq!(fresh::<Padded>(), Padded { a: 0, b: 0, c: 0 });
}

// ---------------------------------------------------------------------------------------
// Printing

#[test]
fn objects_print_their_values_never_addresses() {
    assert_eq!(
        format!("{:?}", RawValue::new(49i32).unwrap()),
        "RawValue(49)"
    );
    assert_eq!(format!("{}", RawValue::new(49i32).unwrap()), "49");
    assert_eq!(
        format!("{:?}", RawArray::from_slice(&[1u8, 2, 3]).unwrap()),
        "RawArray([1, 2, 3])"
    );
    let n = Value::new(49i32).unwrap();
    assert_eq!(format!("{n:?}"), "Value(49)");
    assert_eq!(format!("{n}"), "49");
    assert_eq!(format!("{n:>4}"), "  49");
    let p = Value::new(Point { x: 1.0, y: 2.5 }).unwrap();
    assert_eq!(format!("{p:?}"), "Value(Point { x: 1.0, y: 2.5 })");
    let a = Array::from_slice(&[1.5f64, -2.0]).unwrap();
    assert_eq!(format!("{a:?}"), "Array([1.5, -2.0])");
    assert_eq!(
        format!("{:?}", Lock::new().unwrap()),
        "Lock { held: false, owner_died: false }"
    );
    assert_eq!(
        format!("{:?}", Event::new().unwrap()),
        "Event { set: false }"
    );
    assert_eq!(
        format!("{:?}", Semaphore::new(2).unwrap()),
        "Semaphore { value: 2 }"
    );
    assert_eq!(
        format!("{:?}", Barrier::new(3).unwrap()),
        "Barrier { parties: 3, n_waiting: 0, broken: false }"
    );
    for text in [
        format!("{n:?}"),
        format!("{a:#?}"),
        format!("{:?}", sharedctypes::Condition::new_rlock().unwrap()),
    ] {
        assert!(!text.contains("0x"), "an address in {text}");
    }
}

#[test]
fn printing_a_locked_object_says_so_instead_of_deadlocking() {
    // A Lock held by this thread: trying it again fails, so the value is not read.
    let m = Value::with_lock(7u8, Lock::new().unwrap()).unwrap();
    let held = m.lock().unwrap();
    assert_eq!(format!("{m:?}"), "Value(<locked>)");
    assert_eq!(format!("{m}"), "<locked>");
    assert_eq!(
        format!("{:?}", m.get_lock()),
        "Lock { held: true, owner_died: false }"
    );
    drop(held);
    assert_eq!(format!("{m:?}"), "Value(7)");

    // An RLock held by this thread is re-entered: the value is shown.
    let r = Array::from_slice(&[3i16, 4]).unwrap();
    let held = r.lock().unwrap();
    assert_eq!(format!("{r:?}"), "Array([3, 4])");
    // …but not by another thread, which finds it busy.
    let seen = std::thread::scope(|s| s.spawn(|| format!("{r:?}")).join().unwrap());
    assert_eq!(seen, "Array(<locked>)");
    drop(held);

    // Held by another process.
    let v = Value::new(5u32).unwrap();
    let go = RawValue::new(0u32).unwrap();
    let child = Process::start(|| {
        let _g = v.lock().unwrap();
        go.set(1);
        while go.get() != 2 {
            std::thread::sleep(Duration::from_millis(1));
        }
    })
    .unwrap();
    while go.get() != 1 {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(format!("{v:?} {v}"), "Value(<locked>) <locked>");
    go.set(2);
    assert_eq!(child.join().unwrap(), 0);
    assert_eq!(format!("{v:?} {v}"), "Value(5) 5");
}

#[test]
fn printing_after_a_holder_died_shows_the_value_and_the_report() {
    let v = Value::new(10i64).unwrap();
    let child = Process::start(|| {
        let g = v.lock().unwrap();
        g.set(-1);
        std::mem::forget(g);
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 0);
    assert_eq!(format!("{v:?}"), "Value(-1, <owner died>)");
    assert_eq!(format!("{v}"), "<owner died>");
    assert_eq!(
        format!("{:?}", v.get_lock()),
        "RLock { held: false, owner_died: true }"
    );
    // Printing repaired nothing: the next holder is told too.
    let g = v.lock().unwrap();
    assert!(g.owner_died());
    g.set(10);
    g.clear_owner_died();
    drop(g);
    assert_eq!(format!("{v:?} {v}"), "Value(10) 10");
}

// ---------------------------------------------------------------------------------------
// Iteration

#[test]
fn for_over_a_guard_yields_views_that_write_through() {
    let points = Array::from_slice(&[
        Point { x: 1.5, y: 0.5 },
        Point { x: -2.0, y: 3.0 },
        Point { x: 0.0, y: -1.0 },
    ])
    .unwrap();
    let guard = points.lock().unwrap();
    let mut visited = 0;
    for p in &guard {
        p.update_x(|x| x * x);
        p.set_y(p.y() * p.y());
        visited += 1;
    }
    assert_eq!(visited, 3);
    assert_eq!(
        guard.iter().collect::<Vec<_>>(),
        [
            Point { x: 2.25, y: 0.25 },
            Point { x: 4.0, y: 9.0 },
            Point { x: 0.0, y: 1.0 }
        ]
    );
    assert_eq!(guard.views().len(), 3);
    let printed: Vec<String> = (&guard).into_iter().map(|p| format!("{p:?}")).collect();
    assert_eq!(printed[1], "PointView(Point { x: 4.0, y: 9.0 })");
    assert_eq!(
        format!("{:?}", guard.place(2).unwrap()),
        "Place(Point { x: 0.0, y: 1.0 })"
    );
    assert_eq!(
        guard.views().rev().map(|p| p.x()).collect::<Vec<_>>(),
        [0.0, 4.0, 2.25]
    );
    drop(guard);
    assert_eq!(points.get(1).unwrap(), Point { x: 4.0, y: 9.0 });

    // Scalars: the views are the values.
    let nums = Array::from_slice(&[3u32, 1, 4, 1, 5]).unwrap();
    let g = nums.lock().unwrap();
    let mut sum = 0;
    for x in &g {
        sum += x;
    }
    assert_eq!(sum, 14);
    assert_eq!(g.iter().max(), Some(5));
    let mut it = g.views();
    assert_eq!((it.next(), it.next_back(), it.len()), (Some(3), Some(5), 3));
}

#[test]
fn views_of_a_raw_array_visit_every_element_once() {
    let arr = RawArray::from_iter((0..100).map(|i| Point {
        x: f64::from(i),
        y: 0.0,
    }))
    .unwrap();
    for (i, p) in arr.views().enumerate() {
        p.set_y(p.x() + i as f64);
    }
    assert!(arr.iter().enumerate().all(|(i, p)| p.y == 2.0 * i as f64));
    let empty = RawArray::<Point>::zeroed(0).unwrap();
    assert_eq!(empty.views().count(), 0);
}

// ---------------------------------------------------------------------------------------
// What a child's closure may return

#[test]
fn a_child_may_return_any_ok_value() {
    let counter = Value::new(0i32).unwrap();
    let child = Process::start(|| counter.update(|v| v + 1)).unwrap();
    assert_eq!(child.join().unwrap(), 0);
    assert_eq!(counter.get().unwrap(), 1);
    assert_eq!(child.failure(), None);

    let vec = Process::start(|| Ok::<_, String>(vec![1, 2, 3])).unwrap();
    assert_eq!(vec.join().unwrap(), 0);
    let text = Process::start(|| Ok::<String, Error>("done".to_owned())).unwrap();
    assert_eq!(text.join().unwrap(), 0);
    let code = Process::start(|| Ok::<_, Error>(Exit(7))).unwrap();
    assert_eq!(code.join().unwrap(), 7);
    assert_eq!(
        code.failure(),
        None,
        "a code of the child's choosing is not a failure"
    );
}

#[test]
fn an_error_inside_an_ok_still_fails_the_child() {
    let arr = Array::from_slice(&[1u8, 2]).unwrap();
    // `locked` returns Ok(what the closure returned): here an Err of `set`.
    let child = Process::start(|| arr.locked(|a| a.set(10, 1))).unwrap();
    assert_eq!(child.join().unwrap(), 1);
    assert_eq!(
        child.failure().as_deref(),
        Some("IndexOutOfRange { index: 10, len: 2 }")
    );
    let nested = Process::start(|| Ok::<_, Error>(Ok::<_, Error>(Exit(3)))).unwrap();
    assert_eq!(nested.join().unwrap(), 3);
    let some = Process::start(|| Ok::<_, Error>(Some(Exit(4)))).unwrap();
    assert_eq!(some.join().unwrap(), 4);
    let none = Process::start(|| Ok::<Option<Exit>, Error>(None)).unwrap();
    assert_eq!(none.join().unwrap(), 0);
}

#[test]
fn only_the_failure_a_child_ends_with_is_reported() {
    use sharedctypes::process::ProcessResult;
    // An error met and recovered from on the way is not the child's failure…
    let recovered = Process::start(|| {
        assert_eq!(Err::<(), _>("transient").exit_code(), 1);
    })
    .unwrap();
    assert_eq!(recovered.join().unwrap(), 0);
    assert_eq!(recovered.failure(), None);
    // …and does not stand in for the real one.
    let later = Process::start(|| {
        let _ = Err::<(), _>("transient").exit_code();
        panic!("the real cause");
    })
    .unwrap();
    assert_eq!(later.join().unwrap(), 1);
    assert_eq!(later.failure().as_deref(), Some("the real cause"));
}

#[test]
fn children_started_in_a_loop_borrow_the_shared_object() {
    let counter = Value::new(0i32).unwrap();
    let mut children = Vec::new();
    let counter = &counter;
    for i in 0..4 {
        children.push(Process::start(move || counter.update(|v| v + i)).unwrap());
    }
    for child in &children {
        assert_eq!(child.join().unwrap(), 0);
    }
    assert_eq!(counter.get().unwrap(), 6);
}

// ---------------------------------------------------------------------------------------
// Why a child failed

#[test]
fn the_parent_reads_a_panicking_childs_message() {
    let jobs = Value::new(3u32).unwrap();
    let child = Process::start(|| {
        let n = jobs.get().unwrap();
        assert!(n < 3, "{n} jobs queued, at most 2 allowed");
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 1);
    assert_eq!(
        child.failure().as_deref(),
        Some("3 jobs queued, at most 2 allowed")
    );
    let plain = Process::start(|| panic!("boom")).unwrap();
    assert_eq!(plain.join().unwrap(), 1);
    assert_eq!(plain.failure().as_deref(), Some("boom"));
    let any = Process::start(|| std::panic::panic_any(42u8)).unwrap();
    assert_eq!(any.join().unwrap(), 1);
    assert_eq!(
        any.failure().as_deref(),
        Some("a panic whose payload is not text (`std::panic::panic_any`)")
    );
}

#[test]
fn the_parent_reads_an_err_returning_childs_debug_text() {
    let data = RawArray::from_slice(&[1u8, 2]).unwrap();
    let child = Process::start(|| -> sharedctypes::Result<()> {
        data.set(5, 9)?;
        Ok(())
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 1);
    assert_eq!(
        child.failure().as_deref(),
        Some("IndexOutOfRange { index: 5, len: 2 }")
    );
    let text = Process::start(|| Err::<(), _>("no input")).unwrap();
    assert_eq!(text.join().unwrap(), 1);
    assert_eq!(text.failure().as_deref(), Some("\"no input\""));
}

#[test]
fn a_long_failure_is_cut_to_the_bound() {
    let child = Process::start(|| -> Result<(), String> { Err("x".repeat(10_000)) }).unwrap();
    assert_eq!(child.join().unwrap(), 1);
    let text = child.failure().unwrap();
    assert_eq!(text.len(), MAX_FAILURE_LEN);
    assert!(text.starts_with("\"xxxx"));
    assert!(text.ends_with("x…"));
    assert_eq!(text.matches('x').count(), MAX_FAILURE_LEN - 1 - 3);
}

#[test]
fn a_killed_child_is_reported_killed() {
    let ready = RawValue::new(0u8).unwrap();
    let child = Process::start(|| {
        ready.set(1);
        loop {
            std::thread::sleep(Duration::from_millis(5));
        }
    })
    .unwrap();
    while ready.get() == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(child.failure(), None, "still running");
    child.terminate().unwrap();
    assert_eq!(child.join().unwrap(), -15);
    assert_eq!(
        child.failure().as_deref(),
        Some("killed by signal 15 (SIGTERM)")
    );
}

#[test]
fn failure_is_known_once_exitcode_is() {
    let child = Process::start(|| panic!("early")).unwrap();
    while child.exitcode().is_none() {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(child.failure().as_deref(), Some("early"));
    assert_eq!(child.join().unwrap(), 1);
    assert_eq!(child.failure().as_deref(), Some("early"), "join keeps it");
}

#[test]
fn a_child_reads_its_own_childs_failure_and_reports_its_own() {
    let child = Process::start(|| -> Result<(), String> {
        let grandchild = Process::start(|| panic!("deep")).map_err(|e| e.to_string())?;
        grandchild.join().map_err(|e| e.to_string())?;
        Err(format!("grandchild: {:?}", grandchild.failure()))
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 1);
    assert_eq!(
        child.failure().as_deref(),
        Some(r#""grandchild: Some(\"deep\")""#)
    );
}

#[test]
fn a_child_that_reuses_descriptor_numbers_gets_no_report_written_into_its_files() {
    use std::os::fd::AsRawFd;
    let path = std::env::temp_dir().join(format!(
        "sharedctypes-test-reused-fds-{}",
        std::process::id()
    ));
    let child = Process::start(|| -> Result<(), &str> {
        // As a daemon does: every descriptor above 2 closed, and files opened in their place
        // (here one file under every number, the report pipe's among them).
        let file = std::fs::File::create(&path).map_err(|_| "create")?;
        for fd in 3..512 {
            if fd != file.as_raw_fd() {
                // SAFETY: dup2 on plain descriptor numbers; the child owns all of them now.
                unsafe { libc::dup2(file.as_raw_fd(), fd) };
            }
        }
        Err("written into the file?")
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 1);
    assert_eq!(child.failure(), None, "the report pipe was gone");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"",
        "the report went into a file"
    );
    std::fs::remove_file(&path).unwrap();
}

fn spawned_panics(n: Value<i32>) {
    let v = n.get().unwrap();
    panic!("spawned child saw {v}");
}

fn spawned_fails(arr: RawArray<u8>) -> sharedctypes::Result<()> {
    arr.set(arr.len(), 1)
}

#[test]
fn spawned_children_report_their_failures_too() {
    let n = Value::new(41).unwrap();
    let child = Process::spawn(spawned_panics, (&n,)).unwrap();
    assert_eq!(child.join().unwrap(), 1);
    assert_eq!(child.failure().as_deref(), Some("spawned child saw 41"));

    let arr = RawArray::from_slice(&[0u8; 3]).unwrap();
    let child = Process::spawn(spawned_fails, (&arr,)).unwrap();
    assert_eq!(child.join().unwrap(), 1);
    assert_eq!(
        child.failure().as_deref(),
        Some("IndexOutOfRange { index: 3, len: 3 }")
    );
}

#[test]
fn a_program_is_reported_only_when_a_signal_killed_it() {
    let mut sh = Command::new("sh");
    sh.args(["-c", "exit 3"]);
    let exited = Process::command(sh).spawn().unwrap();
    assert_eq!(exited.join().unwrap(), 3);
    assert_eq!(exited.failure(), None);
    let mut sleep = Command::new("sleep");
    sleep.arg("30");
    let sleeping = Process::command(sleep).spawn().unwrap();
    sleeping.kill().unwrap();
    assert_eq!(sleeping.join().unwrap(), -9);
    assert_eq!(
        sleeping.failure().as_deref(),
        Some("killed by signal 9 (SIGKILL)")
    );
}

#[test]
fn rlock_is_used_in_these_tests_as_the_default() {
    // `Value::new` and `Array::from_slice` build their own RLock (CPython's default), which
    // the printing tests above rely on.
    let v = Value::new(1u8).unwrap();
    let _: &RLock = v.get_lock();
}

/// Named like the derive's own generic parameters once were (`L` for the lock): the
/// generated accessors must still name the struct, not capture the name.
#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct L {
    x: i32,
}

#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct S {
    l: L,
}

#[test]
fn structs_named_like_the_derives_generics_work() {
    let v = Value::new(S { l: L { x: 1 } }).unwrap();
    v.set_l(L { x: 7 }).unwrap();
    assert_eq!(v.l().unwrap(), L { x: 7 });
    assert_eq!(v.get().unwrap(), S { l: L { x: 7 } });
}
