//! The glibc symbol versions an ELF executable needs, read from its version-needs section
//! (`.gnu.version_r`, section type `SHT_GNU_verneed`), as `objdump -T` and the dynamic loader
//! see them. Lambda's `provided.al2023` runtime ships glibc 2.34 ([`PROVIDED_AL2023_GLIBC`]):
//! a binary that needs a newer `GLIBC_x.y` fails at start with "version `GLIBC_x.y' not found".
//!
//! Only 64-bit little-endian files are read (x86_64 and arm64 Lambda binaries). Every offset is
//! checked against the file; a malformed file is an [`ElfError`] naming what is wrong, never a
//! panic.
//!
//! Sources: the System V ABI's ELF-64 header and section header layouts; the LSB's "Symbol
//! Versioning" (`Elfxx_Verneed`, `Elfxx_Vernaux`); glibc in Amazon Linux 2023 is 2.34 (AWS
//! Lambda's "Lambda runtimes" page lists `provided.al2023` on Amazon Linux 2023).

use std::fmt;

/// glibc's version on Lambda's `provided.al2023` runtime (Amazon Linux 2023).
pub const PROVIDED_AL2023_GLIBC: GlibcVersion = GlibcVersion {
    major: 2,
    minor: 34,
    patch: 0,
};

/// `SHT_GNU_verneed`.
const SECTION_VERSION_NEEDS: u32 = 0x6fff_fffe;
/// Size of an ELF-64 section header.
const SECTION_HEADER_SIZE: usize = 64;
/// Guards against a cyclic `vn_next`/`vna_next` chain in a malformed file.
const MAX_VERSION_ENTRIES: usize = 65_536;

/// Why an executable's version needs could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    /// Not an ELF file at all.
    #[error("not an ELF file (no \\x7fELF magic)")]
    NotElf,
    /// An ELF file of a kind Lambda does not run.
    #[error("{0}; Lambda runs 64-bit little-endian executables (x86_64, arm64)")]
    Unsupported(&'static str),
    /// A header, table or string reaches past the end of the file.
    #[error(
        "malformed ELF: {what} at offset {offset} reaches past the end of the file ({len} bytes)"
    )]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Where.
        offset: u64,
        /// The file's size.
        len: usize,
    },
    /// The version-needs chain does not end.
    #[error("malformed ELF: the version-needs chain has more than {MAX_VERSION_ENTRIES} entries")]
    Cyclic,
}

/// A glibc symbol version (`GLIBC_2.34` is 2.34.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GlibcVersion {
    /// 2.
    pub major: u32,
    /// 34.
    pub minor: u32,
    /// Rarely present (`GLIBC_2.3.4`).
    pub patch: u32,
}

impl GlibcVersion {
    /// `GLIBC_2.34` → 2.34; anything else (`GLIBC_PRIVATE`, `GCC_3.0`) → `None`.
    pub fn from_version_name(name: &str) -> Option<Self> {
        let digits = name.strip_prefix("GLIBC_")?;
        let mut parts = digits.split('.').map(str::parse::<u32>);
        let major = parts.next()?.ok()?;
        let minor = parts.next()?.ok()?;
        let patch = match parts.next() {
            Some(part) => part.ok()?,
            None => 0,
        };
        parts.next().is_none().then_some(Self {
            major,
            minor,
            patch,
        })
    }
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if self.patch != 0 {
            write!(f, ".{}", self.patch)?;
        }
        Ok(())
    }
}

/// One needed version: the library and the version name (`libc.so.6`, `GLIBC_2.34`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct VersionNeed {
    /// The shared library (`vn_file`).
    pub library: String,
    /// The version (`vna_name`).
    pub version: String,
}

