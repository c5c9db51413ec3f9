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
