//! `shelfmark`: one binary for the library server and its command-line tools.

mod cli;
mod config;
mod copycat;
mod demo;
mod patrons;
mod shelf;
mod staff;

// Import moves records from a parsing thread to a storing thread by the hundred thousand; glibc's
// allocator spent a quarter of the import's time on that hand-over (measured with perf).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
