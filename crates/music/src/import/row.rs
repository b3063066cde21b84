//! One CSV row to one song, or the reason it is malformed.

use melodora_core::Emotion;

use super::{Columns, Filing, ImportedTrack};
use crate::song::{clean_text, parse_link, AudioFeatures, LinkValue, SpotifyId, Track};

/// Parses a row. `file_emotion` (from `--emotion` or the file name) files
/// every row; otherwise the row's emotion column does; otherwise its audio
/// features place it. `ranks` counts each emotion's accepted rows so far.
pub(super) fn parse(
    record: &csv::StringRecord,
    columns: &Columns,
    file_emotion: Option<Emotion>,
    ranks: &mut [u32; Emotion::ALL.len()],
) -> Result<ImportedTrack, String> {
    let field = |index: usize| record.get(index).unwrap_or("");
    let optional = |index: Option<usize>| optional_field(record, index);

    let title = clean_text("title", field(columns.title))?;
    let artist = clean_text("artist", field(columns.artist))?;
    if title.is_empty() {
        return Err("empty title".into());
    }
    if artist.is_empty() {
        return Err("empty artist".into());
    }
    let album = clean_text("album", optional(columns.album).unwrap_or(""))?;
    let mut track = Track::new(&title, &album, &artist);

    if let Some(id) = optional(columns.spotify_id) {
        track.spotify_id = Some(SpotifyId::parse(id).map_err(|e| e.to_string())?);
    }
    if let Some(link) = optional(columns.link) {
        match parse_link(link)? {
            LinkValue::Spotify(id) => {
                if track.spotify_id.as_ref().is_some_and(|known| *known != id) {
                    return Err(format!("link names track {id}, the id column another"));
                }
                track.spotify_id = Some(id);
            }
            LinkValue::Derived => {}
            LinkValue::Other(url) => track.explicit_link = Some(url),
        }
    }
    track.features = features(record, columns)?;
    if let Some(popularity) = optional(columns.popularity) {
        track.popularity = Some(parse_popularity(popularity)?);
    }

    let emotions = match (file_emotion, optional(columns.emotion)) {
        (Some(emotion), _) => vec![emotion],
        (None, Some(words)) => parse_emotions(words)?,
        (None, None) if track.features.is_some() => Vec::new(),
        (None, None) => {
            return Err("no emotion, and no valence/energy to place the song by".into());
        }
    };
    let filings = emotions
        .into_iter()
        .map(|emotion| {
            let slot = &mut ranks[emotion as usize];
            let rank = *slot;
            *slot += 1;
            Filing { emotion, rank }
        })
        .collect();
    Ok(ImportedTrack { track, filings })
}

