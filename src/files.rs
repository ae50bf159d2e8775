//! Files the user keeps: every output is written atomically (a temporary file in the same folder,
//! then a rename), and streamed outputs grow under `NAME.partial` until they are complete, so an
//! interrupted command never leaves a half-written file under a final name.

use std::io::Write;
use std::path::{Path, PathBuf};

/// `path` with `suffix` appended to its file name: `a/x.csv` + `.partial` = `a/x.csv.partial`.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Where a streamed file is written until it is complete: `NAME.partial` beside `NAME`.
pub fn partial_path(path: &Path) -> PathBuf {
    with_suffix(path, ".partial")
}

/// `std::fs::create_dir_all`, whose error says which part of the path is in the way when a parent
/// is a regular file (the system only says "File exists" or "Not a directory").
pub fn create_dir_all(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| match dir.ancestors().find(|a| a.is_file()) {
        Some(file) if file == dir => {
            std::io::Error::new(e.kind(), format!("{} is a file, not a folder; choose another path", file.display()))
        }
        Some(file) => std::io::Error::new(
            e.kind(),
            format!("{} is a file, not a folder, so {} cannot be created in it; choose another path", file.display(), dir.display()),
        ),
        None => e,
    })
}

/// Write `data` to `path` atomically: a temporary file in the same folder, flushed, then renamed over
/// the target. A reader sees the old file or the new one, never a part.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_files_sit_beside_their_target() {
        assert_eq!(partial_path(Path::new("a/sweep.csv")), Path::new("a/sweep.csv.partial"));
        assert_eq!(with_suffix(Path::new("t.mtrace"), ".partial.body"), Path::new("t.mtrace.partial.body"));
    }

    #[test]
    fn a_file_in_the_way_of_a_folder_is_named() {
        let dir = std::env::temp_dir().join(format!("migsim-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("plain");
        std::fs::write(&file, b"x").unwrap();
        for target in [file.join("out.json"), file.join("sub").join("out.json")] {
            let e = write_atomic(&target, b"y").unwrap_err().to_string();
            assert!(e.contains(&format!("{} is a file, not a folder", file.display())), "{e}");
            assert!(!e.contains("File exists") && !e.contains("Not a directory"), "{e}");
        }
        assert_eq!(std::fs::read(&file).unwrap(), b"x", "the file in the way is untouched");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = std::env::temp_dir().join(format!("migsim-report-{}", std::process::id()));
        let p = dir.join("a.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
