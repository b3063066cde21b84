//! Shapes of what commands print: JSON records and plain-text tables.

use std::collections::BTreeMap;

use melodora_vision::pipeline::AnalyzedFace;
use serde::Serialize;

/// One face in `detect --json` output; the emotion fields are absent with
/// `--no-emotion`.
#[derive(Serialize)]
pub struct FaceRecord {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
    /// The detector's confidence (CNN detectors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// Right eye, left eye, nose tip, mouth, right ear, left ear as
    /// `[x, y]` (CNN detectors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keypoints: Option<[[f32; 2]; 6]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emotion: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probabilities: Option<BTreeMap<&'static str, f32>>,
}

impl From<&AnalyzedFace> for FaceRecord {
    fn from(a: &AnalyzedFace) -> Self {
        let b = a.face;
        let top = a.probabilities.as_ref().map(|p| p.top());
        Self {
            x: b.x,
            y: b.y,
            w: b.w,
            h: b.h,
            score: a.landmarks.map(|l| l.score),
            keypoints: a.landmarks.map(|l| l.keypoints.map(|(x, y)| [x, y])),
            emotion: top.map(|(e, _)| e.name()),
            confidence: top.map(|(_, p)| p),
            probabilities: a
                .probabilities
                .as_ref()
                .map(|p| p.iter().map(|(e, p)| (e.name(), p)).collect()),
        }
    }
}

/// "happy 0.91", or nothing without a classifier.
pub fn emotion_label(a: &AnalyzedFace) -> Option<String> {
    a.probabilities.as_ref().map(|p| {
        let (e, p) = p.top();
        format!("{e} {p:.2}")
    })
}

/// One image in `detect --json` output (one JSON object per line).
#[derive(Serialize)]
pub struct ImageRecord<'a> {
    pub image: &'a str,
    pub width: u32,
    pub height: u32,
    pub faces: Vec<FaceRecord>,
}

/// A line for an image that could not be processed.
#[derive(Serialize)]
pub struct ErrorRecord<'a> {
    pub image: &'a str,
    pub error: String,
}

/// Pads columns of a plain-text table to their widest cell.
pub fn format_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = line(header.to_vec());
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_columns() {
        let t = format_table(&["A", "BB"], &[vec!["xxx".into(), "y".into()]]);
        assert_eq!(t, "A    BB\nxxx  y\n");
    }
}
