//! Files on the blocking pool.

use std::io::ErrorKind;

#[test]
fn file_round_trip_and_errors() {
    let dir = std::env::temp_dir().join(format!("lwt-native-fs-{}", std::process::id()));
    let d = dir.clone();
    lwt_native::run(async move {
        use lwt_native::fs;
        fs::create_dir_all(d.join("sub")).await?;
        fs::write(d.join("a.txt"), "alpha\nbeta\n").await?;
        assert_eq!(fs::read_to_string(d.join("a.txt")).await?, "alpha\nbeta\n");
        assert_eq!(fs::copy(d.join("a.txt"), d.join("b.txt")).await?, 11);
        fs::rename(d.join("b.txt"), d.join("sub/c.txt")).await?;
        assert_eq!(fs::metadata(d.join("sub/c.txt")).await?.len(), 11);
        assert_eq!(fs::read_dir(&d).await?, [d.join("a.txt"), d.join("sub")]);
        let f = fs::File::open(d.join("a.txt")).await?;
        let ic = f.input_channel()?;
        assert_eq!(ic.read_line().await?.as_deref(), Some("alpha"));
        fs::remove_file(d.join("sub/c.txt")).await?;
        fs::remove_dir(d.join("sub")).await?;
        let e = fs::read(d.join("missing")).await.unwrap_err();
        assert_eq!(lwt_native::io_error_kind(&e), Some(ErrorKind::NotFound));
        fs::remove_file(d.join("a.txt")).await?;
        fs::remove_dir(&d).await
    })
    .unwrap();
    assert!(!dir.exists());
}
