//! Queue, Pool and the Rust → Python queue, beside their limits: a single-producer
//! single-consumer ring written by hand over shared memory (two atomic counters and the
//! slots, spinning), and CPython's `multiprocessing.Queue` and `Pool` on the CPython side.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering::{Acquire, Release};
use std::time::Instant;

use sharedctypes::{Pool, Process, Queue, RawArray, RawValue, Result, SharedLayout};

/// A 64-byte record: what each workload moves.
#[derive(Clone, Copy, SharedLayout)]
#[repr(C)]
pub struct Rec64 {
    seq: u64,
    payload: [u64; 7],
}

fn rec(seq: u64) -> Rec64 {
    Rec64 {
        seq,
        payload: [seq; 7],
    }
}

const CAPACITY: usize = 1024;
const SAMPLES: usize = 5;

pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// `ours` and `limit` measured alternately three times each (so that a change in the
/// machine's speed between them touches both): the median of each. (The locked increment
/// and the bare mutex; the queue section alternates its rounds itself.)
pub fn paired(
    mut ours: impl FnMut() -> Result<f64>,
    mut limit: impl FnMut() -> Result<f64>,
) -> Result<(f64, f64)> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        a.push(ours()?);
        b.push(limit()?);
    }
    Ok((median(a), median(b)))
}

/// One producer process → one consumer (this process), `n` records: ns per record.
pub fn queue_1p1c(n: u64) -> Result<f64> {
    let mut samples = Vec::new();
    for _ in 0..SAMPLES {
        let q = Queue::<Rec64>::new(CAPACITY)?;
        let t = Instant::now();
        let producer = Process::start(|| -> Result<()> {
            for i in 0..n {
                q.put(rec(i))?;
            }
            Ok(())
        })?;
        for i in 0..n {
            assert_eq!(q.get()?.seq, i);
        }
        assert_eq!(producer.join()?, 0);
        samples.push(t.elapsed().as_nanos() as f64 / n as f64);
    }
    Ok(median(samples))
}

/// [`queue_1p1c`] with the records moved in batches of up to `batch` (`put_many` of
/// `batch` records at a time, `get_many(batch)`): ns per record.
pub fn queue_1p1c_batched(n: u64, batch: usize) -> Result<f64> {
    let mut samples = Vec::new();
    for _ in 0..SAMPLES {
        let q = Queue::<Rec64>::new(CAPACITY)?;
        let t = Instant::now();
        let producer = Process::start(|| -> Result<()> {
            let mut records = Vec::with_capacity(batch);
            let mut next = 0;
            while next < n {
                records.clear();
                records.extend((next..n.min(next + batch as u64)).map(rec));
                let mut sent = 0;
                while sent < records.len() {
                    sent += q.put_many(&records[sent..])?;
                }
                next += records.len() as u64;
            }
            Ok(())
        })?;
        let mut next = 0;
        while next < n {
            for r in q.get_many(batch)? {
                assert_eq!(r.seq, next);
                next += 1;
            }
        }
        assert_eq!(producer.join()?, 0);
        samples.push(t.elapsed().as_nanos() as f64 / n as f64);
    }
    Ok(median(samples))
}

/// The limit: the same through a hand-written SPSC ring (no lock, no sleeping: the producer
/// and the consumer spin, yielding the CPU when the ring is full or empty).
pub fn spsc_ring_1p1c(n: u64) -> Result<f64> {
    let mut samples = Vec::new();
    for _ in 0..SAMPLES {
        let slots = RawArray::<Rec64>::zeroed(CAPACITY)?;
        let (head, tail) = (RawValue::new(0u64)?, RawValue::new(0u64)?);
        let cap = CAPACITY as u64;
        let t = Instant::now();
        let producer = Process::start(|| -> Result<()> {
            for i in 0..n {
                while i - head.as_atomic().load(Acquire) == cap {
                    std::thread::yield_now();
                }
                slots.set((i % cap) as usize, rec(i))?;
                tail.as_atomic().store(i + 1, Release);
            }
            Ok(())
        })?;
        for i in 0..n {
            while tail.as_atomic().load(Acquire) == i {
                std::thread::yield_now();
            }
            assert_eq!(slots.get((i % cap) as usize).map(|r| r.seq), Some(i));
            head.as_atomic().store(i + 1, Release);
        }
        assert_eq!(producer.join()?, 0);
        samples.push(t.elapsed().as_nanos() as f64 / n as f64);
    }
    Ok(median(samples))
}

