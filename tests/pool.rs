//! Pool: map in input order with exact values, chunking, the unordered form, shared
//! arguments, closures refused, and workers that die (by their own item, by a panic, or
//! killed from outside) failing only their item while the pool goes on.

use std::time::Duration;

use sharedctypes::{Error, Pool, RawArray, SharedLayout};

fn square(x: u64) -> u64 {
    x * x
}

#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct Stats {
    sum: f64,
    count: u32,
    max: u32,
}

fn stats(row: [u32; 4]) -> Stats {
    Stats {
        sum: row.iter().map(|&x| f64::from(x)).sum(),
        count: 4,
        max: *row.iter().max().unwrap_or(&0),
    }
}

/// Three bytes of padding after `tag`: copied field by field, not as bytes.
#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct Tagged {
    tag: u8,
    value: u32,
}

fn tagged(x: Tagged) -> Tagged {
    Tagged {
        tag: x.tag.wrapping_add(1),
        value: x.value * 3,
    }
}

#[test]
fn map_returns_every_result_in_input_order() {
    let pool = Pool::new(3).unwrap();
    let xs: Vec<u64> = (0..100_000).collect();
    let squares = pool.map(square, &xs).unwrap();
    assert_eq!(squares.len(), 100_000);
    assert!(
        squares
            .iter()
            .enumerate()
            .all(|(i, &s)| s == (i * i) as u64)
    );
    let rows: Vec<[u32; 4]> = (0..1000).map(|i| [i, i + 1, i + 2, 7]).collect();
    let out = pool.map(stats, &rows).unwrap();
    assert_eq!(
        out[10],
        Stats {
            sum: 40.0,
            count: 4,
            max: 12
        }
    );
    assert_eq!(
        out[2],
        Stats {
            sum: 16.0,
            count: 4,
            max: 7
        }
    );
    let items: Vec<Tagged> = (0..5000)
        .map(|i| Tagged {
            tag: i as u8,
            value: i,
        })
        .collect();
    let out = pool.map(tagged, &items).unwrap();
    assert_eq!(out.len(), 5000);
    assert!(out.iter().zip(0u32..).all(|(t, i)| *t
        == Tagged {
            tag: (i as u8).wrapping_add(1),
            value: i * 3
        }));
    assert_eq!(pool.map(square, &[]).unwrap(), Vec::<u64>::new());
    assert_eq!(pool.replaced(), 0);
}

#[test]
fn any_chunk_size_gives_the_same_results() {
    let pool = Pool::new(2).unwrap();
    let xs: Vec<u64> = (0..1001).collect();
    let want: Vec<u64> = xs.iter().map(|&x| x * x).collect();
    for chunk in [1, 7, 500, 1001, 5000] {
        assert_eq!(
            pool.map_chunked(square, &xs, chunk).unwrap(),
            want,
            "chunk {chunk}"
        );
    }
}

#[test]
fn the_unordered_form_yields_every_index_once() {
    let pool = Pool::new(2).unwrap();
    let xs: Vec<u64> = (0..10_000).collect();
    let mut seen = vec![0u8; xs.len()];
    for r in pool.map_unordered(square, &xs).unwrap() {
        let (i, v) = r.unwrap();
        assert_eq!(v, (i * i) as u64);
        seen[i] += 1;
    }
    assert!(seen.iter().all(|&n| n == 1));
}

fn row_sum(data: &RawArray<f64>, width: &usize, row: usize) -> f64 {
    (0..*width)
        .map(|c| data.get(row * width + c).unwrap())
        .sum()
}

#[test]
fn map_with_passes_shared_objects_to_its_workers() {
    // The Python original: Pool(initializer=…, initargs=(shared RawArray('d'),)) summing rows.
    let (rows, width) = (200, 50);
    let data = RawArray::<f64>::zeroed(rows * width).unwrap();
    for i in 0..rows * width {
        data.set(i, i as f64).unwrap();
    }
    let pool = Pool::new(2).unwrap();
    let sums = pool
        .map_with(row_sum, (&data, &width), &(0..rows).collect::<Vec<_>>())
        .unwrap();
    for (r, &s) in sums.iter().enumerate() {
        let first = (r * width) as f64;
        assert_eq!(
            s,
            first * width as f64 + (width * (width - 1) / 2) as f64,
            "row {r}"
        );
    }
    // The pool's own workers are untouched and still work.
    assert_eq!(pool.map(square, &[3]).unwrap(), [9]);
}

#[test]
fn a_closure_is_refused() {
    let pool = Pool::new(1).unwrap();
    let err = pool.map(|x: u64| x + 1, &[1]).unwrap_err();
    assert!(
        matches!(&err, Error::SpawnFailed { reason, .. } if reason.contains("is a closure")),
        "{err}"
    );
}

#[test]
fn items_too_big_for_the_queues_are_refused() {
    fn first(x: [u8; 2 << 20]) -> u8 {
        x[0]
    }
    let pool = Pool::new(1).unwrap();
    // The size is checked before any item is read: no 2 MiB item is built on the stack.
    let none: &[[u8; 2 << 20]] = &[];
    let err = pool.map(first, none).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument { reason } if reason.contains("2097152 bytes")),
        "{err}"
    );
}

