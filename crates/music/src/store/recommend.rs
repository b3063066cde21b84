//! The recommender over the store's catalog: its index read from the store,
//! feedback and song details looked up there.

use std::collections::HashMap;

use super::Store;
use crate::error::Result;
use crate::recommend::{attach_songs, CatalogIndex, Recommendation, Recommender, Request, Session};
use crate::song::Song;

impl CatalogIndex {
    /// Reads the whole catalog from the store.
    pub fn load(store: &Store) -> Result<CatalogIndex> {
        CatalogIndex::build(|sink| store.index_rows(sink))
    }
}

impl Recommender {
    /// Indexes the store's catalog.
    pub fn load(store: &Store) -> Result<Recommender> {
        Ok(Recommender::new(CatalogIndex::load(store)?))
    }

    /// A list for `request`, reading the profile's feedback from the store
    /// and the songs' details back from it; the session remembers the list.
    pub fn recommend(
        &self,
        store: &Store,
        request: &Request,
        session: &mut Session,
    ) -> Result<Vec<Recommendation>> {
        let feedback = store.feedback(&session.profile)?;
        let picks = self.pick(request, session, &feedback);
        let ids: Vec<i64> = picks.iter().map(|p| p.song_id).collect();
        let mut songs: HashMap<i64, Song> =
            store.songs(&ids)?.into_iter().map(|s| (s.id, s)).collect();
        Ok(attach_songs(picks, |id| songs.remove(&id)))
    }
}
