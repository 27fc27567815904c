//! The sockerr catalogue: scenarios, expectation files and the runner that judges trials.

pub mod catalogue;
pub mod expectations;
pub mod runner;
pub mod scenario;
pub mod stress;
