// Builds (with code generation): a plain `fn` item is what `Process::spawn` runs.
use sharedctypes::{Process, RawValue};

fn triple(v: RawValue<u64>) {
    v.set(v.get() * 3);
}

fn main() {
    let v = RawValue::new(1u64).unwrap();
    if std::env::args().count() > 100 {
        // Compiled, not run: the point is that it builds.
        let _ = Process::spawn(triple, (&v,));
    }
}
