//! Deployable Lambda artifacts: both functions built with cargo-lambda for the `provided.al2023`
//! runtime, packaged as reproducible zips, and described by a manifest.
//!
//! cargo-lambda comes from PyPI into a cached venv (`scripts/cargo-lambda.sh`); its wheel
//! brings Zig, which links each binary against glibc 2.34, the version of Amazon Linux 2023,
//! whatever the host's glibc. Each function is built on its own so that a failure names it;
//! the compiler's output goes to the terminal as it comes.
//!
//! Layout of an artifacts directory (default `<target dir>/lambda-artifacts/<profile>`, so that
//! the quicker CI build never stands in for the release build `deploy` uploads):
//! `manifest.json`, and per architecture `<arch>/<binary>.zip` (plus cargo-lambda's
//! `<arch>/<binary>/bootstrap`, the unzipped binary).

mod elf;
mod package;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

pub use elf::{ElfError, GlibcVersion, PROVIDED_AL2023_GLIBC, newest_glibc, version_needs};
pub use package::{
    BOOTSTRAP, PackageError, UNZIPPED_LIMIT_BYTES, read_bootstrap, sha256_hex, zip_bootstrap,
};

/// A Lambda function of the stack: the binary that implements it and the template parameter
/// that names its package in the code bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function {
    /// The `pipeline` binary (`etl-lambda`).
    pub binary: &'static str,
    /// The template parameter holding the package's S3 key.
    pub code_key_parameter: &'static str,
}

/// Both functions of the stack.
pub const FUNCTIONS: [Function; 2] = [
    Function {
        binary: "etl-lambda",
        code_key_parameter: "EtlCodeKey",
    },
    Function {
        binary: "onboard-lambda",
        code_key_parameter: "OnboardingCodeKey",
    },
];

/// The manifest's file name inside the artifacts directory.
pub const MANIFEST: &str = "manifest.json";
/// The script that installs and runs cargo-lambda, relative to the workspace.
pub const CARGO_LAMBDA_SCRIPT: &str = "scripts/cargo-lambda.sh";

/// An instruction set Lambda runs (the template's `FunctionArchitecture` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// `x86_64`.
    X86_64,
    /// `arm64` (Graviton).
    Arm64,
}

impl Architecture {
    /// Both, x86_64 first.
    pub const ALL: [Architecture; 2] = [Architecture::X86_64, Architecture::Arm64];

    /// Lambda's name, as `Architectures` takes it.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Arm64 => "arm64",
        }
    }

    /// The Rust target.
    pub fn rust_target(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64-unknown-linux-gnu",
            Self::Arm64 => "aarch64-unknown-linux-gnu",
        }
    }

    /// The target cargo-zigbuild links for: the Rust target with the runtime's glibc.
    pub fn zig_target(self) -> String {
        format!("{}.{}", self.rust_target(), PROVIDED_AL2023_GLIBC)
    }

    /// Lambda's name back to the architecture.
    pub fn from_lambda_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.lambda_name() == name)
    }
}

impl std::fmt::Display for Architecture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.lambda_name())
    }
}

/// How the binaries are optimised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// What `deploy` uploads: cargo's release profile with cargo-lambda's release settings
    /// (thin LTO, one codegen unit, `panic = "abort"`, stripped symbols, a Haswell or
    /// Neoverse-N1 baseline).
    Release,
    /// The workspace's `lambda-fast` profile, without cargo-lambda's settings: the dev
    /// profile's optimisation without debug info, stripped; for runs and CI, where build time
    /// counts more than the functions' speed. Same glibc, same packaging.
    Fast,
}

impl Profile {
    /// Its name in the manifest and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Release => "release",
            Self::Fast => "fast",
        }
    }

    /// The profile a name gives (`release`, `fast`).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Release, Self::Fast]
            .into_iter()
            .find(|p| p.name() == name)
    }

    fn cargo_lambda_args(self) -> &'static [&'static str] {
        match self {
            Self::Release => &["--release"],
            Self::Fast => &["--profile", "lambda-fast", "--disable-optimizations"],
        }
    }
}

