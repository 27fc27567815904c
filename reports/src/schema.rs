//! The JSON Schema of `report.json`, generated from the report model so that it follows every
//! field the model gains: descriptions come from the doc comments, names and enum values from
//! the serde attributes.

use crate::model::{Report, SCHEMA};

/// The JSON Schema (draft 2020-12) that every `report.json` of this version satisfies, titled
/// `sockerr-report/1`. The `schema` property is pinned to that name, as [`Report::read`]
/// refuses any other.
pub fn report_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(Report).to_value();
    schema["title"] = SCHEMA.into();
    if let Some(property) = schema.pointer_mut("/properties/schema").and_then(|p| p.as_object_mut()) {
        property.insert("const".into(), SCHEMA.into());
        property
            .entry("description")
            .or_insert_with(|| "The schema name and version of this report.".into());
    }
    schema
}

/// [`report_schema`] as pretty JSON, ready to be written beside a report.
pub fn report_schema_json() -> String {
    serde_json::to_string_pretty(&report_schema()).expect("a JSON value always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_titled_and_pinned_to_this_version() {
        let schema = report_schema();
        assert_eq!(schema["title"], SCHEMA);
        assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(schema["properties"]["schema"]["const"], SCHEMA);
    }

    #[test]
    fn reflects_the_serde_names() {
        let text = report_schema_json();
        for name in [
            "client>server",
            "server>client",
            "two_hosts",
            "loopback",
            "v4",
            "v6",
            "observed",
            "elapsed_ms",
        ] {
            assert!(text.contains(&format!("\"{name}\"")), "{name} missing from the schema");
        }
        assert!(
            !text.contains("ClientToServer") && !text.contains("TwoHosts"),
            "Rust names leaked into the schema"
        );
    }
}
