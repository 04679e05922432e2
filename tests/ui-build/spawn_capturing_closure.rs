// `Process::spawn` runs a plain `fn` item in a fresh process of the executable: a closure's
// captures exist only in this process, so a closure that captures values does not compile.
use sharedctypes::{Process, RawValue};

fn main() {
    let scale = 3u64;
    let v = RawValue::new(1u64).unwrap();
    let child = Process::spawn(move |v: RawValue<u64>| v.set(v.get() * scale), (&v,)).unwrap();
    child.join().unwrap();
}
