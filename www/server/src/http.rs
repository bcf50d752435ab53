//! HTTP on hyper: the per-connection settings, the service that routes each
//! request (static files, the lab's endpoints, the WebSocket upgrade), and
//! refusals with clear 4xx statuses.

use std::future::Future;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{
    HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use lwt::{Error, Promise};
use lwt_native::hyper::LwtTimer;

use crate::{State, MAX_HEAD_BYTES, MAX_SLOW_MS};

/// The body of every response: whole, or a file read as it is sent.
pub(crate) enum Body {
    Full(Full<Bytes>),
    File(FileBody),
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            Body::Full(b) => Pin::new(b).poll_frame(cx).map_err(|never| match never {}),
            Body::File(b) => Pin::new(b).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Full(b) => b.is_end_stream(),
            Body::File(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(b) => b.size_hint(),
            Body::File(b) => b.size_hint(),
        }
    }
}

/// hyper's HTTP/1 settings for one connection: the head size and time
/// limits, header names in their usual capitals (`Content-Type`), and
/// keep-alive, whose idle time is bounded by the same header-read timeout.
pub(crate) fn http1(head_timeout: Duration) -> http1::Builder {
    let mut b = http1::Builder::new();
    b.timer(LwtTimer)
        .header_read_timeout(head_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .title_case_headers(true);
    b
}

/// A request refused: its status and why.
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
        }
    }
}

/// A whole body.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Body::Full(Full::new(bytes.into()))
}

/// A response with the headers every answer has.
pub(crate) fn response(status: StatusCode, content_type: &str, body: Body) -> Response<Body> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(CONTENT_TYPE, v);
    }
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

/// The answer to a refused request: its status and a plain-text
/// explanation.
pub(crate) fn refusal_response(refusal: &Refusal) -> Response<Body> {
    let body = format!(
        "{} {}: {}\n",
        refusal.status.as_u16(),
        refusal.status.canonical_reason().unwrap_or("Error"),
        refusal.message
    );
    let mut r = response(refusal.status, "text/plain; charset=utf-8", full(body));
    if refusal.status == StatusCode::METHOD_NOT_ALLOWED {
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    r
}

/// The `Content-Type` of a file, by its extension (`mime_guess`'s table;
/// text and JavaScript say they are UTF-8).
///
/// ```
/// use lwt_www_server::content_type;
/// assert_eq!(content_type("app_bg.wasm"), "application/wasm");
/// assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
/// assert_eq!(content_type("x.unknown"), "application/octet-stream");
/// ```
pub fn content_type(path: &str) -> String {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let textual = mime.type_() == mime_guess::mime::TEXT
        || mime.subtype() == mime_guess::mime::JAVASCRIPT
        || mime.subtype() == mime_guess::mime::JSON;
    if textual && mime.get_param(mime_guess::mime::CHARSET).is_none() {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    }
}

/// Percent-decodes a path; `None` when an escape is malformed (a `%` not
/// followed by two hex digits) or the result is not UTF-8.
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// The file under `root` (canonical) that `path` names, or why there is
/// none.
pub(crate) fn resolve(root: &Path, path: &str) -> Result<PathBuf, Refusal> {
    let bad = |m: &str| Refusal::new(StatusCode::BAD_REQUEST, m);
    let missing = || Refusal::new(StatusCode::NOT_FOUND, format!("no such file: {path}"));
    if !path.starts_with('/') {
        return Err(bad("the path must start with /"));
    }
    let decoded = percent_decode(path).ok_or_else(|| bad("the path has a malformed %-escape"))?;
    if decoded.contains('\\') || decoded.contains('\0') {
        return Err(bad("the path has a backslash or NUL"));
    }
    let mut rel = PathBuf::new();
    for part in decoded.split('/') {
        match part {
            "" => {}
            "." | ".." => return Err(bad("the path has a . or .. segment (path traversal)")),
            p => rel.push(p),
        }
    }
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(bad("the path is not a plain relative path"));
    }
    let mut file = root.join(&rel);
    if file.is_dir() {
        file.push("index.html");
    }
    let Ok(real) = file.canonicalize() else {
        return Err(missing());
    };
    if !real.starts_with(root) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "the path leads out of the served directory",
        ));
    }
    if !real.is_file() {
        return Err(missing());
    }
    Ok(real)
}

/// The value of query parameter `name` of `req`.
fn query<'a>(req: &'a Request<Incoming>, name: &str) -> Option<&'a str> {
    req.uri()
        .query()?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// What to answer a request other than the upgrade with. hyper leaves the
