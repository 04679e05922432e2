//! The floor of each row: the same thing written by hand on the system's primitives, with
//! nothing around it. Shared memory for them comes from sharedctypes' heap (`Block`), which
//! is only memory here.

use std::hint::black_box;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::{Duration, Instant};

use sharedctypes::Process;
use sharedctypes::heap::Block;

use super::{median, ns_per_op};

/// A zeroed, shared, 64-byte-aligned block for a `T`.
fn shared<T>() -> Block {
    Block::alloc(size_of::<T>(), 64).unwrap()
}

/// Sleeps while `word` holds `value` (a shared futex).
fn futex_wait(word: &AtomicU32, value: u32) {
    // SAFETY: FUTEX_WAIT reads the aligned, live word and sleeps; no timeout.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            value,
            std::ptr::null::<libc::timespec>(),
        )
    };
}

fn futex_wake(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE only uses the word's address.
    unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, 1) };
}

/// Waits for `word` to become `want`: spins up to 50 µs, then sleeps on the futex.
fn spin_then_sleep(word: &AtomicU32, want: u32) {
    let start = Instant::now();
    while word.load(SeqCst) != want {
        if start.elapsed() > Duration::from_micros(50) {
            let now = word.load(SeqCst);
            if now != want {
                futex_wait(word, now);
            }
        } else {
            core::hint::spin_loop();
        }
    }
}

/// Two processes hand a turn back and forth through one shared word (0: the first's turn,
/// 1: the second's), each waiting by spin-then-sleep and waking the other: the floor for a
/// round trip through a condition variable or a pair of events.
pub fn futex_ping_pong(rounds: usize) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..3 {
        let block = shared::<AtomicU32>();
        // SAFETY: the block is live, zeroed and aligned for an AtomicU32 for this function.
        let turn = unsafe { AtomicU32::from_ptr(block.as_ptr().cast()) };
        let other = Process::start(|| {
            for _ in 0..rounds {
                spin_then_sleep(turn, 1);
                turn.store(0, SeqCst);
                futex_wake(turn);
            }
        })
        .unwrap();
        let t = Instant::now();
        for _ in 0..rounds {
            turn.store(1, SeqCst);
            futex_wake(turn);
            spin_then_sleep(turn, 0);
        }
        samples.push(t.elapsed().as_nanos() as f64 / rounds as f64);
        assert_eq!(other.join().unwrap(), 0);
    }
    median(samples)
}

/// Two processes hand a byte back and forth through a pair of pipes.
pub fn pipe_ping_pong(rounds: usize) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..3 {
        let (mut a_read, mut a_write) = pipe();
        let (mut b_read, mut b_write) = pipe();
        use std::io::{Read, Write};
        let other = Process::start(move || {
            let mut byte = [0u8];
            for _ in 0..rounds {
                a_read.read_exact(&mut byte).unwrap();
                b_write.write_all(&byte).unwrap();
            }
        })
        .unwrap();
        let t = Instant::now();
        let mut byte = [1u8];
        for _ in 0..rounds {
            a_write.write_all(&byte).unwrap();
            b_read.read_exact(&mut byte).unwrap();
        }
        samples.push(t.elapsed().as_nanos() as f64 / rounds as f64);
        assert_eq!(other.join().unwrap(), 0);
    }
    median(samples)
}

/// A pipe as two files, `(read, write)`.
fn pipe() -> (std::fs::File, std::fs::File) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: `fds` is storage for two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the read end was just opened and is owned by nothing else.
    let read = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    // SAFETY: likewise the write end.
    let write = unsafe { std::fs::File::from_raw_fd(fds[1]) };
    (read, write)
}

/// A robust, process-shared pthread mutex and a counter in shared memory, `procs` processes
/// locking, incrementing and unlocking: ns per increment (per process). With `own`, each
/// process has a mutex and counter of its own (on lines of their own).
pub fn mutex_increment(procs: usize, ops: usize, own: bool) -> f64 {
    #[repr(C)]
    struct Cell {
        mutex: libc::pthread_mutex_t,
        count: u64,
    }
    let blocks: Vec<Block> = (0..if own { procs } else { 1 })
        .map(|_| shared::<Cell>())
        .collect();
    let cells: Vec<(usize, usize)> = blocks
        .iter()
        .map(|block| {
            let cell = block.as_ptr().cast::<Cell>();
            // SAFETY: `cell` points to live, zeroed shared memory for a Cell.
            let m = unsafe { &raw mut (*cell).mutex };
            // SAFETY: as above.
            let count = unsafe { &raw mut (*cell).count };
            let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
            let attr = attr.as_mut_ptr();
            // SAFETY: `attr` is storage for a mutexattr, initialised by the first call.
            unsafe { libc::pthread_mutexattr_init(attr) };
            // SAFETY: `attr` is initialised.
            unsafe { libc::pthread_mutexattr_setpshared(attr, libc::PTHREAD_PROCESS_SHARED) };
            // SAFETY: as above.
            unsafe { libc::pthread_mutexattr_setrobust(attr, libc::PTHREAD_MUTEX_ROBUST) };
            // SAFETY: `m` is fresh shared memory owned by this function.
            unsafe { libc::pthread_mutex_init(m, attr) };
            (m as usize, count as usize)
        })
        .collect();
    let run = |(m, count): (usize, usize)| {
        move || {
            let (m, count) = (m as *mut libc::pthread_mutex_t, count as *mut u64);
            for _ in 0..ops {
                // SAFETY: an initialised mutex in live shared memory.
                unsafe { libc::pthread_mutex_lock(black_box(m)) };
                // SAFETY: the counter, under the mutex.
                unsafe { *count += 1 };
                // SAFETY: this thread holds the mutex.
                unsafe { libc::pthread_mutex_unlock(m) };
            }
        }
    };
    let cell = |p: usize| cells[if own { p } else { 0 }];
    let t = ns_per_op(ops, || {
        let children: Vec<_> = (1..procs)
            .map(|p| Process::start(run(cell(p))).unwrap())
            .collect();
        run(cell(0))();
        for c in &children {
            assert_eq!(c.join().unwrap(), 0);
        }
    });
    let total: usize = cells
        .iter()
        // SAFETY: every process that wrote the counters has ended.
        .map(|&(_, count)| unsafe { *(count as *const u64) } as usize)
        .sum();
    assert_eq!(total, ops * procs * 6);
    t
}

