//! The sockerr catalogue: scenarios, expectation files and the runner that judges trials.

pub mod article;
pub mod bench;
pub mod catalogue;
pub mod cli;
pub mod compare;
pub mod expectations;
pub mod explain;
pub mod knowledge;
pub mod prerequisites;
pub mod readme;
pub mod runner;
pub mod scenario;
pub mod selection;
pub mod stress;
pub mod suggest;
