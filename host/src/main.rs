//! The `drift-host` command line: parses the arguments and dispatches to [`cli::commands`];
//! every error ends here as one line on stderr and the exit code [`exit_code`] gives it.

mod cli;

use std::io;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use drift_host::model::error::{exit_code, EXIT_ERROR};

use cli::args::{Cli, Command, OutputFormat};
use cli::commands;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    cli::log::init(cli.verbose, cli.quiet);
    let json = cli.command.output() == OutputFormat::Json;
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        // A reader that went away early (`| head`) is no error, as for any Unix tool.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            let message = format!("{error:#}").replace('\n', " ");
            let code = exit_code(&error);
            eprintln!("error: {message}");
            if json {
                print_error_document(&message, code);
            }
            ExitCode::from(code)
        }
    }
}

/// Under `--output json`, an error is the command's one JSON document too.
fn print_error_document(message: &str, code: u8) {
    let document = serde_json::json!({ "exit_code": code, "error": message });
    println!("{document:#}");
}

/// A command line clap refuses: clap's message on stderr (and under `--output json` the
/// error document), exit code 2; `--help` and `--version` print and exit 0.
fn usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let informational = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    let json = std::env::args()
        .collect::<Vec<_>>()
        .windows(2)
        .any(|pair| pair[0] == "--output" && pair[1] == "json")
        || std::env::args().any(|arg| arg == "--output=json");
    if !informational && json {
        let rendered = error.render().to_string();
        let first = rendered.lines().next().unwrap_or("invalid arguments");
        print_error_document(first.trim_start_matches("error: "), EXIT_ERROR);
    }
    let _ = error.print();
    ExitCode::from(if informational { 0 } else { EXIT_ERROR })
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

fn dispatch(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Exec(args) => commands::exec_command(args),
        Command::Inspect(args) => commands::inspect(args),
        Command::New(args) => commands::new_command(args),
        Command::Test(args) => commands::test_command(args),
        Command::Plan(args) => async_runtime()?.block_on(commands::plan_command(args)),
        Command::Apply(args) => async_runtime()?.block_on(commands::apply_command(args)),
        Command::Run(args) => async_runtime()?.block_on(commands::run_command(args)),
        Command::Undo(args) => async_runtime()?.block_on(commands::undo_command(args)),
        Command::Baseline(args) => async_runtime()?.block_on(commands::baseline_command(args)),
        Command::Repair(args) => async_runtime()?.block_on(commands::repair_command(args)),
        Command::Tables(args) => async_runtime()?.block_on(commands::tables_command(args)),
        Command::Status(args) => async_runtime()?.block_on(commands::status_command(args)),
        Command::Load(args) => async_runtime()?.block_on(commands::load_command(args)),
        Command::Unlock(args) => async_runtime()?.block_on(commands::unlock_command(args)),
        Command::Control(args) => async_runtime()?.block_on(commands::control_command(args)),
    }
}

fn async_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
