//! `sockerr`: runs the catalogue and writes the report (see [`sockerr::cli`]).

fn main() -> std::process::ExitCode {
    sockerr::cli::main()
}
