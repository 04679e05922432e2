//! Every user error the API can see gives its typed error, with the offending values in the
//! message; none panics, and none touches neighbouring objects (checked with guard values
//! allocated right before and after the target).

use std::time::Duration;

use sharedctypes::heap::Block;
use sharedctypes::{
    Array, CChar, Error, Lock, Process, RawArray, RawValue, TypeCode, Value, WChar,
};

const GUARD: u64 = 0xDEAD_BEEF_CAFE_F00D;

fn guards() -> RawArray<u64> {
    RawArray::from_slice(&[GUARD; 4]).unwrap()
}

fn assert_guards(g: &RawArray<u64>) {
    assert_eq!(g.to_vec(), [GUARD; 4], "a neighbouring object was written");
}

#[test]
fn array_errors() {
    let before = guards();
    let arr = RawArray::from_iter(0..10i32).unwrap();
    let after = guards();
    let locked = Array::from_iter(0..10i32).unwrap();
    let cases: Vec<(Error, Error, &str)> = vec![
        (
            arr.set(10, 1).unwrap_err(),
            Error::IndexOutOfRange { index: 10, len: 10 },
            "index 10 is out of range for an array of length 10",
        ),
        (
            arr.update(usize::MAX, |x| x).unwrap_err(),
            Error::IndexOutOfRange {
                index: usize::MAX,
                len: 10,
            },
            "index 18446744073709551615 is out of range for an array of length 10",
        ),
        (
            arr.try_at(11).map(drop).unwrap_err(),
            Error::IndexOutOfRange { index: 11, len: 10 },
            "index 11 is out of range for an array of length 10",
        ),
        (
            locked.get(10).unwrap_err(),
            Error::IndexOutOfRange { index: 10, len: 10 },
            "index 10 is out of range for an array of length 10",
        ),
        (
            locked.set(12, 0).unwrap_err(),
            Error::IndexOutOfRange { index: 12, len: 10 },
            "index 12 is out of range for an array of length 10",
        ),
        (
            arr.get_range(2..20).unwrap_err(),
            Error::RangeOutOfBounds {
                start: 2,
                end: 20,
                len: 10,
            },
            "range 2..20 is out of bounds for an array of length 10",
        ),
        (
            arr.get_range(std::ops::Range { start: 7, end: 3 })
                .unwrap_err(),
            Error::RangeOutOfBounds {
                start: 7,
                end: 3,
                len: 10,
            },
            "range 7..3 is out of bounds for an array of length 10",
        ),
        (
            arr.get_range(..=usize::MAX).unwrap_err(),
            Error::RangeOutOfBounds {
                start: 0,
                end: usize::MAX,
                len: 10,
            },
            "range 0..18446744073709551615 is out of bounds for an array of length 10",
        ),
        (
            locked.get_range(9..11).unwrap_err(),
            Error::RangeOutOfBounds {
                start: 9,
                end: 11,
                len: 10,
            },
            "range 9..11 is out of bounds for an array of length 10",
        ),
        (
            arr.set_range(4..8, &[1, 2, 3]).unwrap_err(),
            Error::LengthMismatch {
                expected: 4,
                actual: 3,
            },
            "can only assign a sequence of the same size: the destination holds 4 elements but 3 were given",
        ),
        (
            locked.set_range(.., &[0; 11]).unwrap_err(),
            Error::LengthMismatch {
                expected: 10,
                actual: 11,
            },
            "can only assign a sequence of the same size: the destination holds 10 elements but 11 were given",
        ),
        (
            arr.copy_from_slice(&[]).unwrap_err(),
            Error::LengthMismatch {
                expected: 10,
                actual: 0,
            },
            "can only assign a sequence of the same size: the destination holds 10 elements but 0 were given",
        ),
        (
            arr.copy_to_slice(&mut [0; 3]).unwrap_err(),
            Error::LengthMismatch {
                expected: 10,
                actual: 3,
            },
            "can only assign a sequence of the same size: the destination holds 10 elements but 3 were given",
        ),
    ];
    for (got, want, message) in cases {
        assert_eq!(got, want);
        assert_eq!(got.to_string(), message);
    }
    assert_eq!(arr.get(10), None);
    assert_eq!(
        arr.to_vec(),
        (0..10).collect::<Vec<_>>(),
        "a failed call wrote"
    );
    assert_eq!(locked.to_vec().unwrap(), (0..10).collect::<Vec<_>>());
    assert_guards(&before);
    assert_guards(&after);
}

#[test]
fn string_errors() {
    let before = guards();
    let s = RawArray::<CChar>::zeroed(3).unwrap();
    let w = RawArray::<WChar>::zeroed(3).unwrap();
    let after = guards();
    s.set_value(b"abc").unwrap();
    assert_eq!(
        s.set_value(b"abcd").unwrap_err().to_string(),
        "byte string too long: 4 characters do not fit in an array of 3"
    );
    assert_eq!(
        s.set_raw(&[b'x'; 1000]).unwrap_err(),
        Error::TooLong {
            what: "byte string",
            len: 1000,
            capacity: 3
        }
    );
    assert_eq!(
        w.set_value("wxyz").unwrap_err().to_string(),
        "string too long: 4 characters do not fit in an array of 3"
    );
    assert_eq!(s.raw(), b"abc");
    assert_guards(&before);
    assert_guards(&after);
}

#[test]
fn typecodes() {
    for code in "cubBhHiIlLqQfd".chars() {
        assert_eq!(TypeCode::parse(code).unwrap().as_char(), code);
    }
    for code in ['z', 'x', 'e', 'w', 'D', '?', ' ', '\0', 'é'] {
        let err = TypeCode::parse(code).unwrap_err();
        assert_eq!(err, Error::UnknownTypeCode { code });
        assert_eq!(
            err.to_string(),
            format!("unknown typecode {code:?}: valid typecodes are c u b B h H i I l L q Q f d")
        );
    }
}