fn kill_self_on_13(x: u32) -> u32 {
    if x == 13 {
        // SAFETY: raising a signal in this process.
        unsafe { libc::raise(libc::SIGKILL) };
    }
    x + 1
}

fn panic_on_5(x: u32) -> u32 {
    assert!(x != 5, "five is right out");
    x * 10
}

#[test]
fn a_worker_that_dies_fails_only_its_item_and_is_replaced() {
    let pool = Pool::new(2).unwrap();
    let before = pool.pids();
    let xs: Vec<u32> = (0..100).collect();
    match pool.map_chunked(kill_self_on_13, &xs, 10) {
        Err(Error::WorkerDied {
            item,
            exitcode,
            pid,
        }) => {
            assert_eq!((item, exitcode), (13, -libc::SIGKILL));
            assert!(before.contains(&pid), "{pid} not in {before:?}");
        }
        other => panic!("expected WorkerDied, got {other:?}"),
    }
    assert_eq!(pool.replaced(), 1);
    assert_ne!(pool.pids(), before);
    // Every other item ran, exactly once.
    let mut seen = vec![0; xs.len()];
    for r in pool.map_unordered(kill_self_on_13, &xs).unwrap() {
        match r {
            Ok((i, v)) => {
                assert_eq!(v, i as u32 + 1);
                seen[i] += 1;
            }
            Err(Error::WorkerDied { item: 13, .. }) => seen[13] += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(seen.iter().all(|&n| n == 1), "{seen:?}");
    assert_eq!(pool.replaced(), 2);
    // A panic kills its worker too: exit code 1.
    match pool.map(panic_on_5, &xs) {
        Err(Error::WorkerDied {
            item: 5,
            exitcode: 1,
            ..
        }) => {}
        other => panic!("expected WorkerDied for item 5, got {other:?}"),
    }
    assert_eq!(pool.map(panic_on_5, &[1, 2]).unwrap(), [10, 20]);
}

fn slow_identity(x: u32) -> u32 {
    std::thread::sleep(Duration::from_micros(200));
    x
}

#[test]
fn workers_killed_from_outside_lose_at_most_their_item() {
    let pool = Pool::new(3).unwrap();
    let xs: Vec<u32> = (0..3000).collect();
    for round in 0..4 {
        let victim = pool.pids()[round % 3];
        let mut seen = vec![0u8; xs.len()];
        let mut failed = 0;
        std::thread::scope(|s| {
            s.spawn(move || {
                std::thread::sleep(Duration::from_millis(30 + 20 * round as u64));
                // SAFETY: a signal to one of this process's children.
                unsafe { libc::kill(victim, libc::SIGKILL) };
            });
            for r in pool.map_unordered(slow_identity, &xs).unwrap() {
                match r {
                    Ok((i, v)) => {
                        assert_eq!(v, i as u32);
                        seen[i] += 1;
                    }
                    Err(Error::WorkerDied {
                        item,
                        pid,
                        exitcode,
                    }) => {
                        assert_eq!((pid, exitcode), (victim, -libc::SIGKILL));
                        seen[item] += 1;
                        failed += 1;
                    }
                    Err(e) => panic!("round {round}: {e}"),
                }
            }
        });
        assert!(
            seen.iter().all(|&n| n == 1),
            "round {round}: an item missing or repeated"
        );
        assert!(failed <= 1, "round {round}: {failed} items failed");
    }
    assert_eq!(pool.replaced(), 4);
}

#[test]
fn dropping_the_pool_ends_its_workers() {
    let pool = Pool::new(2).unwrap();
    let pids = pool.pids();
    assert_eq!(pool.map(square, &[2, 3]).unwrap(), [4, 9]);
    drop(pool);
    for pid in pids {
        // SAFETY: signal 0 only checks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        assert!(!alive, "worker {pid} outlived its pool");
    }
}

/// In a spawned child: starts a pool, reports its workers' ids, and vanishes without
/// dropping it (as a killed or aborted program would).
fn start_a_pool_and_vanish(pids: RawArray<i32>) {
    let pool = Pool::new(2).unwrap();
    assert_eq!(pool.map(square, &[3]).unwrap(), [9]);
    for (i, pid) in pool.pids().into_iter().enumerate() {
        pids.set(i, pid).unwrap();
    }
    // SAFETY: `_exit` ends this process at once; nothing runs after it, so no `Drop`.
    unsafe { libc::_exit(0) }
}

/// Whether `pid` is gone: no such process, or a zombie nobody reaped yet.
fn gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
    }
}

#[test]
fn workers_end_when_their_pools_process_dies_without_dropping_it() {
    let pids = RawArray::<i32>::zeroed(2).unwrap();
    let child = sharedctypes::Process::spawn(start_a_pool_and_vanish, (&pids,)).unwrap();
    assert_eq!(child.join().unwrap(), 0);
    let pids = [pids.get(0).unwrap(), pids.get(1).unwrap()];
    assert!(pids.iter().all(|&p| p > 0), "{pids:?}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !pids.iter().all(|&p| gone(p)) {
        assert!(
            std::time::Instant::now() < deadline,
            "orphaned workers {pids:?} still run"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
