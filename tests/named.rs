//! Named objects: found by name by unrelated processes, exclusive to create, checked on
//! open (each refusal is the exact error), private by default, never openable half-built,
//! removed by their creator unless persisted, and leaving nothing behind.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use sharedctypes::named::unlink_named;
use sharedctypes::{Array, Error, Exit, Lock, Process, RawArray, RawValue, SharedLayout, Value};

#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct Stats {
    count: u64,
    mean: f64,
}

mod reordered {
    use sharedctypes::SharedLayout;

    #[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
    #[repr(C)]
    pub struct Stats {
        pub mean: f64,
        pub count: u64,
    }
}

mod quiet;
use quiet::{alone, beside_others};

fn unique(what: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "sharedctypes-test-named-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn shm_entries(prefix: &str) -> Vec<String> {
    let mut entries: Vec<String> = std::fs::read_dir("/dev/shm")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix))
        .collect();
    entries.sort();
    entries
}

#[test]
fn create_open_and_use_through_the_same_lock() {
    let _quiet = beside_others();
    let name = unique("stats");
    let created = Value::<Stats>::create_named(
        &name,
        Stats {
            count: 0,
            mean: 0.0,
        },
    )
    .unwrap();
    let opened = Value::<Stats>::open_named(&name).unwrap();
    assert_eq!(opened.name(), name);
    assert_eq!(created.get_lock(), created.get_lock());
    let child = Process::start(|| {
        let mine = Value::<Stats>::open_named(&name).unwrap();
        for _ in 0..10_000 {
            mine.update_count(|c| c + 1).unwrap();
        }
    })
    .unwrap();
    for _ in 0..10_000 {
        opened.update_count(|c| c + 1).unwrap();
    }
    assert_eq!(child.join().unwrap(), 0);
    assert_eq!(
        created.count().unwrap(),
        20_000,
        "one lock for every opener"
    );
    // The lock lives in the object: an opener holding it excludes the creator.
    let held = opened.lock().unwrap();
    let busy = std::thread::scope(|s| {
        s.spawn(|| created.try_lock().unwrap().is_none())
            .join()
            .unwrap()
    });
    assert!(busy);
    drop(held);
}

