//! The `hyv` command-line program.
fn main() {}
