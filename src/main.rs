use std::process::ExitCode;

fn main() -> ExitCode {
    scale0::cli::main()
}
