//! Playing library songs: `GET /api/library/tracks/{id}/audio` streams a
//! library file (HTTP ranges, validators) and `/cover` its embedded art.
//!
//! An id is looked up in the store, never turned into a path: only files
//! the scanner kept are served, and only while the file, with every link
//! resolved, still lies under its library folder. The access rules of the
//! whole server (Host, Origin) apply as to every route.

use std::io::SeekFrom;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::api::{ApiError, ErrorBody};
use crate::AppState;
use melodora_music::LibraryEntry;

/// How caches may keep library answers: privately, revalidated each time
/// (a rescan may change the file behind an id).
const CACHE_CONTROL: &str = "private, no-cache";

/// Largest cover served (a tag could claim anything).
const MAX_COVER_BYTES: usize = 16 << 20;

/// A library song's audio, whole or the range asked for.
#[utoipa::path(get, path = "/api/library/tracks/{id}/audio", tag = "melodora",
    params(("id" = i64, Path, description = "The song's id, as in a recommendation")),
    responses(
        (status = 200, description = "The whole file"),
        (status = 206, description = "The range asked for, with Content-Range"),
        (status = 304, description = "Not modified since (If-None-Match, If-Modified-Since)"),
        (status = 404, description = "No library song with that id, or its file is gone", body = ErrorBody),
        (status = 416, description = "A range past the end of the file", body = ErrorBody)))]
pub async fn track_audio(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let entry = entry(&state, &id).await?;
    let file = ServedFile::open(&entry).await?;
    if file.validators.not_modified(&headers) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        file.validators.write(response.headers_mut());
        return Ok(response);
    }
    let range = match file.range(&headers) {
        Ok(range) => range,
        Err(Unsatisfiable) => {
            let mut response = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!("the file has {} bytes", file.size),
            )
            .into_response();
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                header_value(&format!("bytes */{}", file.size)),
            );
            return Ok(response);
        }
    };
    let (status, start, length) = match range {
        Some((start, end)) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        None => (StatusCode::OK, 0, file.size),
    };
    let body = body(file.handle, start, length).await?;
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, header_value(&entry.song.media_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if status == StatusCode::PARTIAL_CONTENT {
        headers.insert(
            header::CONTENT_RANGE,
            header_value(&format!(
                "bytes {start}-{}/{}",
                start + length - 1,
                file.validators.size
            )),
        );
    }
    file.validators.write(headers);
    Ok(response)
}

/// A library song's embedded cover art.
#[utoipa::path(get, path = "/api/library/tracks/{id}/cover", tag = "melodora",
    params(("id" = i64, Path, description = "The song's id, as in a recommendation")),
    responses(
        (status = 200, description = "The picture (JPEG, PNG, GIF or WebP)"),
        (status = 304, description = "Not modified since"),
        (status = 404, description = "No such library song, or it has no cover", body = ErrorBody)))]
pub async fn track_cover(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let entry = entry(&state, &id).await?;
    let file = ServedFile::open(&entry).await?;
    let validators = Validators {
        etag: format!("\"{}-cover\"", file.validators.etag.trim_matches('"')),
        ..file.validators.clone()
    };
    if validators.not_modified(&headers) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        validators.write(response.headers_mut());
        return Ok(response);
    }
    let path = file.path.clone();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let cover = tokio::task::spawn_blocking(move || {
        let source = std::fs::File::open(&path).ok()?;
        let (_, cover) =
            melodora_audio::read_tags_only(Box::new(source), extension.as_deref()).ok()?;
        cover
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    let no_cover = || ApiError::new(StatusCode::NOT_FOUND, format!("song {id} has no cover"));
    let cover = cover.ok_or_else(no_cover)?;
    // The type comes from the picture's own bytes, not from the tag (a
    // tag saying text/html must not make the server send a page).
    let media_type = cover.image_type().ok_or_else(no_cover)?;
    if cover.data.len() > MAX_COVER_BYTES {
        return Err(no_cover());
    }
    let mut response = Response::new(Body::from(cover.data));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    validators.write(headers);
    Ok(response)
}

/// A range this size or smaller is read in one trip to the blocking pool
/// and sent whole (what a playing <audio> element asks for); a larger one,
/// or the whole file, is streamed in blocks of [`STREAM_BLOCK`].
const READ_WHOLE: u64 = 1 << 20;

/// Bytes per read when streaming.
const STREAM_BLOCK: usize = 256 * 1024;

/// The body for `length` bytes of `handle` from `start`.
async fn body(mut handle: std::fs::File, start: u64, length: u64) -> Result<Body, ApiError> {
    if length <= READ_WHOLE {
        let bytes = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Seek};
            handle.seek(SeekFrom::Start(start))?;
            let mut bytes = Vec::with_capacity(length as usize);
            handle.take(length).read_to_end(&mut bytes)?;
            Ok::<_, std::io::Error>(bytes)
        })
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))?;
        return Ok(Body::from(bytes));
    }
    let mut handle = tokio::fs::File::from_std(handle);
    handle
        .seek(SeekFrom::Start(start))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let stream = tokio_util::io::ReaderStream::with_capacity(handle.take(length), STREAM_BLOCK);
    Ok(Body::from_stream(stream))
}

/// The library song `id` names; a 404 for anything else (a non-number, a
/// catalog song, an unknown id).
async fn entry(state: &AppState, id: &str) -> Result<LibraryEntry, ApiError> {
    let unknown = || ApiError::new(StatusCode::NOT_FOUND, format!("no library song {id:?}"));
    let id: i64 = id.parse().map_err(|_| unknown())?;
    state.music.library_entry(id).await?.ok_or_else(unknown)
}

