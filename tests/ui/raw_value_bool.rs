// Another process may write any byte, and only 0 and 1 are valid bools.
use sharedctypes::{RawValue, Value};

fn main() {
    let _flag = RawValue::<bool>::new(true);
    let _inferred = RawValue::new(false);
    let _locked = Value::new(true);
}