/// One built function for one architecture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// The binary's name (`etl-lambda`).
    pub function: String,
    /// Its architecture.
    pub architecture: Architecture,
    /// The zip, relative to the artifacts directory.
    pub zip: String,
    /// The zip's size.
    pub zip_bytes: u64,
    /// The unzipped `bootstrap`'s size (Lambda's limit: [`UNZIPPED_LIMIT_BYTES`]).
    pub bootstrap_bytes: u64,
    /// SHA-256 of the zip: what `deploy` names the upload by.
    pub sha256: String,
    /// The newest `GLIBC_x.y` the binary needs (`static` when none).
    pub glibc_needed: String,
}

/// What a build produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// How the binaries were optimised.
    pub profile: Profile,
    /// The runtime they are for.
    pub runtime: String,
    /// The glibc the runtime has; no artifact needs a newer one.
    pub glibc_limit: String,
    /// Every artifact, by architecture then function.
    pub artifacts: Vec<Artifact>,
}

impl Manifest {
    /// Reads `<dir>/manifest.json`.
    pub fn load(dir: &Path) -> Result<Self, BuildError> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|e| BuildError::NoArtifacts {
            dir: dir.display().to_string(),
            message: e.to_string(),
        })?;
        serde_json::from_str(&text).map_err(|e| BuildError::Manifest {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// The artifact of `function` for `architecture`.
    pub fn artifact(&self, function: &str, architecture: Architecture) -> Option<&Artifact> {
        self.artifacts
            .iter()
            .find(|a| a.function == function && a.architecture == architecture)
    }

    /// The architectures it holds both functions for.
    pub fn architectures(&self) -> Vec<Architecture> {
        Architecture::ALL
            .into_iter()
            .filter(|a| {
                FUNCTIONS
                    .iter()
                    .all(|f| self.artifact(f.binary, *a).is_some())
            })
            .collect()
    }
}

/// Why artifacts could not be built or used.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// cargo-lambda could not be installed or started.
    #[error("cargo-lambda ({CARGO_LAMBDA_SCRIPT}): {0}")]
    CargoLambda(String),
    /// The Rust target of an architecture is not installed.
    #[error(
        "{architecture}: the Rust target {target} is not installed; add it with `rustup target add {target}`"
    )]
    TargetMissing {
        /// The architecture asked for.
        architecture: Architecture,
        /// Its Rust target.
        target: &'static str,
    },
    /// The compiler failed; its output went to the terminal above this message.
    #[error(
        "building {function} for {architecture} failed ({status}); the compiler's output is above"
    )]
    Compile {
        /// The function.
        function: &'static str,
        /// The architecture.
        architecture: Architecture,
        /// cargo-lambda's exit status.
        status: String,
    },
    /// A binary needs a newer glibc than the runtime has.
    #[error(
        "{function} ({architecture}) needs GLIBC_{needed}, newer than provided.al2023's {PROVIDED_AL2023_GLIBC}: it would fail to start on Lambda"
    )]
    Glibc {
        /// The function.
        function: String,
        /// The architecture.
        architecture: Architecture,
        /// The newest version it needs.
        needed: GlibcVersion,
    },
    /// A binary is larger than Lambda accepts.
    #[error(
        "{function} ({architecture}) is {bytes} bytes unzipped, over Lambda's {UNZIPPED_LIMIT_BYTES}-byte limit"
    )]
    TooLarge {
        /// The function.
        function: String,
        /// The architecture.
        architecture: Architecture,
        /// Its size.
        bytes: u64,
    },
    /// A built binary is not a Lambda executable.
    #[error("{path}: {source}")]
    Elf {
        /// The file.
        path: String,
        /// What is wrong.
        source: ElfError,
    },
    /// A package is malformed.
    #[error("{path}: {source}")]
    Package {
        /// The file.
        path: String,
        /// What is wrong.
        source: PackageError,
    },
    /// A zip does not match the manifest.
    #[error(
        "{path}: sha256 {actual}, but the manifest says {expected}; rebuild with `loglab build`"
    )]
    Changed {
        /// The zip.
        path: String,
        /// Its hash now.
        actual: String,
        /// The manifest's.
        expected: String,
    },
    /// No artifacts were built yet.
    #[error(
        "no Lambda artifacts in {dir} ({message}); build them with `cargo run --bin loglab -- build` (`--profile fast` for the quicker build)"
    )]
    NoArtifacts {
        /// The directory.
        dir: String,
        /// Why the manifest could not be read.
        message: String,
    },
    /// The manifest is unreadable.
    #[error("{path}: {message}")]
    Manifest {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The OS's message.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |e| BuildError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The cargo target directory a workspace builds into (`CARGO_TARGET_DIR`, else `target/`).
pub fn target_dir(workspace: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                workspace.join(dir)
            }
        })
        .unwrap_or_else(|| workspace.join("target"))
}

