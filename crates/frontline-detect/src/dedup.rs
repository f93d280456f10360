//! Reporter de-duplication: repeated reports from one reporter count once
//! per window.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// A time-windowed set keyed by an opaque reporter hash (combine it with the
/// series key when counting per series).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReporterWindow {
    window_minutes: i64,
    last_counted: HashMap<u64, i64>,
    last_prune: i64,
}

impl ReporterWindow {
    /// A window of `window_minutes` (at least 1).
    pub fn new(window_minutes: u32) -> Self {
        Self {
            window_minutes: i64::from(window_minutes.max(1)),
            last_counted: HashMap::new(),
            last_prune: i64::MIN,
        }
    }

    /// True when a report from `reporter` at `minute` should be counted: the
    /// reporter's last counted report is at least a window old.
    pub fn admit(&mut self, reporter: u64, minute: i64) -> bool {
        if self.last_prune == i64::MIN || minute - self.last_prune >= self.window_minutes {
            let w = self.window_minutes;
            self.last_counted.retain(|_, t| minute - *t < w);
            self.last_prune = minute;
        }
        match self.last_counted.get(&reporter) {
            Some(&t) if minute - t < self.window_minutes && minute >= t => false,
            _ => {
                self.last_counted.insert(reporter, minute);
                true
            }
        }
    }

    /// Reporters currently remembered.
    pub fn len(&self) -> usize {
        self.last_counted.len()
    }

    /// True when no reporter is remembered.
    pub fn is_empty(&self) -> bool {
        self.last_counted.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_reports_count_once_per_window() {
        let mut w = ReporterWindow::new(60);
        assert!(w.admit(1, 0));
        assert!(!w.admit(1, 10));
        assert!(!w.admit(1, 59));
        assert!(w.admit(2, 30));
        assert!(w.admit(1, 60));
        assert!(!w.admit(1, 100));
    }

    #[test]
    fn old_reporters_are_forgotten() {
        let mut w = ReporterWindow::new(10);
        for r in 0..100 {
            w.admit(r, 0);
        }
        assert_eq!(w.len(), 100);
        w.admit(1000, 50);
        assert_eq!(w.len(), 1);
    }
}
