//! The progress display: a live line on a terminal (indicatif), a log line every so often
//! otherwise.

use std::sync::Arc;
use std::time::Duration;

use drift_host::model::counts::LiveCounts;

/// Shows `counts` until the task is aborted.
pub async fn report_progress(counts: Arc<LiveCounts>, every: Duration) {
    /// Clears the live line when the reporter is stopped (its task is aborted).
    struct Live(indicatif::ProgressBar);
    impl Drop for Live {
        fn drop(&mut self) {
            self.0.finish_and_clear();
        }
    }
    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .expect("a valid template"),
        );
        Live(bar)
    });
    let mut ticker = tokio::time::interval(if bar.is_some() {
        Duration::from_millis(200)
    } else {
        every
    });
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let line = counts.line();
        match &bar {
            Some(Live(bar)) => {
                bar.set_message(line);
                bar.tick();
            }
            None => tracing::info!("{line}"),
        }
    }
}
