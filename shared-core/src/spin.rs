//! Adaptive spinning: how long a waiter keeps looking before it sleeps.
//!
//! Between processes on different cores, what a waiter waits for (a notification, a permit,
//! a lock's release) often comes within a microsecond or two, far sooner than a sleep and a
//! wake-up take (several microseconds each way). So every wait of the crate — the locks'
//! slow path, [`Condition`](crate::Condition), [`Event`](crate::Event), the semaphores,
//! [`Barrier`](crate::Barrier) — first spins, for a bounded *time*, and only then sleeps on
//! its futex (or in `pthread_mutex_lock`).
//!
//! Whether to spin is learnt, per kind of wait, from the recent waits of this process. A spin
//! that succeeds raises the kind's score, one that runs out lowers it. While the score is
//! above zero a waiter spins for up to [`MAX_SPIN`] — long enough to cover the wake-up of a
//! partner that went to sleep, so that one late hand-off does not drag both sides of a
//! ping-pong into sleeping on every turn (a budget fitted tightly to the usual wait does
//! exactly that). Once recent spins have all run out — the awaited thing takes long, or the
//! machine is busy and the process that would provide it is not even running, so spinning
//! only steals its CPU — waiters look only briefly and sleep, and one wait in
//! [`PROBE_EVERY`] spins in full again to learn whether that has changed. On a machine with
//! one CPU nobody spins.

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The longest any waiter spins before sleeping: a little more than a sleeping process
/// takes to wake up on a quiet machine.
pub(crate) const MAX_SPIN: Duration = Duration::from_micros(20);

/// How long a waiter looks when recent spins of its kind have run out.
const BRIEF: Duration = Duration::from_nanos(500);

/// The highest score: this many spins in a row must run out before waiters stop spinning.
const SCORE_MAX: u32 = 8;

/// While spins do not pay, one wait in this many spins in full anyway, to notice when they
/// would again.
pub(crate) const PROBE_EVERY: u32 = 64;

/// The spin policy of one kind of wait: a score of recent spins and a count of waits.
pub(crate) struct Budget {
    score: AtomicU32,
    waits: AtomicU32,
}

impl Budget {
    pub(crate) const fn new() -> Budget {
        Budget {
            score: AtomicU32::new(SCORE_MAX / 2),
            waits: AtomicU32::new(0),
        }
    }

    /// Spins until `done()`, for at most the budget; `true` if it came. Scores the outcome.
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
        let score = self.score.load(Relaxed);
        let probe = self.waits.fetch_add(1, Relaxed) % PROBE_EVERY == 0;
        let budget = if score > 0 || probe { MAX_SPIN } else { BRIEF };
        let budget = budget.as_nanos() as u64;
        let start = Instant::now();
        loop {
            // A few pauses between looks at the clock (each look costs about as much).
            for _ in 0..8 {
                core::hint::spin_loop();
            }
            if done() {
                self.score.store((score + 1).min(SCORE_MAX), Relaxed);
                return true;
            }
            if start.elapsed().as_nanos() as u64 >= budget {
                self.score.store(score / 2, Relaxed);
                return false;
            }
        }
    }
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
