// A running child borrows the values its closure uses: the parent cannot free them first.
use sharedctypes::{Process, Value};

fn run() -> sharedctypes::Result<()> {
    let v = Value::new(0i32)?;
    let p = Process::start(|| v.set(1).unwrap())?;
    drop(v);
    p.join()?;
    Ok(())
}

fn main() {
    run().unwrap();
}
