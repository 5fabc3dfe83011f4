//! Files only the service's own user may read: the SQLite database (with its
//! password hashes) and the master key. Directories the service creates for
//! them are 0700, the files 0600.

use std::path::Path;

use anyhow::Context;

/// Creates `dir` and its missing parents, each with mode 0700. Existing
/// directories are left as they are: they may be shared on purpose.
pub fn create_dir_all(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create directory {}", dir.display()))
}

/// Creates `path` empty with mode 0600 unless it exists.
pub fn create_file(path: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map(drop)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// Takes group and other permissions off an existing file, with a warning.
/// A missing file is fine.
#[cfg(unix)]
pub fn tighten(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(metadata) = std::fs::metadata(path) else {
        return Ok(());
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))
            .with_context(|| format!("cannot restrict the permissions of {}", path.display()))?;
        tracing::warn!(
            path = %path.display(),
            was = %format!("{mode:o}"),
            now = %format!("{:o}", mode & 0o700),
            "file was readable by other users; tightened"
        );
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn tighten(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}
