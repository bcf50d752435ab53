//! Client connections as channels (Lwt_io's `open_connection` and
//! `with_connection`).

use std::future::Future;
use std::net::SocketAddr;

use lwt::Error;

use crate::io::{InputChannel, OutputChannel};
use crate::net::TcpStream;

/// Connects to `addr` over TCP (with `TCP_NODELAY`) and gives the
/// connection's channels (Lwt_io's `open_connection`). The socket closes
/// when both channels are closed, or dropped: closing the output channel
/// shuts down the writing side, so the peer reads end of input.
///
/// ```
/// use lwt_native::io::{establish_server, open_connection};
/// let reply = lwt_native::run(async {
///     let server = establish_server("127.0.0.1:0".parse().unwrap(), |_, ic, oc| {
///         lwt::spawn(async move {
///             let line = ic.read_line().await?.unwrap_or_default();
///             oc.write_line(&line.to_uppercase()).await
///         })
///     })?;
///     let (ic, oc) = open_connection(server.local_addr()).await?;
///     oc.write_line("shout").await?; // sent on its own after this turn
///     let reply = ic.read_line().await?;
///     server.shutdown().await?;
///     Ok(reply)
/// }).unwrap();
/// assert_eq!(reply.as_deref(), Some("SHOUT"));
/// ```
pub async fn open_connection(addr: SocketAddr) -> Result<(InputChannel, OutputChannel), Error> {
    let stream = TcpStream::connect(addr).await?;
    let _ = stream.set_nodelay(true);
    Ok((
        InputChannel::new(stream.clone()),
        OutputChannel::new(stream),
    ))
}

/// Connects to `addr`, runs `f` with the connection's channels, and closes
/// both when `f`'s future is done, whether it succeeded or failed, and even
/// if `f` kept a clone of them (Lwt_io's `with_connection`). `f`'s error
/// comes first; otherwise an error closing the output channel (its last
/// flush) is returned.
///
/// ```
/// use lwt_native::io::{establish_server, with_connection};
/// let reply = lwt_native::run(async {
///     let server = establish_server("127.0.0.1:0".parse().unwrap(), |_, ic, oc| {
///         lwt::spawn(async move {
///             while let Some(line) = ic.read_line().await? {
///                 oc.write_line(&format!("echo: {line}")).await?;
///             }
///             Ok(())
///         })
///     })?;
///     let reply = with_connection(server.local_addr(), |ic, oc| async move {
///         oc.write_line("ping").await?;
///         ic.read_line().await
///     })
///     .await?;
///     server.shutdown().await?;
///     Ok(reply)
/// }).unwrap();
/// assert_eq!(reply.as_deref(), Some("echo: ping"));
/// ```
pub async fn with_connection<T, F, Fut>(addr: SocketAddr, f: F) -> Result<T, Error>
where
    F: FnOnce(InputChannel, OutputChannel) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let (ic, oc) = open_connection(addr).await?;
    let closing = CloseOnDrop(Some((ic.clone(), oc.clone())));
    let result = f(ic, oc).await;
    let closed = closing.close().await;
    let value = result?;
    closed.map(|()| value)
}

/// The channels to close when a function is done with them; if its future
/// is dropped before, a task of their own closes them.
pub(crate) struct CloseOnDrop(pub(crate) Option<(InputChannel, OutputChannel)>);

impl CloseOnDrop {
    /// Closes the input, then flushes and closes the output (an input
    /// channel's close cannot fail).
    pub(crate) async fn close(mut self) -> Result<(), Error> {
        let Some((ic, oc)) = self.0.take() else {
            return Ok(());
        };
        let _ = ic.close().await;
        if oc.is_closed() {
            return Ok(());
        }
        oc.close().await
    }
}

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        if let Some((ic, oc)) = self.0.take() {
            // Dropped unfinished: the input closes now, the output sends what
            // it buffers and closes from a task of its own.
            let task = lwt::spawn(async move {
                let _ = ic.close().await;
                oc.close().await
            });
            drop(task);
        }
    }
}
