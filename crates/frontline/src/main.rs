fn main() -> std::process::ExitCode {
    frontline::cli::main()
}
