//! A progress bar on standard error: redrawn in place on a terminal, a plain line every few
//! seconds elsewhere (CI logs).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    what: &'static str,
    terminal: bool,
    last: Option<Instant>,
}

impl Progress {
    pub fn new(what: &'static str) -> Self {
        Self {
            what,
            terminal: std::io::stderr().is_terminal(),
            last: None,
        }
    }

    /// Shows how far along it is (`fraction` of the whole, 0 to 1) and `state`, at most a
    /// few times a second (every 10 s outside a terminal, without the bar).
    pub fn show(&mut self, fraction: f64, state: &str) {
        let every = if self.terminal {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(10)
        };
        if self.last.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        self.last = Some(Instant::now());
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{}: {} {state}", self.what, bar(fraction, 24));
        } else {
            let _ = writeln!(err, "{}: {state}", self.what);
        }
        let _ = err.flush();
    }

    /// The final state, on a line of its own.
    pub fn done(&mut self, state: &str) {
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = writeln!(err, "\r\x1b[2K{}: {state}", self.what);
        } else {
            let _ = writeln!(err, "{}: {state}", self.what);
        }
    }
}

/// `[#######.................]  30 %`: `width` cells, `fraction` clamped to 0–1.
fn bar(fraction: f64, width: usize) -> String {
    let fraction = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let filled = (fraction * width as f64).round() as usize;
    format!(
        "[{}{}] {:>3.0} %",
        "#".repeat(filled),
        ".".repeat(width - filled),
        fraction * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn the_bar_fills_with_the_fraction_and_stays_in_its_width() {
        assert_eq!(bar(0.0, 4), "[....]   0 %");
        assert_eq!(bar(0.5, 4), "[##..]  50 %");
        assert_eq!(bar(1.0, 4), "[####] 100 %");
        assert_eq!(bar(1.7, 4), "[####] 100 %");
        assert_eq!(bar(-1.0, 4), "[....]   0 %");
        assert_eq!(bar(f64::NAN, 4), "[....]   0 %");
        assert_eq!(bar(0.3, 10), "[###.......]  30 %");
    }
}
