//! JSON-patch-like `patchOperations` of API Gateway's Update* operations.
//! <https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html>

use serde::Deserialize;

use crate::protocol::{AwsError, AwsRequest, AwsResult, rest_json};

/// One operation: `{"op": "replace", "path": "/apiKeyRequired", "value": "true"}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PatchOp {
    pub op: String,
    pub path: String,
    pub value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatchInput {
    #[serde(default)]
    patch_operations: Vec<PatchOp>,
}

/// The request's patch operations.
pub(crate) fn operations(req: &AwsRequest) -> AwsResult<Vec<PatchOp>> {
    let input: PatchInput =
        rest_json::input(req).map_err(|e| AwsError::bad_request("BadRequestException", e.message))?;
    for op in &input.patch_operations {
        if !matches!(op.op.as_str(), "add" | "remove" | "replace" | "move" | "copy" | "test") {
            return Err(AwsError::bad_request(
                "BadRequestException",
                format!("Invalid patch operation specified: {}", op.op),
            ));
        }
    }
    Ok(input.patch_operations)
}

impl PatchOp {
    /// The value, required for add/replace.
    pub fn value(&self) -> AwsResult<&str> {
        self.value.as_deref().ok_or_else(|| {
            AwsError::bad_request(
                "BadRequestException",
                format!("Invalid patch operation: a value is required for op '{}' on '{}'", self.op, self.path),
            )
        })
    }

    /// A boolean value (`"true"`/`"false"`).
    pub fn bool_value(&self) -> AwsResult<bool> {
        match self.value()? {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(AwsError::bad_request(
                "BadRequestException",
                format!("Invalid boolean value '{other}' for {}", self.path),
            )),
        }
    }

    /// The path under `prefix` with `~1` → `/` and `~0` → `~` (map keys such as header names).
    pub fn key_under(&self, prefix: &str) -> Option<String> {
        self.path.strip_prefix(prefix).map(|key| key.replace("~1", "/").replace("~0", "~"))
    }

    /// AWS's refusal of a path this resource does not support.
    pub fn unsupported(&self) -> AwsError {
        AwsError::bad_request(
            "BadRequestException",
            format!(
                "Invalid patch path '{}' specified for op '{}'. Please choose supported operations",
                self.path, self.op
            ),
        )
    }
}
