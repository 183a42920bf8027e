//! `shelfmark`: one binary for the library server and its command-line tools.

mod cli;
mod config;
mod demo;

fn main() -> std::process::ExitCode {
    cli::main()
}
