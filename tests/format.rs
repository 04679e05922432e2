//! The format's test vectors (`docs/format/vectors/`, `docs/format.md` section 8) through the
//! public API: each good header, copied to `/dev/shm`, opens by name as the kind it says,
//! with the values it holds; each bad one is refused with the reason `vectors.ini` gives.
//! (The descriptions themselves are checked field by field in `shared-core`'s unit tests;
//! the Python package's tests read the same files.)

use sharedctypes::{
    Barrier, BoundedSemaphore, BytesQueue, Condition, Error, Event, Lock, Queue, RLock, RawArray,
    Semaphore, SharedLayout, Value,
};

#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct Point {
    x: f64,
    y: f64,
}

/// Copies the vector `file` to `/dev/shm` under a fresh name, removed when dropped.
struct Planted(String);

impl Planted {
    fn new(file: &str) -> Planted {
        let name = format!(
            "sharedctypes-test-format-{}-{}",
            file.trim_end_matches(".bin"),
            std::process::id()
        );
        let bytes = std::fs::read(format!(
            "{}/docs/format/vectors/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        std::fs::write(format!("/dev/shm/{name}"), bytes).unwrap();
        Planted(name)
    }
}

impl Drop for Planted {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(format!("/dev/shm/{}", self.0));
    }
}

#[test]
fn every_good_header_opens_as_the_kind_it_says() {
    let v = Planted::new("header-value-point-rlock.bin");
    let value = Value::<Point>::open_named(&v.0).unwrap();
    assert_eq!(value.get_obj().get(), Point { x: 1.5, y: -2.0 });
    let a = Planted::new("header-array-u16.bin");
    assert_eq!(
        RawArray::<u16>::open_named(&a.0).unwrap().to_vec(),
        [1, 2, 3, 4, 5]
    );
    let l = Planted::new("header-lock.bin");
    Lock::open_named(&l.0).unwrap();
    let r = Planted::new("header-rlock.bin");
    RLock::open_named(&r.0).unwrap();
    let e = Planted::new("header-event.bin");
    assert!(Event::open_named(&e.0).unwrap().is_set());
    let c = Planted::new("header-condition.bin");
    Condition::open_named(&c.0).unwrap();
    let s = Planted::new("header-semaphore.bin");
    assert_eq!(Semaphore::open_named(&s.0).unwrap().value(), 3);
    let b = Planted::new("header-bounded-semaphore.bin");
    assert_eq!(BoundedSemaphore::open_named(&b.0).unwrap().value(), 2);
    let bar = Planted::new("header-barrier.bin");
    assert_eq!(Barrier::open_named(&bar.0).unwrap().parties(), 3);
    let q = Planted::new("header-queue-u32.bin");
    let queue = Queue::<u32>::open_named(&q.0).unwrap();
    assert_eq!((queue.len(), queue.capacity()), (2, 4));
    assert_eq!((queue.get(), queue.get()), (Ok(10), Ok(11)));
    let bq = Planted::new("header-bytes-queue.bin");
    let bytes = BytesQueue::open_named(&bq.0).unwrap();
    assert!(bytes.is_closed());
    assert_eq!(bytes.get(), Ok(b"hi".to_vec()));
    assert_eq!(bytes.get(), Err(Error::Closed));
}

#[test]
fn every_bad_header_is_refused_with_its_reason() {
    let ini = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/format/vectors.ini"
    ))
    .unwrap();
    let mut file = None;
    let mut checked = 0;
    for line in ini.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            file = Some(name);
        } else if let (Some(f), Some(phrase)) = (file, line.strip_prefix("error = ")) {
            if !f.ends_with(".bin") {
                continue;
            }
            let planted = Planted::new(f);
            match Value::<Point>::open_named(&planted.0) {
                Err(Error::NotNamedObject { reason, .. }) => {
                    assert!(reason.contains(phrase), "{f}: `{reason}` lacks `{phrase}`")
                }
                other => panic!("{f}: expected a refusal, got {:?}", other.map(drop)),
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} bad headers");
}
