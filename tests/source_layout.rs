//! The source stays in files of one size: no `.rs` file under `src/`
//! (tests included) over [`MAX_LINES`] lines. A file that grows past it
//! holds several reasons to change and is split along them.

use std::path::{Path, PathBuf};

/// Most lines of one source file.
const MAX_LINES: usize = 450;

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn no_source_file_is_over_the_line_limit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(
        files.len() > 50,
        "found only {} files under src/",
        files.len()
    );
    let mut over: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(path).expect("read").lines().count();
            (lines > MAX_LINES).then(|| {
                let name = path.strip_prefix(root).unwrap_or(path).display();
                format!("{name}: {lines} lines")
            })
        })
        .collect();
    over.sort();
    assert!(
        over.is_empty(),
        "split these files along their responsibilities (at most {MAX_LINES} lines each):\n{}",
        over.join("\n")
    );
}
