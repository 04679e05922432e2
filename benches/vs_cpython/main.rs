//! `cargo bench --bench vs_cpython`: every workload in Rust and, in the same run, in CPython
//! (`multiprocessing.sharedctypes`, start method "fork"), with the ratios and the targets of
//! issue 4. Each section runs on the CPython side, then on the Rust side; the queue and pool
//! sections run [`ROUNDS`] such rounds and report the medians (each round's figures go to
//! stderr). Prints a Markdown table and writes `target/vs_cpython.csv` and
//! `target/vs_cpython.svg`.
//!
//! Options (after `--`): `--quick` runs fewer iterations (for CI smoke runs); a word runs
//! only the sections whose name contains it, on both sides (`spawn`, `lock`, `alloc`,
//! `copy`, `sync`, `queue`, `pool`: `cargo bench --bench vs_cpython -- queue`);
//! `SHAREDCTYPES_PYTHON=/path/to/python3` chooses the interpreter (default: the newest
//! `python3.1x` found, then `python3`).

mod cpython_side;
mod queues;
mod report;
mod shm;
mod workloads;

use std::cell::RefCell;
use std::path::Path;

use cpython_side::CPython;
use report::Row;

/// The sections of the bench, in the order they run (both sides).
const SECTIONS: [&str; 7] = ["spawn", "lock", "alloc", "copy", "sync", "queue", "pool"];

/// Rounds of the sections whose rows are ratios to CPython's `Queue` and `Pool`, whose
/// figures swing the most between minutes: each round is the CPython side then the Rust side,
/// and each row is the median of its rounds.
const ROUNDS: usize = 3;

