//! The progress display: a live line on a terminal (indicatif), a log line every so often
//! otherwise.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use drift_host::model::counts::LiveCounts;
use indicatif::ProgressBar;

/// The live line on a terminal (none otherwise): the message is cut to the terminal's width,
/// so that it never wraps.
pub fn live_bar() -> Option<ProgressBar> {
    std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {wide_msg}")
                .expect("a valid template"),
        );
        bar
    })
}

/// A line for people while the live line shows: above it, so that it is not drawn over.
pub fn notice(bar: &Option<ProgressBar>, text: &str) {
    match bar {
        Some(bar) if !bar.is_hidden() => bar.println(format!("warning: {text}")),
        _ => tracing::warn!("{text}"),
    }
}

/// Shows `counts` on `bar` (a log line every `every` without one) until the task is aborted.
pub async fn report_progress(counts: Arc<LiveCounts>, every: Duration, bar: Option<ProgressBar>) {
    /// Clears the live line when the reporter is stopped (its task is aborted).
    struct Live(ProgressBar);
    impl Drop for Live {
        fn drop(&mut self) {
            self.0.finish_and_clear();
        }
    }
    let bar = bar.map(Live);
    let mut ticker = tokio::time::interval(if bar.is_some() {
        Duration::from_millis(200)
    } else {
        every
    });
    ticker.tick().await;
    // Where the current phase started: the rate and the ETA are the phase's own.
    let mut phase = (counts.applying.load(Ordering::Relaxed), Instant::now(), 0);
    loop {
        ticker.tick().await;
        let applying = counts.applying.load(Ordering::Relaxed);
        let (done, expected) = counts.progress();
        if applying != phase.0 {
            phase = (applying, Instant::now(), done);
        }
        let elapsed = phase.1.elapsed().as_secs_f64();
        let line = format!(
            "{}{}",
            counts.line(),
            rate_and_eta(done - done.min(phase.2), done, expected, elapsed)
        );
        match &bar {
            Some(Live(bar)) => {
                bar.set_message(line);
                bar.tick();
            }
            None => tracing::info!("{line}"),
        }
    }
}

/// `; 1234/s, 56% of ~10000, ETA 1m 2s`: `moved` is how far the phase got in `elapsed` seconds,
/// `done` of `expected` (0: unknown) its position; empty until there is a rate.
fn rate_and_eta(moved: u64, done: u64, expected: u64, elapsed: f64) -> String {
    if elapsed < 1.0 || moved == 0 {
        return String::new();
    }
    let rate = moved as f64 / elapsed;
    let mut text = format!("; {rate:.0}/s");
    if let Some(percent) = (100 * done.min(expected)).checked_div(expected) {
        let left = expected.saturating_sub(done) as f64 / rate;
        let eta = humantime::format_duration(Duration::from_secs(left.ceil() as u64));
        text.push_str(&format!(", {percent}% of ~{expected}, ETA {eta}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_and_eta_follow_the_phase() {
        assert_eq!(rate_and_eta(0, 0, 100, 10.0), "");
        assert_eq!(
            rate_and_eta(50, 50, 100, 10.0),
            "; 5/s, 50% of ~100, ETA 10s"
        );
        assert_eq!(
            rate_and_eta(50, 70, 100, 10.0),
            "; 5/s, 70% of ~100, ETA 6s"
        );
        assert_eq!(rate_and_eta(50, 50, 0, 10.0), "; 5/s");
        assert_eq!(rate_and_eta(5, 5, 100, 0.5), "");
        // The estimate was low: never a negative ETA.
        assert_eq!(
            rate_and_eta(500, 500, 100, 10.0),
            "; 50/s, 100% of ~100, ETA 0s"
        );
    }
}
