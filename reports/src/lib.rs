//! The report: what one run observed on one platform, in a schema-versioned model that
//! renderers and outside tools read. The JSON names are a contract: fields may be added,
//! never renamed.

pub mod forged;
pub mod html;
pub mod junit;
pub mod ladder;
pub mod links;
pub mod markdown;
pub mod matrix;
pub mod mismatch;
pub mod model;
pub mod outputs;
pub mod runtimes;
pub mod schema;
pub mod signature;
pub mod summary;
mod templates;

pub use html::{RenderError, render_html};
pub use junit::render_junit;
pub use ladder::ladder_svg;
pub use markdown::render_markdown;
pub use matrix::{Matrix, render_matrix_html, render_matrix_markdown, write_matrix};
pub use model::{ArticleSituation, Aspect, ErrnoNote, Mismatch, Report, RuntimeNote, SCHEMA, Status, TrialReport};
pub use runtimes::{RuntimeTable, WithRuntimes};
pub use schema::report_schema;