/// An open library file, checked to lie under its folder.
struct ServedFile {
    path: PathBuf,
    handle: std::fs::File,
    size: u64,
    validators: Validators,
}

/// A range past the end of the file.
struct Unsatisfiable;

impl ServedFile {
    async fn open(entry: &LibraryEntry) -> Result<ServedFile, ApiError> {
        let gone = || {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "song {}'s file is no longer in the library (run melodora library scan)",
                    entry.id
                ),
            )
        };
        let (file_path, root_path, id) = (entry.path.clone(), entry.root.clone(), entry.id);
        // One trip to the blocking pool for every file-system call.
        let opened = tokio::task::spawn_blocking(move || {
            // Links resolved now, not at scan time: a file since replaced by
            // a link out of the folder is not served.
            let path = std::fs::canonicalize(&file_path).ok()?;
            let root = std::fs::canonicalize(&root_path).ok()?;
            if !path.starts_with(&root) {
                tracing::warn!(
                    song = id,
                    "a library file now leads out of its folder; refused"
                );
                return None;
            }
            let handle = std::fs::File::open(&path).ok()?;
            let metadata = handle.metadata().ok()?;
            metadata.is_file().then_some((path, handle, metadata))
        })
        .await
        .map_err(|e| ApiError::internal(&e))?;
        let (path, handle, metadata) = opened.ok_or_else(gone)?;
        let modified = metadata.modified().ok();
        let mtime_ns = modified
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let size = metadata.len();
        Ok(ServedFile {
            path,
            handle,
            size,
            validators: Validators {
                etag: format!("\"{size:x}-{mtime_ns:x}\""),
                last_modified: modified.map(|t| {
                    // HTTP dates have whole seconds.
                    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                    UNIX_EPOCH + Duration::from_secs(secs)
                }),
                size,
            },
        })
    }

    /// The one range asked for, as inclusive (start, end); `None` for the
    /// whole file (no Range, several ranges, a Range that does not parse,
    /// or an If-Range the file no longer matches).
    fn range(&self, headers: &HeaderMap) -> Result<Option<(u64, u64)>, Unsatisfiable> {
        let Some(asked) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
            return Ok(None);
        };
        if let Some(if_range) = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
            if if_range.trim() != self.validators.etag {
                return Ok(None);
            }
        }
        parse_range(asked, self.size)
    }
}

/// An inclusive byte range of a file of `size` bytes from a Range header
/// (`bytes=a-b`, `bytes=a-`, `bytes=-n`).
fn parse_range(asked: &str, size: u64) -> Result<Option<(u64, u64)>, Unsatisfiable> {
    let Some(spec) = asked.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let range = if first.is_empty() {
        let Ok(suffix) = last.parse::<u64>() else {
            return Ok(None);
        };
        if suffix == 0 || size == 0 {
            return Err(Unsatisfiable);
        }
        (size.saturating_sub(suffix), size - 1)
    } else {
        let Ok(start) = first.parse::<u64>() else {
            return Ok(None);
        };
        let end = if last.is_empty() {
            size.saturating_sub(1)
        } else {
            match last.parse::<u64>() {
                Ok(end) if end >= start => end.min(size.saturating_sub(1)),
                _ => return Ok(None),
            }
        };
        if start >= size {
            return Err(Unsatisfiable);
        }
        (start, end)
    };
    Ok(Some(range))
}

/// What lets a client revalidate a file it has.
#[derive(Clone)]
struct Validators {
    etag: String,
    last_modified: Option<std::time::SystemTime>,
    size: u64,
}

impl Validators {
    fn not_modified(&self, headers: &HeaderMap) -> bool {
        if let Some(tags) = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
        {
            return tags
                .split(',')
                .any(|tag| tag.trim() == "*" || tag.trim().trim_start_matches("W/") == self.etag);
        }
        match (
            headers
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| httpdate::parse_http_date(v).ok()),
            self.last_modified,
        ) {
            (Some(since), Some(modified)) => modified <= since,
            _ => false,
        }
    }

    fn write(&self, headers: &mut HeaderMap) {
        headers.insert(header::ETAG, header_value(&self.etag));
        if let Some(modified) = self.last_modified {
            headers.insert(
                header::LAST_MODIFIED,
                header_value(&httpdate::fmt_http_date(modified)),
            );
        }
        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        );
    }
}

/// A header value from text the server made (media types from the store
/// are checked by the scanner; anything unsendable becomes a safe default).
fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_as_rfc_9110_says() {
        let ok = |asked: &str| parse_range(asked, 1000).ok().flatten();
        assert_eq!(ok("bytes=0-99"), Some((0, 99)));
        assert_eq!(ok("bytes=900-"), Some((900, 999)));
        assert_eq!(ok("bytes=-100"), Some((900, 999)));
        assert_eq!(ok("bytes=-5000"), Some((0, 999)));
        assert_eq!(
            ok("bytes=990-2000"),
            Some((990, 999)),
            "an end past the file is cut"
        );
        for whole in [
            "bytes=0-9,20-29",
            "items=0-9",
            "bytes=9-0",
            "bytes=a-b",
            "bytes=",
            "nonsense",
        ] {
            assert_eq!(ok(whole), None, "{whole}");
        }
        for past in ["bytes=1000-", "bytes=5000-6000", "bytes=-0"] {
            assert!(parse_range(past, 1000).is_err(), "{past}");
        }
        assert!(
            parse_range("bytes=0-", 0).is_err(),
            "nothing to give of an empty file"
        );
    }
}
