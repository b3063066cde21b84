//! BlazeFace's anchors: the fixed grid of box centres its outputs are
//! offsets from, made as MediaPipe's `SsdAnchorsCalculator` makes them
//! with the options of its face detection graphs (fixed anchor size, one
//! aspect ratio, consecutive layers of the same stride sharing a grid).

/// One anchor's centre, in the model input's unit square.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Anchor {
    pub x: f32,
    pub y: f32,
}

/// The options of `SsdAnchorsCalculator` that BlazeFace's graphs set.
#[derive(Debug, Clone)]
pub(crate) struct AnchorOptions {
    /// The model's input side (it is square).
    pub input_size: usize,
    /// The stride of each layer; consecutive equal strides share a grid.
    pub strides: &'static [usize],
    /// Whether each layer adds the anchor between its scale and the next
    /// (`interpolated_scale_aspect_ratio` 1.0), besides its own.
    pub interpolated: bool,
}

/// The anchors in the order of the model's outputs: grid by grid, row by
/// row, column by column, then anchor by anchor.
pub(crate) fn anchors(options: &AnchorOptions) -> Vec<Anchor> {
    let mut out = Vec::new();
    let mut layer = 0;
    while layer < options.strides.len() {
        let stride = options.strides[layer];
        let mut per_cell = 0;
        while layer < options.strides.len() && options.strides[layer] == stride {
            per_cell += 1 + usize::from(options.interpolated);
            layer += 1;
        }
        let side = options.input_size.div_ceil(stride);
        for y in 0..side {
            for x in 0..side {
                let centre = Anchor {
                    x: (x as f32 + 0.5) / side as f32,
                    y: (y as f32 + 0.5) / side as f32,
                };
                out.extend(std::iter::repeat_n(centre, per_cell));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_range_has_896_anchors_and_full_range_2304() {
        let short = anchors(&AnchorOptions {
            input_size: 128,
            strides: &[8, 16, 16, 16],
            interpolated: true,
        });
        assert_eq!(short.len(), 896);
        assert_eq!(
            short[0],
            Anchor {
                x: 0.5 / 16.0,
                y: 0.5 / 16.0
            }
        );
        assert_eq!(short[1], short[0], "two anchors per cell of the first grid");
        assert_eq!(short[2].x, 1.5 / 16.0);
        assert_eq!(
            short[512],
            Anchor {
                x: 0.5 / 8.0,
                y: 0.5 / 8.0
            },
            "then the 8x8 grid, six per cell"
        );
        assert_eq!(
            short[895],
            Anchor {
                x: 7.5 / 8.0,
                y: 7.5 / 8.0
            }
        );
        let full = anchors(&AnchorOptions {
            input_size: 192,
            strides: &[4],
            interpolated: false,
        });
        assert_eq!(full.len(), 2304);
        assert_eq!(
            full[2303],
            Anchor {
                x: 47.5 / 48.0,
                y: 47.5 / 48.0
            }
        );
    }
}
