//! The sharedctypes side of each row.

use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use sharedctypes::{
    Barrier, Condition, Event, Lock, Process, RawArray, RawValue, Semaphore, Value,
};

use super::{median, ns_per_op};

/// Two processes hand a turn back and forth through one `Condition` (over a `Lock`): ns per
/// round trip (two waits, two notifications).
pub fn condition_ping_pong(rounds: usize) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..3 {
        let cond = Condition::new(Lock::new().unwrap()).unwrap();
        let turn = RawValue::new(0u32).unwrap();
        let pong = Process::start(|| -> sharedctypes::Result<()> {
            for _ in 0..rounds {
                let g = cond.acquire()?;
                let (g, _) = cond.wait_for(g, || turn.get() == 1, None)?;
                turn.set(0);
                cond.notify(1);
                drop(g);
            }
            Ok(())
        })
        .unwrap();
        let t = Instant::now();
        for _ in 0..rounds {
            let g = cond.acquire().unwrap();
            let (g, _) = cond.wait_for(g, || turn.get() == 0, None).unwrap();
            turn.set(1);
            cond.notify(1);
            drop(g);
        }
        let g = cond.acquire().unwrap();
        let (g, _) = cond.wait_for(g, || turn.get() == 0, None).unwrap();
        drop(g);
        samples.push(t.elapsed().as_nanos() as f64 / rounds as f64);
        assert_eq!(pong.join().unwrap(), 0);
    }
    median(samples)
}

/// Two processes hand a turn back and forth with a pair of `Event`s (each waits for its own,
/// clears it, sets the other's): ns per round trip.
pub fn event_ping_pong(rounds: usize) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..3 {
        let ping = Event::new().unwrap();
        let pong = Event::new().unwrap();
        let other = Process::start(|| {
            for _ in 0..rounds {
                ping.wait();
                ping.clear();
                pong.set();
            }
        })
        .unwrap();
        let t = Instant::now();
        for _ in 0..rounds {
            ping.set();
            pong.wait();
            pong.clear();
        }
        samples.push(t.elapsed().as_nanos() as f64 / rounds as f64);
        assert_eq!(other.join().unwrap(), 0);
    }
    median(samples)
}

/// `Value::update(|x| x + 1)` by `procs` processes at once: ns per increment (per process).
/// With `own`, each process increments a `Value` of its own, the values made one after the
/// other (as a program makes one per worker).
pub fn locked_increment(procs: usize, ops: usize, own: bool) -> f64 {
    let values: Vec<Value<i64>> = (0..if own { procs } else { 1 })
        .map(|_| Value::new(0i64).unwrap())
        .collect();
    let value = |p: usize| &values[if own { p } else { 0 }];
    let t = ns_per_op(ops, || {
        let children: Vec<_> = (1..procs)
            .map(|p| {
                let v = value(p);
                Process::start(move || {
                    for _ in 0..ops {
                        v.update(|x| x + 1).unwrap();
                    }
                })
                .unwrap()
            })
            .collect();
        let v = value(0);
        for _ in 0..ops {
            v.update(|x| x + 1).unwrap();
        }
        for c in &children {
            assert_eq!(c.join().unwrap(), 0);
        }
    });
    let total: i64 = values.iter().map(|v| v.get().unwrap()).sum();
    assert_eq!(total as usize, ops * procs * 6);
    t
}

/// An uncontended `Semaphore` acquire and release (through the permit).
pub fn semaphore(ops: usize) -> f64 {
    let s = Semaphore::new(1).unwrap();
    ns_per_op(ops, || {
        for _ in 0..ops {
            drop(black_box(&s).acquire());
        }
    })
}

/// Two processes meet at a `Barrier` `rounds` times: ns per round.
pub fn barrier(rounds: usize) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..3 {
        let b = Barrier::new(2).unwrap();
        let other = Process::start(|| {
            for _ in 0..rounds {
                b.wait().unwrap();
            }
        })
        .unwrap();
        let t = Instant::now();
        for _ in 0..rounds {
            b.wait().unwrap();
        }
        samples.push(t.elapsed().as_nanos() as f64 / rounds as f64);
        assert_eq!(other.join().unwrap(), 0);
    }
    median(samples)
}

/// One cycle: create a named 8-element array, open it (as another process would), read it,
/// close both (the creator removes the name).
pub fn named_cycle(name: &str) {
    let created = RawArray::create_named(name, &[7u64; 8]).unwrap();
    let opened = RawArray::<u64>::open_named(name).unwrap();
    assert_eq!(black_box(opened.get(3)), Some(7));
    drop(opened);
    drop(created);
}

pub fn named(cycles: usize) -> f64 {
    let name = format!("sharedctypes-bench-peers-{}", std::process::id());
    ns_per_op(cycles, || {
        for _ in 0..cycles {
            named_cycle(&name);
        }
    })
}

/// `Process::command(true)` started and joined, handed one shared value if `share`: ns per
/// program.
pub fn command(runs: usize, share: bool) -> f64 {
    let v = sharedctypes::heap::isolated(|| RawValue::new(1u64)).unwrap();
    ns_per_op(runs, || {
        for _ in 0..runs {
            let mut cmd = Process::command(Command::new("true"));
            if share {
                cmd = cmd.share("v", &v).unwrap();
            }
            let p = cmd.spawn().unwrap();
            assert_eq!(p.join().unwrap(), 0);
        }
    })
}
