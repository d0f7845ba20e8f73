//! `loglab build`: both Lambda functions built with cargo-lambda for `provided.al2023`, zipped,
//! checked (glibc, size) and listed in a manifest that `deploy` and `run --lambda artifacts`
//! read.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use stack::artifacts::{self, Architecture, BuildRequest, Manifest, Profile};

/// The workspace root: this binary is built from its `loglab` package.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Which architectures to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ArchChoice {
    /// x86_64, and arm64 when its Rust target is installed.
    Auto,
    /// x86_64 only.
    #[value(name = "x86_64")]
    X86_64,
    /// arm64 only (needs `rustup target add aarch64-unknown-linux-gnu`).
    Arm64,
    /// Both; fails when a Rust target is missing.
    All,
}

/// Optimisation, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProfileChoice {
    /// What deploy uploads: release, with cargo-lambda's settings (LTO, one codegen unit).
    Release,
    /// Optimised but quicker to build (the `lambda-fast` profile), for runs and CI.
    Fast,
}

impl From<ProfileChoice> for Profile {
    fn from(choice: ProfileChoice) -> Self {
        match choice {
            ProfileChoice::Release => Profile::Release,
            ProfileChoice::Fast => Profile::Fast,
        }
    }
}

/// `loglab build`'s arguments.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Architectures.
    #[arg(long, value_enum, default_value = "auto")]
    pub arch: ArchChoice,
    /// Optimisation.
    #[arg(long, value_enum, default_value = "release")]
    pub profile: ProfileChoice,
    /// The artifacts directory (default: <target dir>/lambda-artifacts/<profile>).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The artifacts directory: `dir` if given, else the default for `profile`.
pub fn artifacts_dir(dir: Option<&Path>, profile: ProfileChoice) -> PathBuf {
    dir.map_or_else(
        || artifacts::default_dir(&workspace(), profile.into()),
        Path::to_path_buf,
    )
}

/// Builds and prints the manifest as a table.
pub fn build(args: &BuildArgs) -> anyhow::Result<ExitCode> {
    let architectures = match args.arch {
        ArchChoice::X86_64 => vec![Architecture::X86_64],
        ArchChoice::Arm64 => vec![Architecture::Arm64],
        ArchChoice::All => Architecture::ALL.to_vec(),
        ArchChoice::Auto if artifacts::installed(Architecture::Arm64) => Architecture::ALL.to_vec(),
        ArchChoice::Auto => {
            eprintln!(
                "arm64 skipped: the Rust target {} is not installed; add it with `rustup target add {}`",
                Architecture::Arm64.rust_target(),
                Architecture::Arm64.rust_target()
            );
            vec![Architecture::X86_64]
        }
    };
    let request = BuildRequest {
        workspace: workspace(),
        out: artifacts_dir(args.out.as_deref(), args.profile),
        architectures,
        profile: args.profile.into(),
    };
    let started = std::time::Instant::now();
    let manifest = artifacts::build(&request)?;
    print_manifest(&request.out, &manifest);
    println!("built in {:.0} s", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

/// The manifest as a table.
pub fn print_manifest(dir: &Path, manifest: &Manifest) {
    println!(
        "{} ({} profile, {}, glibc <= {})",
        dir.join(artifacts::MANIFEST).display(),
        manifest.profile.name(),
        manifest.runtime,
        manifest.glibc_limit
    );
    println!(
        "  {:<16} {:<7} {:>10} {:>12} {:<6} sha256",
        "function", "arch", "zip", "unzipped", "glibc"
    );
    for a in &manifest.artifacts {
        println!(
            "  {:<16} {:<7} {:>10} {:>12} {:<6} {}",
            a.function,
            a.architecture.lambda_name(),
            a.zip_bytes,
            a.bootstrap_bytes,
            a.glibc_needed,
            a.sha256
        );
    }
}
