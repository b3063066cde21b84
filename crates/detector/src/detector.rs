//! `detectMultiScale` with OpenCV 4.x semantics: the same pyramid scales,
//! the same bit-exact resize per level, the same window stepping and the same
//! grouping, so results match OpenCV box for box, optionally spread over
//! several threads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use melodora_core::FaceBox;
use rayon::prelude::*;

use crate::group::group_rectangles;
use crate::integral::Integrals;
use crate::model::Cascade;
use crate::scan::CompiledCascade;
use melodora_core::resize_linear_exact;
use melodora_core::GrayImage;

/// OpenCV's grouping tolerance for `detectMultiScale` (`GROUP_EPS`).
const GROUP_EPS: f64 = 0.2;

/// Rows per parallel work item within one pyramid level (a multiple of 2,
/// the largest window step, so bands never shift the stepping grid).
const ROW_BAND: usize = 32;

/// Parameters of a multi-scale detection, named as in OpenCV.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectParams {
    /// How much the window grows between pyramid levels (> 1).
    pub scale_factor: f64,
    /// Neighbours a cluster of raw windows needs to be kept; 0 returns the
    /// raw windows ungrouped.
    pub min_neighbors: u32,
    /// Smallest window (width, height) to try; (0, 0) for no limit.
    pub min_size: (u32, u32),
    /// Largest window (width, height) to try; (0, 0) for the image size.
    pub max_size: (u32, u32),
}

impl Default for DetectParams {
    /// Melodora's defaults (scale factor 1.1, 5 neighbours), those of the
    /// Python original.
    fn default() -> Self {
        Self {
            scale_factor: 1.1,
            min_neighbors: 5,
            min_size: (0, 0),
            max_size: (0, 0),
        }
    }
}

/// Why detection parameters were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamsError {
    /// The pyramid step is below the minimum (1.01) or not finite; the
    /// value given.
    #[error("scale factor must be a finite number of at least {MIN_SCALE_FACTOR} (greater than 1), got {0}")]
    ScaleFactor(f64),
    /// The smallest face size asked for exceeds the largest.
    #[error("minimum size {min:?} is larger than maximum size {max:?}")]
    SizeOrder {
        /// The minimum size given, (width, height).
        min: (u32, u32),
        /// The maximum size given, (width, height).
        max: (u32, u32),
    },
}

/// Smallest pyramid step accepted. OpenCV takes anything above 1, but a step
/// of 1 + 1e-16 never grows the window (an endless pyramid) and 1.000001
/// makes millions of levels; 1.01 still gives a few hundred on a 4K frame.
pub const MIN_SCALE_FACTOR: f64 = 1.01;

impl DetectParams {
    /// Checks the parameters OpenCV would assert on, and a pyramid step
    /// small enough to build an unbounded pyramid.
    pub fn validate(&self) -> Result<(), ParamsError> {
        if !(self.scale_factor.is_finite() && self.scale_factor >= MIN_SCALE_FACTOR) {
            return Err(ParamsError::ScaleFactor(self.scale_factor));
        }
        let (min, max) = (self.min_size, self.max_size);
        if max != (0, 0) && (min.0 > max.0 || min.1 > max.1) {
            return Err(ParamsError::SizeOrder { min, max });
        }
        Ok(())
    }
}

/// One pyramid level: the scale and the window size it corresponds to in
/// the original image.
#[derive(Debug, Clone, Copy)]
struct Level {
    scale: f32,
    window: (i32, i32),
    /// Size of the level's resized image.
    size: (usize, usize),
    /// Window rows OpenCV scans (see [`opencv_row_limit`]).
    rows: usize,
}

/// How many threads detection may use.
#[derive(Clone)]
enum Threads {
    One,
    Pool(Arc<rayon::ThreadPool>),
    Global,
}

/// A Haar cascade face detector.
///
/// Cheap to share: clone it or wrap it in an `Arc`; detection takes `&self`.
#[derive(Clone)]
pub struct HaarDetector {
    cascade: Arc<Cascade>,
    threads: Threads,
    /// Cascades compiled per table shape (stride, split layout), reused
    /// across images of the same size as OpenCV reuses its feature offsets.
    compiled: Arc<Mutex<CompiledCache>>,
}

/// Compiled cascades keyed by (table stride, split layout).
type CompiledCache = HashMap<(usize, bool), Arc<CompiledCascade>>;

/// Table shapes kept compiled; beyond this the cache starts afresh (a
/// stream of ever-changing image sizes must not grow memory without bound).
const MAX_COMPILED_SHAPES: usize = 128;

impl std::fmt::Debug for HaarDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HaarDetector")
            .field("window", &self.cascade.window_size())
            .field("stages", &self.cascade.stages().len())
            .finish()
    }
}

impl HaarDetector {
    /// A detector using all cores (rayon's global pool).
    pub fn new(cascade: Cascade) -> Self {
        Self {
            cascade: Arc::new(cascade),
            threads: Threads::Global,
            compiled: Arc::default(),
        }
    }

