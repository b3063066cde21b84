//! How faces are found in a gray frame: the detectors Melodora has (OpenCV's
//! Haar cascade, MediaPipe's BlazeFace) behind one type, searching a whole
//! frame or a region around a face known from the frame before (the
//! tracker's question).

use std::fmt;
use std::str::FromStr;

use melodora_core::FaceBox;
use melodora_detector::{
    BlazeFace, BlazeFaceError, DetectParams, FaceDetection, HaarDetector, ParamsError, Range,
};
use serde::{Deserialize, Serialize};

use crate::GrayImage;

/// What a CNN detector says of a face beyond its box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Landmarks {
    /// How sure the detector is, 0 to 1.
    pub score: f32,
    /// Right eye, left eye, nose tip, mouth centre, right ear, left ear
    /// (the subject's), in frame pixels.
    pub keypoints: [(f32, f32); 6],
}

/// One face a detector found: its box, and its landmarks when the detector
/// gives them (BlazeFace does, Haar does not).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FoundFace {
    /// Where the face is in the frame.
    pub face: FaceBox,
    /// Score and keypoints, from a CNN detector.
    pub landmarks: Option<Landmarks>,
}

impl From<FaceBox> for FoundFace {
    fn from(face: FaceBox) -> Self {
        FoundFace {
            face,
            landmarks: None,
        }
    }
}

/// Why faces could not be searched for.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    /// The Haar detection parameters are invalid.
    #[error(transparent)]
    Params(#[from] ParamsError),
    /// The CNN detector failed on the frame.
    #[error(transparent)]
    Cnn(#[from] BlazeFaceError),
}

/// Which detector finds faces, by name: what `--detector` takes and what a
/// server tells the pages that analyse their own camera, so that they find
/// faces as it would.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum DetectorChoice {
    /// OpenCV's Haar cascade, exactly: frontal faces.
    #[default]
    Haar,
    /// BlazeFace's short-range model: faces within about 2 m, turned too.
    Blazeface,
    /// BlazeFace's full-range model: faces across a room.
    BlazefaceFull,
}

impl DetectorChoice {
    /// Every choice, in the order `--detector` lists them.
    pub const ALL: [DetectorChoice; 3] = [
        DetectorChoice::Haar,
        DetectorChoice::Blazeface,
        DetectorChoice::BlazefaceFull,
    ];

    /// The name `--detector` and the settings' JSON use.
    pub fn name(self) -> &'static str {
        match self {
            DetectorChoice::Haar => "haar",
            DetectorChoice::Blazeface => "blazeface",
            DetectorChoice::BlazefaceFull => "blazeface-full",
        }
    }

    /// The BlazeFace model this choice runs; `None` for Haar.
    pub fn blazeface_range(self) -> Option<Range> {
        match self {
            DetectorChoice::Haar => None,
            DetectorChoice::Blazeface => Some(Range::Short),
            DetectorChoice::BlazefaceFull => Some(Range::Full),
        }
    }
}

