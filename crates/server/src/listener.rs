//! The HTTP/1.1 connection layer: accepts TCP connections with bounds on what an idle or slow
//! client may hold, and hands each request to the router.
//!
//! `axum::serve` sets no timer, so hyper's header-read timeout never fires there: a client that
//! sends nothing, or half a request line, holds a socket for ever. Here every connection
//! has [`HEADER_READ_TIMEOUT`] to deliver each request's head (hyper starts the clock when it
//! waits for a head, so an idle keep-alive connection is closed by the same timer), and the
//! number of connections is bounded in all and per client address, so that idle sockets cannot
//! exhaust the process's file descriptors. Beyond a bound, a new connection is closed at once.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

/// Time a connection has to send each request's line and headers, including the wait for
/// the next request on an idle keep-alive connection.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Time given to open requests (and streams) to finish on shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Bounds on connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Open connections in all.
    pub total: usize,
    /// Open connections from one client address.
    pub per_client: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        // Well under the usual 1,024-descriptor soft limit would be too few for a busy
        // mechanism; the server raises nothing itself, so the deployment doc says to allow
        // `total` plus a few hundred (the database, logs) with `ulimit -n`.
        Self {
            total: 4096,
            per_client: 256,
        }
    }
}

/// Connections open now, in all and by client address.
#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
}

/// A connection's place in [`Open`], given back when it closes.
struct Slot {
    open: Arc<Mutex<Open>>,
    client: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut o) = self.open.lock() {
            o.total = o.total.saturating_sub(1);
            if let Some(n) = o.by_client.get_mut(&self.client) {
                *n -= 1;
                if *n == 0 {
                    o.by_client.remove(&self.client);
                }
            }
        }
    }
}

fn take_slot(open: &Arc<Mutex<Open>>, client: IpAddr, limits: ConnectionLimits) -> Option<Slot> {
    let mut o = open.lock().ok()?;
    let mine = o.by_client.get(&client).copied().unwrap_or(0);
    if o.total >= limits.total || mine >= limits.per_client {
        return None;
    }
    o.total += 1;
    *o.by_client.entry(client).or_insert(0) += 1;
    Some(Slot {
        open: open.clone(),
        client,
    })
}

/// Serves `router` on `listener` until `shutdown` completes, then lets open requests finish
/// for up to [`SHUTDOWN_GRACE`]. Each request carries the client's address as
/// [`ConnectInfo<std::net::SocketAddr>`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let open = Arc::new(Mutex::new(Open::default()));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: back off
                    // briefly rather than spin, and keep serving what is open.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = take_slot(&open, peer.ip(), limits) else {
            tracing::debug!(%peer, "connection refused: too many open connections");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(
            move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req.map(axum::body::Body::new)
            },
        );
        let conn = http.serve_connection(
            TokioIo::new(stream),
            hyper_util::service::TowerToHyperService::new(service),
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection closed with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::info!("open connections did not finish within the grace period; closing");
    }
    Ok(())
}

/// Resolves on Ctrl-C, or SIGTERM on Unix: the signal to stop serving.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_in_all_and_per_client() {
        let open = Arc::new(Mutex::new(Open::default()));
        let limits = ConnectionLimits {
            total: 3,
            per_client: 2,
        };
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let a1 = take_slot(&open, a, limits).unwrap();
        let _a2 = take_slot(&open, a, limits).unwrap();
        assert!(take_slot(&open, a, limits).is_none(), "per client");
        let _b1 = take_slot(&open, b, limits).unwrap();
        assert!(take_slot(&open, b, limits).is_none(), "in all");
        drop(a1);
        let b2 = take_slot(&open, b, limits);
        assert!(b2.is_some(), "a closed slot is free");
        assert_eq!(open.lock().unwrap().total, 3);
        drop(b2);
        assert_eq!(open.lock().unwrap().total, 2);
    }
}
