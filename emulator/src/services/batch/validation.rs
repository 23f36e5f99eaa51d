//! Checks AWS Batch makes on names and container resources, in its words where they are recorded.
//!
//! Recorded AWS messages: `Fargate resource requirements (1.00 vCPU, 4000 MiB) not valid.`,
//! `vCPU is not provided.`, `Value 1.0 for type VCPU in resourceRequirement is not valid. Please provide a
//! numeric value.`, `vcpus is not applicable for Fargate. Use resource requirements instead.`. The others
//! (missing memory, missing execution role, GPU on Fargate) follow the same style and are our wording.

use serde::{Deserialize, Serialize};

/// `{type, value}` of a container's resourceRequirements.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub(crate) struct ResourceRequirement {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub value: Option<String>,
}

/// Compute environment, job queue and job definition names: 1-128 letters, digits, hyphens, underscores.
pub(crate) fn is_resource_name(name: &str) -> bool {
    (1..=128).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Job names: as [`is_resource_name`], and the first character is a letter or digit.
pub(crate) fn is_job_name(name: &str) -> bool {
    is_resource_name(name) && name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
}

/// The platform a job definition targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Platform {
    Ec2,
    Fargate,
}

/// Checks the VCPU/MEMORY/GPU requirements of a container for its platform. `legacy_vcpus`/`legacy_memory`
/// are the deprecated `vcpus`/`memory` members (still accepted on EC2, refused on Fargate).
/// Returns the detail of the first problem.
pub(crate) fn check_resources(
    platform: Platform,
    requirements: &[ResourceRequirement],
    legacy_vcpus: Option<i64>,
    legacy_memory: Option<i64>,
) -> Result<(), String> {
    let mut vcpu = None;
    let mut memory = None;
    for requirement in requirements {
        let kind = requirement.kind.as_deref().unwrap_or_default();
        let value = requirement.value.as_deref().unwrap_or_default();
        match kind {
            "VCPU" => vcpu = Some(value),
            "MEMORY" => memory = Some(value),
            "GPU" if platform == Platform::Fargate => {
                return Err("GPU resources are not supported for jobs that run on Fargate resources.".into());
            }
            "GPU" => {
                if value.parse::<u32>().is_err() {
                    return Err(not_numeric(value, "GPU"));
                }
            }
            other => return Err(format!("Resource type {other} in resourceRequirement is not valid.")),
        }
    }
    match platform {
        Platform::Fargate => {
            if legacy_vcpus.is_some() {
                return Err("vcpus is not applicable for Fargate. Use resource requirements instead.".into());
            }
            if legacy_memory.is_some() {
                return Err("memory is not applicable for Fargate. Use resource requirements instead.".into());
            }
            let vcpu = vcpu.ok_or("vCPU is not provided.")?;
            let memory = memory.ok_or("Memory is not provided.")?;
            let vcpus: f64 = vcpu.parse().map_err(|_| not_numeric(vcpu, "VCPU"))?;
            let mib: u64 = memory.parse().map_err(|_| not_numeric(memory, "MEMORY"))?;
            if is_fargate_pair(vcpus, mib) {
                Ok(())
            } else {
                Err(format!("Fargate resource requirements ({vcpus:.2} vCPU, {mib} MiB) not valid."))
            }
        }
        Platform::Ec2 => {
            match (vcpu, legacy_vcpus) {
                (Some(v), _) => {
                    v.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| not_numeric(v, "VCPU"))?;
                }
                (None, Some(n)) if n >= 1 => {}
                (None, Some(n)) => return Err(not_numeric(&n.to_string(), "VCPU")),
                (None, None) => return Err("vCPU is not provided.".into()),
            }
            match (memory, legacy_memory) {
                (Some(m), _) => {
                    m.parse::<u64>().ok().filter(|n| *n >= 4).ok_or_else(|| not_numeric(m, "MEMORY"))?;
                }
                (None, Some(n)) if n >= 4 => {}
                (None, Some(n)) => return Err(not_numeric(&n.to_string(), "MEMORY")),
                (None, None) => return Err("Memory is not provided.".into()),
            }
            Ok(())
        }
    }
}

fn not_numeric(value: &str, kind: &str) -> String {
    format!("Value {value} for type {kind} in resourceRequirement is not valid. Please provide a numeric value.")
}