/// Where artifacts of `profile` go by default.
pub fn default_dir(workspace: &Path, profile: Profile) -> PathBuf {
    target_dir(workspace)
        .join("lambda-artifacts")
        .join(profile.name())
}

/// The Rust targets whose standard library is installed (`<sysroot>/lib/rustlib/<target>`).
pub fn installed(architecture: Architecture) -> bool {
    let sysroot = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .args(["--print", "sysroot"])
        .output();
    match sysroot {
        Ok(out) if out.status.success() => {
            let root = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            Path::new(&root)
                .join("lib/rustlib")
                .join(architecture.rust_target())
                .join("lib")
                .is_dir()
        }
        _ => false,
    }
}

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// The workspace root (holding `scripts/` and the `pipeline` package).
    pub workspace: PathBuf,
    /// The artifacts directory.
    pub out: PathBuf,
    /// The architectures, each of which must be installed.
    pub architectures: Vec<Architecture>,
    /// How to optimise.
    pub profile: Profile,
}

/// Builds, checks and packages every function for every architecture asked for, then writes
/// the manifest. A binary that needs a glibc newer than the runtime's, or is over Lambda's
/// size limit, fails the build.
pub fn build(request: &BuildRequest) -> Result<Manifest, BuildError> {
    for architecture in &request.architectures {
        if !installed(*architecture) {
            return Err(BuildError::TargetMissing {
                architecture: *architecture,
                target: architecture.rust_target(),
            });
        }
    }
    let script = request.workspace.join(CARGO_LAMBDA_SCRIPT);
    std::fs::create_dir_all(&request.out).map_err(io(&request.out))?;
    let mut artifacts = Vec::new();
    for architecture in &request.architectures {
        let lambda_dir = request.out.join(architecture.lambda_name());
        for function in FUNCTIONS {
            compile(&script, request, *architecture, function, &lambda_dir)?;
            let binary = lambda_dir.join(function.binary).join(BOOTSTRAP);
            artifacts.push(package_one(
                &request.out,
                &binary,
                function.binary,
                *architecture,
            )?);
        }
    }
    let manifest = Manifest {
        profile: request.profile,
        runtime: "provided.al2023".to_owned(),
        glibc_limit: PROVIDED_AL2023_GLIBC.to_string(),
        artifacts,
    };
    let path = request.out.join(MANIFEST);
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| BuildError::Manifest {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    std::fs::write(&path, text + "\n").map_err(io(&path))?;
    Ok(manifest)
}

fn compile(
    script: &Path,
    request: &BuildRequest,
    architecture: Architecture,
    function: Function,
    lambda_dir: &Path,
) -> Result<(), BuildError> {
    tracing::info!(function = function.binary, %architecture, profile = request.profile.name(), "building with cargo-lambda");
    let status = Command::new(script)
        .current_dir(&request.workspace)
        .arg("build")
        .args(request.profile.cargo_lambda_args())
        .args(["--compiler", "cargo-zigbuild", "--target"])
        .arg(architecture.zig_target())
        .args([
            "--package",
            "pipeline",
            "--bin",
            function.binary,
            "--locked",
        ])
        .arg("--lambda-dir")
        .arg(lambda_dir)
        .status()
        .map_err(|e| {
            BuildError::CargoLambda(format!("could not start {}: {e}", script.display()))
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(BuildError::Compile {
            function: function.binary,
            architecture,
            status: status.to_string(),
        })
    }
}

/// Checks a built binary (glibc, size), zips it next to the architecture's directory and
/// describes it.
fn package_one(
    out: &Path,
    binary: &Path,
    function: &str,
    architecture: Architecture,
) -> Result<Artifact, BuildError> {
    let bytes = std::fs::read(binary).map_err(io(binary))?;
    let glibc_needed = check_binary(&bytes, binary, function, architecture)?;
    let zip = package::zip_bootstrap(&bytes).map_err(|source| BuildError::Package {
        path: binary.display().to_string(),
        source,
    })?;
    let relative = format!("{}/{function}.zip", architecture.lambda_name());
    let path = out.join(&relative);
    std::fs::write(&path, &zip).map_err(io(&path))?;
    Ok(Artifact {
        function: function.to_owned(),
        architecture,
        zip: relative,
        zip_bytes: zip.len() as u64,
        bootstrap_bytes: bytes.len() as u64,
        sha256: sha256_hex(&zip),
        glibc_needed,
    })
}

/// The binary's newest needed glibc as text, or the error that keeps it off Lambda.
fn check_binary(
    bytes: &[u8],
    path: &Path,
    function: &str,
    architecture: Architecture,
) -> Result<String, BuildError> {
    let needed = newest_glibc(bytes).map_err(|source| BuildError::Elf {
        path: path.display().to_string(),
        source,
    })?;
    if let Some(needed) = needed.filter(|n| *n > PROVIDED_AL2023_GLIBC) {
        return Err(BuildError::Glibc {
            function: function.to_owned(),
            architecture,
            needed,
        });
    }
    if bytes.len() as u64 > UNZIPPED_LIMIT_BYTES {
        return Err(BuildError::TooLarge {
            function: function.to_owned(),
            architecture,
            bytes: bytes.len() as u64,
        });
    }
    Ok(needed.map_or_else(|| "static".to_owned(), |n| n.to_string()))
}

/// Reads an artifact's zip and checks it again: the manifest's hash, the package layout, the
/// glibc it needs and its size. Returns the zip's bytes.
pub fn verified_zip(dir: &Path, artifact: &Artifact) -> Result<Vec<u8>, BuildError> {
    let path = dir.join(&artifact.zip);
    let zip = std::fs::read(&path).map_err(io(&path))?;
    let actual = sha256_hex(&zip);
    if actual != artifact.sha256 {
        return Err(BuildError::Changed {
            path: path.display().to_string(),
            actual,
            expected: artifact.sha256.clone(),
        });
    }
    let binary = package::read_bootstrap(&zip).map_err(|source| BuildError::Package {
        path: path.display().to_string(),
        source,
    })?;
    check_binary(&binary, &path, &artifact.function, artifact.architecture)?;
    Ok(zip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architectures_name_lambda_rust_and_zig_targets() {
        assert_eq!(Architecture::Arm64.lambda_name(), "arm64");
        assert_eq!(
            Architecture::X86_64.zig_target(),
            "x86_64-unknown-linux-gnu.2.34"
        );
        assert_eq!(
            Architecture::from_lambda_name("arm64"),
            Some(Architecture::Arm64)
        );
        assert_eq!(Architecture::from_lambda_name("aarch64"), None);
    }

    #[test]
    fn the_host_target_is_installed() {
        // The toolchain that runs this test has its own target's standard library.
        assert!(installed(Architecture::X86_64) || installed(Architecture::Arm64));
    }

    #[test]
    fn a_binary_newer_than_the_runtime_glibc_is_refused_by_name() {
        // The host's /bin/true stands for a binary: the same file with its newest GLIBC
        // version name rewritten to a newer one of the same length (GLIBC_2.34 becomes
        // GLIBC_2.99) stands for one linked against a newer host.
        let bytes = std::fs::read("/bin/true").unwrap();
        let newest = newest_glibc(&bytes).unwrap().unwrap();
        let path = Path::new("/bin/true");
        if newest <= PROVIDED_AL2023_GLIBC {
            assert!(check_binary(&bytes, path, "true", Architecture::X86_64).is_ok());
        }
        let name = format!("GLIBC_{newest}");
        let newer = format!("GLIBC_{}.{}", newest.major, "9".repeat(name.len() - 8));
        let newer_bytes = replace(&bytes, name.as_bytes(), newer.as_bytes());
        let error = check_binary(&newer_bytes, path, "true", Architecture::X86_64)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!(
                "true (x86_64) needs {newer}, newer than provided.al2023's 2.34"
            )),
            "{error}"
        );
    }

    fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = bytes
            .windows(from.len())
            .position(|w| w == from)
            .expect("the version name is in the file");
        let mut out = bytes.to_vec();
        out[at..at + to.len()].copy_from_slice(to);
        out
    }

    #[test]
    fn missing_artifacts_say_what_to_run() {
        let error = Manifest::load(Path::new("/nonexistent/artifacts"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("loglab -- build"), "{error}");
    }
}
