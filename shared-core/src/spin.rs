//! Adaptive spinning: how long a waiter keeps looking before it sleeps.
//!
//! Between processes on different cores, what a waiter waits for (a notification, a permit,
//! a lock's release) often comes within a microsecond or two, far sooner than a sleep and a
//! wake-up take (several microseconds each way). So every wait of the crate — the locks'
//! slow path, [`Condition`](crate::Condition), [`Event`](crate::Event), the semaphores,
//! [`Barrier`](crate::Barrier) — first spins, for a bounded *time*, and only then sleeps on
//! its futex (or in `pthread_mutex_lock`).
//!
//! How long is learnt, per kind of wait, from the recent waits of this process (as glibc's
//! adaptive mutexes and parking_lot do): a spin that succeeds after `t` pulls the budget
//! towards twice `t`; one that runs out halves it, down to a floor, so that on a busy machine
//! — where the process a waiter waits for is not even running, and spinning only steals its
//! CPU — waiters soon go to sleep at once. On a machine with one CPU nobody spins. The
//! budget never exceeds [`MAX_SPIN`].

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The longest any waiter spins before sleeping.
pub(crate) const MAX_SPIN: Duration = Duration::from_micros(50);

/// What every budget starts at.
const START_NS: u32 = 20_000;

/// The smallest budget: a budget that decayed to nothing could never learn that spinning
/// pays again.
const FLOOR_NS: u32 = 500;

/// The spin budget of one kind of wait, in nanoseconds.
pub(crate) struct Budget(AtomicU32);

impl Budget {
    pub(crate) const fn new() -> Budget {
        Budget(AtomicU32::new(START_NS))
    }

    /// Spins until `done()`, for at most the budget; `true` if it came. Adjusts the budget.
    #[inline]
    pub(crate) fn spin(&self, done: impl Fn() -> bool) -> bool {
        if done() {
            return true;
        }
        if single_cpu() {
            return false;
        }
        self.spin_slow(done)
    }

    #[inline(never)]
    fn spin_slow(&self, done: impl Fn() -> bool) -> bool {
        let budget = u64::from(self.0.load(Relaxed));
        let start = Instant::now();
        loop {
            // A few pauses between looks at the clock (each look costs about as much).
            for _ in 0..8 {
                core::hint::spin_loop();
            }
            if done() {
                let took = start.elapsed().as_nanos().min(u128::from(u32::MAX)) as u64;
                // Towards twice what it took, so that a similar wait succeeds next time.
                let next = (budget + 2 * took) / 2;
                self.0.store(clamp(next), Relaxed);
                return true;
            }
            if start.elapsed().as_nanos() as u64 >= budget {
                self.0.store(clamp(budget / 2), Relaxed);
                return false;
            }
        }
    }
}

fn clamp(ns: u64) -> u32 {
    ns.clamp(u64::from(FLOOR_NS), MAX_SPIN.as_nanos() as u64) as u32
}

/// True on a machine (or in a CPU set) with one CPU, where a spinner only delays the process
/// it waits for. Looked up once.
fn single_cpu() -> bool {
    static CPUS: AtomicUsize = AtomicUsize::new(0);
    let cpus = match CPUS.load(Relaxed) {
        0 => {
            let n = std::thread::available_parallelism().map_or(1, usize::from);
            CPUS.store(n, Relaxed);
            n
        }
        n => n,
    };
    cpus == 1
}
