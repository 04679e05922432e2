// A child process must not use a guard it does not hold: the closure of `Process::start` must
// be `Send`, and a guard is not `Sync`, so a closure that borrows one does not compile.
use sharedctypes::{Process, Value};

fn main() {
    let v = Value::new(0i32).unwrap();
    let guard = v.lock().unwrap();
    let child = Process::start(|| guard.set(guard.get() + 1)).unwrap();
    guard.set(guard.get() + 1);
    child.join().unwrap();
}
