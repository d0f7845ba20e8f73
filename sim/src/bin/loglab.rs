//! `loglab`: the command-line tool.
fn main() {}
