//! Ports of CPython 3.13's `Lib/test/_test_multiprocessing.py`: the classes `_TestValue`,
//! `_TestArray`, `_TestLock` (lock and rlock parts) and `_TestSharedCTypes`, with the same
//! values. Where a CPython check is a run-time error that Rust turns into a compile error
//! (releasing an unheld lock, `get_lock` on a raw value, `lock='navalue'`), the comment says
//! so and `tests/ui` holds the compile-fail case where one is meaningful.

use sharedctypes::ctypes::{c_double, c_int, c_longlong};
use sharedctypes::{
    Array, CChar, Lock, Process, RLock, RawArray, RawValue, SharedLayout, Value, copy,
};

// ---------------------------------------------------------------------------------------
// _TestValue
// ---------------------------------------------------------------------------------------

/// `codes_values` of `_TestValue`: (typecode, initial value, value the child writes).
macro_rules! codes_values {
    ($make:ident) => {
        (
            $make::<sharedctypes::tc!('i')>(4343),
            $make::<sharedctypes::tc!('d')>(3.625),
            $make::<sharedctypes::tc!('h')>(-232),
            $make::<sharedctypes::tc!('q')>(1 << 33),
            $make::<sharedctypes::tc!('c')>(CChar(b'x')),
        )
    };
}

fn value<T: SharedLayout>(v: T) -> Value<T> {
    Value::new(v).unwrap()
}

fn raw_value<T: SharedLayout>(v: T) -> RawValue<T> {
    RawValue::new(v).unwrap()
}

