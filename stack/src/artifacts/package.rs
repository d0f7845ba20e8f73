//! A Lambda deployment package for a custom runtime: one zip holding one executable file named
//! `bootstrap` at its root (AWS Lambda developer guide, "Deploying Rust Lambda functions with
//! .zip file archives" and "Building a custom runtime"), with mode 0755 and a fixed timestamp,
//! so that the same binary always gives the same bytes and the same content hash.

use std::io::{Read as _, Write as _};

use sha2::{Digest as _, Sha256};

/// The executable a custom runtime starts.
pub const BOOTSTRAP: &str = "bootstrap";
/// Lambda's limit on a function's unzipped deployment package (AWS Lambda quotas page:
/// "250 MB ... maximum size of the contents of a deployment package, including layers").
pub const UNZIPPED_LIMIT_BYTES: u64 = 250 * 1024 * 1024;

/// Why a package could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Zip writing or reading failed.
    #[error("zip: {0}")]
    Zip(String),
    /// The archive is not what Lambda's custom runtime starts.
    #[error("not a Lambda package: {0}")]
    Layout(String),
}

/// Zips `binary` as `bootstrap`.
pub fn zip_bootstrap(binary: &[u8]) -> Result<Vec<u8>, PackageError> {
    let zip_error = |e: zip::result::ZipError| PackageError::Zip(e.to_string());
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755)
        .last_modified_time(zip::DateTime::default());
    zip.start_file(BOOTSTRAP, options).map_err(zip_error)?;
    zip.write_all(binary)
        .map_err(|e| PackageError::Zip(e.to_string()))?;
    zip.finish().map_err(zip_error)?;
    Ok(out.into_inner())
}

/// Reads a package back and checks its layout: exactly one entry, `bootstrap`, a regular
/// file with the owner's execute bit. Returns the executable's bytes.
pub fn read_bootstrap(zip_bytes: &[u8]) -> Result<Vec<u8>, PackageError> {
    let zip_error = |e: zip::result::ZipError| PackageError::Zip(e.to_string());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).map_err(zip_error)?;
    let mut names = Vec::new();
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(zip_error)?;
        names.push(entry.name().map_err(zip_error)?.to_string());
    }
    if names != [BOOTSTRAP] {
        return Err(PackageError::Layout(format!(
            "expected exactly one entry `{BOOTSTRAP}` at the root, found {names:?}"
        )));
    }
    let mut entry = archive.by_index(0).map_err(zip_error)?;
    match entry.unix_mode() {
        Some(mode) if mode & 0o100 != 0 && mode & 0o170_000 != 0o040_000 => {}
        mode => {
            let mode = mode.map_or_else(|| "unset".to_owned(), |m| format!("{m:o}"));
            return Err(PackageError::Layout(format!(
                "`{BOOTSTRAP}` is not an executable file (mode {mode})"
            )));
        }
    }
    let mut binary = Vec::new();
    entry
        .read_to_end(&mut binary)
        .map_err(|e| PackageError::Zip(e.to_string()))?;
    Ok(binary)
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_hold_one_executable_bootstrap_and_are_reproducible() {
        let binary = std::fs::read("/bin/true").unwrap();
        let first = zip_bootstrap(&binary).unwrap();
        assert_eq!(
            first,
            zip_bootstrap(&binary).unwrap(),
            "same binary, same bytes"
        );
        assert_eq!(read_bootstrap(&first).unwrap(), binary);
    }

    #[test]
    fn foreign_layouts_are_refused_with_what_was_found() {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default().unix_permissions(0o644);
        zip.start_file("bootstrap", options).unwrap();
        zip.write_all(b"x").unwrap();
        zip.finish().unwrap();
        let error = read_bootstrap(&out.into_inner()).unwrap_err().to_string();
        assert!(
            error.contains("not an executable file (mode 100644)"),
            "{error}"
        );

        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        zip.start_file(
            "target/lambda/etl/bootstrap",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.finish().unwrap();
        let error = read_bootstrap(&out.into_inner()).unwrap_err().to_string();
        assert!(
            error.contains("found [\"target/lambda/etl/bootstrap\"]"),
            "{error}"
        );
    }

    #[test]
    fn sha256_matches_the_standard_test_vector() {
        // FIPS 180-2, appendix B.1: SHA-256("abc").
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
