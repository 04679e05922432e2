// `RawValue::update` returns the new value: a child cannot end with a plain `i32`, and the
// error says what a child may return and how to end the closure.
use sharedctypes::{Process, Value};

fn main() {
    let counter = Value::new(0i32).unwrap();
    let child = Process::start(|| counter.get_obj().update(|v| v + 1)).unwrap();
    child.join().unwrap();
}
