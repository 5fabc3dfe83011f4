//! The running service's lifecycle: the background tasks it owns, and the
//! signals that stop it.

use tokio::task::JoinHandle;

/// Tasks that run beside the server (the usage flusher, the log poller,
/// the doorbell, the pruner, the throttle's clean-up), each with its handle,
/// so shutdown stops them instead of leaving them to the runtime.
#[derive(Default)]
pub struct BackgroundTasks {
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

impl BackgroundTasks {
    pub fn add(&mut self, name: &'static str, handle: JoinHandle<()>) {
        self.tasks.push((name, handle));
    }

    /// Stops every task and waits until each has. A task stopped in the
    /// middle of a database write leaves its transaction rolled back.
    pub async fn stop(self) {
        for (name, handle) in self.tasks {
            handle.abort();
            if let Err(e) = handle.await {
                if e.is_panic() {
                    tracing::error!(task = name, "background task had panicked");
                }
            }
            tracing::debug!(task = name, "background task stopped");
        }
    }
}

/// Resolves when the process is asked to stop: SIGTERM (what orchestrators
/// send) or Ctrl-C.
pub async fn stop_requested() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received: shutting down"),
        () = terminate => tracing::info!("SIGTERM received: shutting down"),
    }
}