/// An uncontended POSIX semaphore (process-shared, in shared memory): `sem_wait` + `sem_post`.
pub fn sem_t(ops: usize) -> f64 {
    let block = shared::<libc::sem_t>();
    let s = block.as_ptr().cast::<libc::sem_t>();
    // SAFETY: fresh shared memory for a sem_t; process-shared, value 1.
    unsafe { libc::sem_init(s, 1, 1) };
    ns_per_op(ops, || {
        for _ in 0..ops {
            // SAFETY: an initialised semaphore.
            unsafe { libc::sem_wait(black_box(s)) };
            // SAFETY: as above.
            unsafe { libc::sem_post(s) };
        }
    })
}

/// Two processes meet at a process-shared `pthread_barrier_t` `rounds` times.
pub fn pthread_barrier(rounds: usize) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..3 {
        let block = shared::<libc::pthread_barrier_t>();
        let b = block.as_ptr().cast::<libc::pthread_barrier_t>();
        let mut attr = std::mem::MaybeUninit::<libc::pthread_barrierattr_t>::uninit();
        let attr = attr.as_mut_ptr();
        // SAFETY: storage for a barrierattr, initialised here.
        unsafe { libc::pthread_barrierattr_init(attr) };
        // SAFETY: `attr` is initialised.
        unsafe { libc::pthread_barrierattr_setpshared(attr, libc::PTHREAD_PROCESS_SHARED) };
        // SAFETY: fresh shared memory for a barrier of 2.
        unsafe { libc::pthread_barrier_init(b, attr, 2) };
        let addr = b as usize;
        let other = Process::start(move || {
            for _ in 0..rounds {
                // SAFETY: an initialised barrier in live shared memory.
                unsafe { libc::pthread_barrier_wait(addr as *mut libc::pthread_barrier_t) };
            }
        })
        .unwrap();
        let t = Instant::now();
        for _ in 0..rounds {
            // SAFETY: as above.
            unsafe { libc::pthread_barrier_wait(b) };
        }
        samples.push(t.elapsed().as_nanos() as f64 / rounds as f64);
        assert_eq!(other.join().unwrap(), 0);
    }
    median(samples)
}

/// One cycle as the `shared_memory` crate does it: create (`shm_open` exclusive,
/// `ftruncate`, `mmap`), open (`shm_open`, `fstat`, `mmap`), read, unmap, close, unlink.
pub fn shm_cycle(name: &str) {
    let path = std::ffi::CString::new(format!("/{name}")).unwrap();
    let len = 64usize;
    // SAFETY: a valid name; the descriptor is closed below.
    let fd = unsafe {
        libc::shm_open(
            path.as_ptr(),
            libc::O_CREAT | libc::O_EXCL | libc::O_RDWR,
            0o600,
        )
    };
    assert!(fd >= 0);
    // SAFETY: an open descriptor.
    unsafe { libc::ftruncate(fd, len as libc::off_t) };
    // SAFETY: a new shared mapping of the file, unmapped below.
    let a = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd,
            0,
        )
    };
    let word_a = a.cast::<u64>().wrapping_add(3);
    // SAFETY: the mapping is live and 64 bytes long; word 3 is inside it.
    unsafe { word_a.write_volatile(7) };
    // SAFETY: a valid name.
    let fd2 = unsafe { libc::shm_open(path.as_ptr(), libc::O_RDWR, 0) };
    // SAFETY: `st` is storage for a stat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: an open descriptor and a valid struct.
    unsafe { libc::fstat(fd2, &mut st) };
    // SAFETY: as above.
    let b = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            st.st_size as usize,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd2,
            0,
        )
    };
    let word_b = b.cast::<u64>().wrapping_add(3);
    // SAFETY: the second mapping is live and as long as the first; word 3 is inside it.
    assert_eq!(unsafe { word_b.read_volatile() }, 7);
    // SAFETY: both mappings and descriptors are ours, released once.
    unsafe {
        libc::munmap(b, len);
    }
    // SAFETY: as above.
    unsafe { libc::close(fd2) };
    // SAFETY: as above.
    unsafe { libc::munmap(a, len) };
    // SAFETY: as above.
    unsafe { libc::close(fd) };
    // SAFETY: a valid name.
    unsafe { libc::shm_unlink(path.as_ptr()) };
}

pub fn shm(cycles: usize) -> f64 {
    let name = format!("sharedctypes-bench-floor-{}", std::process::id());
    ns_per_op(cycles, || {
        for _ in 0..cycles {
            shm_cycle(&name);
        }
    })
}

/// `std::process::Command::new("true")` spawned and waited for.
pub fn command(runs: usize) -> f64 {
    ns_per_op(runs, || {
        for _ in 0..runs {
            let status = Command::new("true").status().unwrap();
            assert!(status.success());
        }
    })
}
