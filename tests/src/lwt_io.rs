//! Lwt_io's channels on every engine: in memory ([`SharedBytes`]) and over
//! writers and readers written here, so nothing of an engine is needed.

use std::cell::{Cell, RefCell};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures::io::{AsyncRead, AsyncWrite};
use lwt::io::{InputChannel, OutputChannel, SharedBytes};

use crate::log::ms;
use crate::Outcome;

/// A writer that records each `poll_write` call (one per system call, for
/// a socket).
#[derive(Clone, Default)]
struct Recorder {
    writes: Rc<RefCell<Vec<Vec<u8>>>>,
}

impl AsyncWrite for Recorder {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.writes.borrow_mut().push(buf.to_vec());
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A reader with nothing to read yet: it keeps the waker and stays pending
/// until `fed` holds bytes.
#[derive(Clone, Default)]
struct Feed {
    fed: Rc<RefCell<Vec<u8>>>,
    waker: Rc<RefCell<Option<Waker>>>,
    dropped: Rc<Cell<bool>>,
}

struct FeedReader(Feed);

impl Drop for FeedReader {
    fn drop(&mut self) {
        self.0.dropped.set(true);
    }
}

impl AsyncRead for FeedReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut fed = self.0.fed.borrow_mut();
        if fed.is_empty() {
            *self.0.waker.borrow_mut() = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.len().min(fed.len());
        buf[..n].copy_from_slice(&fed[..n]);
        fed.drain(..n);
        Poll::Ready(Ok(n))
    }
}

/// Writes, then reads back in memory: lines, bytes, characters, numbers in
/// both byte orders, exact reads into buffers.
pub async fn in_memory_round_trip() -> Outcome {
    let bytes = SharedBytes::new();
    let oc = OutputChannel::of_bytes(bytes.clone());
    oc.write_line("first line").await?;
    oc.write_byte(b'#').await?;
    oc.write_char('λ').await?;
    oc.write_i16_le(-2).await?;
    oc.write_i16_be(-3).await?;
    oc.write_u16_be(0xABCD).await?;
    oc.write_u32_le(0xDEAD_BEEF).await?;
    oc.write_i32_be(-70_000).await?;
    oc.write_u64_be(u64::MAX - 1).await?;
    oc.write_i64_le(i64::MIN).await?;
    oc.write_f32_be(1.5).await?;
    oc.write_f64_le(-0.25).await?;
    oc.write_from_exactly(&b"..tail.."[2..6]).await?;
    oc.flush().await?;
    let mut expected = b"first line\n#".to_vec();
    expected.extend_from_slice("λ".as_bytes());
    expected.extend_from_slice(&(-2i16).to_le_bytes());
    expected.extend_from_slice(&(-3i16).to_be_bytes());
    expected.extend_from_slice(&[0xAB, 0xCD]);
    expected.extend_from_slice(&[0xEF, 0xBE, 0xAD, 0xDE]);
    expected.extend_from_slice(&(-70_000i32).to_be_bytes());
    expected.extend_from_slice(&(u64::MAX - 1).to_be_bytes());
    expected.extend_from_slice(&i64::MIN.to_le_bytes());
    expected.extend_from_slice(&1.5f32.to_be_bytes());
    expected.extend_from_slice(&(-0.25f64).to_le_bytes());
    expected.extend_from_slice(b"tail");
    assert_eq!(bytes.to_vec(), expected);

    let ic = InputChannel::of_bytes(bytes);
    assert_eq!(ic.read_line().await?.as_deref(), Some("first line"));
    assert_eq!(ic.read_byte().await?, b'#');
    assert_eq!(ic.read_char().await?, 'λ');
    assert_eq!(ic.read_i16_le().await?, -2);
    assert_eq!(ic.read_i16_be().await?, -3);
    assert_eq!(ic.read_u16_be().await?, 0xABCD);
    assert_eq!(ic.read_u32_le().await?, 0xDEAD_BEEF);
    assert_eq!(ic.read_i32_be().await?, -70_000);
    assert_eq!(ic.read_u64_be().await?, u64::MAX - 1);
    assert_eq!(ic.read_i64_le().await?, i64::MIN);
    assert_eq!(ic.read_f32_be().await?, 1.5);
    assert_eq!(ic.read_f64_le().await?, -0.25);
    let mut tail = [0u8; 4];
    ic.read_into_exactly(&mut tail).await?;
    assert_eq!(&tail, b"tail");
    assert_eq!(ic.read_byte_opt().await?, None);
    assert_eq!(ic.read_line().await?, None);
    Ok(())
}

