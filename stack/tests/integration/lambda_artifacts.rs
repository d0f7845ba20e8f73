//! The Lambda artifacts `loglab build` wrote are what Lambda's `provided.al2023` runtime runs:
//! each zip holds one executable `bootstrap` at its root, matches the manifest's SHA-256, stays
//! under Lambda's unzipped size limit, and its binary needs no glibc symbol newer than 2.34.
//!
//! Sources: AWS Lambda developer guide, "Building Lambda functions with Rust" and "Deploying
//! Rust Lambda functions with .zip file archives" (an executable named `bootstrap` at the root
//! of the archive, for the OS-only runtime `provided.al2023`); "Lambda quotas" (250 MB
//! unzipped); Amazon Linux 2023's release notes (glibc 2.34).
//!
//! scripts/test.sh builds the artifacts before the tests; without them these tests fail and say
//! what to run.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use crate::support;

use stack::artifacts::{
    self, FUNCTIONS, PROVIDED_AL2023_GLIBC, UNZIPPED_LIMIT_BYTES, newest_glibc, read_bootstrap,
    version_needs,
};

#[test]
fn every_function_is_built_for_x86_64_at_least() {
    let (_, manifest) = support::lambda_artifacts();
    assert!(
        manifest
            .architectures()
            .contains(&artifacts::Architecture::X86_64),
        "{manifest:?}"
    );
    assert_eq!(manifest.runtime, "provided.al2023");
    assert_eq!(manifest.glibc_limit, "2.34");
}

#[test]
fn no_binary_needs_a_glibc_newer_than_provided_al2023s() {
    let (dir, manifest) = support::lambda_artifacts();
    for artifact in &manifest.artifacts {
        let zip = std::fs::read(dir.join(&artifact.zip)).unwrap();
        let binary = read_bootstrap(&zip).unwrap();
        let needs = version_needs(&binary).unwrap();
        let newer: Vec<_> = needs
            .iter()
            .filter(|n| {
                artifacts::GlibcVersion::from_version_name(&n.version)
                    .is_some_and(|v| v > PROVIDED_AL2023_GLIBC)
            })
            .collect();
        assert!(
            newer.is_empty(),
            "{} ({}) needs {newer:?}",
            artifact.function,
            artifact.architecture
        );
        let newest = newest_glibc(&binary).unwrap();
        assert_eq!(
            newest.map_or_else(|| "static".to_owned(), |v| v.to_string()),
            artifact.glibc_needed,
            "the manifest records what the binary needs"
        );
    }
}

#[test]
fn every_zip_is_a_custom_runtime_package_matching_the_manifest() {
    let (dir, manifest) = support::lambda_artifacts();
    for architecture in manifest.architectures() {
        for function in FUNCTIONS {
            let artifact = manifest.artifact(function.binary, architecture).unwrap();
            let zip = artifacts::verified_zip(&dir, artifact).unwrap();
            assert_eq!(zip.len() as u64, artifact.zip_bytes);
            let binary = read_bootstrap(&zip).unwrap();
            assert_eq!(binary.len() as u64, artifact.bootstrap_bytes);
            assert!(artifact.bootstrap_bytes < UNZIPPED_LIMIT_BYTES);
            // The machine in the ELF header is the architecture's (EM_X86_64 62, EM_AARCH64 183).
            let machine = u16::from_le_bytes([binary[18], binary[19]]);
            let expected = match architecture {
                artifacts::Architecture::X86_64 => 62,
                artifacts::Architecture::Arm64 => 183,
            };
            assert_eq!(machine, expected, "{}", artifact.zip);
            // Reproducible: the same binary packs to the same bytes.
            assert_eq!(artifacts::zip_bootstrap(&binary).unwrap(), zip);
        }
    }
}
