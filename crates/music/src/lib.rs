//! Music side of Melodora: catalog, importers, store and recommender.
//!
//! This crate knows nothing of vision or HTTP. Its implementation lands with
//! the music issue; until then it only fixes the crate's place in the
//! workspace so that the dependency arrows (core <- music <- server <- cli)
//! are in place from the start.
