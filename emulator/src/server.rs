//! A running emulator: binding, the accept loop, and a bounded graceful stop.
//!
//! The emulator runs its own accept loop (hyper-util over tokio) rather than
//! `axum::serve`, so it owns every connection task: a stop closes the listener, asks each
//! connection to finish its in-flight request, waits at most
//! [`EmulatorConfig::shutdown_grace`], then aborts whatever is left. A stop therefore never
//! hangs, even with a client holding a stalled stream open.
//!
//! Each connection's socket is wrapped ([`crate::conn_io`]) so that a connection ended by
//! an injected `reset` fault closes with a TCP reset.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

use crate::config::EmulatorConfig;
use crate::conn_io::ConnIo;
use crate::faults::FaultSpec;
use crate::router;
use crate::script::{Abort, find_abort};
use crate::state::AppState;
use crate::stats::Stats;

/// A running emulator. Dropping it stops it, like [`Emulator::stop`].
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use blossom_emulator::{Emulator, EmulatorConfig};
///
/// let emulator = Emulator::spawn(EmulatorConfig::default())?; // no async runtime needed
/// assert!(emulator.base_url().starts_with("http://127.0.0.1:"));
/// assert_eq!(emulator.stats().requests_total, 0);
/// emulator.stop();
/// # Ok(())
/// # }
/// ```
pub struct Emulator {
    addr: SocketAddr,
    base_url: String,
    state: Arc<AppState>,
    stop: StopHandle,
    runner: Option<Runner>,
}

/// Where the server loop runs.
#[derive(Debug)]
enum Runner {
    /// A task on the caller's tokio runtime ([`Emulator::start`], [`Emulator::bind`]).
    Task(tokio::task::JoinHandle<()>),
    /// A dedicated thread with its own runtime ([`Emulator::spawn`]).
    Thread {
        thread: std::thread::JoinHandle<()>,
        done: oneshot::Receiver<()>,
    },
}

/// Stops an emulator from anywhere (another task, a signal handler). Cheap to clone.
#[derive(Debug, Clone)]
pub struct StopHandle(Arc<watch::Sender<bool>>);

