//! The subcommands: `sync`, `check`, `trace` (in [`crate::trace`]), `plugins`.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use tracing::{error, info};

use idsync_core::{CheckItem, CheckStatus};

use crate::cli::Command;
use crate::config::{self, ConfigError};
use crate::run::{self, SyncOptions};
use crate::{signals, sinks, sources};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: runtime failure.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code: usage or configuration error.
pub const EXIT_CONFIG: u8 = 2;

/// Runs one subcommand and returns the process exit code.
pub async fn run(command: Command) -> ExitCode {
    let code = match command {
        Command::Sync {
            config,
            once,
            dry_run,
            allow_mass_delete,
        } => {
            let options = SyncOptions {
                once,
                dry_run,
                allow_mass_delete,
                progress: std::io::stderr().is_terminal(),
            };
            sync(&config, options).await
        }
        Command::Check { config } => check(&config).await,
        Command::Trace {
            config,
            output,
            once,
        } => crate::trace::trace(&config, &output, once).await,
        Command::Plugins => plugins(),
    };
    ExitCode::from(code)
}

async fn sync(path: &Path, options: SyncOptions) -> u8 {
    let config = match config::load(path) {
        Ok(config) => config,
        Err(error) => return report_config_error(&error),
    };
    let source = match sources::build(&config.source) {
        Ok(source) => source,
        Err(problems) => {
            return report_config_error(&ConfigError {
                file: path.to_path_buf(),
                problems,
            })
        }
    };
    let sink = match sinks::open(&config.sink) {
        Ok(opened) => {
            info!(
                plugin = %opened.info.name,
                version = %opened.info.version,
                path = %opened.info.path.display(),
                "sink plugin loaded"
            );
            opened.sink
        }
        Err(error) => {
            let message = crate::error_chain(&error);
            error!("{message}");
            eprintln!("error: `{}`: {message}", path.display());
            return if error.is_config() {
                EXIT_CONFIG
            } else {
                EXIT_FAILURE
            };
        }
    };
    let shutdown = signals::shutdown_token();
    let state_dir = config
        .runner
        .effective_state_dir(std::env::var_os("STATE_DIRECTORY"));
    if config.runner.state_dir.is_none() {
        if let Some(dir) = &state_dir {
            info!(dir = %dir.display(), "state_dir from $STATE_DIRECTORY (systemd)");
        }
    }
    match run::sync(
        source,
        sink,
        &config.sync,
        state_dir.as_deref(),
        options,
        shutdown,
    )
    .await
    {
        Ok(summary) => {
            if options.dry_run {
                let mut stdout = std::io::stdout().lock();
                let printed = run::print_plan(&mut stdout, &summary.stats.changes, &summary.names)
                    .and_then(|()| {
                        writeln!(
                            stdout,
                            "dry run: {} changes planned, nothing written",
                            summary.stats.changes.len()
                        )
                    });
                if let Err(error) = printed {
                    eprintln!("error: cannot print the plan: {error}");
                    return EXIT_FAILURE;
                }
            }
            let counts = summary.stats.counts;
            info!(
                created = counts.created,
                adopted = counts.adopted,
                updated = counts.updated,
                renamed = counts.renamed,
                disabled = counts.disabled,
                enabled = counts.enabled,
                deleted = counts.deleted,
                unchanged = counts.unchanged,
                members_added = counts.members_added,
                members_removed = counts.members_removed,
                quarantined = counts.quarantined,
                batches = summary.stats.batches,
                "sync finished"
            );
            EXIT_OK
        }
        Err(error) => {
            let message = crate::error_chain(&error);
            error!("{message}");
            eprintln!("error: {message}");
            if error.is_config() {
                EXIT_CONFIG
            } else {
                EXIT_FAILURE
            }
        }
    }
}

fn report_config_error(error: &ConfigError) -> u8 {
    eprintln!("error: {error}");
    EXIT_CONFIG
}

async fn check(path: &Path) -> u8 {
    let mut report: Vec<CheckItem> = Vec::new();
    let config = match config::load(path) {
        Ok(config) => {
            report.push(CheckItem::ok(format!(
                "configuration `{}` is valid",
                path.display()
            )));
            Some(config)
        }
        Err(error) => {
            report.push(CheckItem::failed(error.to_string()));
            None
        }
    };
    if let Some(config) = config {
        match sources::build(&config.source) {
            Ok(mut source) => {
                report.push(CheckItem::ok(format!(
                    "source `{}`: {}",
                    config.source.kind,
                    source.fingerprint()
                )));
                match source.check().await {
                    Ok(items) => report.extend(items),
                    Err(error) => report.push(CheckItem::failed(format!(
                        "source: {}",
                        crate::error_chain(&error)
                    ))),
                }
            }
            Err(problems) => report.push(CheckItem::failed(
                ConfigError {
                    file: path.to_path_buf(),
                    problems,
                }
                .to_string(),
            )),
        }
        match sinks::open(&config.sink) {
            Ok(mut opened) => {
                report.push(CheckItem::ok(format!(
                    "sink plugin `{}` {} (plugin ABI {}) loaded from `{}`",
                    opened.info.name,
                    opened.info.version,
                    opened.info.abi_version,
                    opened.info.path.display()
                )));
                let checked = tokio::task::spawn_blocking(move || {
                    let items = opened.sink.check();
                    drop(opened.sink.close());
                    items
                })
                .await;
                match checked {
                    Ok(Ok(items)) => report.extend(items),
                    Ok(Err(error)) => report.push(CheckItem::failed(format!("sink: {error}"))),
                    Err(error) => report.push(CheckItem::failed(format!("sink: {error}"))),
                }
            }
            Err(error) => report.push(CheckItem::failed(crate::error_chain(&error))),
        }
    }
    let mut stdout = std::io::stdout().lock();
    let mut failed = false;
    for item in &report {
        let mark = match item.status {
            CheckStatus::Ok => "ok  ",
            CheckStatus::Warning => "warn",
            CheckStatus::Failed => {
                failed = true;
                "FAIL"
            }
        };
        // A closed stdout is no reason to fail the check.
        drop(writeln!(stdout, "[{mark}] {}", item.message));
    }
    if failed {
        drop(writeln!(stdout, "check failed"));
        EXIT_FAILURE
    } else {
        drop(writeln!(stdout, "check passed"));
        EXIT_OK
    }
}

fn plugins() -> u8 {
    let listing = sinks::list();
    let mut stdout = std::io::stdout().lock();
    let mut broken = false;
    let mut found = 0;
    drop(writeln!(
        stdout,
        "{:<16} {:<10} {:<10} PATH",
        "NAME", "VERSION", "ABI"
    ));
    for entry in listing {
        match entry {
            Ok(info) => {
                found += 1;
                drop(writeln!(
                    stdout,
                    "{:<16} {:<10} {:<10} {}",
                    info.name,
                    info.version,
                    info.abi_version,
                    info.path.display()
                ));
            }
            Err(error) => {
                broken = true;
                eprintln!("error: {}", crate::error_chain(&error));
            }
        }
    }
    if found == 0 {
        eprintln!(
            "no sink plugins found; searched: {}",
            sinks::search_dirs_display()
        );
    }
    if broken {
        EXIT_FAILURE
    } else {
        EXIT_OK
    }
}
