//! The hasher of the recommender's maps keyed by song.

use std::hash::Hasher;

/// A fast hasher for song ids and indices: they are assigned by the store,
/// not chosen by a client, so SipHash's flooding resistance buys nothing.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }
    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }
}
