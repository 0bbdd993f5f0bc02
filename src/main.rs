//! The `hinge` command: a thin layer over the library. Flags are parsed by
//! clap, validated into typed settings, and errors go to stderr as one line
//! naming the file and the cause (exit 1 for a failed analysis, 2 for bad usage).

mod cli;

fn main() {
    std::process::exit(cli::run());
}
