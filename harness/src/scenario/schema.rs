//! The JSON Schema of scenario files (`crts-harness schema`; committed as `schema/scenario.schema.json`, which
//! the scenarios name for editor completion). Each step's `with:` is checked against its action's settings,
//! derived from the same structs the loader deserializes into, so the schema cannot drift from the code.

use serde_json::{Value, json};

use crate::checks::CheckName;
use crate::checks::settings::RawSettings;
use crate::steps::{ACTIONS, StepAction};

/// Where the schema is committed, relative to the repository root.
pub const SCHEMA_PATH: &str = "schema/scenario.schema.json";

/// The schema, as pretty-printed JSON with a final newline.
pub fn schema_json() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    text.push('\n');
    text
}

pub fn schema() -> Value {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let conditions: Vec<Value> = StepAction::schemas(&mut generator)
        .into_iter()
        .map(|(action, with)| {
            json!({
                "if": { "properties": { "action": { "const": action } }, "required": ["action"] },
                "then": { "properties": { "with": with.to_value() } },
            })
        })
        .collect();
    let checks = generator.subschema_for::<CheckName>().to_value();
    let settings = generator.subschema_for::<RawSettings>().to_value();
    let mut definitions: serde_json::Map<String, Value> = generator.take_definitions(true);
    // A scenario that `extends` another may set part of `settings` (they are merged, then checked whole by the
    // loader), so no settings field is required here; unknown keys are still refused.
    for name in ["ApiSettings", "CorsSettings", "TriggerSettings", "SwaggerSettings", "ImageSettings"] {
        if let Some(Value::Object(definition)) = definitions.get_mut(name) {
            definition.remove("required");
        }
    }
    definitions.insert(
        "Step".to_owned(),
        json!({
            "description": "One runbook step: `id` names the runbook section, `action` what the harness does, `with` its settings.",
            "type": "object",
            "additionalProperties": false,
            "required": ["id", "action"],
            "properties": {
                "id": { "type": "string", "description": "section.step, e.g. apigateway.enable-cors (unique)" },
                "runbook": { "type": "string", "description": "Where in the runbook this step is documented." },
                "action": { "enum": ACTIONS },
                "with": { "type": "object" },
            },
            "allOf": conditions,
        }),
    );
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://crts-harness.invalid/schema/scenario.schema.json",
        "title": "crts-harness scenario",
        "description": "The CRTS runbook as steps, checks and their settings; or, with `extends`, changes to another scenario.",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "name": { "type": "string" },
            "description": { "type": "string" },
            "extends": { "type": "string", "description": "Another scenario file (relative to this one) that this one changes." },
            "variables": {
                "type": "object",
                "description": "`${name}` values. A path starting with ./ or ../ is relative to this file.",
                "additionalProperties": { "type": ["string", "number", "boolean"] },
            },
            "steps": { "type": "array", "items": { "$ref": "#/$defs/Step" } },
            "remove_steps": { "type": "array", "items": { "type": "string" }, "description": "Step ids of the extended scenario to leave out." },
            "override_steps": {
                "type": "object",
                "description": "Step id → keys merged into that step's `with`.",
                "additionalProperties": { "type": "object" },
            },
            "checks": { "type": "array", "items": checks },
            "resource_names": {
                "type": "array",
                "items": { "type": "string" },
                "description": "The variables that name what the steps create: `run --provision` gives each a run-unique suffix.",
            },
            "settings": settings,
        },
        "$defs": definitions,
    })
}
