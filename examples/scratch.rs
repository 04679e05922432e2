use sharedctypes::{Array, CChar, Lock, Process, RawValue, SharedLayout, Value};

#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
#[shared(size = 16, align = 8)]
struct Point {
    #[shared(offset = 0)]
    x: f64,
    y: f64,
}

#[derive(Clone, Copy, Debug, SharedLayout)]
#[repr(C, align(16))]
struct Outer {
    p: Point,
    tag: u8,
    name: [CChar; 5],
    pts: [Point; 2],
}

#[derive(Clone, Copy, Debug, SharedLayout)]
#[repr(C)]
struct Tup(pub i32, pub f64);

#[derive(Clone, Copy, Debug, SharedLayout)]
#[repr(C)]
struct Unit;

fn main() -> sharedctypes::Result<()> {
    let lock = Lock::new()?;
    let a = Array::with_lock(
        &[Point { x: 1.875, y: -6.25 }, Point { x: -5.75, y: 2.0 }],
        lock.clone(),
    )?;
    a.at(1).set_x(a.at(1).x().powi(2));
    println!("{:?}", a.to_vec()?);
    let v = Value::new(Point { x: 1.0, y: 2.0 })?;
    v.set_x(3.0)?;
    println!("{:?} {}", v.get()?, v.y()?);
    let o = RawValue::new(Outer {
        p: Point { x: 1.0, y: 2.0 },
        tag: 3,
        name: [CChar(b'a'); 5],
        pts: [Point { x: 0.0, y: 0.0 }; 2],
    })?;
    o.view().p().set_y(9.0);
    o.view().name().set_value(b"hi")?;
    o.view().pts().at(1).set_x(4.0);
    println!("{:?}", o.get());
    println!("{}", Outer::LAYOUT);
    println!("{}", Outer::LAYOUT.to_c());
    println!("{}", Outer::LAYOUT.to_ctypes());
    let t = RawValue::new(Tup(1, 2.0))?;
    t.view().set_0(5);
    println!("{:?} {}", t.get(), Tup::LAYOUT);
    let _u = RawValue::new(Unit)?;
    let n = Value::new(7i32)?;
    let p = Process::start(|| n.update(|v| v * v).map(drop))?;
    println!("exit {}", p.join()?);
    println!("{}", n.get()?);
    Ok(())
}
