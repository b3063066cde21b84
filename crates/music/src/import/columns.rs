//! Which column holds what, from a CSV header.
//!
//! The three supported layouts differ only in their columns, so one header
//! map covers them: the original's `,Name,Album,Artist[,Link]`, a catalog
//! with an `emotion` column, and Spotify audio-feature exports
//! (`name,album,artist,id,...,valence,energy,...`). Matching is
//! case-insensitive; unknown columns (pandas' unnamed index, `mood`,
//! `danceability`, ...) are ignored.

/// Column indices of the fields Melodora reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    /// The song title (required).
    pub title: usize,
    /// The artist (required).
    pub artist: usize,
    /// The album.
    pub album: Option<usize>,
    /// A link to the song (kept when http(s)).
    pub link: Option<usize>,
    /// A Spotify track id or URI.
    pub spotify_id: Option<usize>,
    /// The emotion (or mood) list the row belongs to.
    pub emotion: Option<usize>,
    /// Spotify's valence audio feature, 0 to 1.
    pub valence: Option<usize>,
    /// Spotify's energy audio feature, 0 to 1.
    pub energy: Option<usize>,
    /// Tempo in beats per minute.
    pub tempo: Option<usize>,
    /// Spotify popularity, 0 to 100.
    pub popularity: Option<usize>,
}

const TITLE: &[&str] = &["name", "title", "track", "track_name", "song"];
const ARTIST: &[&str] = &["artist", "artists", "artist_name", "artist_names"];
const ALBUM: &[&str] = &["album", "album_name"];
const LINK: &[&str] = &["link", "url"];
const SPOTIFY_ID: &[&str] = &["id", "spotify_id", "track_id", "uri", "track_uri"];
const EMOTION: &[&str] = &["emotion", "emotions"];

impl Columns {
    /// Maps a header row; fails naming the first required column missing.
    pub fn from_header<'a>(header: impl IntoIterator<Item = &'a str>) -> Result<Columns, String> {
        let names: Vec<String> = header
            .into_iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
            .collect();
        let find = |aliases: &[&str]| names.iter().position(|n| aliases.contains(&n.as_str()));
        let title = find(TITLE).ok_or("no title column (expected Name or Title)")?;
        let artist = find(ARTIST).ok_or("no artist column (expected Artist)")?;
        let columns = Columns {
            title,
            artist,
            album: find(ALBUM),
            link: find(LINK),
            spotify_id: find(SPOTIFY_ID),
            emotion: find(EMOTION),
            valence: find(&["valence"]),
            energy: find(&["energy"]),
            tempo: find(&["tempo"]),
            popularity: find(&["popularity"]),
        };
        if columns.valence.is_some() != columns.energy.is_some() {
            return Err("valence and energy come together: one of them is missing".into());
        }
        Ok(columns)
    }

    /// Whether rows carry audio features that place them on the circumplex.
    pub fn has_features(&self) -> bool {
        self.valence.is_some() && self.energy.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_originals_header() {
        let columns = Columns::from_header(["", "Name", "Album", "Artist"]).unwrap();
        assert_eq!(
            (columns.title, columns.album, columns.artist),
            (1, Some(2), 3)
        );
        assert!(!columns.has_features() && columns.emotion.is_none());
    }

    #[test]
    fn reads_spotify_feature_exports() {
        let header = "name,album,artist,id,release_date,popularity,length,danceability,acousticness,energy,instrumentalness,liveness,valence,loudness,speechiness,tempo,key,time_signature,mood";
        let columns = Columns::from_header(header.split(',')).unwrap();
        assert_eq!(columns.spotify_id, Some(3));
        assert_eq!((columns.valence, columns.energy), (Some(12), Some(9)));
        assert_eq!((columns.tempo, columns.popularity), (Some(15), Some(5)));
        assert!(columns.emotion.is_none(), "mood is not an emotion column");
    }

    #[test]
    fn names_the_missing_column() {
        let err = Columns::from_header(["Name", "Album"]).unwrap_err();
        assert!(err.contains("artist"), "{err}");
        let err = Columns::from_header(["\u{feff}Title", "Artist", "valence"]).unwrap_err();
        assert!(err.contains("energy"), "{err}");
    }
}
