// 'z' is not a typecode of Python's sharedctypes; the error lists the valid ones.
fn main() {
    let _v: sharedctypes::tc!('z') = 0;
}
