//! `cat`: copies files (or the standard input) to the standard output,
//! through lwt-native's buffered channels.
//!
//! ```text
//! cargo run -p lwt-native --example cat -- Cargo.toml
//! echo hello | cargo run -p lwt-native --example cat
//! ```
//!
//! Files are read on the blocking pool (`lwt_native::fs`); nothing blocks
//! the loop.

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let result = lwt_native::run(async move {
        let out = lwt_native::io::stdout();
        if files.is_empty() {
            let input = lwt_native::io::stdin();
            loop {
                let chunk = input.read(64 * 1024).await?;
                if chunk.is_empty() {
                    break;
                }
                out.write(&chunk).await?;
            }
        }
        for f in files {
            let data = lwt_native::fs::read(&f).await?;
            out.write(&data).await?;
        }
        out.flush().await
    });
    if let Err(e) = result {
        eprintln!("cat: {e}");
        std::process::exit(1);
    }
}
