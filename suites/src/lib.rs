//! The sockerr catalogue: scenarios, expectation files and the runner that judges trials.

pub mod article;
pub mod bench;
pub mod catalogue;
pub mod cli;
pub mod compare;
pub mod expectations;
pub mod explain;
pub mod gate;
pub mod knowledge;
pub mod prerequisites;
pub mod readme;
pub mod runner;
pub mod scenario;
pub mod selection;
pub mod stress;
pub mod suggest;
pub mod suite;

/// The harness the scenarios drive (trials, endpoints, waits, steps), for a crate of one's own
/// that depends on this one alone.
pub use sockerr_harness as harness;
/// The report model and its renderings, for a crate of one's own that reads trial reports.
pub use sockerr_reports as reports;