impl StopHandle {
    /// Asks the emulator to stop: it stops accepting at once and closes connections once
    /// their in-flight requests end, or after the grace period. Idempotent.
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

impl Emulator {
    /// Starts an emulator on `127.0.0.1` with an ephemeral port, on the caller's tokio
    /// runtime.
    ///
    /// Fails when the port cannot be bound. Must be called inside a tokio runtime.
    pub async fn start(config: EmulatorConfig) -> io::Result<Emulator> {
        Self::bind(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Starts an emulator on `addr` on the caller's tokio runtime (the binary uses this).
    ///
    /// Fails when `addr` cannot be bound. Must be called inside a tokio runtime.
    pub async fn bind(config: EmulatorConfig, addr: SocketAddr) -> io::Result<Emulator> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let grace = config.shutdown_grace;
        let state = Arc::new(AppState::new(config));
        let (stop_tx, stop_rx) = watch::channel(false);
        let app = router::build(state.clone());
        let task = tokio::spawn(serve(listener, app, state.clone(), stop_rx, grace));
        Ok(Self::new(addr, state, stop_tx, Runner::Task(task)))
    }

    /// Starts an emulator on `127.0.0.1` with an ephemeral port, on its own thread with its
    /// own tokio runtime. Usable from plain synchronous code, from smol, or inside tokio.
    ///
    /// Fails when the port cannot be bound or the runtime or thread cannot be created.
    pub fn spawn(config: EmulatorConfig) -> io::Result<Emulator> {
        let std_listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("blossom-emulator-worker")
            .enable_all()
            .build()?;
        let grace = config.shutdown_grace;
        let state = Arc::new(AppState::new(config));
        let (stop_tx, stop_rx) = watch::channel(false);
        let (done_tx, done_rx) = oneshot::channel();
        let app = router::build(state.clone());
        let served = state.clone();
        let thread = std::thread::Builder::new()
            .name("blossom-emulator".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    // If the listener cannot join the runtime there is nothing to serve.
                    if let Ok(listener) = TcpListener::from_std(std_listener) {
                        serve(listener, app, served, stop_rx, grace).await;
                    }
                });
                // Blocking tasks (image encoding) get the same grace, then are abandoned.
                runtime.shutdown_timeout(grace);
                let _ = done_tx.send(());
            })?;
        Ok(Self::new(
            addr,
            state,
            stop_tx,
            Runner::Thread {
                thread,
                done: done_rx,
            },
        ))
    }

    fn new(
        addr: SocketAddr,
        state: Arc<AppState>,
        stop: watch::Sender<bool>,
        runner: Runner,
    ) -> Emulator {
        Emulator {
            addr,
            base_url: format!("http://{addr}"),
            state,
            stop: StopHandle(Arc::new(stop)),
            runner: Some(runner),
        }
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of the counters (the same data as `GET /__emulator/stats`).
    pub fn stats(&self) -> Stats {
        self.state.stats()
    }

    /// Zeroes the counters (the same as `POST /__emulator/reset`). The gauge of requests
    /// in flight keeps its value; `max_in_flight` restarts from it.
    pub fn reset_stats(&self) {
        self.state.reset_stats();
    }

    /// Replaces the fault spec at run time (the same as `POST /__emulator/faults`), for
    /// example to switch an outage on and off. Requests already past their fault decision
    /// are not affected. The seeded decision sequence restarts with the new spec.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use blossom_emulator::{Emulator, EmulatorConfig, FaultSpec};
    ///
    /// let emulator = Emulator::spawn(EmulatorConfig::default())?;
    /// emulator.set_faults("503=1,retry_after=2s".parse()?); // every request: 503
    /// assert_eq!(emulator.faults().to_string(), "503=1,retry_after=2s");
    /// emulator.set_faults(FaultSpec::none()); // back to normal
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_faults(&self, spec: FaultSpec) {
        self.state.set_faults(spec);
    }

    /// The fault spec in force (the configured one until [`Emulator::set_faults`]).
    pub fn faults(&self) -> FaultSpec {
        self.state.faults()
    }

    /// A handle that stops this emulator from elsewhere (for example a Ctrl-C task),
    /// while [`Emulator::wait`] serves.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Stops the emulator: no new connections from now on; in-flight requests get
    /// [`EmulatorConfig::shutdown_grace`] to finish, then their connections are closed.
    ///
    /// For [`Emulator::spawn`] this joins the server thread, which takes at most about
    /// twice the grace (connections, then leftover blocking work). For [`Emulator::start`]
    /// and [`Emulator::bind`] it returns at once and the server task winds down on its
    /// runtime; use [`Emulator::shutdown`] to wait for that.
    pub fn stop(self) {
        drop(self);
    }

    /// Serves until stopped through a [`StopHandle`], then returns once connections are
    /// closed (bounded by the shutdown grace).
    pub async fn wait(mut self) {
        match self.runner.take() {
            Some(Runner::Task(task)) => {
                let _ = task.await;
            }
            Some(Runner::Thread { thread, done }) => {
                let _ = done.await;
                let _ = thread.join();
            }
            None => {}
        }
    }

    /// Stops the emulator and waits until its connections are closed (bounded by the
    /// shutdown grace).
    pub async fn shutdown(self) {
        self.stop.stop();
        self.wait().await;
    }
}

impl std::fmt::Debug for Emulator {
    /// The address only: the state holds cached answers and rate-limiter entries that
    /// have no place in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop.stop();
        if let Some(Runner::Thread { thread, .. }) = self.runner.take() {
            // Bounded: the thread exits after at most two grace periods.
            let _ = thread.join();
        }
    }
}

/// Accepts connections until stopped, then drains them within `grace`.
async fn serve(
    listener: TcpListener,
    app: Router,
    state: Arc<AppState>,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) {
    let (drain_tx, drain_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _peer)) => {
                    state.with_stats(|s| s.connections_opened += 1);
                    connections.spawn(serve_connection(socket, app.clone(), drain_rx.clone()));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            // Stop requested, or every handle (the Emulator) is gone.
            () = raised(&mut stop) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    state.begin_stop();
    drain_tx.send_replace(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, drained).await.is_err() {
        connections.shutdown().await;
    }
}

/// Serves one connection (HTTP/1.1, or HTTP/2 with prior knowledge) until it closes or a
/// drain is requested, after which it finishes in-flight requests and closes.
///
/// A connection that ends because a body failed with [`Abort::Reset`] (an injected
/// `reset`) closes with a TCP reset.
async fn serve_connection(socket: TcpStream, app: Router, mut drain: watch::Receiver<bool>) {
    let _ = socket.set_nodelay(true);
    let reset = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(ConnIo::new(socket, reset.clone()));
    let builder = auto::Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection(io, TowerToHyperService::new(app));
    tokio::pin!(connection);
    let mut draining = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result
                    && find_abort(&*error) == Some(Abort::Reset) {
                        reset.store(true, Ordering::Relaxed);
                    }
                break;
            }
            () = raised(&mut drain), if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Resolves once the flag is true or its sender is gone. (A helper so no `watch::Ref`
/// guard lives inside a `select!` across an await.)
async fn raised(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|raised| *raised).await;
}
