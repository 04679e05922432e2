// Only the thread that acquired a lock may release it: the guard cannot move to another thread.
use sharedctypes::Lock;

fn main() {
    let lock: &'static Lock = Box::leak(Box::new(Lock::new().unwrap()));
    let guard = lock.acquire().unwrap();
    std::thread::spawn(move || drop(guard));
}
