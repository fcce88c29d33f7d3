//! Running the `hyv` binary from the CLI tests (each includes this file with `#[path]`).

use std::process::{Command, Output};

/// Runs `hyv` with `args` (and without a `HYV_DUMP_GRAPHS` from the environment).
pub fn hyv(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hyv"))
        .args(args)
        .env_remove("HYV_DUMP_GRAPHS")
        .output()
        .expect("hyv runs")
}

/// Stdout and stderr of a run, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
