//! Criterion micro-benchmarks of the hot paths: the lock fast path and the heap allocator
//! (`cargo bench --bench micro`). The side-by-side comparison with CPython is
//! `cargo bench --bench vs_cpython`.

use std::hint::black_box;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_main};
use sharedctypes::heap::Block;
use sharedctypes::{Array, Lock, RLock, RawValue, Value};

fn lock_fast_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock");
    let lock = Lock::new().unwrap();
    g.bench_function("Lock acquire+release", |b| {
        b.iter(|| drop(black_box(&lock).acquire().unwrap()))
    });
    let rlock = RLock::new().unwrap();
    g.bench_function("RLock acquire+release", |b| {
        b.iter(|| drop(black_box(&rlock).acquire().unwrap()))
    });
    let held = rlock.acquire().unwrap();
    g.bench_function("RLock re-entry", |b| {
        b.iter(|| drop(black_box(&rlock).acquire().unwrap()))
    });
    drop(held);
    g.bench_function("Lock try_acquire", |b| {
        b.iter(|| drop(black_box(&lock).try_acquire().unwrap()))
    });
    let v = Value::new(0i64).unwrap();
    g.bench_function("Value::update", |b| {
        b.iter(|| black_box(&v).update(|x| x + 1).unwrap())
    });
    g.bench_function("Value::get", |b| b.iter(|| black_box(&v).get().unwrap()));
    let raw = RawValue::new(0i64).unwrap();
    g.bench_function("RawValue::as_atomic fetch_add", |b| {
        b.iter(|| black_box(&raw).as_atomic().fetch_add(1, Relaxed))
    });
    g.finish();
}

fn heap(c: &mut Criterion) {
    let mut g = c.benchmark_group("heap");
    for size in [8usize, 64, 4096] {
        g.bench_function(format!("Block alloc+free {size} B"), |b| {
            b.iter(|| drop(Block::alloc(black_box(size), 8).unwrap()))
        });
    }
    g.bench_function("Block alloc+free 64 B aligned 64", |b| {
        b.iter(|| drop(Block::alloc(64, black_box(64)).unwrap()))
    });
    // Allocation among many live blocks (a realistic best-fit search).
    let live: Vec<Block> = (0..10_000)
        .map(|i| Block::alloc(8 + i % 200, 8).unwrap())
        .collect();
    let holes: Vec<Block> = live.into_iter().step_by(2).collect();
    g.bench_function("Block alloc+free 24 B, 5k holes", |b| {
        b.iter(|| drop(Block::alloc(black_box(24), 8).unwrap()))
    });
    drop(holes);
    g.bench_function("Value::new (value + RLock)", |b| {
        b.iter(|| drop(Value::new(black_box(0i64)).unwrap()))
    });
    g.finish();

    // Many objects alive together, as a program that makes many of them has: each iteration
    // allocates 100k and keeps them all (dropping them afterwards is not timed). Time per
    // object = time / 100k.
    let mut g = c.benchmark_group("heap 100k live");
    g.sample_size(20);
    g.throughput(criterion::Throughput::Elements(LIVE as u64));
    g.bench_function("RawValue::new (i64)", |b| {
        b.iter_custom(|iters| allocate_live(iters, || RawValue::new(black_box(0i64)).unwrap()))
    });
    g.bench_function("Value::new (i64 + RLock)", |b| {
        b.iter_custom(|iters| allocate_live(iters, || Value::new(black_box(0i64)).unwrap()))
    });
    g.finish();
}

/// Objects per iteration of the "heap 100k live" benchmarks.
const LIVE: usize = 100_000;

/// Time taken by `iters` rounds of making `LIVE` objects that stay alive until the round
/// ends; freeing them is not counted.
fn allocate_live<T>(iters: u64, make: impl Fn() -> T) -> Duration {
    let mut total = Duration::ZERO;
    let mut made = Vec::with_capacity(LIVE);
    for _ in 0..iters {
        let start = Instant::now();
        for _ in 0..LIVE {
            made.push(make());
        }
        total += start.elapsed();
        made.clear();
    }
    total
}

fn bulk_copy(c: &mut Criterion) {
    let mut g = c.benchmark_group("copy");
    for len in [1_000usize, 1_000_000] {
        let arr = Array::from_iter((0..len).map(|i| i as f64)).unwrap();
        let mut buf = vec![0.0; len];
        g.throughput(criterion::Throughput::Bytes(8 * len as u64));
        g.bench_function(format!("Array<f64>::copy_to_slice {len}"), |b| {
            b.iter(|| arr.copy_to_slice(black_box(&mut buf)).unwrap())
        });
        let src: Vec<f64> = (0..len).map(|i| i as f64).collect();
        g.bench_function(format!("memcpy {len}"), |b| {
            b.iter(|| black_box(&mut buf).copy_from_slice(black_box(&src)))
        });
    }
    g.finish();
}

// `criterion_group!` defines an undocumented `pub fn benches`.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(
        benches,
        super::lock_fast_path,
        super::heap,
        super::bulk_copy
    );
}
use group::benches;
criterion_main!(benches);
