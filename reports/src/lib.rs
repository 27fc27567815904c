//! The report: what one run observed on one platform, in a schema-versioned model that
//! renderers and outside tools read. The JSON names are a contract: fields may be added,
//! never renamed.

pub mod model;
pub mod signature;
pub mod summary;

pub use model::{Report, Status, TrialReport, SCHEMA};
