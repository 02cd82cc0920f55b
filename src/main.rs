//! The `tailwatch` command: flags, logging, progress and exit codes over the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
