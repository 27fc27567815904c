//! The HTML templates (`templates/*.j2`), compiled into the library and rendered with
//! minijinja: HTML autoescape on (the `.html.j2` names choose it), undefined names are errors.

use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value};
use serde::Serialize;

/// `report.html`.
pub(crate) const REPORT: &str = "report.html.j2";
/// `matrix.html`.
pub(crate) const MATRIX: &str = "matrix.html.j2";

const TEMPLATES: [(&str, &str); 2] = [
    (REPORT, include_str!("../templates/report.html.j2")),
    (MATRIX, include_str!("../templates/matrix.html.j2")),
];

/// Why a page could not be rendered (a template error: a bug, not bad input).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("rendering an HTML page: {0:#}")]
    Template(#[from] minijinja::Error),
}

/// Renders the template `name` with `context`, a plain view of the model.
pub(crate) fn render(name: &str, context: &impl Serialize) -> Result<String, RenderError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    for (template, source) in TEMPLATES {
        env.add_template(template, source)?;
    }
    Ok(env.get_template(name)?.render(Value::from(Serde(context)))?)
}
