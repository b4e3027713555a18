//! Ctrl-C and SIGTERM: a clean stop, never a migration marked applied.

use drift_host::model::stop::{Stop, StopReason};

/// Waits for Ctrl-C or SIGTERM, then requests `stop` as a cancel.
pub async fn stop_on_signal(stop: Stop) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::warn!("stopping: the migration will not be marked applied");
    stop.request(StopReason::Cancelled);
}