fn main() -> sharedctypes::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 0.1 } else { 1.0 };
    let n = |base: usize| ((base as f64 * scale) as usize).max(1);
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_default();
    let sections: Vec<&str> = SECTIONS
        .into_iter()
        .filter(|s| s.contains(filter.as_str()))
        .collect();
    if sections.is_empty() {
        eprintln!("no section's name contains {filter:?}: the sections are {SECTIONS:?}");
        std::process::exit(2);
    }
    let want = |section: &str| sections.contains(&section);

    let shm_block = shm::block()?; // for CPython + numpy to attach to, by name
    let cpython = RefCell::new(CPython::new(
        cpython_side::python(),
        scale,
        shm_block.name(),
    ));
    let py = cpython.borrow().python().map(Path::to_path_buf);
    match &py {
        Some(p) => eprintln!(
            "each section: the CPython side with {}, then the Rust side",
            p.display()
        ),
        None => eprintln!("python3 not found: measuring the Rust side only"),
    }
    // One round of a section on the CPython side, just before its Rust side.
    let cpython_round = |section: &str| cpython.borrow_mut().run(section);
    let cp = |key: &str| cpython.borrow().get(key);
    let faster = |rust: f64, key: &str| cp(key).map(|c| c / rust);
    let target = |text: String, met: bool| Some((text, met));
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let mut rows = Vec::new();

    eprintln!("sections: {}", sections.join(", "));
    if want("spawn") {
        cpython_round("spawn");
        // First, while the process is small: fork copies the page tables of all its memory.
        let fork = workloads::fork_modify_join(n(200))?;
        let spawn = workloads::spawn_modify_join(n(500))?;
        rows.extend([
            Row {
                workload: "fork + child modifies + join",
                unit: "ns/op",
                rust: fork,
                cpython: cp("fork_modify_join"),
                ratio: faster(fork, "fork_modify_join"),
                target: None,
            },
            Row {
                workload: "spawn + child modifies + join, vs CPython spawn",
                unit: "ns/op",
                rust: spawn,
                cpython: cp("spawn_modify_join"),
                ratio: faster(spawn, "spawn_modify_join"),
                target: target("<= 1 ms".into(), spawn <= 1e6),
            },
            Row {
                workload: "spawn + child modifies + join, vs CPython forkserver",
                unit: "ns/op",
                rust: spawn,
                cpython: cp("forkserver_modify_join"),
                ratio: faster(spawn, "forkserver_modify_join"),
                target: faster(spawn, "forkserver_modify_join")
                    .map(|r| (">= 10x CPython forkserver".to_string(), r >= 10.0)),
            },
        ]);
    }
    if want("lock") {
        cpython_round("lock");
        // Alternately, as the queue and its ring below: the ratio is the row's target.
        let (locked, bare) = queues::paired(
            || workloads::locked_increment(n(2_000_000)),
            || workloads::bare_mutex(n(2_000_000)),
        )?;
        let guarded = workloads::guard_increment(n(2_000_000))?;
        let get_set = workloads::get_then_set(n(2_000_000))?;
        let raw = workloads::raw_increment(n(5_000_000))?;
        let atomic = workloads::atomic_increment(n(5_000_000))?;
        let contended = workloads::contended_2proc(n(1_000_000))?;
        rows.extend([
            Row {
                workload: "locked increment (`v.update(|x| x + 1)`)",
                unit: "ns/op",
                rust: locked,
                cpython: cp("locked_increment"),
                ratio: faster(locked, "locked_increment"),
                target: faster(locked, "locked_increment")
                    .map(|r| (">= 18x CPython".to_string(), r >= 18.0)),
            },
            Row {
                workload: "locked increment vs bare robust pshared mutex",
                unit: "ns/op",
                rust: locked,
                cpython: None,
                ratio: None,
                target: target(
                    format!("<= 1.5x bare mutex ({:.1} ns): {:.2}x", bare, locked / bare),
                    locked <= 1.5 * bare,
                ),
            },
            Row {
                workload: "guard increment (`let g = v.lock()?; g.set(g.get() + 1)`)",
                unit: "ns/op",
                rust: guarded,
                cpython: cp("locked_increment"),
                ratio: faster(guarded, "locked_increment"),
                target: None,
            },
            Row {
                workload: "bare robust pshared pthread mutex lock+unlock",
                unit: "ns/op",
                rust: bare,
                cpython: None,
                ratio: None,
                target: None,
            },
            Row {
                workload: "get then set (`v.value = v.value + 1`)",
                unit: "ns/op",
                rust: get_set,
                cpython: cp("get_then_set"),
                ratio: faster(get_set, "get_then_set"),
                target: faster(get_set, "get_then_set")
                    .map(|r| (">= 6x CPython".to_string(), r >= 6.0)),
            },
            Row {
                workload: "raw increment (RawValue)",
                unit: "ns/op",
                rust: raw,
                cpython: cp("raw_increment"),
                ratio: faster(raw, "raw_increment"),
                target: None,
            },
            Row {
                workload: "lock-free fetch_add (RawValue::as_atomic)",
                unit: "ns/op",
                rust: atomic,
                cpython: cp("locked_increment"),
                ratio: faster(atomic, "locked_increment"),
                target: None,
            },
            Row {
                workload: "2 processes, locked increments on one Value",
                unit: "ns/op",
                rust: contended,
                cpython: cp("contended_2proc"),
                ratio: faster(contended, "contended_2proc"),
                target: faster(contended, "contended_2proc")
                    .map(|r| (">= 7x CPython".to_string(), r >= 7.0)),
            },
        ]);
    }
    if want("alloc") {
        cpython_round("alloc");
        let alloc_r = workloads::alloc_raw_values(n(100_000))?;
        let alloc_v = workloads::alloc_values(n(100_000))?;
        let million = workloads::million_values_shared_bytes()?;
        rows.extend([
            Row {
                workload: "allocate a locked Value<i64> (100k)",
                unit: "ns/op",
                rust: alloc_v.ns_per_object,
                cpython: cp("alloc_value"),
                ratio: faster(alloc_v.ns_per_object, "alloc_value"),
                target: faster(alloc_v.ns_per_object, "alloc_value")
                    .map(|r| (">= 100x CPython".to_string(), r >= 100.0)),
            },
            Row {
                workload: "shared memory of 100k locked Value<i64> (pages allocated)",
                unit: "MiB",
                rust: mib(alloc_v.shared_bytes),
                cpython: cp("alloc_value_shared_bytes").map(|b| b / (1024.0 * 1024.0)),
                ratio: cp("alloc_value_shared_bytes").map(|b| b / alloc_v.shared_bytes as f64),
                target: None,
            },
            Row {
                workload: "shared memory of 1,000,000 locked Value<i64> (pages allocated)",
                unit: "MiB",
                rust: mib(million.0),
                cpython: None,
                ratio: None,
                target: target("<= 64 MiB".into(), mib(million.0) <= 64.0),
            },
            Row {
                workload: "address space of 1,000,000 locked Value<i64> (mapped)",
                unit: "MiB",
                rust: mib(million.1),
                cpython: None,
                ratio: None,
                target: target("<= 64 MiB".into(), mib(million.1) <= 64.0),
            },
            Row {
                workload: "allocate a RawValue<i64> (100k)",
                unit: "ns/op",
                rust: alloc_r.ns_per_object,
                cpython: cp("alloc_raw_value"),
                ratio: faster(alloc_r.ns_per_object, "alloc_raw_value"),
                target: None,
            },
            Row {
                workload: "shared memory of 100k RawValue<i64> (pages allocated)",
                unit: "MiB",
                rust: mib(alloc_r.shared_bytes),
                cpython: cp("alloc_raw_value_shared_bytes").map(|b| b / (1024.0 * 1024.0)),
                ratio: cp("alloc_raw_value_shared_bytes").map(|b| b / alloc_r.shared_bytes as f64),
                target: None,
            },
        ]);
    }
    if want("copy") {
        cpython_round("copy");
        let copy = workloads::array_copy(1_000_000)?;
        rows.extend([
            Row {
                workload: "arr[:] of 1M f64 (`Array::to_vec`)",
                unit: "GB/s",
                rust: copy.to_vec,
                cpython: cp("array_copy"),
                ratio: cp("array_copy").map(|c| copy.to_vec / c),
                target: target(">= 5 GB/s".into(), copy.to_vec >= 5.0),
            },
            Row {
                workload: "1M f64 into a buffer (`copy_to_slice`) vs memcpy",
                unit: "GB/s",
                rust: copy.into_buffer,
                cpython: None,
                ratio: None,
                target: target(
                    format!(
                        ">= 50% of memcpy ({:.1} GB/s): {:.0}%",
                        copy.memcpy,
                        100.0 * copy.into_buffer / copy.memcpy
                    ),
                    copy.into_buffer >= 0.5 * copy.memcpy,
                ),
            },
        ]);
        rows.push(shm::row(&cpython.borrow(), copy.memcpy));
    }
    if want("sync") {
        cpython_round("sync");
        let ping_pong = workloads::condition_ping_pong(n(20_000))?;
        let event = workloads::event_set_is_set(n(5_000_000))?;
        let semaphore = workloads::semaphore_acquire_release(n(5_000_000))?;
        let (store_load, cas_add) = workloads::bare_atomics(n(5_000_000))?;
        rows.extend([
            Row {
                workload: "Condition ping-pong between 2 processes (round trip)",
                unit: "ns/op",
                rust: ping_pong,
                cpython: cp("condition_ping_pong"),
                ratio: faster(ping_pong, "condition_ping_pong"),
                target: faster(ping_pong, "condition_ping_pong")
                    .map(|r| (">= 10x CPython".to_string(), r >= 10.0)),
            },
            Row {
                workload: "Event set + is_set",
                unit: "ns/op",
                rust: event,
                cpython: cp("event_set_is_set"),
                ratio: faster(event, "event_set_is_set"),
                target: target(
                    format!(
                        "<= 2x atomic store + load ({:.2} ns): {:.2}x",
                        store_load,
                        event / store_load
                    ),
                    event <= 2.0 * store_load,
                ),
            },
            Row {
                workload: "uncontended Semaphore acquire + release",
                unit: "ns/op",
                rust: semaphore,
                cpython: cp("semaphore_acquire_release"),
                ratio: faster(semaphore, "semaphore_acquire_release"),
                target: target(
                    format!(
                        "<= 2x atomic CAS + add ({:.2} ns): {:.2}x",
                        cas_add,
                        semaphore / cas_add
                    ),
                    semaphore <= 2.0 * cas_add,
                ),
            },
        ]);
    }
    if want("queue") {
        // Rounds of: CPython's queues, this queue, the hand-written ring, this queue 4 -> 4.
        // The queue and the ring alternate so that a change in the machine's speed between
        // them (this VM's CPUs have fast and slow phases) touches both, and CPython's side
        // comes in the same minutes as ours.
        let (mut q_1p1c, mut ring, mut q_4p4c) = (Vec::new(), Vec::new(), Vec::new());
        let mut batched = Vec::new();
        for _ in 0..ROUNDS {
            cpython_round("queue");
            q_1p1c.push(queues::queue_1p1c(n(1_000_000) as u64)?);
            ring.push(queues::spsc_ring_1p1c(n(1_000_000) as u64)?);
            batched.push(queues::queue_1p1c_batched(n(1_000_000) as u64, 64)?);
            q_4p4c.push(queues::queue_4p4c(n(1_000_000) as u64)?);
        }
        eprintln!(
            "queue rounds (ns/op): 1 -> 1 {q_1p1c:.1?} (CPython {:.0?}), ring {ring:.1?}, batches of 64 {batched:.1?}, 4 -> 4 {q_4p4c:.1?} (CPython {:.0?})",
            cpython.borrow().rounds("queue_1p1c"),
            cpython.borrow().rounds("queue_4p4c"),
        );
        let (q_1p1c, ring, q_4p4c, batched) = (
            queues::median(q_1p1c),
            queues::median(ring),
            queues::median(q_4p4c),
            queues::median(batched),
        );
        let put_get = queues::put_get_uncontended(n(2_000_000) as u64)?;
        let (to_python, to_python_batch) = match &py {
            Some(p) => (
                queues::rust_to_python(p, n(200_000) as u64, false)?,
                queues::rust_to_python(p, n(1_000_000) as u64, true)?,
            ),
            None => (None, None),
        };
        rows.extend([
            Row {
                workload: "Queue, 1 producer -> 1 consumer process, 64-byte records",
                unit: "ns/op",
                rust: q_1p1c,
                cpython: cp("queue_1p1c"),
                ratio: faster(q_1p1c, "queue_1p1c"),
                target: faster(q_1p1c, "queue_1p1c")
                    .map(|r| (">= 100x CPython Queue".to_string(), r >= 100.0)),
            },
            Row {
                workload: "Queue 1 -> 1 vs a hand-written SPSC ring (spinning)",
                unit: "ns/op",
                rust: q_1p1c,
                cpython: None,
                ratio: None,
                target: target(
                    format!("<= 2x the ring ({ring:.1} ns): {:.2}x", q_1p1c / ring),
                    q_1p1c <= 2.0 * ring,
                ),
            },
            Row {
                workload: "Queue 1 -> 1 in batches of 64 (put_many / get_many), vs CPython's Queue and the SPSC ring one record at a time",
                unit: "ns/op",
                rust: batched,
                cpython: cp("queue_1p1c"),
                ratio: faster(batched, "queue_1p1c"),
                target: target(
                    format!("<= 2x the ring ({ring:.1} ns): {:.2}x", batched / ring),
                    batched <= 2.0 * ring,
                ),
            },
            Row {
                workload: "Queue, 4 producers -> 4 consumers, 64-byte records",
                unit: "ns/op",
                rust: q_4p4c,
                cpython: cp("queue_4p4c"),
                ratio: faster(q_4p4c, "queue_4p4c"),
                target: faster(q_4p4c, "queue_4p4c")
                    .map(|r| (">= 50x CPython Queue".to_string(), r >= 50.0)),
            },
            Row {
                workload: "Queue put + get, one process, uncontended",
                unit: "ns/op",
                rust: put_get,
                cpython: None,
                ratio: None,
                target: target("<= 50 ns".into(), put_get <= 50.0),
            },
        ]);
        if let Some(py_get) = to_python {
            rows.push(Row {
                workload: "Rust -> Python Queue, 64-byte records, one get() each, vs CPython Queue",
                unit: "ns/op",
                rust: py_get,
                cpython: cp("queue_1p1c"),
                ratio: faster(py_get, "queue_1p1c"),
                target: None,
            });
        }
        if let Some(py_batch) = to_python_batch {
            rows.push(Row {
                workload: "Rust -> Python Queue, 64-byte records, get_array(1024), vs CPython Queue",
                unit: "ns/op",
                rust: py_batch,
                cpython: cp("queue_1p1c"),
                ratio: faster(py_batch, "queue_1p1c"),
                target: faster(py_batch, "queue_1p1c")
                    .map(|r| (">= 10x CPython Queue".to_string(), r >= 10.0)),
            });
        }
    }
    if want("pool") {
        let mut pool = Vec::new();
        for _ in 0..ROUNDS {
            cpython_round("pool");
            pool.push(queues::pool_map(n(100_000) as u64, 2)?);
        }
        eprintln!(
            "pool rounds (ns/item): {pool:.1?} (CPython {:.0?})",
            cpython.borrow().rounds("pool_map")
        );
        let pool = queues::median(pool);
        rows.push(Row {
            workload: "Pool(2).map of 100k cheap items (per item)",
            unit: "ns/op",
            rust: pool,
            cpython: cp("pool_map"),
            ratio: faster(pool, "pool_map"),
            target: faster(pool, "pool_map")
                .map(|r| (">= 20x CPython Pool.map".to_string(), r >= 20.0)),
        });
    }
    if let Some(count) = cp("alloc_value_failed_after") {
        rows.push(Row {
            workload: "CPython: locked Values before the map limit",
            unit: "objects",
            rust: 1_000_000.0,
            cpython: Some(count),
            ratio: None,
            target: None,
        });
    }

    drop(shm_block);
    let title = match cpython.borrow().text("python_version") {
        Some(version) => {
            format!("sharedctypes vs CPython {version} multiprocessing.sharedctypes")
        }
        None => "sharedctypes (CPython not found: Rust side only)".to_string(),
    };
    println!("\n{title}\n");
    println!("{}", report::table(&rows));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&dir).ok();
    std::fs::write(dir.join("vs_cpython.csv"), report::csv(&rows)).ok();
    std::fs::write(dir.join("vs_cpython.svg"), report::svg(&rows, &title)).ok();
    println!(
        "wrote {} and {}",
        dir.join("vs_cpython.csv").display(),
        dir.join("vs_cpython.svg").display()
    );
    Ok(())
}
