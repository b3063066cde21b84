//! Reading whole files of bounded size.

use std::io::{self, Read};
use std::path::Path;

/// Reads all of `path` if it holds at most `max` bytes; more is an
/// [`io::ErrorKind::InvalidData`] error saying so.
///
/// Checking `metadata().len()` before reading is not enough: `/dev/zero`,
/// pipes and `/proc` files report a length of 0 and would be read until
/// memory runs out. This reads at most `max + 1` bytes whatever the file is.
pub fn read_at_most(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("more than {max} bytes"),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_small_files_and_refuses_larger_ones() {
        let dir = std::env::temp_dir().join(format!("melodora-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("five");
        std::fs::write(&file, b"hello").unwrap();
        assert_eq!(read_at_most(&file, 5).unwrap(), b"hello");
        let err = read_at_most(&file, 4).unwrap_err();
        assert!(err.to_string().contains("more than 4 bytes"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_file_that_reports_no_length_and_never_ends_is_cut_off() {
        let err = read_at_most(Path::new("/dev/zero"), 1024).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
