//! Generated field accessors, reached from every shared location of a struct, including
//! writes made by a child process.

use sharedctypes::{Array, CChar, Lock, Process, RawArray, RawValue, SharedLayout, Value};

#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct Vec3 {
    x: f32,
    y: f32,
    z: f32,
}

#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct Body {
    pos: Vec3,
    vel: Vec3,
    mass: f64,
    name: [CChar; 8],
    history: [Vec3; 3],
    flags: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct World {
    tick: u64,
    bodies: [Body; 2],
}

#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct Pair(pub i32, pub f64);

#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C, align(64))]
struct CacheLine {
    counter: u64,
}

fn v(x: f32) -> Vec3 {
    Vec3 {
        x,
        y: x + 1.0,
        z: x + 2.0,
    }
}

fn body(m: f64) -> Body {
    Body {
        pos: v(0.0),
        vel: v(1.0),
        mass: m,
        name: [CChar(0); 8],
        history: [v(0.0); 3],
        flags: 0,
    }
}

#[test]
fn nested_write_from_a_child_is_seen_by_the_parent() {
    let world = RawValue::new(World {
        tick: 0,
        bodies: [body(1.0), body(2.0)],
    })
    .unwrap();
    let child = Process::start(|| {
        let w = world.view();
        w.set_tick(7);
        let b1 = w.bodies().at(1);
        b1.pos().set_y(42.5);
        b1.vel().update_z(|z| z * 10.0);
        b1.name().set_value(b"comet").unwrap();
        b1.history().at(2).set_x(-1.0);
        b1.set_flags(0b101);
        w.bodies().at(0).set_mass(9.0);
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 0);

    let w = world.get();
    assert_eq!(w.tick, 7);
    assert_eq!(
        w.bodies[1].pos,
        Vec3 {
            x: 0.0,
            y: 42.5,
            z: 2.0
        }
    );
    assert_eq!(w.bodies[1].vel.z, 30.0);
    assert_eq!(world.view().bodies().at(1).name().value(), b"comet");
    assert_eq!(world.view().bodies().at(1).name().raw(), b"comet\0\0\0");
    assert_eq!(w.bodies[1].history[2].x, -1.0);
    assert_eq!(w.bodies[1].flags, 0b101);
    assert_eq!(w.bodies[0].mass, 9.0);
    assert_eq!(
        w.bodies[0].pos,
        v(0.0),
        "untouched fields keep their values"
    );
}

#[test]
fn array_elements_and_guards() {
    let lock = Lock::new().unwrap();
    let bodies = Array::with_lock(&[body(1.0), body(2.0), body(3.0)], lock.clone()).unwrap();
    // Unlocked, one field at a time (CPython's A[i].x = ...).
    bodies.at(2).pos().set_x(5.0);
    assert_eq!(bodies.get(2).unwrap().pos.x, 5.0);
    // Several accesses in one hold of the lock.
    {
        let g = bodies.lock().unwrap();
        let total: f64 = (0..g.len()).map(|i| g.at(i).mass()).sum();
        g.at(0).set_mass(total);
    }
    assert_eq!(bodies.get(0).unwrap().mass, 6.0);
    assert!(bodies.try_at(3).is_err());

    let raw = RawArray::from_slice(&[Pair(1, 1.5), Pair(2, 2.5)]).unwrap();
    raw.at(1).set_0(20);
    raw.at(1).update_1(|x| x * 2.0);
    assert_eq!(raw.get(1), Some(Pair(20, 5.0)));
}

#[test]
fn value_of_a_struct_has_locked_field_accessors() {
    let b = Value::new(body(1.0)).unwrap();
    assert_eq!(b.mass().unwrap(), 1.0);
    b.set_mass(2.0).unwrap();
    assert_eq!(b.update_mass(|m| m * 3.0).unwrap(), 6.0);
    assert_eq!(b.pos().unwrap(), v(0.0)); // struct fields are copied out under the lock
    b.set_pos(v(9.0)).unwrap();
    assert_eq!(b.get().unwrap().pos, v(9.0));
    // The guard gives the view for several accesses in one hold.
    let g = b.lock().unwrap();
    g.view().vel().set_x(g.view().pos().x());
    drop(g);
    assert_eq!(b.vel().unwrap().x, 9.0);

    let child = Process::start(|| b.update_flags(|f| f + 1).map(drop)).unwrap();
    assert_eq!(child.join().unwrap(), 0);
    assert_eq!(b.flags().unwrap(), 1);
}

#[test]
fn over_aligned_structs_are_aligned_in_shared_memory() {
    let arr = RawArray::<CacheLine>::zeroed(5).unwrap();
    for i in 0..arr.len() {
        let addr = arr.place(i).unwrap().as_ptr() as usize;
        assert_eq!(addr % 64, 0, "element {i}");
    }
    let one = RawValue::new(CacheLine { counter: 3 }).unwrap();
    assert_eq!(one.as_ptr() as usize % 64, 0);
    assert_eq!(CacheLine::LAYOUT.size, 64);
}

#[test]
fn layout_metadata_of_a_nested_struct() {
    let fields: Vec<(&str, usize, usize, &str)> = Body::LAYOUT
        .fields()
        .iter()
        .map(|f| (f.name, f.offset, f.size, f.type_name))
        .collect();
    assert_eq!(
        fields,
        [
            ("pos", 0, 12, "Vec3"),
            ("vel", 12, 12, "Vec3"),
            ("mass", 24, 8, "f64"),
            ("name", 32, 8, "[CChar; 8]"),
            ("history", 40, 36, "[Vec3; 3]"),
            ("flags", 76, 1, "u8"),
        ]
    );
    assert_eq!((Body::LAYOUT.size, Body::LAYOUT.align), (80, 8));
    assert_eq!(Body::LAYOUT.padding(), 3);
    assert_ne!(Body::LAYOUT.fingerprint, World::LAYOUT.fingerprint);
}

/// `#[shared(crate = "...")]`: the runtime reached through another path.
mod renamed {
    pub use sharedctypes as runtime;
}

#[derive(Clone, Copy, Debug, PartialEq, renamed::runtime::SharedLayout)]
#[repr(C)]
#[shared(crate = "renamed::runtime")]
struct ThroughAnotherPath {
    a: u16,
    b: u64,
}

#[test]
fn crate_path_override() {
    let v = RawValue::new(ThroughAnotherPath { a: 1, b: 2 }).unwrap();
    v.view().set_b(40);
    assert_eq!(v.get(), ThroughAnotherPath { a: 1, b: 40 });
    assert_eq!(ThroughAnotherPath::LAYOUT.fields()[1].offset, 8);
}
