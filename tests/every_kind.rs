//! Every kind of shared object travels every way: created by name and opened by another
//! process, passed to a spawned child, handed to another program (this test binary again,
//! running the ignored test `program`), each time changed on the far side and the change
//! seen here. One table: a kind added to the crate is added to `kinds!` below.

use std::process::Command;
use std::time::Duration;

use sharedctypes::named::Named;
use sharedctypes::share::{Share, inherited};
use sharedctypes::{
    Array, Barrier, BoundedSemaphore, BytesQueue, Condition, Event, Exit, Lock, Process, Queue,
    RLock, RawArray, RawValue, Semaphore, Value, heap,
};

/// One kind of object, and a change another process can make to it and this one see.
trait Kind: Share + 'static {
    const NAME: &'static str;
    /// A new object, in the unchanged state.
    fn make() -> sharedctypes::Result<Self>;
    fn create_named(name: &str) -> sharedctypes::Result<Named<Self>>;
    fn open_named(name: &str) -> sharedctypes::Result<Named<Self>>;
    /// The change (made by another process, which may then end).
    fn change(&self);
    /// Whether the change was made.
    fn changed(&self) -> bool;
}

/// A lock the other process ends holding: this one sees its holder died.
fn die_holding(lock: &sharedctypes::lock::RobustLock<impl sharedctypes::lock::LockKind>) {
    std::mem::forget(lock.acquire().unwrap());
}

fn holder_died(lock: &sharedctypes::lock::RobustLock<impl sharedctypes::lock::LockKind>) -> bool {
    lock.try_acquire().unwrap().is_some_and(|g| g.owner_died())
}

macro_rules! kinds {
    ($($t:ty, $name:literal, $make:expr, $create:expr, $change:expr, $changed:expr;)*) => {
        $(
            impl Kind for $t {
                const NAME: &'static str = $name;
                fn make() -> sharedctypes::Result<Self> {
                    $make
                }
                fn create_named(name: &str) -> sharedctypes::Result<Named<Self>> {
                    ($create)(name)
                }
                fn open_named(name: &str) -> sharedctypes::Result<Named<Self>> {
                    <$t>::open_named(name)
                }
                fn change(&self) {
                    ($change)(self)
                }
                fn changed(&self) -> bool {
                    ($changed)(self)
                }
            }
        )*

        /// Runs `f::<T>()` for every kind.
        fn for_every_kind(mut f: impl FnMut(&str, &dyn Fn() -> Result<(), String>)) {
            $( f($name, &|| check_every_way::<$t>()); )*
        }

        /// In the program: changes the object inherited as `obj`, of the kind named `name`.
        fn change_inherited(name: &str) {
            $( if name == $name { inherited::<$t>("obj").unwrap().change(); return; } )*
            panic!("unknown kind {name}");
        }
    };
}

