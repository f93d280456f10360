//! Frontline's pure analysis and detection library: no I/O, no async.
//!
//! - [`Analyzer`]: language ([`detect_language`]), topic in a security-aware
//!   taxonomy ([`Topic`]), sentiment in [-1, 1] and indicators of compromise
//!   ([`extract_indicators`]), driven by a replaceable [`Lexicon`].
//! - [`ClusterIndex`]: incremental near-duplicate clustering (MinHash over
//!   character shingles with LSH banding), to see many customers reporting
//!   the same scam message.
//! - [`Detector`]: streaming spike detection over per-minute count series,
//!   with seasonal baselines for counts, false-alarm control across many
//!   series and serialisable state.
//! - [`GrowthWatch`]: fast-growing keys (a scam link, a sender's number, a
//!   near-duplicate message) that many customers report at once.
//! - [`ReporterWindow`]: counts repeated reports from one reporter once per
//!   window.
//! - [`nab`]: the Numenta Anomaly Benchmark scorer.
//!
//! See the module docs of [`ioc`] for the rule that tells a scammer's phone
//! number (an indicator) from the customer's own (personal data).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod analysis;
pub mod ioc;
mod language;
mod lexicon;
mod text;

pub use analysis::{Analysis, Analyzer, Classification, TopicScore};
pub use ioc::{extract_indicators, Indicator, IndicatorKind, Indicators};
pub use language::{detect_language, Language};
pub use lexicon::{Lexicon, LexiconEntry, LexiconError, TermRole, Topic};

mod detector;
mod windowed;
pub use detector::{Alarm, Detector, DetectorConfig, SeriesId, Step, ValueModel};
pub mod cluster;
mod dedup;
pub mod growth;
pub mod nab;
pub use cluster::{ClusterConfig, ClusterIndex};
pub use dedup::ReporterWindow;
pub use growth::{Growth, GrowthConfig, GrowthWatch};
