//! `mini::fs`: whole-file helpers and `File` through the futures-io traits, on both runtime
//! flavors, with the errors of missing paths; everything under a fresh temp directory.

mod common;

use common::*;
use futures::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use mini::fs::{self, File};
use std::io::{ErrorKind, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

fn temp_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "mini-fs-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Relaxed)
    ))
}

#[test]
fn whole_file_helpers_write_read_rename_and_remove() {
    let dir = temp_dir();
    run({
        let dir = dir.clone();
        || async move {
            let nested = dir.join("a/b/c");
            fs::create_dir_all(&nested).await.unwrap();
            assert!(fs::metadata(&nested).await.unwrap().is_dir());
            let path = nested.join("data.bin");
            let data = pattern(300_000);
            fs::write(&path, &data).await.unwrap();
            assert_eq!(fs::metadata(&path).await.unwrap().len(), data.len() as u64);
            assert!(fs::read(&path).await.unwrap() == data);
            let error = fs::read_to_string(&path).await.expect_err("not UTF-8");
            assert_eq!(error.kind(), ErrorKind::InvalidData);
            fs::write(&path, "text now").await.unwrap();
            assert_eq!(fs::read_to_string(&path).await.unwrap(), "text now");
            let renamed = nested.join("renamed.txt");
            fs::rename(&path, &renamed).await.unwrap();
            assert_eq!(fs::metadata(&path).await.unwrap_err().kind(), ErrorKind::NotFound);
            fs::remove_file(&renamed).await.unwrap();
            fs::remove_dir(&nested).await.unwrap();
            assert_eq!(fs::read(&renamed).await.unwrap_err().kind(), ErrorKind::NotFound);
            assert_eq!(fs::remove_file(&renamed).await.unwrap_err().kind(), ErrorKind::NotFound);
        }
    });
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_file_writes_seeks_and_reads_through_futures_io_on_a_multi_threaded_runtime() {
    let dir = temp_dir();
    run_on_worker_flavors(2, {
        let dir = dir.clone();
        move || {
            let dir = dir.clone();
            async move {
                fs::create_dir_all(&dir).await.unwrap();
                let path = dir.join("file.bin");
                let data = pattern(1 << 20);
                let mut file = File::create(&path).await.unwrap();
                // Several chunks (writes hand at most 64 KiB to the pool at a time).
                file.write_all(&data).await.unwrap();
                file.flush().await.unwrap();
                assert_eq!(file.metadata().await.unwrap().len(), data.len() as u64);
                drop(file);

                let mut file = File::open(&path).await.unwrap();
                let mut back = Vec::new();
                file.read_to_end(&mut back).await.unwrap();
                assert!(back == data, "the file's contents differ");
                assert_eq!(file.seek(SeekFrom::Start(1000)).await.unwrap(), 1000);
                let mut slice = [0u8; 100];
                file.read_exact(&mut slice).await.unwrap();
                assert_eq!(&slice[..], &data[1000..1100]);
                assert_eq!(file.seek(SeekFrom::Current(-50)).await.unwrap(), 1050);
                assert_eq!(file.seek(SeekFrom::End(-10)).await.unwrap(), data.len() as u64 - 10);
                let mut tail = Vec::new();
                file.read_to_end(&mut tail).await.unwrap();
                assert_eq!(&tail[..], &data[data.len() - 10..]);
                let std_file = file.into_std().await.unwrap();
                assert_eq!(std_file.metadata().unwrap().len(), data.len() as u64);
            }
        }
    });
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn set_len_and_sync_all_wait_for_the_writes_before_them() {
    let dir = temp_dir();
    run({
        let dir = dir.clone();
        || async move {
            fs::create_dir_all(&dir).await.unwrap();
            let path = dir.join("grow.bin");
            let mut file = File::create(&path).await.unwrap();
            file.write_all(b"0123456789").await.unwrap();
            file.set_len(4).await.unwrap();
            file.sync_all().await.unwrap();
            assert_eq!(fs::read(&path).await.unwrap(), b"0123");
        }
    });
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn opening_a_missing_file_or_writing_a_read_only_one_fails_clearly() {
    let dir = temp_dir();
    run({
        let dir = dir.clone();
        || async move {
            let error = File::open(dir.join("missing")).await.expect_err("no such file");
            assert_eq!(error.kind(), ErrorKind::NotFound);
            fs::create_dir_all(&dir).await.unwrap();
            let path = dir.join("read-only.txt");
            fs::write(&path, "x").await.unwrap();
            let mut file = File::open(&path).await.unwrap(); // opened for reading only
                                                             // The write is handed to the pool; its failure comes back from `flush`.
            let _ = file.write(b"y").await;
            let error = file.flush().await.expect_err("the file is not open for writing");
            assert_eq!(error.raw_os_error(), Some(libc::EBADF));
        }
    });
    std::fs::remove_dir_all(dir).unwrap();
}

/// tokio's `File` surface beyond the traits: a vectored write takes every buffer that fits,
/// `set_max_buf_size`, `try_clone`, `try_into_std`, and the raw-fd traits.
#[test]
fn a_file_s_vectored_write_clone_max_buffer_and_raw_fd() {
    use std::io::IoSlice;
    use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
    let dir = temp_dir();
    run({
        let dir = dir.clone();
        || async move {
            fs::create_dir_all(&dir).await.unwrap();
            let path = dir.join("surface.bin");
            let mut file = File::create(&path).await.unwrap();
            let n = file
                .write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b""), IoSlice::new(b"cde")])
                .await
                .unwrap();
            assert_eq!(n, 5, "more than the first buffer");
            file.set_max_buf_size(4);
            assert_eq!(file.write(b"0123456789").await.unwrap(), 4, "at most the buffer size");
            // A write is in flight: the file cannot be handed back synchronously yet.
            let file = file.try_into_std().expect_err("a write in flight");
            let mut file = file;
            file.flush().await.unwrap();
            let std_file = file.try_into_std().expect("idle");
            assert_eq!(std_file.metadata().unwrap().len(), 9);

            // The raw-fd traits, and a clone sharing the offset.
            let raw = std::fs::File::open(&path).unwrap().into_raw_fd();
            // SAFETY: `raw` was just released by its `std::fs::File`; nothing else owns it.
            let mut reader = unsafe { File::from_raw_fd(raw) };
            assert_eq!(reader.as_raw_fd(), raw);
            let mut clone = reader.try_clone().await.unwrap();
            let mut two = [0u8; 2];
            reader.read_exact(&mut two).await.unwrap();
            assert_eq!(&two, b"ab");
            let mut rest = Vec::new();
            clone.read_to_end(&mut rest).await.unwrap();
            assert_eq!(rest, b"cde0123", "the clone goes on from the shared offset");
        }
    });
    std::fs::remove_dir_all(dir).unwrap();
}