kinds! {
    RawValue<u32>, "RawValue", RawValue::new(0),
        |n| RawValue::create_named(n, 0u32),
        |v: &RawValue<u32>| v.set(7), |v: &RawValue<u32>| v.get() == 7;
    RawArray<u32>, "RawArray", RawArray::zeroed(3),
        |n| RawArray::create_named(n, &[0u32; 3]),
        |a: &RawArray<u32>| a.set(1, 7).unwrap(), |a: &RawArray<u32>| a.to_vec() == [0, 7, 0];
    Value<u32>, "Value", Value::new(0),
        |n| Value::<u32>::create_named(n, 0),
        |v: &Value<u32>| { v.update(|x| x + 7).unwrap(); }, |v: &Value<u32>| v.get() == Ok(7);
    Array<u32>, "Array", Array::zeroed(3),
        |n| Array::<u32>::create_named(n, &[0; 3]),
        |a: &Array<u32>| a.set(2, 7).unwrap(), |a: &Array<u32>| a.to_vec() == Ok(vec![0, 0, 7]);
    Lock, "Lock", Lock::new(), Lock::create_named, die_holding, holder_died;
    RLock, "RLock", RLock::new(), RLock::create_named, die_holding, holder_died;
    Condition, "Condition", Condition::new_rlock(), Condition::create_named,
        |c: &Condition| die_holding(c.get_lock()), |c: &Condition| holder_died(c.get_lock());
    Event, "Event", Event::new(), Event::create_named,
        |e: &Event| e.set(), |e: &Event| e.is_set();
    Semaphore, "Semaphore", Semaphore::new(1), |n| Semaphore::create_named(n, 1),
        |s: &Semaphore| s.release().unwrap(), |s: &Semaphore| s.value() == 2;
    BoundedSemaphore, "BoundedSemaphore", BoundedSemaphore::new(2).inspect(|s| s.acquire().forget()),
        |n| BoundedSemaphore::create_named(n, 2).inspect(|s| s.acquire().forget()),
        |s: &BoundedSemaphore| s.release().unwrap(), |s: &BoundedSemaphore| s.value() == 2;
    Barrier, "Barrier", Barrier::new(2), |n| Barrier::create_named(n, 2),
        |b: &Barrier| b.abort().unwrap(), |b: &Barrier| b.is_broken();
    Queue<[u16; 3]>, "Queue", Queue::new(2), |n| Queue::<[u16; 3]>::create_named(n, 2),
        |q: &Queue<[u16; 3]>| q.put([1, 2, 7]).unwrap(),
        |q: &Queue<[u16; 3]>| q.try_get() == Ok(Some([1, 2, 7]));
    BytesQueue, "BytesQueue", BytesQueue::new(64), |n| BytesQueue::create_named(n, 64),
        |q: &BytesQueue| q.put(b"seven").unwrap(),
        |q: &BytesQueue| q.try_get() == Ok(Some(b"seven".to_vec()));
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

fn change_spawned<T: Kind>(obj: T) -> Exit {
    obj.change();
    Exit(0)
}

fn check_every_way<T: Kind>() -> Result<(), String> {
    let name = format!("sharedctypes-test-kinds-{}-{}", T::NAME, std::process::id());
    // By name: created here, opened by another process, which changes it.
    let created = T::create_named(&name).map_err(|e| format!("create_named: {e}"))?;
    let opener = Process::start(|| {
        T::open_named(&name).unwrap().change();
    })
    .map_err(|e| e.to_string())?;
    if finish(&opener) != 0 || !created.changed() {
        return Err(format!("by name: {:?}", opener.failure()));
    }
    let again = T::open_named(&name).map_err(|e| format!("open_named: {e}"))?;
    drop((created, again));
    // To a spawned child.
    let obj = T::make().map_err(|e| e.to_string())?;
    let child = Process::spawn(change_spawned::<T>, (&obj,)).map_err(|e| e.to_string())?;
    if finish(&child) != 0 || !obj.changed() {
        return Err(format!("spawned: {:?}", child.failure()));
    }
    // To another program, in memory of its own.
    let obj = heap::isolated(T::make).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "program",
        "--test-threads=1",
        "--quiet",
    ])
    .env("EVERY_KIND", T::NAME)
    .stdout(std::process::Stdio::null());
    let program = Process::command(cmd)
        .share("obj", &obj)
        .map_err(|e| e.to_string())?
        .spawn()
        .map_err(|e| e.to_string())?;
    if finish(&program) != 0 || !obj.changed() {
        return Err("handed to a program: not changed".into());
    }
    Ok(())
}

#[test]
fn every_kind_travels_by_name_by_spawn_and_to_a_program() {
    let mut failures = Vec::new();
    let mut kinds = 0;
    for_every_kind(|name, check| {
        kinds += 1;
        if let Err(e) = check() {
            failures.push(format!("{name}: {e}"));
        }
    });
    assert_eq!(kinds, 13, "every shareable kind is in the table");
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
#[ignore = "the program that `every_kind_travels_by_name_by_spawn_and_to_a_program` starts"]
fn program() {
    if let Ok(kind) = std::env::var("EVERY_KIND") {
        change_inherited(&kind);
    }
}

#[test]
fn opening_a_name_as_the_wrong_kind_names_both_kinds() {
    let name = format!("sharedctypes-test-kinds-wrong-{}", std::process::id());
    let _event = Event::create_named(&name).unwrap();
    let refusal = |e: sharedctypes::Error| match e {
        sharedctypes::Error::NotNamedObject { reason, .. } => reason,
        other => panic!("expected NotNamedObject, got {other:?}"),
    };
    assert_eq!(
        refusal(Barrier::open_named(&name).unwrap_err()),
        "it holds an Event, not a Barrier"
    );
    assert_eq!(
        refusal(Lock::open_named(&name).unwrap_err()),
        "it holds an Event, not a Lock"
    );
    assert_eq!(
        refusal(RawValue::<u8>::open_named(&name).unwrap_err()),
        "it holds an Event, not a value"
    );
    drop(_event);
    let _lock = RLock::create_named(&name).unwrap();
    assert_eq!(
        refusal(Lock::open_named(&name).unwrap_err()),
        "it holds an RLock, not a Lock"
    );
    assert_eq!(
        refusal(Condition::open_named(&name).unwrap_err()),
        "it holds an RLock, not a Condition with an RLock"
    );
}
