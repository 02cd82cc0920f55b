fn main() -> std::process::ExitCode {
    tailwatch::cli::main()
}
