//! `fetch` as a cancelable lwt promise (js_of_ocaml-lwt's
//! `Lwt_xmlHttpRequest`).
//!
//! # Ground rules
//!
//! * One `AbortController` per request, created by [`fetch`] itself:
//!   canceling the response promise (directly, through `with_timeout`, or
//!   through `pick`) aborts the request. The controller is kept by the
//!   [`Response`], so reading its body is cancelable too.
//! * Network failures reject with the JS error inside (`TypeError: Failed to
//!   fetch`), with the URL as context. An HTTP error status is not a
//!   rejection of [`fetch`] itself: [`Response::error_for_status`] turns it
//!   into an [`lwt::Error`] carrying an [`HttpError`] (status and message).
//! * `fetch` is reached as a global, so it works in windows, workers and
//!   Node 18+.

use std::fmt;

use js_sys::Promise as JsPromise;
use lwt::{Error, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::sys;

/// An HTTP error status, inside the [`lwt::Error`] of
/// [`Response::error_for_status`] (`downcast_ref::<HttpError>()`).
///
/// ```no_run
/// let e = lwt::Error::new(lwt_wasm::HttpError { status: 404, status_text: "Not Found".into(), url: "/x".into() });
/// assert_eq!(e.downcast_ref::<lwt_wasm::HttpError>().unwrap().status, 404);
/// assert_eq!(e.to_string(), "HTTP 404 Not Found for /x");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpError {
    /// The status code.
    pub status: u16,
    /// The status message (`statusText`), empty over HTTP/2.
    pub status_text: String,
    /// The response's URL.
    pub url: String,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if !self.status_text.is_empty() {
            write!(f, " {}", self.status_text)?;
        }
        write!(f, " for {}", self.url)
    }
}

impl std::error::Error for HttpError {}

/// A fetched response: status, headers, and cancelable body readers.
///
/// ```no_run
/// let p = lwt_wasm::fetch_with_init("/api/items", &web_sys::RequestInit::new())
///     .bind(|r| lwt::from_result(r.error_for_status()))
///     .bind(|r| r.json());
/// # drop(p);
/// ```
#[derive(Clone, Debug)]
pub struct Response {
    raw: web_sys::Response,
    controller: Option<web_sys::AbortController>,
}

/// The lwt promise of `p` (the fetch or a body read); canceling it aborts
/// the request through `controller`.
fn aborting(
    p: Result<JsPromise, JsValue>,
    controller: &Option<web_sys::AbortController>,
) -> Promise<JsValue> {
    let js = match p {
        Ok(js) => js,
        Err(e) => return Promise::rejected(crate::js_to_error(e)),
    };
    let p = crate::from_js(&js);
    if let Some(c) = controller.clone() {
        p.on_cancel(move || c.abort());
    }
    p
}

impl Response {
    /// Wraps a `web_sys::Response` (one made with `new Response(..)`, say).
    ///
    /// ```no_run
    /// let raw = web_sys::Response::new_with_opt_str(Some("hi")).unwrap();
    /// let r = lwt_wasm::Response::from_raw(raw);
    /// assert_eq!(r.status(), 200);
    /// ```
    pub fn from_raw(raw: web_sys::Response) -> Response {
        Response {
            raw,
            controller: None,
        }
    }

    /// The `web_sys::Response`.
    ///
    /// ```no_run
    /// let r = lwt_wasm::Response::from_raw(web_sys::Response::new().unwrap());
    /// let _headers = r.raw().headers();
    /// ```
    pub fn raw(&self) -> &web_sys::Response {
        &self.raw
    }

    /// The status code.
    ///
    /// ```no_run
    /// let r = lwt_wasm::Response::from_raw(web_sys::Response::new().unwrap());
    /// assert_eq!(r.status(), 200);
    /// ```
    pub fn status(&self) -> u16 {
        self.raw.status()
    }

    /// True for a 2xx status.
    ///
    /// ```no_run
    /// let r = lwt_wasm::Response::from_raw(web_sys::Response::new().unwrap());
    /// assert!(r.ok());
    /// ```
    pub fn ok(&self) -> bool {
        self.raw.ok()
    }

