//! HTTP/1.1 on top of `httparse`: the request head, static files, the lab's
//! endpoints, and refusals with clear 4xx statuses.

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use lwt::{Error, Promise};
use lwt_native::net::TcpStream;

use crate::{State, HEAD_TIMEOUT, MAX_HEAD_BYTES, MAX_SLOW_MS};

/// A parsed request head.
pub(crate) struct Head {
    pub(crate) method: String,
    pub(crate) target: String,
    /// Header names in lower case.
    pub(crate) headers: Vec<(String, String)>,
    /// Bytes read past the head.
    pub(crate) rest: Vec<u8>,
}

impl Head {
    /// The target's path, without the query.
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The value of query parameter `name`.
    fn query(&self, name: &str) -> Option<&str> {
        let q = self.target.split_once('?')?.1;
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// The value of header `name` (lower case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A request refused: its status and why.
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn new(status: u16, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
        }
    }
}

/// Reads one request head: `None` when the client closes before sending
/// anything.
pub(crate) async fn read_head(stream: &TcpStream) -> Result<Option<Head>, Refusal> {
    let mut buf = Vec::new();
    let deadline = lwt::sleep(HEAD_TIMEOUT);
    let timed_out = deadline.clone().map(|()| None);
    let result = loop {
        let read = stream.read_some(4096);
        let first = lwt::choose(vec![read.clone().map(Some), timed_out.clone()]);
        let chunk = match first.await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => {
                read.cancel();
                break Err(Refusal::new(408, "no request head within 10 s"));
            }
            Err(_) => break Ok(None),
        };
        if chunk.is_empty() {
            break if buf.is_empty() {
                Ok(None)
            } else {
                Err(Refusal::new(400, "the request head is incomplete"))
            };
        }
        buf.extend_from_slice(&chunk);
        let mut headers = [httparse::EMPTY_HEADER; 48];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(n)) if n > MAX_HEAD_BYTES => {
                break Err(Refusal::new(431, "the request head is too large"));
            }
            Ok(httparse::Status::Complete(n)) => {
                let head = Head {
                    method: req.method.unwrap_or("").to_owned(),
                    target: req.path.unwrap_or("").to_owned(),
                    headers: req
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_ascii_lowercase(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect(),
                    rest: buf[n..].to_vec(),
                };
                break Ok(Some(head));
            }
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => {
                break Err(Refusal::new(431, "the request head is too large"));
            }
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => {
                break Err(Refusal::new(431, "too many request headers"));
            }
            Err(e) => break Err(Refusal::new(400, format!("malformed request: {e}"))),
        }
    };
    deadline.cancel();
    result
}

/// The reason phrase of `status`.
fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "Error",
    }
}

/// Writes a whole response and closes the writing side.
pub(crate) async fn send(
    stream: &TcpStream,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    head_only: bool,
) -> Result<(), Error> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    if !head_only {
        bytes.extend_from_slice(body);
    }
    stream.send_all(bytes).await?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Ok(())
}

/// Answers a refused request with its status and a plain-text explanation.
pub(crate) async fn send_refusal(
    stream: &TcpStream,
    refusal: &Refusal,
    head_only: bool,
) -> Result<(), Error> {
    let body = format!(
        "{} {}: {}\n",
        refusal.status,
        reason(refusal.status),
        refusal.message
    );
    let mut headers = vec![("Content-Type", "text/plain; charset=utf-8")];
    if refusal.status == 405 {
        headers.push(("Allow", "GET, HEAD"));
    }
    send(stream, refusal.status, &headers, body.as_bytes(), head_only).await
}

/// The `Content-Type` of a file, by its extension.
///
/// ```
/// use lwt_www_server::content_type;
/// assert_eq!(content_type("app_bg.wasm"), "application/wasm");
/// assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
/// assert_eq!(content_type("x.unknown"), "application/octet-stream");
/// ```
pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "ts" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Percent-decodes a path; `None` when an escape is malformed or the result
/// is not UTF-8.
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The file under `root` (canonical) that `path` names, or why there is
/// none.
pub(crate) fn resolve(root: &Path, path: &str) -> Result<PathBuf, Refusal> {
    if !path.starts_with('/') {
        return Err(Refusal::new(400, "the path must start with /"));
    }
    let decoded = percent_decode(path)
        .ok_or_else(|| Refusal::new(400, "the path has a malformed %-escape"))?;
    if decoded.contains('\\') || decoded.contains('\0') {
        return Err(Refusal::new(400, "the path has a backslash or NUL"));
    }
    let mut rel = PathBuf::new();
    for part in decoded.split('/') {
        match part {
            "" => {}
            "." | ".." => {
                return Err(Refusal::new(
                    400,
                    "the path has a . or .. segment (path traversal)",
                ))
            }
            p => rel.push(p),
        }
    }
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(Refusal::new(400, "the path is not a plain relative path"));
    }
    let mut file = root.join(&rel);
    if file.is_dir() {
        file.push("index.html");
    }
    let Ok(real) = file.canonicalize() else {
        return Err(Refusal::new(404, format!("no such file: {path}")));
    };
    if !real.starts_with(root) {
        return Err(Refusal::new(
            403,
            "the path leads out of the served directory",
        ));
    }
    if !real.is_file() {
        return Err(Refusal::new(404, format!("no such file: {path}")));
    }
    Ok(real)
}

