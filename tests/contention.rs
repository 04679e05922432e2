//! Exactness under contention: several processes updating one `Value` through its lock.

use sharedctypes::{Process, Value};

#[test]
fn four_processes_times_250k_locked_increments() {
    let v = Value::new(0i64).unwrap();
    let children: Vec<Process<'_>> = (0..4)
        .map(|_| {
            Process::start(|| -> sharedctypes::Result<()> {
                for _ in 0..250_000 {
                    v.update(|x| x + 1)?;
                }
                Ok(())
            })
            .unwrap()
        })
        .collect();
    for child in &children {
        assert_eq!(child.join().unwrap(), 0);
    }
    assert_eq!(v.get().unwrap(), 1_000_000);
}