#[test]
fn every_refusal_is_the_exact_error() {
    let _quiet = beside_others();
    let name = unique("refusals");
    let _created = Value::<Stats>::create_named(
        &name,
        Stats {
            count: 1,
            mean: 2.0,
        },
    )
    .unwrap();

    assert_eq!(
        Value::<Stats>::create_named(
            &name,
            Stats {
                count: 0,
                mean: 0.0
            }
        )
        .unwrap_err(),
        Error::AlreadyExists { name: name.clone() }
    );
    let missing = unique("missing");
    assert_eq!(
        Value::<Stats>::open_named(&missing).unwrap_err(),
        Error::NotFound {
            name: missing.clone()
        }
    );
    match Value::<reordered::Stats>::open_named(&name).unwrap_err() {
        Error::LayoutMismatch {
            expected,
            expected_layout,
            found,
            found_layout,
        } => {
            assert_eq!((expected.as_str(), found.as_str()), ("Stats", "Stats"));
            assert!(
                expected_layout.contains("mean: f64 at 0, count: u64 at 8"),
                "{expected_layout}"
            );
            assert!(
                found_layout.contains("count@0:u64=u64,mean@8:f64=f64"),
                "{found_layout}"
            );
            assert!(found_layout.contains(&format!("{:#018x}", Stats::LAYOUT.fingerprint)));
        }
        other => panic!("expected a layout mismatch, got {other:?}"),
    }
    assert_eq!(
        Value::<Stats, Lock>::open_named(&name).unwrap_err(),
        Error::NotNamedObject {
            name: name.clone(),
            reason: "it has an RLock, not a Lock".into()
        }
    );
    assert_eq!(
        RawArray::<Stats>::open_named(&name).unwrap_err(),
        Error::NotNamedObject {
            name: name.clone(),
            reason: "it holds a value with an RLock, not an array".into()
        }
    );
    for (bad, reason) in [
        ("", "it is empty"),
        (
            ".hidden",
            "it starts with `.` (hidden names are for objects being created)",
        ),
        (
            "a/b",
            "only ASCII letters, digits, `_`, `-` and `.` are allowed",
        ),
    ] {
        assert_eq!(
            Value::<Stats>::open_named(bad).unwrap_err(),
            Error::InvalidName {
                name: bad.into(),
                reason
            }
        );
    }
    assert_eq!(
        RawValue::create_named(&"x".repeat(201), 1u8).unwrap_err(),
        Error::InvalidName {
            name: "x".repeat(201),
            reason: "it is longer than 200 bytes"
        }
    );

    // Another program's shared memory, and an object of another format version.
    let foreign = unique("foreign");
    std::fs::write(format!("/dev/shm/{foreign}"), vec![1u8; 4096]).unwrap();
    assert_eq!(
        RawValue::<u8>::open_named(&foreign).unwrap_err(),
        Error::NotNamedObject {
            name: foreign.clone(),
            reason: "it does not start with the sharedctypes magic bytes".into()
        }
    );
    assert_eq!(
        unlink_named(&foreign).unwrap_err(),
        Error::NotNamedObject {
            name: foreign.clone(),
            reason: "it does not start with the sharedctypes magic bytes".into()
        }
    );
    assert!(
        std::fs::metadata(format!("/dev/shm/{foreign}")).is_ok(),
        "left alone"
    );
    let mut later = b"SHCTYPES".to_vec();
    later.extend(3u32.to_le_bytes());
    later.resize(4096, 0);
    std::fs::write(format!("/dev/shm/{foreign}"), later).unwrap();
    assert_eq!(
        RawValue::<u8>::open_named(&foreign).unwrap_err(),
        Error::NotNamedObject {
            name: foreign.clone(),
            reason: "its format version is 3, this crate reads version 2".into()
        }
    );
    std::fs::write(format!("/dev/shm/{foreign}"), b"short").unwrap();
    assert_eq!(
        RawValue::<u8>::open_named(&foreign).unwrap_err(),
        Error::NotNamedObject {
            name: foreign.clone(),
            reason: "it is 5 bytes, shorter than a header".into()
        }
    );
    std::fs::remove_file(format!("/dev/shm/{foreign}")).unwrap();
}

#[test]
fn created_objects_are_private_unless_asked_otherwise() {
    let _quiet = beside_others();
    let private = unique("private");
    let shared = unique("group");
    let _a = RawArray::create_named(&private, &[1u8; 8]).unwrap();
    let _b = Array::<u8>::create_named_with_mode(&shared, &[1; 8], 0o660).unwrap();
    let mode = |n: &str| {
        std::fs::metadata(format!("/dev/shm/{n}"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&private), 0o600);
    assert_eq!(mode(&shared), 0o660);

    // Another user cannot open a private object: checked as `nobody`, which needs root to
    // become; other users have only the mode bits checked above.
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        eprintln!("note: not root: opening as another user (`nobody`) is not checked");
        return;
    }
    let probe = Process::start(|| {
        // SAFETY: changes the credentials of this (child) process only.
        assert_eq!(unsafe { libc::setgid(65534) }, 0);
        // SAFETY: as above.
        assert_eq!(unsafe { libc::setuid(65534) }, 0);
        match RawArray::<u8>::open_named(&private) {
            Err(Error::PermissionDenied { name }) if name == private => Exit(0),
            other => {
                eprintln!("unexpected: {:?}", other.map(|a| a.len()));
                Exit(1)
            }
        }
    })
    .unwrap();
    assert_eq!(probe.join().unwrap(), 0);
}

