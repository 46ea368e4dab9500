//! docs/CONFIGURATION.md is the command line's own definition, rendered
//! (`giropops_senhas::cli::reference`): it fails when a flag, variable,
//! default or help text changed without the doc. `UPDATE_DOCS=1 cargo test
//! --test configuration_doc` rewrites the file.

use std::path::Path;

#[test]
fn configuration_doc_is_rendered_from_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/CONFIGURATION.md");
    let rendered = giropops_senhas::cli::reference::render();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &rendered).expect("write docs/CONFIGURATION.md");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "docs/CONFIGURATION.md differs from the command line's definition: \
         run `UPDATE_DOCS=1 cargo test --test configuration_doc` and commit it"
    );
}

#[test]
fn every_server_flag_has_its_variable_and_a_heading() {
    use clap::CommandFactory;
    let command = giropops_senhas::cli::Cli::command();
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if matches!(long, "help" | "version") {
            continue;
        }
        assert!(
            arg.get_env().is_some(),
            "--{long} has no environment variable"
        );
        assert!(
            arg.get_help_heading().is_some(),
            "--{long} has no help heading"
        );
        assert!(arg.get_help().is_some(), "--{long} has no help text");
    }
}
