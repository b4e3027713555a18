//! Ctrl-C and SIGTERM: a clean stop, never a migration marked applied. A second signal says
//! that the stop is under way; a third exits at once, which leaves the run as a kill would:
//! resumable.

use drift_host::model::stop::{Stop, StopReason};
use indicatif::ProgressBar;

use super::progress::notice;

/// Waits for Ctrl-C or SIGTERM and requests `stop` as a cancel; answers the next signals.
pub async fn stop_on_signal(stop: Stop, bar: Option<ProgressBar>) {
    #[cfg(unix)]
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    for signals in 1u32.. {
        #[cfg(unix)]
        let terminated = async {
            match terminate.as_mut() {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminated = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminated => {}
        }
        match signals {
            1 => {
                notice(
                    &bar,
                    "stopping: writes in flight settle first; the migration will not be marked \
                     applied (unless it follows a stream with --follow: it then catches up and \
                     ends), and the next run resumes it",
                );
                stop.request(StopReason::Cancelled);
            }
            2 => notice(
                &bar,
                "already stopping cleanly; once more exits at once (the run stays resumable)",
            ),
            _ => {
                notice(
                    &bar,
                    "exiting at once: the next run resumes where the checkpoint is (after the \
                     lease runs out, or `drift-host unlock`)",
                );
                std::process::exit(130);
            }
        }
    }
}
