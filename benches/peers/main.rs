//! `cargo bench --bench peers`: sharedctypes beside the hand-written floor of each thing it
//! does, in one run (the machine's load is printed with the results): waiting between two
//! processes (a spin-then-sleep futex, a pipe pair), the locked increment (a bare robust
//! pthread mutex), the semaphore (POSIX `sem_t`), the barrier (`pthread_barrier_t`), opening
//! by name (`shm_open` + `mmap`, as the `shared_memory` crate does), and starting a program
//! (`std::process::Command`). Prints a Markdown table; `--quick` runs fewer iterations.
//!
//! The comparison with CPython is `cargo bench --bench vs_cpython`.

mod floors;
mod ours;

use std::time::Instant;

/// Median of `samples`.
fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Nanoseconds per operation of `run` (which does `ops` operations), median of 5 runs after
/// a warm-up.
fn ns_per_op(ops: usize, mut run: impl FnMut()) -> f64 {
    run();
    median(
        (0..5)
            .map(|_| {
                let t = Instant::now();
                run();
                t.elapsed().as_nanos() as f64 / ops as f64
            })
            .collect(),
    )
}

/// Ours and the floor's figures, measured alternately three times each (so that a change in
/// the machine's load between them touches both): the median of each.
fn paired(mut ours: impl FnMut() -> f64, mut floor: impl FnMut() -> f64) -> (f64, f64) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        a.push(ours());
        b.push(floor());
    }
    (median(a), median(b))
}

/// Processes that only spin, one per CPU, for as long as this lives: a busy machine.
struct Load(Vec<std::process::Child>);