/// Answers an HTTP request (not a WebSocket upgrade).
pub(crate) async fn respond(
    state: &Rc<State>,
    stream: &TcpStream,
    head: &Head,
    peer: SocketAddr,
) -> Result<(), Error> {
    state.stat(|s| s.http_requests += 1);
    let head_only = head.method == "HEAD";
    // Decided before anything is written: a failure to write the answer is
    // an I/O error of this connection, not a second (500) answer.
    match route(state, stream, head, head_only).await {
        Ok(Some((ctype, body))) => {
            send(stream, 200, &[("Content-Type", ctype)], &body, head_only).await
        }
        Ok(None) => Ok(()),
        Err(refusal) => {
            state.stat(|s| s.http_rejected += 1);
            state.log(format_args!(
                "{peer}: {} {} -> {} {}",
                head.method, head.target, refusal.status, refusal.message
            ));
            send_refusal(stream, &refusal, head_only).await
        }
    }
}

/// A 200 answer: its content type and body.
type Answer = (&'static str, Vec<u8>);

/// What to answer `head` with: an answer, nothing (the client went away),
/// or a refusal.
async fn route(
    state: &Rc<State>,
    stream: &TcpStream,
    head: &Head,
    head_only: bool,
) -> Result<Option<Answer>, Refusal> {
    if head.method != "GET" && !head_only {
        return Err(Refusal::new(
            405,
            format!("{} is not allowed here", head.method),
        ));
    }
    match head.path() {
        "/api/stats" => {
            let body = serde_json::to_vec(&*state.stats.borrow()).unwrap_or_default();
            Ok(Some(("application/json", body)))
        }
        "/api/slow" => slow(state, stream, head).await,
        path if path.starts_with("/api/") => {
            Err(Refusal::new(404, format!("no such endpoint: {path}")))
        }
        path => {
            let file = resolve(&state.root, path)?;
            let body = lwt_native::fs::read(&file)
                .await
                .map_err(|e| Refusal::new(404, format!("cannot read {path}: {e}")))?;
            Ok(Some((content_type(&file.to_string_lossy()), body)))
        }
    }
}

/// `GET /api/slow?ms=N`: answers after `N` ms, unless the client goes away
/// first (the lab's cancelable fetch; the server counts both outcomes).
async fn slow(
    state: &Rc<State>,
    stream: &TcpStream,
    head: &Head,
) -> Result<Option<Answer>, Refusal> {
    let ms: u64 = head
        .query("ms")
        .unwrap_or("1000")
        .parse()
        .map_err(|_| Refusal::new(400, "ms must be a whole number of milliseconds"))?;
    if ms > MAX_SLOW_MS {
        return Err(Refusal::new(
            400,
            format!("ms must be at most {MAX_SLOW_MS}"),
        ));
    }
    state.stat(|s| s.slow_started += 1);
    let done = lwt::sleep(Duration::from_millis(ms)).map(|()| true);
    // Any read completion (end of stream, reset, stray bytes) means the
    // client is not waiting for this answer any more.
    let gone = stream
        .read_some(1)
        .map(|_| false)
        .catch(|_| Promise::resolved(false));
    let answered = lwt::pick(vec![done, gone]).await.unwrap_or(false);
    if !answered {
        state.stat(|s| s.slow_aborted += 1);
        state.log(format_args!(
            "/api/slow: the client went away before {ms} ms"
        ));
        return Ok(None);
    }
    state.stat(|s| s.slow_completed += 1);
    let body = format!("{{\"waited_ms\":{ms}}}");
    Ok(Some(("application/json", body.into_bytes())))
}