/// Reading past the end is an end-of-file error (`is_end_of_file`), for
/// every exact read; the `_opt` reads give `None` instead.
pub async fn reads_past_the_end_are_end_of_file() -> Outcome {
    let ic = InputChannel::of_bytes(&[1u8, 2, 3][..]);
    let e = ic.read_u32_le().await.unwrap_err();
    assert!(e.is_end_of_file(), "{e}");
    assert!(ic.read_byte().await.unwrap_err().is_end_of_file());
    assert_eq!(ic.read_byte_opt().await?, None);
    let mut buf = [0u8; 2];
    assert!(ic
        .read_into_exactly(&mut buf)
        .await
        .unwrap_err()
        .is_end_of_file());
    assert!(ic.read_exactly(1).await.unwrap_err().is_end_of_file());
    assert_eq!(ic.read_into(&mut buf).await?, 0);
    // A character cut by the end; bytes that are not UTF-8.
    let ic = InputChannel::of_bytes(&"λ".as_bytes()[..1]);
    assert!(ic.read_char().await.unwrap_err().is_end_of_file());
    let ic = InputChannel::of_bytes(&[0xFFu8, b'a'][..]);
    let e = ic.read_char().await.unwrap_err();
    assert!(
        !e.is_end_of_file() && e.to_string().contains("UTF-8"),
        "{e}"
    );
    assert_eq!(ic.read_char().await?, 'a');
    assert_eq!(ic.read_char_opt().await?, None);
    Ok(())
}

/// Output flushes on its own after the turn, and many writes of one turn
/// leave in one write call; an explicit flush still sends at once.
pub async fn output_flushes_on_its_own_after_the_turn() -> Outcome {
    let rec = Recorder::default();
    let oc = OutputChannel::new(rec.clone());
    for i in 0..100 {
        oc.write_line(&format!("line {i}")).await?;
    }
    assert!(
        rec.writes.borrow().is_empty(),
        "nothing leaves during the turn"
    );
    lwt::pause().await?; // queued after the auto-flush's own pause
    {
        let writes = rec.writes.borrow();
        assert_eq!(writes.len(), 1, "one write for the whole turn");
        assert!(writes[0].starts_with(b"line 0\n") && writes[0].ends_with(b"line 99\n"));
    }
    oc.write(b"now").await?;
    oc.flush().await?;
    assert_eq!(
        rec.writes.borrow().last().map(Vec::as_slice),
        Some(&b"now"[..])
    );
    assert_eq!(rec.writes.borrow().len(), 2);
    lwt::pause().await?; // queued after the auto-flush's own pause
    assert_eq!(
        rec.writes.borrow().len(),
        2,
        "nothing left for the auto-flush"
    );
    // Writes from two tasks in one turn: still one write.
    let a = lwt::spawn({
        let oc = oc.clone();
        async move { oc.write(b"a").await }
    });
    let b = lwt::spawn({
        let oc = oc.clone();
        async move { oc.write(b"b").await }
    });
    a.await?;
    b.await?;
    lwt::pause().await?; // queued after the auto-flush's own pause
    assert_eq!(rec.writes.borrow().len(), 3);
    assert_eq!(rec.writes.borrow()[2], b"ab");
    Ok(())
}

/// `atomic` gives exclusive use: the other handles wait, in order; the
/// temporary channel fails once `atomic` returned, and cannot be closed.
pub async fn atomic_is_exclusive() -> Outcome {
    let bytes = SharedBytes::new();
    let oc = OutputChannel::of_bytes(bytes.clone());
    let (leaked, leaked_tx) = lwt::wait::<OutputChannel>();
    let record = lwt::spawn({
        let oc = oc.clone();
        async move {
            oc.atomic(|tmp| async move {
                tmp.write(b"<").await?;
                lwt::sleep(ms(2)).await?;
                assert!(tmp.close().await.unwrap_err().is_invalid_argument());
                tmp.write(b">").await?;
                leaked_tx.resolve(tmp)?;
                Ok(7)
            })
            .await
        }
    });
    let other = lwt::spawn({
        let oc = oc.clone();
        async move { oc.write(b"x").await }
    });
    assert_eq!(record.await?, 7);
    other.await?;
    oc.flush().await?;
    assert_eq!(bytes.to_vec(), b"<>x");
    let tmp = leaked.await?;
    assert!(tmp.write(b"late").await.unwrap_err().is_invalid_argument());

    let ic = InputChannel::of_bytes("a\nb\nc\n");
    let second = lwt::spawn({
        let ic = ic.clone();
        async move {
            ic.atomic(|ic| async move {
                lwt::sleep(ms(1)).await?;
                Ok((ic.read_line().await?, ic.read_line().await?))
            })
            .await
        }
    });
    let third = lwt::spawn({
        let ic = ic.clone();
        async move { ic.read_line().await }
    });
    assert_eq!(second.await?, (Some("a".into()), Some("b".into())));
    assert_eq!(third.await?.as_deref(), Some("c"));
    Ok(())
}