impl Load {
    fn start(cpus: usize) -> Load {
        let exe = std::env::current_exe().expect("the bench's own path");
        Load(
            (0..cpus)
                .map(|_| {
                    std::process::Command::new(&exe)
                        .env("PEERS_SPIN", std::process::id().to_string())
                        .spawn()
                        .expect("a load process")
                })
                .collect(),
        )
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One row: what, ours, the floor, the target ratio.
struct Row {
    what: &'static str,
    unit: &'static str,
    ours: f64,
    floor_name: &'static str,
    floor: f64,
    target: f64,
}

impl Row {
    fn new(
        what: &'static str,
        unit: &'static str,
        ours: f64,
        floor_name: &'static str,
        floor: f64,
        target: f64,
    ) -> Row {
        Row {
            what,
            unit,
            ours,
            floor_name,
            floor,
            target,
        }
    }
}

fn main() {
    if let Some(parent) = std::env::var_os("PEERS_SPIN") {
        // A load process (see `Load`): spins until killed, or until the bench that started it
        // is gone (killed itself).
        let parent = parent.to_str().and_then(|p| p.parse::<u32>().ok());
        while parent == Some(std::os::unix::process::parent_id()) {
            for _ in 0..1_000_000 {
                std::hint::spin_loop();
            }
        }
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let n = |base: usize| if quick { (base / 10).max(1) } else { base };
    if let Some(role) = std::env::var_os("PEERS_SYSCALLS") {
        // Run under strace by `syscalls()`: one workload, nothing else.
        let name = format!("peers-sys-{}", std::process::id());
        match role.to_str() {
            Some("ours") => (0..SYSCALL_CYCLES).for_each(|_| ours::named_cycle(&name)),
            Some("floor") => (0..SYSCALL_CYCLES).for_each(|_| floors::shm_cycle(&name)),
            _ => {}
        }
        return;
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    eprintln!("running (load average {}, {cpus} CPUs)", load.trim());

    // `cargo bench --bench peers -- <word>`: only the sections whose key contains the word
    // (ping-pong, busy, lock, semaphore, barrier, named, command).
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_default();
    let want = |key: &str| key.contains(filter.as_str());
    let rounds = n(20_000);
    let mut rows = Vec::new();
    let futex = || floors::futex_ping_pong(rounds);
    let pipe = || floors::pipe_ping_pong(rounds);
    if want("ping-pong") {
        let (cond, cond_floor) = paired(|| ours::condition_ping_pong(rounds), futex);
        let (event, event_floor) = paired(|| ours::event_ping_pong(rounds), futex);
        let (_, pipe_quiet) = paired(|| 0.0, pipe);
        for (what, ours, floor) in [
            ("2-process ping-pong: Condition", cond, cond_floor),
            ("2-process ping-pong: a pair of Events", event, event_floor),
        ] {
            rows.push(Row::new(
                what,
                "ns/round trip",
                ours,
                "spin-then-sleep futex",
                floor,
                1.5,
            ));
            rows.push(Row::new(
                what,
                "ns/round trip",
                ours,
                "pipe pair",
                pipe_quiet,
                1.0,
            ));
        }
    }
    if want("busy") {
        // The same on a busy machine: one spinning process per CPU beside the two.
        let _load = Load::start(cpus);
        let busy = rounds / 4;
        let pipe = || floors::pipe_ping_pong(busy);
        let (cond, pipe_c) = paired(|| ours::condition_ping_pong(busy), pipe);
        let (event, pipe_e) = paired(|| ours::event_ping_pong(busy), pipe);
        rows.push(Row::new(
            "busy machine: ping-pong, Condition",
            "ns/round trip",
            cond,
            "pipe pair",
            pipe_c,
            1.0,
        ));
        rows.push(Row::new(
            "busy machine: ping-pong, a pair of Events",
            "ns/round trip",
            event,
            "pipe pair",
            pipe_e,
            1.0,
        ));
    }
    for (procs, own) in [(1, false), (2, false), (2, true)] {
        if !want("lock") {
            break;
        }
        let ops = n(2_000_000);
        let (ours, floor) = paired(
            || ours::locked_increment(procs, ops, own),
            || floors::mutex_increment(procs, ops, own),
        );
        let what = match (procs, own) {
            (1, _) => "locked increment, 1 process",
            (_, false) => "locked increment, 2 processes",
            (_, true) => "locked increment, 2 processes, a Value each (made one after the other)",
        };
        rows.push(Row::new(
            what,
            "ns/op",
            ours,
            "bare robust pthread mutex",
            floor,
            1.10,
        ));
    }
    if want("semaphore") {
        let ops = n(5_000_000);
        let (sem, sem_floor) = paired(|| ours::semaphore(ops), || floors::sem_t(ops));
        rows.push(Row::new(
            "Semaphore acquire+release, uncontended",
            "ns/op",
            sem,
            "POSIX sem_t (process-shared)",
            sem_floor,
            1.05,
        ));
    }
    if want("barrier") {
        let (bar, bar_floor) = paired(
            || ours::barrier(n(20_000)),
            || floors::pthread_barrier(n(20_000)),
        );
        rows.push(Row::new(
            "Barrier, 2 processes",
            "ns/round",
            bar,
            "pthread_barrier_t (process-shared)",
            bar_floor,
            1.0,
        ));
    }
    if want("named") {
        let (named, named_floor) = paired(|| ours::named(n(2_000)), || floors::shm(n(2_000)));
        rows.push(Row::new(
            "create + open + read + close by name",
            "ns/cycle",
            named,
            "shm_open + ftruncate + mmap",
            named_floor,
            1.0,
        ));
        if let Some((mine, theirs)) = syscalls() {
            rows.push(Row::new(
                "  system calls of that cycle",
                "calls",
                mine,
                "shm_open + ftruncate + mmap",
                theirs,
                1.0,
            ));
        }
    }
    if want("command") {
        for (share, what) in [
            (false, "start and join a program (`true`)"),
            (
                true,
                "start and join a program (`true`) handed one shared value",
            ),
        ] {
            let (cmd, cmd_floor) =
                paired(|| ours::command(n(200), share), || floors::command(n(200)));
            rows.push(Row::new(
                what,
                "µs",
                cmd / 1000.0,
                "std::process::Command",
                cmd_floor / 1000.0,
                1.05,
            ));
        }
    }

    println!("load average: {}; {cpus} CPUs", load.trim());
    println!();
    println!("| workload | unit | sharedctypes | floor | floor's figure | ratio | target |");
    println!("|---|---|---:|---|---:|---:|---|");
    for r in &rows {
        let ratio = r.ours / r.floor;
        println!(
            "| {} | {} | {:.1} | {} | {:.1} | {:.2}x | ≤ {:.2}x {} |",
            r.what,
            r.unit,
            r.ours,
            r.floor_name,
            r.floor,
            ratio,
            r.target,
            if ratio <= r.target {
                "met"
            } else {
                "**missed**"
            }
        );
    }
}

/// How many cycles `syscalls()` counts (their mean is reported, so that what a process does
/// once — reading its page size, seeding its random names — is not charged to one cycle).
const SYSCALL_CYCLES: usize = 10;

/// The system calls of one create + open + read + close cycle, ours and the floor's, counted
/// by `strace -f -c` (if it is installed): this binary again, with `PEERS_SYSCALLS` naming
/// the workload, the mean of [`SYSCALL_CYCLES`] cycles.
fn syscalls() -> Option<(f64, f64)> {
    let count = |role: &str| -> Option<f64> {
        let exe = std::env::current_exe().ok()?;
        let out = std::process::Command::new("strace")
            .args(["-f", "-c", "-o", "/dev/stdout", "-e", "trace=!exit_group"])
            .arg(&exe)
            .env("PEERS_SYSCALLS", role)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        // The "total" line of strace's summary counts every call of the process, start-up
        // included: the same start-up for both roles, subtracted below.
        let total = text
            .lines()
            .find(|l| l.trim_end().ends_with("total"))?
            .split_whitespace()
            .nth(3)?
            .parse::<f64>()
            .ok()?;
        Some(total)
    };
    let base = count("none")?;
    let per_cycle = |total: f64| (total - base) / SYSCALL_CYCLES as f64;
    Some((per_cycle(count("ours")?), per_cycle(count("floor")?)))
}
