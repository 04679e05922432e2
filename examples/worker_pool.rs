//! `Process::command`: a parent shares arrays and a counter with two workers that are
//! *another program* (`examples/worker.rs`), which find them by name.
//!
//! ```console
//! $ cargo build --example worker && cargo run --example worker_pool
//! results: [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5]
//! done: 8 (worker 0: 4, worker 1: 4)
//! ```

use std::process::Command;

use sharedctypes::{Array, Process, Result, Value, heap};

fn main() -> Result<()> {
    let worker = std::env::current_exe()
        .expect("the path of this program")
        .with_file_name("worker");
    if !worker.exists() {
        eprintln!("build the worker first: cargo build --example worker");
        std::process::exit(2);
    }

    // Objects for another program live in files of their own: the workers can reach these
    // four and nothing else of this process.
    let (inputs, results, done, per_worker) = heap::isolated(|| -> Result<_> {
        let inputs = Array::from_iter((0..8).map(|i| ((i + 2) * (i + 2)) as f64 / 4.0))?;
        let results = Array::<f64>::zeroed(inputs.len())?;
        Ok((inputs, results, Value::new(0u32)?, Array::<u32>::zeroed(2)?))
    })?;

    let workers = (0..2)
        .map(|id| {
            let mut cmd = Command::new(&worker);
            cmd.arg(id.to_string()).arg("2");
            Process::command(cmd)
                .share("inputs", &inputs)?
                .share("results", &results)?
                .share("done", &done)?
                .share("per_worker", &per_worker)?
                .spawn()
        })
        .collect::<Result<Vec<_>>>()?;
    for w in &workers {
        assert_eq!(w.join()?, 0, "a worker failed");
    }

    println!("results: {:?}", results.to_vec()?);
    let counts = per_worker.to_vec()?;
    println!(
        "done: {} (worker 0: {}, worker 1: {})",
        done.get()?,
        counts[0],
        counts[1]
    );
    Ok(())
}
