//! The directory `init-secrets` writes into, trusting nothing found in it:
//! the directory must be writable by no one but root or the owner; every
//! file in it is looked at relative to the directory's own descriptor,
//! never through a symbolic link (`O_PATH | O_NOFOLLOW`: the link itself,
//! nothing read, so a planted FIFO cannot hang the run and no read right
//! is needed); a file kept must be a regular file, owned by
//! the expected owner, with a mode no looser than the one this command
//! writes. New files are created exclusively, given their mode and owner
//! on the open handle (`fchmod`, `fchown`: no window between creating and
//! chowning a path), synced, renamed into place, and the directory synced.

use std::fs::File as StdFile;
use std::io::Write as _;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, openat, renameat, unlinkat};

use super::{File, InitSecretsError};

/// Who must own what is kept: the `--owner`, or this process's user.
#[derive(Debug, Clone, Copy)]
struct Owner {
    uid: u32,
    /// Checked (and given) only with `--owner`.
    gid: Option<u32>,
}

/// What a file of a set is, as found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Found {
    /// Not there.
    Missing,
    /// A regular file, ours, private enough: kept.
    Trusted,
    /// There, but not to be trusted: what is wrong with it.
    Untrusted(String),
}

/// An open, checked secrets directory.
#[derive(Debug)]
pub(super) struct SecretsDir {
    path: PathBuf,
    fd: OwnedFd,
    owner: Owner,
    /// `--owner`, given to every file written.
    chown: Option<(u32, u32)>,
}

impl SecretsDir {
    /// Creates `path` if missing, opens it, and checks who may write it.
    pub(super) fn open(path: &Path, owner: Option<(u32, u32)>) -> Result<Self, InitSecretsError> {
        let io = |source: std::io::Error| InitSecretsError::Io {
            path: path.to_owned(),
            source,
        };
        std::fs::create_dir_all(path).map_err(io)?;
        let fd = rustix::fs::open(
            path,
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| io(errno.into()))?;
        let me = rustix::process::geteuid().as_raw();
        let expected = Owner {
            uid: owner.map_or(me, |(uid, _)| uid),
            gid: owner.map(|(_, gid)| gid),
        };
        let stat = StdFile::from(fd.try_clone().map_err(io)?)
            .metadata()
            .map_err(io)?;
        let problem = if stat.mode() & 0o002 != 0 {
            Some(format!(
                "is world-writable (mode {:04o}): anyone could plant files in it",
                stat.mode() & 0o7777
            ))
        } else if ![0, me, expected.uid].contains(&stat.uid()) {
            Some(format!(
                "is owned by uid {}, not root, this user ({me}) or the owner ({})",
                stat.uid(),
                expected.uid
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(InitSecretsError::Unsafe {
                path: path.to_owned(),
                problem,
            });
        }
        Ok(Self {
            path: path.to_owned(),
            fd,
            owner: expected,
            chown: owner,
        })
    }

    /// The directory's path.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, name: &str) -> impl FnOnce(std::io::Error) -> InitSecretsError {
        let path = self.path.join(name);
        move |source| InitSecretsError::Io { path, source }
    }

    /// The run's lock file, held (locked) until dropped: opened without
    /// following a link, and only if it is a regular file.
    pub(super) fn lock(&self) -> Result<StdFile, InitSecretsError> {
        const NAME: &str = ".init-secrets.lock";
        let unsafe_lock = |problem: &str| InitSecretsError::Unsafe {
            path: self.path.join(NAME),
            problem: format!("{problem}: remove it"),
        };
        let fd = openat(
            &self.fd,
            NAME,
            OFlags::CREATE | OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|errno| match errno {
            rustix::io::Errno::LOOP => unsafe_lock("is a symbolic link"),
            errno => self.io(NAME)(errno.into()),
        })?;
        let file = StdFile::from(fd);
        let metadata = file.metadata().map_err(self.io(NAME))?;
        if !metadata.file_type().is_file() {
            return Err(unsafe_lock("is not a regular file"));
        }
        file.lock().map_err(self.io(NAME))?;
        Ok(file)
    }

    /// What `name` is, against the mode this command would write it with.
    pub(super) fn inspect(&self, name: &str, mode: u32) -> Result<Found, InitSecretsError> {
        // O_PATH: no read right needed (in compose the job is root without
        // CAP_DAC_OVERRIDE, and the files are the app user's 0600), nothing
        // opened for I/O (a FIFO cannot block); with O_NOFOLLOW a link is
        // opened as itself, and seen as one below.
        let fd = match openat(
            &self.fd,
            name,
            OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) => return Ok(Found::Missing),
            Err(errno) => return Err(self.io(name)(errno.into())),
        };
        let metadata = StdFile::from(fd).metadata().map_err(self.io(name))?;
        if metadata.file_type().is_symlink() {
            return Ok(Found::Untrusted("is a symbolic link".to_owned()));
        }
        let found_mode = metadata.mode() & 0o7777;
        let Owner { uid, gid } = self.owner;
        let problem = if !metadata.file_type().is_file() {
            Some("is not a regular file".to_owned())
        } else if metadata.uid() != uid {
            Some(format!("is owned by uid {}, not {uid}", metadata.uid()))
        } else if let Some(gid) = gid.filter(|&gid| metadata.gid() != gid) {
            Some(format!("has group {}, not {gid}", metadata.gid()))
        } else if found_mode & !mode != 0 {
            Some(format!("has mode {found_mode:04o}, looser than {mode:04o}"))
        } else {
            None
        };
        Ok(problem.map_or(Found::Trusted, Found::Untrusted))
    }

    /// Writes each file under a temporary name, then renames them all
    /// into place (over whatever was there: a link is replaced, never
    /// followed), then syncs the directory: a set is never left
    /// half-written by a failure.
    pub(super) fn write_set(&self, files: &[File]) -> Result<(), InitSecretsError> {
        let mut staged = Vec::new();
        for file in files {
            let temporary = format!(".{}.new", file.name);
            match unlinkat(&self.fd, temporary.as_str(), AtFlags::empty()) {
                Ok(()) | Err(rustix::io::Errno::NOENT) => {}
                Err(errno) => return Err(self.io(&temporary)(errno.into())),
            }
            let fd = openat(
                &self.fd,
                temporary.as_str(),
                OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(file.mode),
            )
            .map_err(|errno| self.io(&temporary)(errno.into()))?;
            let mut handle = StdFile::from(fd);
            // The mode asked for, whatever the umask (0640 must stay
            // readable by Redis's group under umask 077).
            handle
                .set_permissions(std::fs::Permissions::from_mode(file.mode))
                .map_err(self.io(&temporary))?;
            if let Some((uid, gid)) = self.chown {
                std::os::unix::fs::fchown(&handle, Some(uid), Some(gid))
                    .map_err(self.io(&temporary))?;
            }
            handle
                .write_all(file.content.as_bytes())
                .and_then(|()| handle.sync_all())
                .map_err(self.io(&temporary))?;
            staged.push((temporary, file.name));
        }
        for (temporary, name) in staged {
            renameat(&self.fd, temporary.as_str(), &self.fd, name)
                .map_err(|errno| self.io(name)(errno.into()))?;
        }
        rustix::fs::fsync(&self.fd).map_err(|errno| InitSecretsError::Io {
            path: self.path.clone(),
            source: errno.into(),
        })
    }
}