/// Positions: counted on every channel, set on seekable ones (in memory);
/// setting one on a channel that cannot seek is an error that leaves it
/// usable.
pub async fn positions() -> Outcome {
    let bytes = SharedBytes::from("0123456789");
    let ic = InputChannel::of_bytes(bytes.clone());
    assert_eq!(ic.position(), 0);
    assert_eq!(ic.read_exactly(3).await?, b"012");
    assert_eq!(ic.position(), 3);
    ic.set_position(8).await?;
    assert_eq!(ic.read_to_end().await?, b"89");
    ic.set_position(1).await?;
    assert_eq!(ic.read_byte().await?, b'1');
    assert_eq!(ic.position(), 2);

    let oc = OutputChannel::of_bytes(bytes.clone());
    oc.write(b"ab").await?;
    assert_eq!(oc.position(), 2);
    oc.set_position(12).await?; // past the end: a gap of zeros
    oc.write(b"!").await?;
    oc.flush().await?;
    assert_eq!(oc.position(), 13);
    assert_eq!(bytes.to_vec(), b"ab23456789\0\0!");

    let rec = Recorder::default();
    let pipe = OutputChannel::new(rec.clone());
    pipe.write(b"kept").await?;
    let e = pipe.set_position(0).await.unwrap_err();
    assert!(e.is_invalid_argument(), "{e}");
    pipe.flush().await?;
    assert_eq!(rec.writes.borrow().concat(), b"kept");
    let feed = Feed::default();
    feed.fed.borrow_mut().extend_from_slice(b"z");
    let input = InputChannel::new(FeedReader(feed));
    assert!(input
        .set_position(0)
        .await
        .unwrap_err()
        .is_invalid_argument());
    assert_eq!(input.read_byte().await?, b'z');
    assert_eq!(input.position(), 1);
    Ok(())
}

/// Closing an input channel wakes a read waiting on it, which fails as
/// closed, and drops the reader; closing an output channel flushes it;
/// later operations fail as closed.
pub async fn close() -> Outcome {
    let feed = Feed::default();
    let ic = InputChannel::new(FeedReader(feed.clone()));
    let waiting = lwt::spawn({
        let ic = ic.clone();
        async move { ic.read_line().await }
    });
    lwt::sleep(ms(1)).await?;
    assert!(waiting.is_pending());
    ic.close().await?;
    assert!(feed.dropped.get(), "the reader is dropped");
    let e = waiting.await.unwrap_err();
    assert!(e.is_closed(), "{e}");
    assert!(ic.read_byte().await.unwrap_err().is_closed());
    ic.close().await?; // again: nothing

    let rec = Recorder::default();
    let oc = OutputChannel::new(rec.clone());
    oc.write(b"last").await?;
    oc.close().await?;
    assert_eq!(rec.writes.borrow().concat(), b"last");
    assert!(oc.is_closed());
    assert!(oc.write(b"more").await.unwrap_err().is_closed());
    assert!(oc.flush().await.unwrap_err().is_closed());
    oc.close().await?;
    Ok(())
}

/// `read_into` takes what is there; `write_from` takes what fits in the
/// buffer; `lines` reads under the lock.
pub async fn partial_reads_and_writes() -> Outcome {
    let feed = Feed::default();
    feed.fed.borrow_mut().extend_from_slice(b"abc");
    let ic = InputChannel::new(FeedReader(feed.clone()));
    let mut buf = [0u8; 10];
    assert_eq!(ic.read_into(&mut buf).await?, 3);
    assert_eq!(&buf[..3], b"abc");
    assert_eq!(ic.read_into(&mut []).await?, 0);

    let rec = Recorder::default();
    let oc = OutputChannel::with_capacity(4, rec.clone());
    assert_eq!(oc.write_from(b"0123456").await?, 4);
    assert_eq!(
        oc.write_from(b"456").await?,
        3,
        "the full buffer was sent first"
    );
    assert_eq!(oc.write_from(b"").await?, 0);
    oc.flush().await?;
    assert_eq!(rec.writes.borrow().concat(), b"0123456");

    use futures::StreamExt;
    let lines: Vec<String> = InputChannel::of_bytes("x\ny\nz")
        .lines()
        .map(|l| l.unwrap())
        .collect()
        .await;
    assert_eq!(lines, ["x", "y", "z"]);
    Ok(())
}
