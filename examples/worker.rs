//! The worker program of `examples/worker_pool.rs`: started by the pool with
//! `Process::command`, it finds the shared arrays and counter by name and takes every
//! `count`-th item, starting at its `id` (both given as arguments).
//!
//! Run alone, it explains that it expects to be started by the pool.

use sharedctypes::{Array, Error, Value, inherited};

fn main() -> sharedctypes::Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let (Some(Ok(id)), Some(Ok(count))) = (args.next(), args.next()) else {
        eprintln!("usage: worker ID COUNT (started by examples/worker_pool.rs)");
        std::process::exit(2);
    };
    let inputs: Array<f64> = match inherited("inputs") {
        Err(Error::NotShared { .. }) => {
            eprintln!("no shared objects: run examples/worker_pool.rs, which starts this program");
            std::process::exit(2);
        }
        other => other?,
    };
    let results: Array<f64> = inherited("results")?;
    let done: Value<u32> = inherited("done")?;
    let per_worker: Array<u32> = inherited("per_worker")?;

    for i in (id..inputs.len()).step_by(count) {
        results.set(i, inputs.get(i)?.sqrt())?;
        done.update(|d| d + 1)?;
        per_worker.update(id, |n| n + 1)?;
    }
    Ok(())
}