/// body out of the answer to a `HEAD`.
pub(crate) async fn route(
    state: &Rc<State>,
    req: &Request<Incoming>,
) -> Result<Response<Body>, Refusal> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{} is not allowed here", req.method()),
        ));
    }
    match req.uri().path() {
        "/api/stats" => {
            let body = serde_json::to_vec(&state.all_stats()).unwrap_or_default();
            Ok(response(StatusCode::OK, "application/json", full(body)))
        }
        "/api/slow" => slow(state, req).await,
        path if path.starts_with("/api/") => Err(Refusal::new(
            StatusCode::NOT_FOUND,
            format!("no such endpoint: {path}"),
        )),
        path => {
            let file = resolve(&state.root, path)?;
            let cannot =
                |e: Error| Refusal::new(StatusCode::NOT_FOUND, format!("cannot read {path}: {e}"));
            let len = lwt_native::fs::metadata(&file).await.map_err(cannot)?.len();
            // A HEAD's answer says the length and reads none of the file.
            let body = if req.method() == Method::HEAD {
                full(Bytes::new())
            } else {
                let opened = lwt_native::fs::File::open(&file).await.map_err(cannot)?;
                Body::File(FileBody::new(opened, len))
            };
            let mut r = response(StatusCode::OK, &content_type(&file.to_string_lossy()), body);
            r.headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(len));
            Ok(r)
        }
    }
}

/// How much of a file one read takes, and so the most of it in memory per
/// response (with hyper's write buffer, at most [`MAX_HEAD_BYTES`]-sized
/// beyond it).
pub const FILE_CHUNK: usize = 64 * 1024;

/// A file as a body, read [`FILE_CHUNK`] at a time as hyper asks for the
/// next part: hyper asks only when its write buffer has room, so a client
/// that reads slowly (or not at all) holds one chunk, not the file.
pub(crate) struct FileBody {
    file: lwt_native::fs::File,
    /// The bytes still to send.
    left: u64,
    reading: Option<Promise<Vec<u8>>>,
}

impl FileBody {
    fn new(file: lwt_native::fs::File, len: u64) -> FileBody {
        FileBody {
            file,
            left: len,
            reading: None,
        }
    }
}

impl hyper::body::Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(self.left).map_or(FILE_CHUNK, |l| l.min(FILE_CHUNK));
        let this = &mut *self;
        let reading = this.reading.get_or_insert_with(|| this.file.read(want));
        let got = match Pin::new(reading).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(got) => got,
        };
        self.reading = None;
        let chunk = got.map_err(|e| std::io::Error::other(e.to_string()))?;
        if chunk.is_empty() {
            return Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file is shorter than when its length was read",
            ))));
        }
        self.left = self.left.saturating_sub(chunk.len() as u64);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

/// Counts an `/api/slow` request whose answer never came: hyper drops the
/// request's future when its client goes away, and this with it. It also
/// releases the timer at once.
struct SlowWait {
    state: Rc<State>,
    timer: Promise<()>,
    ms: u64,
    answered: bool,
}

impl Drop for SlowWait {
    fn drop(&mut self) {
        if !self.answered {
            self.timer.cancel();
            self.state.stat(|s| s.slow_aborted += 1);
            self.state.log(format_args!(
                "/api/slow: the client went away before {} ms",
                self.ms
            ));
        }
    }
}

/// `GET /api/slow?ms=N`: answers after `N` ms, unless the client goes away
/// first (the lab's cancelable fetch; the server counts both outcomes).
async fn slow(state: &Rc<State>, req: &Request<Incoming>) -> Result<Response<Body>, Refusal> {
    let ms: u64 = query(req, "ms").unwrap_or("1000").parse().map_err(|_| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "ms must be a whole number of milliseconds",
        )
    })?;
    if ms > MAX_SLOW_MS {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            format!("ms must be at most {MAX_SLOW_MS}"),
        ));
    }
    state.stat(|s| s.slow_started += 1);
    let mut wait = SlowWait {
        state: state.clone(),
        timer: lwt::sleep(Duration::from_millis(ms)),
        ms,
        answered: false,
    };
    if wait.timer.clone().await.is_err() {
        // Canceled: the server is shutting down.
        return Err(Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        ));
    }
    wait.answered = true;
    state.stat(|s| s.slow_completed += 1);
    let body = format!("{{\"waited_ms\":{ms}}}");
    Ok(response(StatusCode::OK, "application/json", full(body)))
}
