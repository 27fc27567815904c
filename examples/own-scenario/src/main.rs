//! The `sockerr` command line for this crate's scenarios: `cargo run -p own-scenario -- run`
//! writes their report, `-- list`, `-- explain own.peek_after_fin` and every other command
//! work on them.

fn main() -> std::process::ExitCode {
    sockerr::cli::main_with(own_scenario::suite())
}
