//! A [`Pool`] sums the rows of a matrix in shared memory. The Python original:
//!
//! ```python
//! def init(shared, w):                      # each worker keeps the shared array
//!     global data, width; data, width = shared, w
//! def row_sum(row):
//!     return sum(data[row * width:(row + 1) * width])
//! data = RawArray('d', rows * width)        # filled by the parent
//! with Pool(4, initializer=init, initargs=(data, width)) as pool:
//!     sums = pool.map(row_sum, range(rows))
//! ```
//!
//! In Rust the shared objects are `map_with`'s arguments, received by every worker as
//! [`Process::spawn`](sharedctypes::Process::spawn)'s are: no global, no initializer, and the
//! matrix is never copied (each worker maps the same memory).
//!
//! ```console
//! $ cargo run --example pool_row_sums
//! 2000 rows of 500 summed by 4 workers: row 0 = 124750, row 1999 = 499874750, total = 499999500000
//! ```

use sharedctypes::{Pool, RawArray, Result};

const ROWS: usize = 2000;
const WIDTH: usize = 500;

/// Runs in a worker: the shared matrix and its width arrive once per worker.
fn row_sum(data: &RawArray<f64>, width: &usize, row: usize) -> f64 {
    let mut sum = 0.0;
    for column in 0..*width {
        sum += data.get(row * width + column).expect("inside the matrix");
    }
    sum
}

fn main() -> Result<()> {
    // The matrix, filled by the parent: element i is i.
    let data = RawArray::<f64>::zeroed(ROWS * WIDTH)?;
    let values: Vec<f64> = (0..ROWS * WIDTH).map(|i| i as f64).collect();
    data.copy_from_slice(&values)?;

    let pool = Pool::new(4)?;
    let rows: Vec<usize> = (0..ROWS).collect();
    let sums = pool.map_with(row_sum, (&data, &WIDTH), &rows)?;

    let total: f64 = sums.iter().sum();
    println!(
        "{ROWS} rows of {WIDTH} summed by {} workers: row 0 = {}, row {} = {}, total = {total}",
        pool.size(),
        sums[0],
        ROWS - 1,
        sums[ROWS - 1]
    );
    Ok(()) // the pool drops: its workers end
}