/// Four producer processes → four consumer processes, `n` records in all: ns per record.
pub fn queue_4p4c(n: u64) -> Result<f64> {
    let mut samples = Vec::new();
    let each = n / 4;
    for _ in 0..SAMPLES {
        let q = Queue::<Rec64>::new(CAPACITY)?;
        let sums = RawArray::<u64>::zeroed(4)?;
        let t = Instant::now();
        let mut children = Vec::new();
        for p in 0..4 {
            let q = &q;
            children.push(Process::start(move || -> Result<()> {
                for i in 0..each {
                    q.put(rec(p * each + i))?;
                }
                Ok(())
            })?);
        }
        for c in 0..4 {
            let (q, sums) = (&q, &sums);
            children.push(Process::start(move || -> Result<()> {
                let mut sum = 0;
                for _ in 0..each {
                    sum += q.get()?.seq;
                }
                sums.set(c, sum)
            })?);
        }
        for child in &children {
            assert_eq!(child.join()?, 0);
        }
        samples.push(t.elapsed().as_nanos() as f64 / (4 * each) as f64);
        let total: u64 = sums.iter().sum();
        assert_eq!(total, (4 * each) * (4 * each - 1) / 2, "every record once");
    }
    Ok(median(samples))
}

/// `put` then `get` in one process, nothing waiting: ns per pair.
pub fn put_get_uncontended(ops: u64) -> Result<f64> {
    let q = Queue::<u64>::new(CAPACITY)?;
    let mut samples = Vec::new();
    for _ in 0..SAMPLES + 2 {
        let t = Instant::now();
        for i in 0..ops {
            q.put(i)?;
            std::hint::black_box(q.get()?);
        }
        samples.push(t.elapsed().as_nanos() as f64 / ops as f64);
    }
    Ok(median(samples))
}

fn square(x: u64) -> u64 {
    x * x
}

/// `Pool::map` of `n` cheap items over `workers` workers started beforehand: ns per item.
pub fn pool_map(n: u64, workers: usize) -> Result<f64> {
    let pool = Pool::new(workers)?;
    let xs: Vec<u64> = (0..n).collect();
    assert_eq!(pool.map(square, &xs[..1000])?.len(), 1000); // warm-up
    let mut samples = Vec::new();
    for _ in 0..SAMPLES {
        let t = Instant::now();
        let out = pool.map(square, &xs)?;
        samples.push(t.elapsed().as_nanos() as f64 / n as f64);
        assert_eq!(out[n as usize - 1], (n - 1) * (n - 1));
    }
    Ok(median(samples))
}

/// A Rust producer → a Python consumer (the `python/` package: `Queue.get` per record, or
/// with `batch` `Queue.get_array(1024)`, every record waiting in one operation) of `n`
/// 64-byte records through a named queue: ns per record as the consumer timed it.
pub fn rust_to_python(python: &std::path::Path, n: u64, batch: bool) -> Result<Option<f64>> {
    let name = format!("sharedctypes-bench-queue-{}", std::process::id());
    let q = Queue::<Rec64>::create_named(&name, CAPACITY)?;
    let script = r#"
import sys, time, sharedctypes as sc
q = sc.open_named(sys.argv[1]); n = int(sys.argv[2])
print("ready", flush=True)
first = q.get(); t0 = time.perf_counter_ns(); got = 1
if sys.argv[3] == "batch":
    while got < n:
        a = q.get_array(1024); got += len(a); last = a[len(a) - 1].seq
else:
    for i in range(1, n):
        last = q.get().seq; got += 1
assert (got, last) == (n, n - 1), (got, last)
print((time.perf_counter_ns() - t0) / (n - 1), flush=True)
"#;
    let mut child = Command::new(python)
        .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/python"))
        .args(["-c", script, &name, &n.to_string()])
        .arg(if batch { "batch" } else { "one" })
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let ready = lines.next().and_then(|l| l.ok());
    if ready.as_deref() != Some("ready") {
        let _ = child.wait();
        return Ok(None);
    }
    let sent = (0..n).try_for_each(|i| q.put(rec(i)));
    if sent.is_err() {
        let _ = child.kill();
    }
    let figure = lines
        .next()
        .and_then(|l| l.ok())
        .and_then(|l| l.trim().parse().ok());
    let _ = child.wait();
    sent?;
    Ok(figure)
}