/// Every version the executable needs, in file order. A static executable needs none.
pub fn version_needs(file: &[u8]) -> Result<Vec<VersionNeed>, ElfError> {
    let elf = Elf::parse(file)?;
    let Some(section) = elf.section_of_type(SECTION_VERSION_NEEDS)? else {
        return Ok(Vec::new());
    };
    let strings = elf.section(section.link)?;
    let mut needs = Vec::new();
    let mut at = section.offset;
    for entry in 0..section.info {
        if entry as usize > MAX_VERSION_ENTRIES {
            return Err(ElfError::Cyclic);
        }
        let library = elf.string(&strings, elf.u32(at + 4, "Verneed.vn_file")?)?;
        let count = elf.u16(at + 2, "Verneed.vn_cnt")?;
        let mut aux = at + u64::from(elf.u32(at + 8, "Verneed.vn_aux")?);
        for _ in 0..count {
            let version = elf.string(&strings, elf.u32(aux + 8, "Vernaux.vna_name")?)?;
            needs.push(VersionNeed {
                library: library.clone(),
                version,
            });
            if needs.len() > MAX_VERSION_ENTRIES {
                return Err(ElfError::Cyclic);
            }
            aux += u64::from(elf.u32(aux + 12, "Vernaux.vna_next")?);
        }
        let next = elf.u32(at + 12, "Verneed.vn_next")?;
        if next == 0 {
            break;
        }
        at += u64::from(next);
    }
    Ok(needs)
}

/// The newest `GLIBC_x.y` the executable needs (`None` for a static executable).
pub fn newest_glibc(file: &[u8]) -> Result<Option<GlibcVersion>, ElfError> {
    Ok(version_needs(file)?
        .iter()
        .filter_map(|need| GlibcVersion::from_version_name(&need.version))
        .max())
}

struct Elf<'a> {
    bytes: &'a [u8],
    section_headers: u64,
    section_count: u16,
}

#[derive(Debug, Clone, Copy)]
struct Section {
    kind: u32,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
}