    /// Limits detection to `n` threads; 1 runs on the calling thread only,
    /// 0 means all cores.
    pub fn with_threads(mut self, n: usize) -> Result<Self, rayon::ThreadPoolBuildError> {
        self.threads = match n {
            0 => Threads::Global,
            1 => Threads::One,
            n => Threads::Pool(Arc::new(
                rayon::ThreadPoolBuilder::new().num_threads(n).build()?,
            )),
        };
        Ok(self)
    }

    /// The cascade this detector runs.
    pub fn cascade(&self) -> &Cascade {
        &self.cascade
    }

    /// Finds objects (faces, for a face cascade) in `img`, like OpenCV's
    /// `CascadeClassifier::detectMultiScale(img, scale_factor, min_neighbors,
    /// 0, min_size, max_size)`.
    pub fn detect(
        &self,
        img: &GrayImage,
        params: &DetectParams,
    ) -> Result<Vec<FaceBox>, ParamsError> {
        params.validate()?;
        let raw = self.detect_raw(img, params);
        let grouped = group_rectangles(&raw, params.min_neighbors as usize, GROUP_EPS);
        Ok(clip_to_image(grouped, img.width(), img.height()))
    }

    /// The raw accepted windows before grouping, in OpenCV's single-thread
    /// order (level by level, then row by row).
    fn detect_raw(&self, img: &GrayImage, params: &DetectParams) -> Vec<FaceBox> {
        let levels = self.levels(img, params);
        let per_level =
            |level: &Level, scratch: &mut LevelScratch| self.detect_level(img, level, scratch);
        match &self.threads {
            Threads::One => {
                let mut scratch = LevelScratch::default();
                levels
                    .iter()
                    .flat_map(|l| per_level(l, &mut scratch))
                    .collect()
            }
            Threads::Global => self.detect_levels_parallel(img, &levels),
            Threads::Pool(pool) => pool.install(|| self.detect_levels_parallel(img, &levels)),
        }
    }

    fn detect_levels_parallel(&self, img: &GrayImage, levels: &[Level]) -> Vec<FaceBox> {
        let per_level: Vec<Vec<FaceBox>> = levels
            .par_iter()
            .map_init(LevelScratch::default, |scratch, level| {
                self.detect_level_banded(img, level, scratch)
            })
            .collect();
        per_level.into_iter().flatten().collect()
    }

    /// The pyramid: OpenCV's `detectMultiScaleNoGrouping` scale selection.
    fn levels(&self, img: &GrayImage, params: &DetectParams) -> Vec<Level> {
        let (ow, oh) = self.cascade.window_size();
        let (iw, ih) = (img.width() as i64, img.height() as i64);
        if iw < i64::from(ow) || ih < i64::from(oh) {
            return Vec::new();
        }
        let max = if params.max_size.0 == 0 || params.max_size.1 == 0 {
            (iw, ih)
        } else {
            (i64::from(params.max_size.0), i64::from(params.max_size.1))
        };
        let min = (i64::from(params.min_size.0), i64::from(params.min_size.1));

        let mut all: Vec<f32> = Vec::new();
        let mut factor = 1.0f64;
        loop {
            let w = (f64::from(ow) * factor).round_ties_even() as i64;
            let h = (f64::from(oh) * factor).round_ties_even() as i64;
            if w > iw || h > ih {
                break;
            }
            all.push(factor as f32);
            factor *= params.scale_factor;
        }
        let window_at = |s: f32| -> (i32, i32) {
            (
                (ow as f32 * s).round_ties_even() as i32,
                (oh as f32 * s).round_ties_even() as i32,
            )
        };
        let mut chosen = Vec::new();
        for &s in &all {
            let (w, h) = window_at(s);
            if i64::from(w) > max.0 || i64::from(h) > max.1 {
                break;
            }
            if i64::from(w) < min.0 || i64::from(h) < min.1 {
                continue;
            }
            chosen.push(s);
        }
        // OpenCV: when no scale qualifies (e.g. min == max between two
        // levels), use the one whose window is closest to min_size.
        if chosen.is_empty() && !all.is_empty() {
            let dist = |s: f32| {
                let (w, h) = window_at(s);
                let (dw, dh) = (min.0 - i64::from(w), min.1 - i64::from(h));
                dw * dw + dh * dh
            };
            let best = all
                .iter()
                .copied()
                .enumerate()
                .min_by_key(|&(i, s)| (dist(s), i))
                .map(|(_, s)| s);
            chosen.extend(best);
        }
        let level_size = |s: f32| {
            (
                (img.width() as f32 / s).round_ties_even() as usize,
                (img.height() as f32 / s).round_ties_even() as usize,
            )
        };
        let (ow, oh) = (ow as usize, oh as usize);
        let working = |size: (usize, usize)| {
            (
                (size.0 + 1).saturating_sub(ow),
                (size.1 + 1).saturating_sub(oh),
            )
        };
        let Some(&first) = chosen.first() else {
            return Vec::new();
        };
        let stripes = working(level_size(first)).0.div_ceil(32);
        chosen
            .into_iter()
            .map(|scale| {
                let size = level_size(scale);
                let step = if scale >= 2.0 { 1 } else { 2 };
                Level {
                    scale,
                    window: window_at(scale),
                    size,
                    rows: opencv_row_limit(working(size).1, step, stripes),
                }
            })
            .collect()
    }