#[test]
fn the_creator_removes_the_name_unless_persisted() {
    let _quiet = beside_others();
    let name = unique("owner");
    let created = RawValue::create_named(&name, 5i32).unwrap();
    let opened = RawValue::<i32>::open_named(&name).unwrap();
    drop(opened); // an opener never removes it
    assert_eq!(RawValue::<i32>::open_named(&name).unwrap().get(), 5);
    drop(created);
    assert_eq!(
        RawValue::<i32>::open_named(&name).unwrap_err(),
        Error::NotFound { name: name.clone() }
    );

    let kept = RawValue::create_named(&name, 6i32).unwrap();
    kept.persist();
    drop(kept);
    assert_eq!(RawValue::<i32>::open_named(&name).unwrap().get(), 6);
    unlink_named(&name).unwrap();
    assert_eq!(
        unlink_named(&name).unwrap_err(),
        Error::NotFound { name: name.clone() }
    );

    // A creator that crashes leaves the name; it reopens, and unlink_named cleans it.
    let crashed = Process::start(|| {
        let v = Value::<i32>::create_named(&name, 7).unwrap();
        std::mem::forget(v.lock().unwrap()); // and it dies holding the lock, too
        // SAFETY: ends the child at once, without running the handle's destructor.
        unsafe { libc::_exit(0) }
    })
    .unwrap();
    assert_eq!(crashed.join().unwrap(), 0);
    let v = Value::<i32>::open_named(&name).unwrap();
    assert_eq!(v.get(), Err(Error::OwnerDied { pid: crashed.pid() }));
    unlink_named(&name).unwrap();
    assert!(shm_entries(&name).is_empty());
}

#[test]
fn racing_creators_exactly_one_wins_and_openers_never_see_half_an_object() {
    let _quiet = beside_others();
    for round in 0..50 {
        let name = unique(&format!("race{round}"));
        let results: Vec<Result<(), Error>> = std::thread::scope(|s| {
            let creators: Vec<_> = (0..4)
                .map(|i| {
                    let name = &name;
                    s.spawn(move || {
                        Array::<u64>::create_named(name, &[i; 64])
                            .map(|a| a.into_inner())
                            .map(|a| {
                                // Stays complete: every element was written before the name appeared.
                                assert!(a.to_vec().unwrap().iter().all(|&x| x == i));
                            })
                    })
                })
                .collect();
            let opener = s.spawn(|| {
                let start = std::time::Instant::now();
                loop {
                    match Array::<u64>::open_named(&name) {
                        Ok(a) => {
                            let v = a.to_vec().unwrap();
                            assert_eq!(v.len(), 64, "a half-built object");
                            assert!(v.iter().all(|&x| x == v[0]), "a half-filled object: {v:?}");
                            return;
                        }
                        Err(Error::NotFound { .. }) => std::hint::spin_loop(),
                        Err(e) => panic!("an opener racing the creators got {e:?}"),
                    }
                    assert!(start.elapsed() < Duration::from_secs(20));
                }
            });
            opener.join().unwrap();
            creators.into_iter().map(|c| c.join().unwrap()).collect()
        });
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {results:?}");
        assert!(
            results
                .iter()
                .filter_map(|r| r.as_ref().err())
                .all(|e| *e == Error::AlreadyExists { name: name.clone() })
        );
        unlink_named(&name).unwrap();
    }
}

#[test]
fn a_thousand_create_drop_cycles_leave_nothing_behind() {
    let _quiet = alone();
    let prefix = format!("sharedctypes-test-named-cycle-{}-", std::process::id());
    let tmp = format!(".sctmp-{}-", std::process::id());
    // Left by an earlier run that had this pid and was killed: not this run's leak.
    let earlier = shm_entries(&tmp);
    let fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    let before = fds();
    for i in 0..1000 {
        let name = format!("{prefix}{i}");
        let v = Value::<Stats>::create_named(
            &name,
            Stats {
                count: i,
                mean: 0.5,
            },
        )
        .unwrap();
        let o = Value::<Stats>::open_named(&name).unwrap();
        assert_eq!(o.count().unwrap(), i);
        drop((v, o));
    }
    assert!(
        shm_entries(&prefix).is_empty(),
        "names left: {:?}",
        shm_entries(&prefix)
    );
    assert_eq!(shm_entries(&tmp), earlier, "temporary files left");
    assert!(
        fds() <= before + 8,
        "descriptors grew from {before} to {}",
        fds()
    );
}

