//! Files and directories, on the blocking pool.
//!
//! Regular files are always "ready" as far as epoll is concerned (it refuses to watch them:
//! `EPERM`), and a read from a cold disk blocks the calling thread no matter what. So every
//! operation here runs `std::fs` on the runtime's blocking pool ([`spawn_blocking`]) and awaits
//! the result; the worker threads never wait for the disk.
//!
//! ```
//! mini_runtime::Runtime::new().unwrap().block_on(async {
//!     let dir = std::env::temp_dir().join(format!("mini-fs-doc-{}", std::process::id()));
//!     mini_runtime::fs::create_dir_all(&dir).await.unwrap();
//!     let path = dir.join("hello.txt");
//!     mini_runtime::fs::write(&path, "hello").await.unwrap();
//!     assert_eq!(mini_runtime::fs::read_to_string(&path).await.unwrap(), "hello");
//!     mini_runtime::fs::remove_file(&path).await.unwrap();
//!     std::fs::remove_dir(&dir).unwrap();
//! });
//! ```
//!
//! [`spawn_blocking`]: crate::task::spawn_blocking

mod file;

pub use file::File;

use std::fs::Metadata;
use std::io;
use std::path::Path;

/// Runs `job` on the blocking pool and returns its result; a panic in it resumes here.
pub(crate) async fn asyncify<T: Send + 'static>(job: impl FnOnce() -> io::Result<T> + Send + 'static) -> io::Result<T> {
    match crate::task::spawn_blocking(job).await {
        Ok(result) => result,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => Err(io::Error::other(
            "the mini runtime shut down before the file operation ran",
        )),
    }
}

/// Reads the whole file at `path`.
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read(path)).await
}

/// Reads the whole file at `path` as UTF-8 (`InvalidData` if it is not).
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_to_string(path)).await
}

/// Writes `contents` to `path`, creating the file or truncating it.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let (path, contents) = (path.as_ref().to_owned(), contents.as_ref().to_owned());
    asyncify(move || std::fs::write(path, contents)).await
}

/// Creates the directory `path` and every missing parent.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir_all(path)).await
}

/// Removes the file at `path`.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_file(path)).await
}

/// Removes the empty directory at `path`.
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir(path)).await
}

/// Renames `from` to `to`, replacing `to` if it exists (on the same filesystem).
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::rename(from, to)).await
}

/// The metadata of `path`, following symbolic links.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::metadata(path)).await
}
