//! Feature maps in the blocked layout the direct kernels read and write.
//!
//! Channels are grouped in blocks of [`LANES`] (one AVX-512 register of f32),
//! and a block is stored row by row with its lanes innermost:
//! `[block][row][column][lane]`. A convolution then updates 16 output
//! channels of one pixel with a single vector multiply-add, and every tap it
//! reads is one broadcast. Each map keeps a zero border as wide as the
//! padding of the convolution that reads it, so kernels never test bounds.

/// Channels per block: one 512-bit vector of f32.
pub(super) const LANES: usize = 16;

/// The geometry of one feature map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MapShape {
    /// Real channels (the last block is zero-filled past them).
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    /// Zero rows above and below.
    pub border_y: usize,
    /// Zero columns left and right.
    pub border_x: usize,
    /// Values stored per pixel and block: [`LANES`], or the channel count
    /// for a network input with fewer channels (a gray face has one).
    pub lanes: usize,
}

impl MapShape {
    /// A map of `channels` with full blocks and no border.
    pub fn new(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
            border_y: 0,
            border_x: 0,
            lanes: LANES,
        }
    }

    pub fn blocks(&self) -> usize {
        self.channels.div_ceil(self.lanes)
    }

    pub fn padded_height(&self) -> usize {
        self.height + 2 * self.border_y
    }

    pub fn padded_width(&self) -> usize {
        self.width + 2 * self.border_x
    }

    /// Values in the whole map, borders included.
    pub fn len(&self) -> usize {
        self.blocks() * self.padded_height() * self.padded_width() * self.lanes
    }

    /// Where lane 0 of `(block, y, x)` lives; `y` and `x` count from the
    /// top-left corner of the border, not of the image.
    #[inline(always)]
    pub fn offset(&self, block: usize, y: usize, x: usize) -> usize {
        ((block * self.padded_height() + y) * self.padded_width() + x) * self.lanes
    }

    /// Where lane 0 of image pixel `(y, x)` in `block` lives.
    #[inline(always)]
    pub fn interior(&self, block: usize, y: usize, x: usize) -> usize {
        self.offset(block, y + self.border_y, x + self.border_x)
    }

    /// The lanes a pixel stores, as an AVX-512 load and store mask (maps of
    /// few channels store fewer than [`LANES`]).
    #[cfg(target_arch = "x86_64")]
    pub fn lane_mask(&self) -> u16 {
        if self.lanes >= LANES {
            u16::MAX
        } else {
            (1 << self.lanes) - 1
        }
    }

    /// Reads a plain `[channel][row][column]` image into a zeroed map.
    #[cfg(test)]
    pub fn fill_from_planar(&self, planar: &[f32], out: &mut [f32]) {
        out.fill(0.0);
        self.write_interior(planar, out);
    }

    /// Writes a plain `[channel][row][column]` image into the map's
    /// interior, leaving the border (and unused lanes) as they are.
    pub fn write_interior(&self, planar: &[f32], out: &mut [f32]) {
        debug_assert_eq!(planar.len(), self.channels * self.height * self.width);
        let plane = self.height * self.width;
        for c in 0..self.channels {
            let (block, lane) = (c / self.lanes, c % self.lanes);
            for y in 0..self.height {
                for x in 0..self.width {
                    out[self.interior(block, y, x) + lane] = planar[c * plane + y * self.width + x];
                }
            }
        }
    }

    /// Writes the map's real channels out as a plain `[channel][row][column]`
    /// vector (the order of an ONNX `Flatten` of an NCHW tensor).
    pub fn copy_to_planar(&self, map: &[f32], out: &mut Vec<f32>) {
        out.clear();
        for c in 0..self.channels {
            let (block, lane) = (c / self.lanes, c % self.lanes);
            for y in 0..self.height {
                for x in 0..self.width {
                    out.push(map[self.interior(block, y, x) + lane]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planar_round_trip_keeps_every_value_and_zeroes_the_border() {
        let mut shape = MapShape::new(20, 3, 4);
        shape.border_y = 1;
        shape.border_x = 2;
        let planar: Vec<f32> = (0..20 * 3 * 4).map(|v| v as f32 + 1.0).collect();
        let mut map = vec![f32::NAN; shape.len()];
        shape.fill_from_planar(&planar, &mut map);
        let mut back = Vec::new();
        shape.copy_to_planar(&map, &mut back);
        assert_eq!(back, planar);
        // Two blocks; the second holds 4 real channels and 12 zero lanes.
        assert_eq!(shape.blocks(), 2);
        assert_eq!(map[shape.interior(1, 0, 0) + 4], 0.0);
        assert_eq!(map[shape.offset(0, 0, 0)], 0.0);
        assert_eq!(
            map[shape.interior(1, 2, 3) + 3],
            planar[19 * 12 + 2 * 4 + 3]
        );
    }

    #[test]
    fn a_one_channel_input_stores_one_lane_per_pixel() {
        let mut shape = MapShape::new(1, 2, 2);
        shape.lanes = 1;
        shape.border_x = 1;
        assert_eq!(shape.len(), 2 * 4);
        assert_eq!(shape.interior(0, 1, 1), 6);
    }
}
