//! `melodora catalog stats`: what the catalog holds.

use std::collections::HashMap;

use melodora_core::Emotion;
use serde::Serialize;

use super::CatalogOrigin;
use crate::circumplex::{nearest_emotion, MoodPoint};

/// How many songs each emotion has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmotionCount {
    /// The emotion.
    pub emotion: Emotion,
    /// Songs an emotion list names explicitly.
    pub listed: u64,
    /// Songs with audio features and no list, placed here by the circumplex.
    pub placed: u64,
}

/// A summary of the catalog (`melodora catalog stats`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogStats {
    /// Whether the catalog is the embedded default or imported.
    pub origin: CatalogOrigin,
    /// Songs in the catalog.
    pub songs: u64,
    /// Of those, songs with a Spotify id.
    pub with_spotify_id: u64,
    /// Of those, songs with audio features.
    pub with_audio_features: u64,
    /// Imports run on this store.
    pub imports: u64,
    /// Songs per emotion, in [`Emotion::ALL`] order.
    pub emotions: Vec<EmotionCount>,
}

impl CatalogStats {
    /// Puts the counts together; `listed` is filings per emotion name,
    /// `placed` the unlisted songs with audio features.
    pub(super) fn new(
        origin: CatalogOrigin,
        songs: u64,
        with_spotify_id: u64,
        with_audio_features: u64,
        imports: u64,
        listed: &[(String, u64)],
        placed: &[(i64, MoodPoint)],
    ) -> CatalogStats {
        let listed: HashMap<&str, u64> = listed.iter().map(|(e, n)| (e.as_str(), *n)).collect();
        let mut placed_per_emotion = [0u64; Emotion::ALL.len()];
        for (_, point) in placed {
            placed_per_emotion[nearest_emotion(*point) as usize] += 1;
        }
        CatalogStats {
            origin,
            songs,
            with_spotify_id,
            with_audio_features,
            imports,
            emotions: Emotion::ALL
                .into_iter()
                .map(|emotion| EmotionCount {
                    emotion,
                    listed: listed.get(emotion.name()).copied().unwrap_or(0),
                    placed: placed_per_emotion[emotion as usize],
                })
                .collect(),
        }
    }
}