    /// Resizes the image for `level` and builds its integral tables.
    fn prepare_level(
        &self,
        img: &GrayImage,
        level: &Level,
        scratch: &mut LevelScratch,
    ) -> Arc<CompiledCascade> {
        let split = level_step(level) == 2;
        let resized = resize_linear_exact(img, level.size.0, level.size.1);
        scratch
            .integrals
            .compute(&resized, self.cascade.has_tilted_features(), split);
        self.compiled_for(scratch.integrals.stride, split)
    }

    /// The cascade compiled for tables of this shape, from the cache if seen.
    fn compiled_for(&self, stride: usize, split: bool) -> Arc<CompiledCascade> {
        let key = (stride, split);
        // A poisoned lock only means another thread panicked mid-insert; the
        // map itself is still a valid cache.
        let cached = self
            .compiled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some(c) = cached {
            return c;
        }
        let compiled = Arc::new(CompiledCascade::new(&self.cascade, stride, split));
        let mut cache = self.compiled.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_COMPILED_SHAPES {
            cache.clear();
        }
        cache.insert(key, Arc::clone(&compiled));
        compiled
    }

    fn detect_level(
        &self,
        img: &GrayImage,
        level: &Level,
        scratch: &mut LevelScratch,
    ) -> Vec<FaceBox> {
        let compiled = self.prepare_level(img, level, scratch);
        let rows = level.rows;
        let mut hits = Vec::new();
        compiled.scan_rows(&scratch.integrals, 0..rows, level_step(level), &mut hits);
        to_boxes(&hits, level)
    }

    /// As `detect_level`, with the rows split into bands scanned in parallel.
    fn detect_level_banded(
        &self,
        img: &GrayImage,
        level: &Level,
        scratch: &mut LevelScratch,
    ) -> Vec<FaceBox> {
        let compiled = self.prepare_level(img, level, scratch);
        let integrals = &scratch.integrals;
        let rows = level.rows;
        let step = level_step(level);
        let bands: Vec<Vec<(usize, usize)>> = (0..rows.div_ceil(ROW_BAND))
            .into_par_iter()
            .map(|b| {
                let mut hits = Vec::new();
                let band = b * ROW_BAND..((b + 1) * ROW_BAND).min(rows);
                compiled.scan_rows(integrals, band, step, &mut hits);
                hits
            })
            .collect();
        to_boxes(&bands.concat(), level)
    }
}

/// OpenCV scans every other window below scale 2, every window above.
fn level_step(level: &Level) -> usize {
    if level.scale >= 2.0 {
        1
    } else {
        2
    }
}

/// How many window rows OpenCV actually scans on a level.
///
/// OpenCV splits rows into `stripes` stripes of `stripe` rows each (rounded
/// to the step), with `stripes` fixed by the first level's width, and stops at
/// `stripes * stripe`. As the per-stripe count floors `rows / step`, the last
/// row of an odd-height level can fall off the end; matching OpenCV means
/// dropping it too.
fn opencv_row_limit(working_rows: usize, step: usize, stripes: usize) -> usize {
    if stripes == 0 {
        return 0;
    }
    let stripe = (working_rows / step).div_ceil(stripes).max(1) * step;
    working_rows.min(stripes * stripe)
}

/// Clips boxes to the image and drops empty ones (OpenCV's `clipObjects`).
fn clip_to_image(boxes: Vec<FaceBox>, width: usize, height: usize) -> Vec<FaceBox> {
    let (iw, ih) = (width as i64, height as i64);
    boxes
        .into_iter()
        .filter_map(|b| {
            let x0 = i64::from(b.x).max(0);
            let y0 = i64::from(b.y).max(0);
            let x1 = (i64::from(b.x) + i64::from(b.w)).min(iw);
            let y1 = (i64::from(b.y) + i64::from(b.h)).min(ih);
            (x1 > x0 && y1 > y0)
                .then(|| FaceBox::new(x0 as i32, y0 as i32, (x1 - x0) as i32, (y1 - y0) as i32))
        })
        .collect()
}

fn to_boxes(hits: &[(usize, usize)], level: &Level) -> Vec<FaceBox> {
    hits.iter()
        .map(|&(x, y)| {
            FaceBox::new(
                (x as f32 * level.scale).round_ties_even() as i32,
                (y as f32 * level.scale).round_ties_even() as i32,
                level.window.0,
                level.window.1,
            )
        })
        .collect()
}

/// Per-thread buffers reused across pyramid levels.
#[derive(Default)]
struct LevelScratch {
    integrals: Integrals,
}
