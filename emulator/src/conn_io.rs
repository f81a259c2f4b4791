//! A connection's socket as hyper sees it, with one addition: it can be told to end with
//! a TCP reset instead of an ordinary close.
//!
//! hyper owns the socket while it serves a connection, so the connection task cannot
//! reach it to change how it closes. This wrapper shares a flag with the task: when a
//! `reset` fault ends the connection, the task raises the flag and drops the connection,
//! and the wrapper sets `SO_LINGER` to zero just before the socket closes, which makes
//! the kernel send RST instead of FIN. The client sees "connection reset by peer".

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A TCP stream that closes with a reset once its flag is raised.
#[derive(Debug)]
pub(crate) struct ConnIo {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl ConnIo {
    /// Wraps `stream`; raising `reset` makes the eventual close a reset.
    pub(crate) fn new(stream: TcpStream, reset: Arc<AtomicBool>) -> Self {
        ConnIo { stream, reset }
    }
}

impl Drop for ConnIo {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Relaxed) {
            // `set_linger` is deprecated because a *non-zero* linger blocks the thread on
            // close; a zero linger never blocks (the kernel drops the socket at once and
            // sends RST). `set_zero_linger`, its replacement, needs tokio 1.50.
            #[allow(deprecated)]
            let _ = self.stream.set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
