//! Frontline: customer experience and security response on one frontline.
//!
//! The service and its command line. See `DESIGN.md` for the data path.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod events;
pub mod http;
pub mod import;
pub mod intake;
pub mod journey;
pub mod lexicon;
pub mod metrics;
pub mod notify;
pub mod privacy;
pub mod reports;
pub mod response;
pub mod scorecard;
pub mod search;
pub mod signals;
pub mod storage;
pub mod telemetry;
pub mod tickets;

use std::net::SocketAddr;

use anyhow::Context;

pub use config::Config;
pub use http::AppState;
pub use storage::Store;

/// A server that is up: its address, its state, and how to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops accepting, finishes in-flight requests, closes the database.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        self.task.await??;
        self.state.finish_background(GRACE).await;
        self.state.store.close().await;
        Ok(())
    }

    /// Waits until the server stops by itself (SIGTERM or Ctrl-C).
    pub async fn wait(self) -> anyhow::Result<()> {
        let state = self.state.clone();
        let _keep = self.shutdown;
        self.task.await??;
        state.finish_background(GRACE).await;
        state.store.close().await;
        Ok(())
    }
}

/// How long in-flight requests may take to finish once shutdown begins.
const GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens and migrates the database, binds the address, and serves.
/// `stop_on_signal`: also stop on SIGTERM / Ctrl-C.
pub async fn start(config: Config, stop_on_signal: bool) -> anyhow::Result<Running> {
    let store = Store::connect(&config)
        .await
        .context("cannot open the database")?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    start_with_store(config, store, stop_on_signal).await
}

pub async fn start_with_store(
    config: Config,
    store: Store,
    stop_on_signal: bool,
) -> anyhow::Result<Running> {
    let listener = tokio::net::TcpListener::bind(config.http.addr)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (set http.addr or FRONTLINE_HTTP_ADDR)",
                config.http.addr
            )
        })?;
    let addr = listener.local_addr()?;
    let state = AppState::new(store, config)?;
    // Admins' lexicon terms, then every REFRESH for changes made elsewhere.
    let lexicons = state.intake.preparer.lexicons().clone();
    if let Err(e) = lexicons.refresh(&state.store).await {
        tracing::warn!(error = %e, "cannot load the lexicon; using the built-in one");
    }
    let refresh = lexicons.spawn_refresh(state.store.clone(), state.closing.subscribe());
    if let Ok(mut tasks) = state.background.lock() {
        tasks.push(refresh);
    }
    // Retention and key re-wrapping; stops when shutdown begins.
    let worker = privacy::spawn_worker(
        state.store.clone(),
        state.config.clone(),
        state.intake.ring.clone(),
        state.closing.subscribe(),
    );
    // Overdue public updates; stops when shutdown begins.
    let cadence = response::spawn_cadence_worker(
        state.store.clone(),
        state.events.clone(),
        std::time::Duration::from_secs(state.config.incidents.overdue_check_secs.into()),
        state.closing.subscribe(),
    );
    // Delivery of notices from the outbox; stops when shutdown begins.
    let delivery = notify::spawn_worker(
        state.store.clone(),
        state.config.clone(),
        state.intake.ring.clone(),
        state.closing.subscribe(),
    );
    let sla = tickets::spawn_sla_watcher(
        state.store.clone(),
        state.config.clone(),
        state.events.clone(),
        state.closing.subscribe(),
    );
    // The weekly scorecard email; stops when shutdown begins.
    let weekly = reports::spawn_weekly(
        state.store.clone(),
        state.config.clone(),
        state.closing.subscribe(),
    );
    if let Ok(mut tasks) = state.background.lock() {
        tasks.push(weekly);
        tasks.push(worker);
        tasks.push(cadence);
        tasks.push(delivery);
        tasks.push(sla);
    }
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let closing = state.closing.clone();
    let shutdown = async move {
        if stop_on_signal {
            tokio::select! {
                _ = rx => {}
                _ = telemetry::termination() => tracing::info!("shutting down"),
            }
        } else {
            let _ = rx.await;
        }
        closing.send_replace(true);
    };
    let serving = http::serve(state.clone(), listener, shutdown);
    let closing = state.closing.subscribe();
    // Once shutdown begins, in-flight requests get GRACE to finish.
    let task = tokio::spawn(async move {
        let mut closing = closing;
        tokio::pin!(serving);
        tokio::select! {
            r = &mut serving => r,
            _ = async {
                let _ = closing.wait_for(|c| *c).await;
                tokio::time::sleep(GRACE).await;
            } => {
                tracing::warn!("in-flight requests did not finish in time; stopping anyway");
                Ok(())
            }
        }
    });
    Ok(Running {
        addr,
        state,
        shutdown: tx,
        task,
    })
}