#[test]
fn test_value() {
    let (i, d, h, q, c) = codes_values!(value);
    assert_eq!(i.get().unwrap(), 4343);
    assert_eq!(d.get().unwrap(), 3.625);
    assert_eq!(h.get().unwrap(), -232);
    assert_eq!(q.get().unwrap(), 1 << 33);
    assert_eq!(c.get().unwrap(), CChar(b'x'));

    let child = Process::start(|| -> sharedctypes::Result<()> {
        i.set(24234)?;
        d.set(-4.25)?;
        h.set(234)?;
        q.set(1 << 34)?;
        c.set(CChar(b'y'))?;
        Ok(())
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 0);

    assert_eq!(i.get().unwrap(), 24234);
    assert_eq!(d.get().unwrap(), -4.25);
    assert_eq!(h.get().unwrap(), 234);
    assert_eq!(q.get().unwrap(), 1 << 34);
    assert_eq!(c.get().unwrap(), CChar(b'y'));
}

#[test]
fn test_rawvalue() {
    let (i, d, h, q, c) = codes_values!(raw_value);
    assert_eq!(
        (i.get(), d.get(), h.get(), q.get(), c.get()),
        (4343, 3.625, -232, 1 << 33, CChar(b'x'))
    );
    let child = Process::start(|| {
        i.set(24234);
        d.set(-4.25);
        h.set(234);
        q.set(1 << 34);
        c.set(CChar(b'y'));
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 0);
    assert_eq!(
        (i.get(), d.get(), h.get(), q.get(), c.get()),
        (24234, -4.25, 234, 1 << 34, CChar(b'y'))
    );
}

#[test]
fn test_getobj_getlock() {
    let val1 = Value::new(5i32).unwrap();
    let lock1: &RLock = val1.get_lock();
    let obj1: &RawValue<i32> = val1.get_obj();
    assert_eq!(obj1.get(), 5);
    drop(lock1.acquire().unwrap());

    // `Value('i', 5, lock=None)`: a new RLock, as by default.
    let val2 = Value::new(5i32).unwrap();
    assert_ne!(val2.get_lock(), val1.get_lock());
    assert_eq!(val2.get_obj().get(), 5);

    let lock = Lock::new().unwrap();
    let val3 = Value::with_lock(5i32, lock.clone()).unwrap();
    let lock3 = val3.get_lock();
    assert_eq!(&lock, lock3);
    assert_eq!(val3.get_obj().get(), 5);

    // `Value('i', 5, lock=False)` is a RawValue, which has no get_lock()/get_obj() at all
    // (a compile error, not hasattr() == False); `lock='navalue'` does not type-check.
    let arr4 = RawValue::new(5i32).unwrap();
    assert_eq!(arr4.get(), 5);
}

// ---------------------------------------------------------------------------------------
// _TestArray
// ---------------------------------------------------------------------------------------

const SEQ: [i32; 10] = [680, 626, 934, 821, 150, 233, 548, 982, 714, 831];

/// `_TestArray.f`: prefix sums in place.
fn prefix_sums(seq: &mut [i32]) {
    for i in 1..seq.len() {
        seq[i] += seq[i - 1];
    }
}

#[test]
fn test_array() {
    let mut seq = SEQ;
    let arr = Array::from_slice(&seq).unwrap();

    assert_eq!(arr.len(), seq.len());
    assert_eq!(arr.get(3).unwrap(), seq[3]);
    assert_eq!(arr.get_range(2..7).unwrap(), seq[2..7]);

    arr.set_range(4..8, &[1, 2, 3, 4]).unwrap();
    seq[4..8].copy_from_slice(&[1, 2, 3, 4]);
    assert_eq!(arr.to_vec().unwrap(), seq);

    prefix_sums(&mut seq);

    let child = Process::start(|| -> sharedctypes::Result<()> {
        for i in 1..arr.len() {
            arr.set(i, arr.get(i)? + arr.get(i - 1)?)?;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 0);

    assert_eq!(arr.to_vec().unwrap(), seq);
    assert_eq!(
        seq,
        [680, 1306, 2240, 3061, 3062, 3064, 3067, 3071, 3785, 4616]
    );
}

#[test]
fn test_rawarray() {
    let mut seq = SEQ;
    let arr = RawArray::from_slice(&seq).unwrap();

    assert_eq!(arr.len(), seq.len());
    assert_eq!(arr.get(3), Some(seq[3]));
    assert_eq!(arr.get_range(2..7).unwrap(), seq[2..7]);

    arr.set_range(4..8, &[1, 2, 3, 4]).unwrap();
    seq[4..8].copy_from_slice(&[1, 2, 3, 4]);
    assert_eq!(arr.to_vec(), seq);

    prefix_sums(&mut seq);

    let child = Process::start(|| {
        for i in 1..arr.len() {
            arr.set(i, arr.get(i).unwrap() + arr.get(i - 1).unwrap())
                .unwrap();
        }
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 0);

    assert_eq!(arr.to_vec(), seq);
}

#[test]
fn test_array_from_size() {
    let size = 10;
    // Test for zeroing (CPython issue #11675); the repetition makes reuse of a previously
    // allocated, non-zero block likely on the 2nd and 3rd rounds.
    for _ in 0..3 {
        let arr = Array::<c_int>::zeroed(size).unwrap();
        assert_eq!(arr.len(), size);
        assert_eq!(arr.to_vec().unwrap(), vec![0; size]);
        arr.copy_from_slice(&(0..10).collect::<Vec<_>>()).unwrap();
        assert_eq!(arr.to_vec().unwrap(), (0..10).collect::<Vec<_>>());
        drop(arr);
    }
}

#[test]
fn test_getobj_getlock_obj() {
    let range: Vec<i32> = (0..10).collect();
    let arr1 = Array::from_slice(&range).unwrap();
    let _lock1: &RLock = arr1.get_lock();
    let obj1: &RawArray<i32> = arr1.get_obj();
    assert_eq!(obj1.to_vec(), range);

    let arr2 = Array::from_slice(&range).unwrap();
    assert_ne!(arr2.get_lock(), arr1.get_lock());

    let lock = Lock::new().unwrap();
    let arr3 = Array::with_lock(&range, lock.clone()).unwrap();
    assert_eq!(arr3.get_lock(), &lock);
    assert_eq!(arr3.get_obj().to_vec(), range);

    // lock=False: a RawArray, which has no get_lock()/get_obj() (compile-time).
    let arr5 = RawArray::from_iter(0..10).unwrap();
    assert_eq!(arr5.to_vec(), range);
}

// ---------------------------------------------------------------------------------------
// _TestLock (lock and rlock parts)
// ---------------------------------------------------------------------------------------

#[test]
fn test_lock() {
    let lock = Lock::new().unwrap();
    let guard = lock.acquire().unwrap(); // lock.acquire() == True
    assert!(lock.try_acquire().unwrap().is_none()); // lock.acquire(False) == False
    guard.release(); // lock.release() == None
    // A second lock.release() raises in CPython; here there is no guard left to release:
    // `guard.release()` again is a use of a moved value (tests/ui).
    assert!(lock.try_acquire().unwrap().is_some());
}

#[test]
fn test_rlock() {
    let lock = RLock::new().unwrap();
    let g1 = lock.acquire().unwrap();
    let g2 = lock.acquire().unwrap();
    let g3 = lock.acquire().unwrap();
    g3.release();
    g2.release();
    g1.release();
    // A fourth release raises in CPython; with guards it cannot be written.

    // Released for real: another process can take it now.
    let child = Process::start(|| {
        assert!(lock.try_acquire().unwrap().is_some());
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 0);
}

#[test]
fn test_lock_context() {
    let lock = Lock::new().unwrap();
    {
        let _held = lock.acquire().unwrap(); // with self.Lock(): pass
    }
    assert!(lock.try_acquire().unwrap().is_some());
}

// ---------------------------------------------------------------------------------------
// _TestSharedCTypes
// ---------------------------------------------------------------------------------------

/// `class _Foo(Structure): _fields_ = [('x', c_int), ('y', c_double), ('z', c_longlong)]`
#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct Foo {
    x: c_int,
    y: c_double,
    z: c_longlong,
}

#[test]
fn foo_has_ctypes_layout() {
    let offsets: Vec<usize> = Foo::LAYOUT.fields().iter().map(|f| f.offset).collect();
    assert_eq!(offsets, [0, 8, 16]);
    assert_eq!((Foo::LAYOUT.size, Foo::LAYOUT.align), (24, 8));
}

/// `_double(x, y, z, foo, arr, string)`, on raw objects (lock=False).
#[test]
fn test_sharedctypes() {
    let x = RawValue::<c_int>::new(7).unwrap();
    let y = RawValue::<c_double>::new(1.0 / 3.0).unwrap();
    let z = RawValue::<c_longlong>::new(1 << 33).unwrap();
    let foo = RawValue::new(Foo { x: 3, y: 2.0, z: 0 }).unwrap();
    let arr = RawArray::<c_double>::from_iter((0..10).map(f64::from)).unwrap();
    let string = RawArray::<CChar>::zeroed(20).unwrap();
    string.set_value(b"hello").unwrap();

    let child = Process::start(|| {
        x.update(|v| v * 2);
        y.update(|v| v * 2.0);
        z.update(|v| v * 2);
        foo.view().update_x(|v| v * 2);
        foo.view().update_y(|v| v * 2.0);
        string.set_value(&string.value().repeat(2)).unwrap();
        for i in 0..arr.len() {
            arr.update(i, |v| v * 2.0).unwrap();
        }
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 0);

    assert_eq!(x.get(), 14);
    assert_eq!(y.get(), 2.0 / 3.0);
    assert_eq!(z.get(), 1 << 34);
    assert_eq!(foo.view().x(), 6);
    assert_eq!(foo.view().y(), 4.0);
    for i in 0..10 {
        assert_eq!(arr.get(i), Some(f64::from(i as u8) * 2.0));
    }
    assert_eq!(string.value(), b"hellohello");
}

/// `test_synchronize`: the same with a lock per object (lock=True); the struct's fields are
/// doubled through the per-field accessors that take the lock (`foo.x *= 2`).
#[test]
fn test_synchronize() {
    let x = Value::<c_int>::new(7).unwrap();
    let y = Value::<c_double>::new(1.0 / 3.0).unwrap();
    let z = Value::<c_longlong>::new(1 << 33).unwrap();
    let foo = Value::new(Foo { x: 3, y: 2.0, z: 0 }).unwrap();
    let arr = Array::<c_double>::from_iter((0..10).map(f64::from)).unwrap();
    let string = Array::<CChar>::zeroed(20).unwrap();
    string.set_value(b"hello").unwrap();

    let child = Process::start(|| -> sharedctypes::Result<()> {
        x.update(|v| v * 2)?;
        y.update(|v| v * 2.0)?;
        z.update(|v| v * 2)?;
        foo.update_x(|v| v * 2)?;
        foo.update_y(|v| v * 2.0)?;
        string.set_value(&string.value()?.repeat(2))?;
        for i in 0..arr.len() {
            arr.update(i, |v| v * 2.0)?;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 0);

    assert_eq!(x.get().unwrap(), 14);
    assert_eq!(y.get().unwrap(), 2.0 / 3.0);
    assert_eq!(z.get().unwrap(), 1 << 34);
    assert_eq!(foo.x().unwrap(), 6);
    assert_eq!(foo.y().unwrap(), 4.0);
    assert_eq!(foo.z().unwrap(), 0);
    let expected: Vec<f64> = (0..10).map(|i| f64::from(i) * 2.0).collect();
    assert_eq!(arr.to_vec().unwrap(), expected);
    assert_eq!(string.value().unwrap(), b"hellohello");
}

#[test]
fn test_copy() {
    let foo = RawValue::new(Foo {
        x: 2,
        y: 5.0,
        z: 1 << 33,
    })
    .unwrap();
    let bar = copy(&foo).unwrap();
    foo.view().set_x(0);
    foo.view().set_y(0.0);
    foo.view().set_z(0);
    assert_eq!(bar.view().x(), 2);
    assert_eq!(bar.view().y(), 5.0);
    assert_eq!(bar.view().z(), 1 << 33);
    assert_eq!(foo.get(), Foo { x: 0, y: 0.0, z: 0 });

    // CPython's copy() also takes a plain (unshared) ctypes object.
    let plain = Foo { x: 1, y: 2.0, z: 3 };
    assert_eq!(copy(&plain).unwrap().get(), plain);
}
