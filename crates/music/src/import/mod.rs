//! Reading catalog files: the original's per-emotion CSVs, one CSV with an
//! emotion column, and Spotify audio-feature exports.
//!
//! Readers stream rows to a callback so that a million-song file never sits
//! in memory, and report every malformed row with its file and line. What
//! happens to the rows (and whether a bad row aborts everything) is the
//! store's business; see [`crate::Store::import_files`].

mod columns;
mod row;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use melodora_core::Emotion;

pub use columns::Columns;

pub use crate::error::RowProblem;
use crate::error::{Error, Result};
use crate::song::Track;

/// A song read from a catalog file and the emotion lists it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedTrack {
    /// The song's metadata.
    pub track: Track,
    /// Emotion lists naming the song, each with the song's position in that
    /// list within its file (0 = top). Empty when the song is placed by its
    /// audio features alone.
    pub filings: Vec<Filing>,
}

/// A song's place in one emotion's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filing {
    /// The list.
    pub emotion: Emotion,
    /// Position in the list within its file, 0 at the top.
    pub rank: u32,
}

/// One CSV file to import and the emotion its songs belong to, when that
/// comes from outside the file (its name, or `--emotion`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogFile {
    /// The CSV file.
    pub path: PathBuf,
    /// The emotion every row is filed under; `None` when rows say (an
    /// emotion column) or audio features place them.
    pub emotion: Option<Emotion>,
}

/// The files to import from `path`.
///
/// A directory is read in the original's layout: one `<emotion>.csv` per
/// emotion (the original's names such as `fearful.csv` or FER names such as
/// `fear.csv`); other files are skipped. A single file is filed under
/// `emotion` when given, else under the emotion its name spells (so
/// `songs/angry.csv` works alone), else its rows must say it themselves.
pub fn catalog_files(path: &Path, emotion: Option<Emotion>) -> Result<Vec<CatalogFile>> {
    let metadata = std::fs::metadata(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if !metadata.is_dir() {
        let emotion = emotion.or_else(|| emotion_of_file_name(path));
        return Ok(vec![CatalogFile {
            path: path.to_path_buf(),
            emotion,
        }]);
    }
    let entries = std::fs::read_dir(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file = entry.path();
        let is_csv = file
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
        if let (true, Some(file_emotion)) = (is_csv, emotion_of_file_name(&file)) {
            files.push(CatalogFile {
                path: file,
                emotion: Some(emotion.unwrap_or(file_emotion)),
            });
        }
    }
    if files.is_empty() {
        return Err(Error::NoCatalogFiles {
            path: path.to_path_buf(),
        });
    }
    files.sort_by(|a, b| (a.emotion, &a.path).cmp(&(b.emotion, &b.path)));
    Ok(files)
}

/// The emotion a file's name spells (`sad.csv`, `fearful.csv`), if any.
pub(crate) fn emotion_of_file_name(path: &Path) -> Option<Emotion> {
    path.file_stem()?.to_str()?.parse().ok()
}

/// Counts of one file's rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileCounts {
    /// Data rows read.
    pub rows: u64,
    /// Rows that became songs.
    pub accepted: u64,
    /// Rows refused as malformed.
    pub rejected: u64,
}

/// Reads one catalog file, handing each good row to `on_track` and each bad
/// one to `on_problem`; either callback may stop the import by failing.
pub fn read_catalog_file(
    file: &CatalogFile,
    on_track: &mut dyn FnMut(ImportedTrack) -> Result<()>,
    on_problem: &mut dyn FnMut(RowProblem) -> Result<()>,
) -> Result<FileCounts> {
    let reader = File::open(&file.path).map_err(|source| Error::Read {
        path: file.path.clone(),
        source,
    })?;
    read_catalog(reader, &file.path, file.emotion, on_track, on_problem)
}

