//! hyper on lwt-native: serves "hello" on a free loopback port, fetches it
//! with hyper's client, prints the answer and exits.
//!
//! ```text
//! cargo run -p lwt-native --features hyper --example hyper_hello
//! ```

use std::convert::Infallible;

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use lwt_native::hyper::{handshake, serve, Http};
use lwt_native::net::{TcpListener, TcpStream};

fn main() -> Result<(), lwt::Error> {
    lwt_native::run(async {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
        let addr = listener.local_addr()?;
        let hello = service_fn(|_req: Request<Incoming>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("hello"))))
        });
        let (stop, stopper) = lwt::wait();
        let server = serve(listener, Http::http1(), hello, stop);
        println!("serving on http://{addr}/");

        let mut client = handshake(TcpStream::connect(addr).await?).await?;
        let req = Request::get("/")
            .header("host", addr.to_string())
            .body(Empty::<Bytes>::new())
            .map_err(lwt::Error::new)?;
        let resp = client.send_request(req).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        println!("{status}: {}", String::from_utf8_lossy(&body));
        drop(client);

        stopper.resolve(())?;
        server.await
    })
}
