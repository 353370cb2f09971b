//! `idsync`: the runner binary. Exit codes: 0 success, 1 runtime failure, 2 usage or
//! configuration error.

use std::process::ExitCode;

use clap::Parser;

use idsync::cli::Cli;

/// mimalloc: the engine and the plugin boundary allocate many small strings; glibc's
/// allocator spent a fifth of a large sync in malloc and free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    idsync::logging::init(cli.log_format, cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("idsync")
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(idsync::commands::run(cli.command));
    // Do not wait for a source blocked in I/O: everything that matters has been committed.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    code
}