/// Reads catalog CSV from any reader; `name` labels problems and errors.
pub fn read_catalog(
    reader: impl Read,
    name: &Path,
    emotion: Option<Emotion>,
    on_track: &mut dyn FnMut(ImportedTrack) -> Result<()>,
    on_problem: &mut dyn FnMut(RowProblem) -> Result<()>,
) -> Result<FileCounts> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(reader);
    let bad_file = |message: String| Error::BadFile {
        path: name.to_path_buf(),
        message,
    };
    let header = csv
        .headers()
        .map_err(|err| bad_file(format!("cannot read the header row: {err}")))?
        .clone();
    let columns = Columns::from_header(header.iter()).map_err(bad_file)?;
    if emotion.is_none() && columns.emotion.is_none() && !columns.has_features() {
        return Err(bad_file(
            "cannot tell which emotion these songs belong to: name the file after an \
             emotion (e.g. sad.csv), add an emotion column, add valence and energy columns, \
             or pass --emotion"
                .into(),
        ));
    }
    let mut ranks = [0u32; Emotion::ALL.len()];
    let mut counts = FileCounts::default();
    let mut record = csv::StringRecord::new();
    loop {
        let line = csv.position().line() + 1;
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                counts.rows += 1;
                let line = record.position().map_or(line, |p| p.line());
                match row::parse(&record, &columns, emotion, &mut ranks) {
                    Ok(track) => {
                        counts.accepted += 1;
                        on_track(track)?;
                    }
                    Err(message) => {
                        counts.rejected += 1;
                        on_problem(problem(name, line, message))?;
                    }
                }
            }
            Err(err) if is_row_error(&err) => {
                counts.rows += 1;
                counts.rejected += 1;
                let line = err.position().map_or(line, |p| p.line());
                on_problem(problem(name, line, row_error_message(&err)))?;
            }
            Err(err) => return Err(bad_file(format!("cannot read: {err}"))),
        }
    }
    Ok(counts)
}

fn problem(name: &Path, line: u64, message: String) -> RowProblem {
    RowProblem {
        file: name.to_path_buf(),
        line,
        message,
    }
}

/// Errors confined to one record, after which reading can go on.
fn is_row_error(err: &csv::Error) -> bool {
    matches!(
        err.kind(),
        csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }
    )
}

fn row_error_message(err: &csv::Error) -> String {
    match err.kind() {
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} fields, the header has {expected_len}"),
        _ => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(
        text: &[u8],
        emotion: Option<Emotion>,
    ) -> Result<(Vec<ImportedTrack>, Vec<RowProblem>)> {
        let mut tracks = Vec::new();
        let mut problems = Vec::new();
        read_catalog(
            text,
            Path::new("test.csv"),
            emotion,
            &mut |t| {
                tracks.push(t);
                Ok(())
            },
            &mut |p| {
                problems.push(p);
                Ok(())
            },
        )?;
        Ok((tracks, problems))
    }

    #[test]
    fn reads_the_original_format_in_order() {
        let text = b",Name,Album,Artist\n0,Mo Bamba,MUDBOY,Sheck Wes\n1,\"Hello, World\",\"A \"\"B\"\"\",X\n";
        let (tracks, problems) = read(text, Some(Emotion::Angry)).unwrap();
        assert!(problems.is_empty());
        assert_eq!(tracks.len(), 2);
        assert_eq!(tracks[1].track.title, "Hello, World");
        assert_eq!(tracks[1].track.album, "A \"B\"");
        assert_eq!(
            tracks[1].filings,
            vec![Filing {
                emotion: Emotion::Angry,
                rank: 1
            }]
        );
    }

    #[test]
    fn reports_malformed_rows_with_their_lines_and_goes_on() {
        let mut text = b",Name,Album,Artist\n0,Good,A,B\n1,Short row\n2,,A,B\n".to_vec();
        text.extend_from_slice(b"3,Bad \xff utf8,A,B\n4,Fine,A,C\n");
        let (tracks, problems) = read(&text, Some(Emotion::Sad)).unwrap();
        let titles: Vec<_> = tracks.iter().map(|t| t.track.title.as_str()).collect();
        assert_eq!(titles, ["Good", "Fine"]);
        let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert!(problems[0].message.contains("fields"), "{}", problems[0]);
        assert!(problems[1].message.contains("title"), "{}", problems[1]);
        assert!(problems[2].message.contains("UTF-8"), "{}", problems[2]);
        assert_eq!(
            problems[0].to_string(),
            "test.csv:3: has 2 fields, the header has 4"
        );
        assert_eq!(tracks[1].filings[0].rank, 1, "ranks count accepted rows");
    }

    #[test]
    fn a_file_without_any_emotion_source_is_refused() {
        let err = read(b"Name,Album,Artist\nA,B,C\n", None).unwrap_err();
        assert!(err.to_string().contains("--emotion"), "{err}");
    }

    #[test]
    fn a_file_without_a_header_row_is_refused() {
        let err = read(b"", Some(Emotion::Sad)).unwrap_err();
        assert!(err.to_string().contains("title"), "{err}");
    }
}
