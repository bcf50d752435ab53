//! A tokio-only crate from lwt code: reqwest (which needs a tokio runtime)
//! fetching from a hyper server that runs on the lwt-native loop, both in
//! this one program. The server listens on a free loopback port; reqwest
//! runs on `lwt_native::tokio_compat`'s runtime, and its answer comes back
//! to the loop as an lwt promise.
//!
//! ```text
//! cargo run -p lwt-native --features tokio,hyper --example reqwest_get
//! ```

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use lwt_native::hyper::{serve, Http};
use lwt_native::net::TcpListener;
use lwt_native::tokio_compat;

/// Serves one page on the loop, fetches it with reqwest on tokio, and
/// returns the status line and the body.
pub fn fetch_hello() -> Result<String, lwt::Error> {
    lwt_native::run(async {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
        let url = format!("http://{}/hello", listener.local_addr()?);
        let hello = service_fn(|req: Request<Incoming>| async move {
            let text = format!("hello from lwt-native ({})", req.uri().path());
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(text))))
        });
        let (stop, stopper) = lwt::wait();
        let server = serve(listener, Http::http1(), hello, stop);

        // reqwest's client and request run on tokio's threads.
        let fetched = tokio_compat::spawn_try(async move {
            let client = reqwest::Client::new();
            let resp = client.get(&url).send().await?;
            let status = resp.status();
            Ok::<_, reqwest::Error>(format!("{status}: {}", resp.text().await?))
        });
        let answer = fetched.await;

        stopper.resolve(())?;
        server.await?;
        answer
    })
}

#[allow(dead_code)]
fn main() -> Result<(), lwt::Error> {
    println!("{}", fetch_hello()?);
    Ok(())
}