/// Reads the little-endian `u64` at `offset` of `/dev/shm/<name>`.
fn header_u64(name: &str, offset: u64) -> u64 {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(format!("/dev/shm/{name}")).unwrap();
    let mut bytes = [0; 8];
    file.read_exact_at(&mut bytes, offset).unwrap();
    u64::from_le_bytes(bytes)
}

/// Writes `bytes` at `offset` of `/dev/shm/<name>` (another process forging the header).
fn forge(name: &str, offset: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/dev/shm/{name}"))
        .unwrap();
    file.write_all_at(bytes, offset).unwrap();
}

#[test]
fn a_forged_header_is_refused_naming_the_parts_that_collide() {
    let _quiet = beside_others();
    let name = unique("forged");
    let v = Value::<u64>::create_named(&name, 9).unwrap();
    // Header fields (see the format): count @56, lock offset @64, data offset @72, lock kind
    // @24, header length @16.
    let (lock, data) = (header_u64(&name, 64), header_u64(&name, 72));
    assert_eq!((lock % 8, data % 8), (0, 0));
    let header_len = 104 + 3 + 3; // "u64", and its layout "u64"
    let cases: Vec<(u64, Vec<u8>, String)> = vec![
        (
            72,
            (lock + 8).to_le_bytes().to_vec(),
            format!(
                "its data (bytes {}..{}) overlaps its lock (bytes {lock}..{})",
                lock + 8,
                lock + 16,
                lock + 56
            ),
        ),
        (
            72,
            16u64.to_le_bytes().to_vec(),
            format!("its header (bytes 0..{header_len}) overlaps its data (bytes 16..24)"),
        ),
        (
            72,
            4096u64.to_le_bytes().to_vec(),
            "its data (bytes 4096..4104) runs past the end of the file (4096 bytes)".into(),
        ),
        (
            72,
            (data + 4).to_le_bytes().to_vec(),
            format!(
                "its data (bytes {}..{}) is not aligned to 8 bytes",
                data + 4,
                data + 12
            ),
        ),
        (
            64,
            4080u64.to_le_bytes().to_vec(),
            "its lock (bytes 4080..4136) runs past the end of the file (4096 bytes)".into(),
        ),
        (
            64,
            (data - 8).to_le_bytes().to_vec(),
            format!(
                "its data (bytes {data}..{}) overlaps its lock (bytes {}..{})",
                data + 8,
                data - 8,
                data + 48
            ),
        ),
        (56, 0u64.to_le_bytes().to_vec(), "a value of 0 elements".into()),
        (24, 7u32.to_le_bytes().to_vec(), "it has a lock of unknown kind 7".into()),
        (
            16,
            50u32.to_le_bytes().to_vec(),
            "its header length 50 disagrees with its strings (104 + 3 + 3 + 0 bytes) or the bytes there are (104)"
                .into(),
        ),
    ];
    for (offset, bytes, reason) in cases {
        let original = header_u64(&name, offset).to_le_bytes();
        forge(&name, offset, &bytes);
        let expected = Error::NotNamedObject {
            name: name.clone(),
            reason: reason.clone(),
        };
        assert_eq!(Value::<u64>::open_named(&name).unwrap_err(), expected);
        assert_eq!(RawValue::<u64>::open_named(&name).unwrap_err(), expected);
        forge(&name, offset, &original[..bytes.len()]);
    }
    assert_eq!(Value::<u64>::open_named(&name).unwrap().get().unwrap(), 9);
    drop(v);
}

