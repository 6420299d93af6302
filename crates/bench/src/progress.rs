//! A progress line on standard error: rewritten in place on a terminal, a line every few
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

    /// Shows `state`, at most a few times a second (every 10 s outside a terminal).
    pub fn show(&mut self, state: &str) {
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
            let _ = write!(err, "\r\x1b[2K{}: {state}", self.what);
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