    /// The response, or an error carrying an [`HttpError`] if the status is
    /// not 2xx.
    ///
    /// ```no_run
    /// let init = web_sys::ResponseInit::new();
    /// init.set_status(503);
    /// let raw = web_sys::Response::new_with_opt_str_and_init(None, &init).unwrap();
    /// let e = lwt_wasm::Response::from_raw(raw).error_for_status().unwrap_err();
    /// assert_eq!(e.downcast_ref::<lwt_wasm::HttpError>().unwrap().status, 503);
    /// ```
    pub fn error_for_status(self) -> Result<Response, Error> {
        if self.ok() {
            return Ok(self);
        }
        Err(Error::new(HttpError {
            status: self.status(),
            status_text: self.raw.status_text(),
            url: self.raw.url(),
        }))
    }

    /// The body as text. Canceling it aborts the request.
    ///
    /// ```no_run
    /// let r = lwt_wasm::Response::from_raw(web_sys::Response::new_with_opt_str(Some("hi")).unwrap());
    /// r.text().on_success(|t| assert_eq!(t, "hi"));
    /// ```
    pub fn text(&self) -> Promise<String> {
        aborting(self.raw.text(), &self.controller).map(|v| v.as_string().unwrap_or_default())
    }

    /// The body parsed as JSON.
    ///
    /// ```no_run
    /// let r = lwt_wasm::Response::from_raw(web_sys::Response::new_with_opt_str(Some("[1,2]")).unwrap());
    /// r.json().on_success(|v| assert!(js_sys::Array::is_array(&v)));
    /// ```
    pub fn json(&self) -> Promise<JsValue> {
        aborting(self.raw.json(), &self.controller)
    }

    /// The body as bytes.
    ///
    /// ```no_run
    /// let r = lwt_wasm::Response::from_raw(web_sys::Response::new_with_opt_str(Some("hi")).unwrap());
    /// r.bytes().on_success(|b| assert_eq!(b, b"hi"));
    /// ```
    pub fn bytes(&self) -> Promise<Vec<u8>> {
        aborting(self.raw.array_buffer(), &self.controller)
            .map(|buf| js_sys::Uint8Array::new(&buf).to_vec())
    }
}

fn start(input: &JsValue, init: &web_sys::RequestInit, what: String) -> Promise<Response> {
    let controller = web_sys::AbortController::new().ok();
    if let Some(c) = &controller {
        init.set_signal(Some(&c.signal()));
    }
    aborting(sys::fetch(input, init), &controller)
        .map_err(move |e| {
            if e.is_canceled() {
                e
            } else {
                e.context(format!("fetch {what}"))
            }
        })
        .map(move |v| Response {
            raw: v.unchecked_into(),
            controller,
        })
}

/// Sends `request`; the promise of its response (headers received). Cancel
/// it to abort the request; combine it with [`crate::with_timeout`].
///
/// ```no_run
/// use std::time::Duration;
/// let request = web_sys::Request::new_with_str("/api/items").unwrap();
/// let text = lwt_wasm::with_timeout(Duration::from_secs(5), &lwt_wasm::fetch(&request))
///     .bind(|r| lwt::from_result(r.error_for_status()))
///     .bind(|r| r.text());
/// # drop(text);
/// ```
pub fn fetch(request: &web_sys::Request) -> Promise<Response> {
    crate::install();
    start(request, &web_sys::RequestInit::new(), request.url())
}

/// Fetches `url` with `init` (method, headers, body; its signal is replaced
/// by the request's own `AbortController`).
///
/// ```no_run
/// let init = web_sys::RequestInit::new();
/// init.set_method("POST");
/// init.set_body(&"{}".into());
/// let p = lwt_wasm::fetch_with_init("/api/items", &init);
/// # drop(p);
/// ```
pub fn fetch_with_init(url: &str, init: &web_sys::RequestInit) -> Promise<Response> {
    crate::install();
    start(&JsValue::from_str(url), init, url.to_owned())
}