impl fmt::Display for DetectorChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DetectorChoice {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        DetectorChoice::ALL
            .into_iter()
            .find(|choice| choice.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = DetectorChoice::ALL.iter().map(|c| c.name()).collect();
                format!(
                    "no face detector {name:?}; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// How faces are found.
#[derive(Debug, Clone)]
pub enum FaceFinder {
    /// OpenCV's Haar cascade (`detectMultiScale`, exactly), with how it
    /// searches (pyramid step, neighbours, sizes).
    Haar {
        /// The cascade and its scanner.
        detector: HaarDetector,
        /// How it searches.
        params: DetectParams,
    },
    /// MediaPipe's BlazeFace CNN: turned heads and dim rooms too.
    BlazeFace {
        /// The model and its settings.
        cnn: Box<BlazeFace>,
        /// A whole frame is also searched in its four quarters enlarged
        /// ([`BlazeFace::detect_gray_zoomed`]): faces across a room, for
        /// five runs of the model.
        zoom: bool,
    },
}

impl FaceFinder {
    /// BlazeFace's embedded model of `range`, with MediaPipe's settings
    /// (see [`FaceFinder::from_blazeface`]).
    pub fn blazeface(range: Range) -> FaceFinder {
        FaceFinder::from_blazeface(BlazeFace::new(range))
    }

    /// `cnn` as a finder; the short-range model also searches a whole
    /// frame's quarters enlarged (`zoom`), the full-range one (made for
    /// small faces, and four times the work a run) does not.
    pub fn from_blazeface(cnn: BlazeFace) -> FaceFinder {
        let zoom = cnn.range() == Range::Short;
        FaceFinder::BlazeFace {
            cnn: Box::new(cnn),
            zoom,
        }
    }

    /// Which detector this is.
    pub fn choice(&self) -> DetectorChoice {
        match self {
            FaceFinder::Haar { .. } => DetectorChoice::Haar,
            FaceFinder::BlazeFace { cnn, .. } => match cnn.range() {
                Range::Short => DetectorChoice::Blazeface,
                Range::Full => DetectorChoice::BlazefaceFull,
            },
        }
    }

    /// The faces of the whole frame.
    pub fn find(&self, frame: &GrayImage) -> Result<Vec<FoundFace>, FindError> {
        match self {
            FaceFinder::Haar { detector, params } => Ok(detector
                .detect(frame, params)?
                .into_iter()
                .map(FoundFace::from)
                .collect()),
            FaceFinder::BlazeFace { cnn, zoom } => {
                let (pixels, width, height) = (frame.pixels(), frame.width(), frame.height());
                let found = if *zoom {
                    cnn.detect_gray_zoomed(pixels, width, height)?
                } else {
                    cnn.detect_gray(pixels, width, height)?
                };
                Ok(in_frame(found, frame))
            }
        }
    }

    /// The faces inside `region` of the frame (in frame pixels), where a
    /// face of about `size` pixels was: Haar looks only at window sizes
    /// from `size / band` to `size * band` (within its own limits);
    /// BlazeFace sees the region enlarged to its input, so a small face
    /// far from the camera is seen at a better resolution than in the
    /// whole frame.
    pub fn find_in(
        &self,
        frame: &GrayImage,
        region: FaceBox,
        size: u32,
        band: f32,
    ) -> Result<Vec<FoundFace>, FindError> {
        let crop = frame.crop(
            region.x as usize,
            region.y as usize,
            region.w as usize,
            region.h as usize,
        );
        let found = match self {
            FaceFinder::Haar { detector, params } => {
                let near = band_params(size, band, params);
                detector
                    .detect(&crop, &near)?
                    .into_iter()
                    .map(FoundFace::from)
                    .collect()
            }
            FaceFinder::BlazeFace { cnn, .. } => in_frame(
                cnn.detect_gray(crop.pixels(), crop.width(), crop.height())?,
                &crop,
            ),
        };
        Ok(found
            .into_iter()
            .map(|f| moved_by(f, region.x, region.y))
            .collect())
    }
}

/// `params` with window sizes narrowed to the band around `size` (never
/// beyond the caller's own limits).
fn band_params(size: u32, band: f32, params: &DetectParams) -> DetectParams {
    let band = band.max(1.0);
    let side = size as f32;
    let mut min = ((side / band).floor() as u32).max(params.min_size.0.max(params.min_size.1));
    let mut max = (side * band).ceil() as u32;
    if params.max_size != (0, 0) {
        max = max.min(params.max_size.0.min(params.max_size.1));
    }
    min = min.min(max);
    DetectParams {
        min_size: (min, min),
        max_size: (max, max),
        ..*params
    }
}

/// A face found in a region, in the frame's pixels.
fn moved_by(found: FoundFace, dx: i32, dy: i32) -> FoundFace {
    let face = FaceBox::new(
        found.face.x + dx,
        found.face.y + dy,
        found.face.w,
        found.face.h,
    );
    let landmarks = found.landmarks.map(|l| Landmarks {
        keypoints: l.keypoints.map(|(x, y)| (x + dx as f32, y + dy as f32)),
        ..l
    });
    FoundFace { face, landmarks }
}

/// BlazeFace's faces in `frame`, with boxes clipped to it, best first.
fn in_frame(found: Vec<FaceDetection>, frame: &GrayImage) -> Vec<FoundFace> {
    let (width, height) = (frame.width() as f32, frame.height() as f32);
    found
        .into_iter()
        .filter_map(|d| {
            let x0 = d.x.max(0.0).round();
            let y0 = d.y.max(0.0).round();
            let x1 = (d.x + d.w).min(width).round();
            let y1 = (d.y + d.h).min(height).round();
            (x1 - x0 >= 1.0 && y1 - y0 >= 1.0).then(|| FoundFace {
                face: FaceBox::new(x0 as i32, y0 as i32, (x1 - x0) as i32, (y1 - y0) as i32),
                landmarks: Some(Landmarks {
                    score: d.score,
                    keypoints: d.keypoints,
                }),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_band_stays_within_the_callers_limits() {
        let open = band_params(100, 1.15, &DetectParams::default());
        assert_eq!((open.min_size, open.max_size), ((86, 86), (115, 115)));
        let narrow = DetectParams {
            min_size: (90, 90),
            max_size: (110, 110),
            ..DetectParams::default()
        };
        let limited = band_params(100, 1.15, &narrow);
        assert_eq!((limited.min_size, limited.max_size), ((90, 90), (110, 110)));
    }

    #[test]
    fn choices_read_and_write_their_names() {
        for choice in DetectorChoice::ALL {
            assert_eq!(choice.name().parse::<DetectorChoice>(), Ok(choice));
            let json = serde_json::to_string(&choice).unwrap();
            assert_eq!(json, format!("\"{}\"", choice.name()));
        }
        let unknown = "yunet".parse::<DetectorChoice>().unwrap_err();
        assert!(
            unknown.contains("haar, blazeface, blazeface-full"),
            "{unknown}"
        );
    }

    #[test]
    fn a_region_search_answers_in_frame_pixels() {
        let found = FoundFace {
            face: FaceBox::new(1, 2, 3, 4),
            landmarks: Some(Landmarks {
                score: 0.9,
                keypoints: [(1.0, 2.0); 6],
            }),
        };
        let moved = moved_by(found, 10, 20);
        assert_eq!(moved.face, FaceBox::new(11, 22, 3, 4));
        assert_eq!(moved.landmarks.unwrap().keypoints, [(11.0, 22.0); 6]);
    }
}