/// The vCPU/memory (MiB) combinations Fargate offers
/// (<https://docs.aws.amazon.com/batch/latest/APIReference/API_ResourceRequirement.html>).
pub(crate) fn is_fargate_pair(vcpus: f64, mib: u64) -> bool {
    // (vCPU, lowest MiB, highest MiB, step MiB)
    const PAIRS: [(f64, u64, u64, u64); 7] = [
        (0.25, 512, 2048, 512),
        (0.5, 1024, 4096, 1024),
        (1.0, 2048, 8192, 1024),
        (2.0, 4096, 16384, 1024),
        (4.0, 8192, 30720, 1024),
        (8.0, 16384, 61440, 4096),
        (16.0, 32768, 122880, 8192),
    ];
    PAIRS.iter().any(|&(v, low, high, step)| {
        let in_steps = (low..=high).contains(&mib) && (mib - low).is_multiple_of(step);
        // 0.25 vCPU offers exactly 512, 1024 and 2048 MiB (not 1536).
        let quarter_ok = v != 0.25 || mib != 1536;
        (vcpus - v).abs() < 1e-9 && in_steps && quarter_ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(kind: &str, value: &str) -> ResourceRequirement {
        ResourceRequirement { kind: Some(kind.into()), value: Some(value.into()) }
    }

    #[test]
    fn fargate_pairs_follow_the_aws_table() {
        let valid = [
            (0.25, 512),
            (0.25, 1024),
            (0.25, 2048),
            (0.5, 1024),
            (0.5, 4096),
            (1.0, 2048),
            (1.0, 3072),
            (1.0, 8192),
            (2.0, 4096),
            (2.0, 16384),
            (4.0, 8192),
            (4.0, 30720),
            (8.0, 16384),
            (8.0, 20480),
            (8.0, 61440),
            (16.0, 32768),
            (16.0, 40960),
            (16.0, 122880),
        ];
        for (v, m) in valid {
            assert!(is_fargate_pair(v, m), "{v} vCPU {m} MiB should be valid");
        }
        let invalid = [
            (0.25, 1536),
            (0.25, 4096),
            (0.5, 512),
            (0.5, 1536),
            (1.0, 1024),
            (1.0, 4000),
            (1.0, 9216),
            (2.0, 17408),
            (4.0, 31744),
            (8.0, 17408),
            (16.0, 36864),
            (3.0, 8192),
            (32.0, 131072),
        ];
        for (v, m) in invalid {
            assert!(!is_fargate_pair(v, m), "{v} vCPU {m} MiB should be invalid");
        }
    }

    #[test]
    fn resource_checks_per_platform() {
        let fargate = |reqs: &[ResourceRequirement]| check_resources(Platform::Fargate, reqs, None, None);
        assert_eq!(fargate(&[req("VCPU", "1"), req("MEMORY", "2048")]), Ok(()));
        assert_eq!(fargate(&[req("VCPU", "0.25"), req("MEMORY", "512")]), Ok(()));
        assert_eq!(fargate(&[req("MEMORY", "2048")]), Err("vCPU is not provided.".into()));
        assert_eq!(fargate(&[req("VCPU", "1")]), Err("Memory is not provided.".into()));
        assert_eq!(
            fargate(&[req("VCPU", "1"), req("MEMORY", "4000")]),
            Err("Fargate resource requirements (1.00 vCPU, 4000 MiB) not valid.".into())
        );
        assert_eq!(
            fargate(&[req("VCPU", "one"), req("MEMORY", "2048")]),
            Err("Value one for type VCPU in resourceRequirement is not valid. Please provide a numeric value.".into())
        );
        assert_eq!(
            fargate(&[req("VCPU", "1"), req("MEMORY", "2048"), req("GPU", "1")]),
            Err("GPU resources are not supported for jobs that run on Fargate resources.".into())
        );
        assert_eq!(fargate(&[req("DISK", "1")]), Err("Resource type DISK in resourceRequirement is not valid.".into()));
        assert_eq!(
            check_resources(Platform::Fargate, &[req("VCPU", "1"), req("MEMORY", "2048")], Some(1), None),
            Err("vcpus is not applicable for Fargate. Use resource requirements instead.".into())
        );

        let ec2 = |reqs: &[ResourceRequirement]| check_resources(Platform::Ec2, reqs, None, None);
        assert_eq!(ec2(&[req("VCPU", "2"), req("MEMORY", "1000")]), Ok(()));
        assert_eq!(ec2(&[req("VCPU", "1.0"), req("MEMORY", "1000")]), Err(not_numeric("1.0", "VCPU")));
        assert_eq!(ec2(&[req("MEMORY", "1000")]), Err("vCPU is not provided.".into()));
        assert_eq!(ec2(&[req("VCPU", "1")]), Err("Memory is not provided.".into()));
        assert_eq!(check_resources(Platform::Ec2, &[], Some(1), Some(512)), Ok(()));
        assert_eq!(check_resources(Platform::Ec2, &[], Some(0), Some(512)), Err(not_numeric("0", "VCPU")));
    }

    #[test]
    fn names() {
        assert!(is_resource_name("crts-aws-jq"));
        assert!(is_resource_name("_x"));
        assert!(!is_resource_name(""));
        assert!(!is_resource_name("a b"));
        assert!(!is_resource_name(&"a".repeat(129)));
        assert!(is_job_name("crts-run_1"));
        assert!(!is_job_name("-run"));
        assert!(!is_job_name("run!"));
    }
}