#[test]
fn an_object_another_user_owns_is_opened_only_on_request() {
    let _quiet = beside_others();
    let name = unique("planted");
    let v = RawValue::create_named(&name, 11u32).unwrap();
    // SAFETY: getuid has no preconditions.
    let me = unsafe { libc::getuid() };
    let path = std::ffi::CString::new(format!("/dev/shm/{name}")).unwrap();
    // SAFETY: a valid path; changes the owner of a file this test created.
    if unsafe { libc::chown(path.as_ptr(), 65534, 65534) } != 0 {
        eprintln!("note: not root: an object owned by another user cannot be made here");
        return;
    }
    assert_eq!(
        RawValue::<u32>::open_named(&name).unwrap_err(),
        Error::OtherOwner {
            name: name.clone(),
            owner: 65534,
            user: me
        }
    );
    let opened = RawValue::<u32>::open_named_with(
        &name,
        sharedctypes::named::OpenOptions {
            allow_other_owner: true,
        },
    )
    .unwrap();
    assert_eq!(opened.get(), 11);
    drop(v);
}

#[test]
fn stale_hidden_files_never_block_a_creation() {
    // A crashed creator whose pid was reused, or another user, may leave hidden files with
    // the names a creator of this process would have picked in turn.
    let _quiet = alone();
    let planted: Vec<String> = (0..3000)
        .map(|n| format!("/dev/shm/.sctmp-{}-{n}", std::process::id()))
        .collect();
    for p in &planted {
        std::fs::write(p, b"").unwrap();
    }
    let created: Vec<_> = (0..5)
        .map(|i| RawValue::create_named(&unique(&format!("stale{i}")), i as u8))
        .collect();
    for p in &planted {
        std::fs::remove_file(p).unwrap();
    }
    for (i, c) in created.into_iter().enumerate() {
        assert_eq!(c.unwrap().get(), i as u8);
    }
}

#[test]
fn odd_files_and_modes_under_a_name_are_clear_errors() {
    let _quiet = beside_others();
    let dir = unique("dir");
    std::fs::create_dir(format!("/dev/shm/{dir}")).unwrap();
    let expected = Error::NotNamedObject {
        name: dir.clone(),
        reason: "it is a directory".into(),
    };
    assert_eq!(RawValue::<u8>::open_named(&dir).unwrap_err(), expected);
    assert_eq!(unlink_named(&dir).unwrap_err(), expected);
    std::fs::remove_dir(format!("/dev/shm/{dir}")).unwrap();

    let link = unique("link");
    let target = unique("target");
    let _t = RawValue::create_named(&target, 1u8).unwrap();
    std::os::unix::fs::symlink(format!("/dev/shm/{target}"), format!("/dev/shm/{link}")).unwrap();
    assert_eq!(
        RawValue::<u8>::open_named(&link).unwrap_err(),
        Error::NotNamedObject {
            name: link.clone(),
            reason: "it is a symbolic link (never followed)".into()
        }
    );
    std::fs::remove_file(format!("/dev/shm/{link}")).unwrap();

    let moded = unique("mode");
    assert_eq!(
        RawValue::create_named_with_mode(&moded, 1u8, 0o4777).unwrap_err(),
        Error::InvalidArgument {
            reason: "mode 0o4777 has bits outside 0o777: only read and write permissions for the owner, group and others apply to shared memory".into()
        }
    );
    assert!(shm_entries(&moded).is_empty(), "nothing was created");
}

#[test]
fn a_truncated_named_object_is_refused_at_open() {
    let _quiet = beside_others();
    let name = unique("truncated");
    let a = RawArray::create_named(&name, &[3u64; 600]).unwrap();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/dev/shm/{name}"))
        .unwrap();
    file.set_len(4096).unwrap();
    assert_eq!(
        RawArray::<u64>::open_named(&name).unwrap_err(),
        Error::NotNamedObject {
            name: name.clone(),
            reason: "its header gives its size as 8192 bytes, but the file has 4096 (truncated or grown by another process?)".into()
        }
    );
    file.set_len(0).unwrap();
    assert_eq!(
        RawArray::<u64>::open_named(&name).unwrap_err(),
        Error::NotNamedObject {
            name: name.clone(),
            reason: "it is 0 bytes, shorter than a header".into()
        }
    );
    drop(a.into_inner()); // its pages are gone: it must not be touched any more
    unlink_named(&name).unwrap_err(); // not ours any more (too short), left alone
    std::fs::remove_file(format!("/dev/shm/{name}")).unwrap();
}
