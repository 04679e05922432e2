// Only the thread that holds a lock may use its guard: a guard cannot be shared with another
// thread (it is not `Sync`), which would otherwise write "under the lock" it does not hold.
use sharedctypes::Value;

fn main() {
    let v = Value::new(0i32).unwrap();
    let guard = v.lock().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| guard.set(1));
    });
}