/// A trimmed, non-empty field, if the column exists.
fn optional_field(record: &csv::StringRecord, index: Option<usize>) -> Option<&str> {
    index
        .and_then(|i| record.get(i))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn features(
    record: &csv::StringRecord,
    columns: &Columns,
) -> Result<Option<AudioFeatures>, String> {
    let optional = |index: Option<usize>| optional_field(record, index);
    let (valence, energy) = match (optional(columns.valence), optional(columns.energy)) {
        (Some(v), Some(e)) => (v, e),
        (None, None) => return Ok(None),
        _ => return Err("valence and energy must both be given or both be empty".into()),
    };
    let valence = parse_unit("valence", valence)?;
    let energy = parse_unit("energy", energy)?;
    let tempo = match optional(columns.tempo) {
        None => None,
        Some(text) => Some(
            text.parse::<f32>()
                .ok()
                .filter(|t| t.is_finite() && *t >= 0.0 && *t <= 1000.0)
                .ok_or_else(|| format!("tempo {text:?} is not a number of beats per minute"))?,
        ),
    };
    Ok(Some(AudioFeatures {
        valence,
        energy,
        tempo,
    }))
}

fn parse_unit(name: &str, text: &str) -> Result<f32, String> {
    text.parse::<f32>()
        .ok()
        .filter(|v| (0.0..=1.0).contains(v))
        .ok_or_else(|| format!("{name} {text:?} is not a number from 0 to 1"))
}

fn parse_popularity(text: &str) -> Result<u8, String> {
    text.parse::<f32>()
        .ok()
        .filter(|p| (0.0..=100.0).contains(p))
        .map(|p| p.round() as u8)
        .ok_or_else(|| format!("popularity {text:?} is not a number from 0 to 100"))
}

/// `happy`, `Sad;fearful`, `angry|surprise`: one or more emotion names.
fn parse_emotions(words: &str) -> Result<Vec<Emotion>, String> {
    let mut emotions = Vec::new();
    for word in words
        .split([';', '|'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        let emotion: Emotion = word
            .parse()
            .map_err(|e: melodora_core::UnknownEmotion| e.to_string())?;
        if !emotions.contains(&emotion) {
            emotions.push(emotion);
        }
    }
    Ok(emotions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(
        header: &str,
        line: &str,
        emotion: Option<Emotion>,
    ) -> Result<ImportedTrack, String> {
        let columns = Columns::from_header(header.split(',')).unwrap();
        let record = csv::StringRecord::from(line.split(',').collect::<Vec<_>>());
        parse(&record, &columns, emotion, &mut [0; 7])
    }

    #[test]
    fn reads_features_popularity_and_id() {
        let track = parse_line(
            "name,album,artist,id,popularity,valence,energy,tempo",
            "Song,Album,Artist,2H7PHVdQ3mXqEHXcvclTB0,68,0.625,0.73,118.5",
            None,
        )
        .unwrap();
        assert!(track.filings.is_empty());
        assert_eq!(track.track.popularity, Some(68));
        let features = track.track.features.unwrap();
        assert_eq!(
            (features.valence, features.energy, features.tempo),
            (0.625, 0.73, Some(118.5))
        );
        assert_eq!(
            track.track.link(),
            "https://open.spotify.com/track/2H7PHVdQ3mXqEHXcvclTB0"
        );
    }

    #[test]
    fn files_by_emotion_column_in_either_vocabulary() {
        let track = parse_line("title,artist,emotion", "A,B,Fearful;sad|fear", None).unwrap();
        let emotions: Vec<Emotion> = track.filings.iter().map(|f| f.emotion).collect();
        assert_eq!(emotions, [Emotion::Fear, Emotion::Sad]);
        let err = parse_line("title,artist,emotion", "A,B,bored", None).unwrap_err();
        assert!(err.contains("bored"), "{err}");
    }

    #[test]
    fn rejects_out_of_range_values() {
        let header = "name,artist,valence,energy,popularity";
        assert!(parse_line(header, "A,B,1.5,0.5,", None)
            .unwrap_err()
            .contains("valence"));
        assert!(parse_line(header, "A,B,0.5,NaN,", None)
            .unwrap_err()
            .contains("energy"));
        assert!(parse_line(header, "A,B,0.5,,", None)
            .unwrap_err()
            .contains("both"));
        assert!(parse_line(header, "A,B,0.5,0.5,101", None)
            .unwrap_err()
            .contains("popularity"));
        assert!(parse_line("name,artist,id", "A,B,nope", None).is_err());
        assert!(parse_line(
            "name,artist,link",
            "A,B,javascript:alert(1)",
            Some(Emotion::Sad)
        )
        .is_err());
    }

    #[test]
    fn a_spotify_link_column_sets_the_id() {
        let track = parse_line(
            "name,artist,link",
            "A,B,https://open.spotify.com/track/4sPmO7WMQUAf45kwMOtONw",
            Some(Emotion::Happy),
        )
        .unwrap();
        assert_eq!(
            track.track.spotify_id.unwrap().as_str(),
            "4sPmO7WMQUAf45kwMOtONw"
        );
    }
}