impl<'a> Elf<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self, ElfError> {
        if !bytes.starts_with(b"\x7fELF") {
            return Err(ElfError::NotElf);
        }
        let probe = Elf {
            bytes,
            section_headers: 0,
            section_count: 0,
        };
        match (bytes.get(4), bytes.get(5)) {
            (Some(2), Some(1)) => {}
            (Some(2), _) => return Err(ElfError::Unsupported("a big-endian ELF file")),
            (Some(_), _) => return Err(ElfError::Unsupported("a 32-bit ELF file")),
            (None, _) => {
                return Err(ElfError::Truncated {
                    what: "the ELF identification",
                    offset: 4,
                    len: bytes.len(),
                });
            }
        }
        let section_headers = probe.u64(0x28, "e_shoff")?;
        let entry_size = probe.u16(0x3a, "e_shentsize")?;
        let section_count = probe.u16(0x3c, "e_shnum")?;
        if section_count > 0 && usize::from(entry_size) != SECTION_HEADER_SIZE {
            return Err(ElfError::Unsupported("a section header size other than 64"));
        }
        Ok(Elf {
            bytes,
            section_headers,
            section_count,
        })
    }

    fn section(&self, index: u32) -> Result<Section, ElfError> {
        let at = self.section_headers + u64::from(index) * SECTION_HEADER_SIZE as u64;
        let section = Section {
            kind: self.u32(at + 4, "a section header")?,
            offset: self.u64(at + 24, "sh_offset")?,
            size: self.u64(at + 32, "sh_size")?,
            link: self.u32(at + 40, "sh_link")?,
            info: self.u32(at + 44, "sh_info")?,
        };
        self.slice(section.offset, section.size, "a section's contents")?;
        Ok(section)
    }

    fn section_of_type(&self, kind: u32) -> Result<Option<Section>, ElfError> {
        for index in 0..u32::from(self.section_count) {
            let section = self.section(index)?;
            if section.kind == kind {
                return Ok(Some(section));
            }
        }
        Ok(None)
    }

    fn string(&self, table: &Section, offset: u32) -> Result<String, ElfError> {
        let bytes = self.slice(table.offset, table.size, "the string table")?;
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let tail = bytes.get(start..).ok_or(ElfError::Truncated {
            what: "a version name",
            offset: table.offset + u64::from(offset),
            len: self.bytes.len(),
        })?;
        let end = tail.iter().position(|b| *b == 0).unwrap_or(tail.len());
        Ok(String::from_utf8_lossy(&tail[..end]).into_owned())
    }

    fn slice(&self, offset: u64, size: u64, what: &'static str) -> Result<&'a [u8], ElfError> {
        let truncated = ElfError::Truncated {
            what,
            offset,
            len: self.bytes.len(),
        };
        let start = usize::try_from(offset).map_err(|_| truncated.clone())?;
        let size = usize::try_from(size).map_err(|_| truncated.clone())?;
        start
            .checked_add(size)
            .and_then(|end| self.bytes.get(start..end))
            .ok_or(truncated)
    }

    fn array<const N: usize>(&self, offset: u64, what: &'static str) -> Result<[u8; N], ElfError> {
        let bytes = self.slice(offset, N as u64, what)?;
        let mut out = [0; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn u16(&self, offset: u64, what: &'static str) -> Result<u16, ElfError> {
        Ok(u16::from_le_bytes(self.array(offset, what)?))
    }

    fn u32(&self, offset: u64, what: &'static str) -> Result<u32, ElfError> {
        Ok(u32::from_le_bytes(self.array(offset, what)?))
    }

    fn u64(&self, offset: u64, what: &'static str) -> Result<u64, ElfError> {
        Ok(u64::from_le_bytes(self.array(offset, what)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn version_names_parse_as_glibc_does() {
        let v = |s| GlibcVersion::from_version_name(s);
        assert_eq!(v("GLIBC_2.34"), Some(PROVIDED_AL2023_GLIBC));
        assert_eq!(
            v("GLIBC_2.3.4").map(|g| g.to_string()),
            Some("2.3.4".into())
        );
        assert!(v("GLIBC_2.2.5") < v("GLIBC_2.17"));
        assert!(v("GLIBC_2.35") > Some(PROVIDED_AL2023_GLIBC));
        assert_eq!(v("GLIBC_PRIVATE"), None);
        assert_eq!(v("GCC_3.0"), None);
        assert_eq!(v("GLIBC_2.34.1.2"), None);
    }

    #[test]
    fn a_dynamic_host_executable_needs_glibc_versions() {
        // The host's own coreutils link glibc dynamically; what objdump -T lists is found.
        let bytes = std::fs::read("/bin/true").unwrap();
        let needs = version_needs(&bytes).unwrap();
        assert!(
            needs
                .iter()
                .any(|n| n.library == "libc.so.6" && n.version.starts_with("GLIBC_2.")),
            "{needs:?}"
        );
        assert!(newest_glibc(&bytes).unwrap().unwrap().major == 2);
    }

    #[test]
    fn malformed_files_are_named_errors() {
        assert_eq!(version_needs(b"#!/bin/sh\n"), Err(ElfError::NotElf));
        let mut header = b"\x7fELF\x01\x01".to_vec();
        header.resize(64, 0);
        assert!(matches!(
            version_needs(&header),
            Err(ElfError::Unsupported(_))
        ));
        let truncated = &std::fs::read("/bin/true").unwrap()[..200];
        let error = version_needs(truncated).unwrap_err().to_string();
        assert!(
            error.contains("past the end of the file (200 bytes)"),
            "{error}"
        );
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(tail in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut bytes = b"\x7fELF\x02\x01".to_vec();
            bytes.extend(tail);
            let _ = version_needs(&bytes);
        }

        #[test]
        fn never_panics_on_a_corrupted_real_executable(at in any::<usize>(), byte in any::<u8>()) {
            let mut bytes = std::fs::read("/bin/true").unwrap();
            let at = at % bytes.len();
            bytes[at] = byte;
            let _ = version_needs(&bytes);
        }
    }
}