#[test]
fn zero_and_huge_lengths() {
    let empty = RawArray::<f64>::zeroed(0).unwrap();
    assert!(empty.is_empty());
    assert_eq!(empty.to_vec(), Vec::<f64>::new());
    assert_eq!(empty.get(0), None);
    assert_eq!(
        empty.set(0, 1.0),
        Err(Error::IndexOutOfRange { index: 0, len: 0 })
    );
    assert_eq!(empty.get_range(..).unwrap(), Vec::<f64>::new());
    let empty_locked = Array::<u8>::from_slice(&[]).unwrap();
    assert_eq!(empty_locked.to_vec().unwrap(), Vec::<u8>::new());

    assert_eq!(
        RawArray::<u64>::zeroed(usize::MAX).map(drop).unwrap_err(),
        Error::SizeOverflow {
            len: usize::MAX,
            elem_size: 8
        }
    );
    assert_eq!(
        RawArray::<u64>::zeroed(usize::MAX / 8)
            .map(drop)
            .unwrap_err(),
        Error::SizeOverflow {
            len: usize::MAX / 8,
            elem_size: 8
        }
    );
    assert_eq!(
        RawArray::<u64>::zeroed(usize::MAX)
            .map(drop)
            .unwrap_err()
            .to_string(),
        "18446744073709551615 elements of 8 bytes overflow the address space"
    );
    // 8 TiB: more than this machine's memory and swap.
    match RawArray::<u64>::zeroed(1 << 40).map(drop).unwrap_err() {
        Error::OutOfMemory {
            requested,
            available,
        } => {
            assert_eq!(requested, 8 << 40);
            assert!(available < 8 << 40);
        }
        other => panic!("expected OutOfMemory, got {other:?}"),
    }
}

#[test]
fn bad_alignment() {
    assert_eq!(
        Block::alloc(8, 3).unwrap_err(),
        Error::UnsupportedAlignment {
            align: 3,
            max: 4096
        }
    );
    assert_eq!(
        Block::alloc(8, 8192).unwrap_err().to_string(),
        "alignment 8192 is not supported: shared objects can be aligned to at most 4096 bytes"
    );
    assert_eq!(
        Block::alloc(8, 0).unwrap_err(),
        Error::UnsupportedAlignment {
            align: 0,
            max: 4096
        }
    );
}

#[test]
fn lock_misuse() {
    let lock = Lock::new().unwrap();
    let v = Value::with_lock(1u8, lock.clone()).unwrap();
    let held = lock.acquire().unwrap();
    assert_eq!(v.get(), Err(Error::WouldDeadlock));
    assert_eq!(
        v.set(2).unwrap_err().to_string(),
        "this thread already holds the lock: acquiring a non-recursive Lock again would deadlock (use RLock to re-enter)"
    );
    assert!(lock.acquire_timeout(Duration::ZERO).unwrap().is_none());
    // However long the timeout, a Lock this thread holds is "not acquired" at once.
    assert!(lock.acquire_timeout(Duration::MAX).unwrap().is_none());
    drop(held);
    assert_eq!(v.get(), Ok(1));
}

#[test]
fn joining_twice() {
    let p = Process::start(|| sharedctypes::Exit(3)).unwrap();
    assert_eq!(p.join(), Ok(3));
    let err = p.join().unwrap_err();
    assert_eq!(
        err,
        Error::AlreadyJoined {
            pid: p.pid(),
            exitcode: 3
        }
    );
    assert_eq!(
        err.to_string(),
        format!("process {} was already joined (exit code 3)", p.pid())
    );
    assert_eq!(p.exitcode(), Some(3));
    assert!(!p.is_alive());
    // Signals to a reaped child are not sent (its pid may have been reused).
    assert_eq!(p.kill(), Ok(()));
}

#[test]
fn exit_codes_like_cpython() {
    let ok = Process::start(|| ()).unwrap();
    let panicked = Process::start(|| panic!("child panics on purpose")).unwrap();
    let failed = Process::start(|| -> Result<(), String> { Err("bad input".into()) }).unwrap();
    let killed = Process::start(|| {
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    })
    .unwrap();
    killed.terminate().unwrap();
    assert_eq!(ok.join(), Ok(0));
    assert_eq!(panicked.join(), Ok(1));
    assert_eq!(failed.join(), Ok(1));
    assert_eq!(killed.join(), Ok(-libc::SIGTERM));

    // Held by a flag, not a clock: a parent stalled by a busy machine still finds it running.
    let go = RawValue::new(0u32).unwrap();
    let slow = Process::start(|| {
        while go.get() == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    })
    .unwrap();
    assert_eq!(slow.join_timeout(Duration::from_millis(10)), Ok(None));
    assert!(slow.is_alive());
    go.set(1);
    assert_eq!(slow.join_timeout(Duration::from_secs(10)), Ok(Some(0)));
}

#[test]
fn raw_value_neighbours_survive_everything() {
    let before = guards();
    let v = RawValue::new([1u16; 3]).unwrap();
    let after = guards();
    v.set([u16::MAX; 3]);
    v.view().set(2, 7).unwrap();
    assert_eq!(
        v.view().set(3, 7),
        Err(Error::IndexOutOfRange { index: 3, len: 3 })
    );
    assert_eq!(v.get(), [u16::MAX, u16::MAX, 7]);
    assert_guards(&before);
    assert_guards(&after);
}
