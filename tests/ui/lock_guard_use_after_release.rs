// A guard is released once: `release()` and `drop` consume it, so it cannot be used after.
use sharedctypes::Lock;

fn release_twice(lock: &Lock) {
    let guard = lock.acquire().unwrap();
    guard.release();
    guard.release();
}

fn use_after_drop(lock: &Lock) {
    let guard = lock.acquire().unwrap();
    drop(guard);
    let _ = guard.owner_died();
}

fn main() {}
