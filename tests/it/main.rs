//! Integration tests, one binary (each test binary links the AWS SDK again, so there is only this one).

mod architecture;
mod browser;
mod endpoint;
mod faults;
mod image;
mod lambda_workers;
mod load;
mod localstack;
mod malformed_requests;
mod own_crts;
mod prerequisites;
mod provision;
mod python_clients;
mod refusals;
mod runbook;
mod s3_sdk;
mod scenario_errors;
mod schema;
mod support;
mod up;
mod verify;
