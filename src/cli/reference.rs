//! `docs/CONFIGURATION.md`, rendered from the command line's own
//! definition: every flag of the server, its variable, default and help,
//! under the heading `--help` shows it with. A test
//! (`tests/configuration_doc.rs`) fails when the committed file differs, so
//! the reference cannot drift from the code.

use std::fmt::Write as _;

use clap::{Arg, ArgAction, Command, CommandFactory};

use super::Cli;

/// The whole reference, as Markdown.
pub fn render() -> String {
    let mut command = Cli::command();
    command.build();
    let mut out = String::from(
        "# Configuration\n\n\
         <!-- Generated from the code by `UPDATE_DOCS=1 cargo test --test configuration_doc`; \
         do not edit by hand. -->\n\n\
         Every setting of the server is a flag and an environment variable (the flag \
         wins). Durations take units (`500ms`, `10s`, `1h`). Files named by `*_FILE` \
         variables are read at start-up; those marked *reloaded* are read again on \
         SIGHUP and every 10 s.\n\n\
         `giropops-senhas --help` prints the same list, grouped the same way.\n",
    );
    render_arguments(&mut out, &command, "##");
    out.push_str("\n# Subcommands\n\nThe binary is also a client and a set of tools; each subcommand's flags:\n");
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
        let _ = write!(
            out,
            "\n## `giropops-senhas {}`\n\n{}\n",
            sub.get_name(),
            one_line(&about)
        );
        render_arguments(&mut out, sub, "###");
        for nested in sub.get_subcommands() {
            let about = nested
                .get_about()
                .map(ToString::to_string)
                .unwrap_or_default();
            let _ = write!(
                out,
                "\n### `giropops-senhas {} {}`\n\n{}\n",
                sub.get_name(),
                nested.get_name(),
                one_line(&about)
            );
            render_arguments(&mut out, nested, "####");
        }
    }
    out
}

/// One table per help heading, in the order `--help` shows them.
fn render_arguments(out: &mut String, command: &Command, level: &str) {
    let mut headings: Vec<Option<&str>> = Vec::new();
    for arg in visible(command) {
        let heading = arg.get_help_heading();
        if !headings.contains(&heading) {
            headings.push(heading);
        }
    }
    for heading in headings {
        let _ = write!(out, "\n{level} {}\n\n", heading.unwrap_or("Options"));
        out.push_str("| Flag | Variable | Default | What it does |\n|---|---|---|---|\n");
        for arg in visible(command).filter(|arg| arg.get_help_heading() == heading) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                flag(arg),
                arg.get_env()
                    .map(|env| format!("`{}`", env.to_string_lossy()))
                    .unwrap_or_default(),
                default(arg),
                cell(
                    &arg.get_long_help()
                        .or(arg.get_help())
                        .map(ToString::to_string)
                        .unwrap_or_default()
                ),
            );
        }
    }
}

/// The flags and positionals a user sets (not `--help`/`--version`).
fn visible(command: &Command) -> impl Iterator<Item = &Arg> {
    command.get_arguments().filter(|arg| {
        !arg.is_hide_set()
            && !matches!(
                arg.get_action(),
                ArgAction::Help | ArgAction::HelpLong | ArgAction::Version
            )
    })
}

fn flag(arg: &Arg) -> String {
    let value = arg
        .get_value_names()
        .and_then(|names| names.first())
        .map(|name| format!(" <{name}>"))
        .filter(|_| arg.get_action().takes_values())
        .unwrap_or_default();
    match (arg.get_long(), arg.get_short()) {
        (Some(long), _) => format!("`--{long}{value}`"),
        (None, Some(short)) => format!("`-{short}{value}`"),
        (None, None) => format!("`<{}>`", arg.get_id()),
    }
}

fn default(arg: &Arg) -> String {
    let values: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|value| value.to_string_lossy().into_owned())
        .collect();
    if values.is_empty() || !arg.get_action().takes_values() {
        return String::new();
    }
    format!("`{}`", values.join(","))
}

/// Help text as one table cell: paragraphs joined, pipes escaped.
fn cell(help: &str) -> String {
    one_line(help).replace('|', "\\|")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
