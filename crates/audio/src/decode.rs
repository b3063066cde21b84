//! Decoding: an audio file in, its tags and cover, its loudness (EBU R128,
//! measured on every channel at the file's own rate) and one mono signal at
//! about 22 kHz for the other measures. Symphonia reads the container and
//! codec (MP3, FLAC, Ogg Vorbis, WAV, AIFF, AAC and ALAC in MP4); anything
//! else is refused with the reason, as is a file that is not audio at all.
//!
//! Bad input never panics: a corrupt packet is skipped and counted, a file
//! that stops early ends the song there, and a header that claims hours of
//! audio costs no more than [`MAX_ANALYSED_S`] of decoding.

use std::io::{Cursor, ErrorKind, Read, Seek, SeekFrom};

use symphonia::core::audio::{AudioBuffer, AudioBufferRef};
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::{MetadataOptions, MetadataRevision, StandardTagKey, StandardVisualKey};
use symphonia::core::probe::{Hint, ProbeResult, ProbedMetadata};

use crate::loudness::{Loudness, LoudnessMeter};
use crate::AudioError;

/// The rate the mono analysis signal is brought near (by an integer factor).
pub const ANALYSIS_RATE: u32 = 22_050;
/// At most this much of a song is decoded and measured (a longer one is
/// measured on its first part: a mood does not need hours).
pub const MAX_ANALYSED_S: f64 = 30.0 * 60.0;
/// Sample rates outside this range are refused (a header's nonsense).
pub const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 4_000..=384_000;
/// At most this many channels (7.1 and a little more).
pub const MAX_CHANNELS: usize = 16;
/// A song shorter than this cannot be measured (tempo, key need seconds).
pub const MIN_DURATION_S: f64 = 2.0;

/// The tags a song's file carries (any of them may be missing).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tags {
    /// The track's title.
    pub title: Option<String>,
    /// The performing artist.
    pub artist: Option<String>,
    /// The album.
    pub album: Option<String>,
    /// The album's artist, when it differs from the track's.
    pub album_artist: Option<String>,
    /// The track's number on its album.
    pub track: Option<u32>,
    /// The release year (or date, as written).
    pub date: Option<String>,
    /// The genre, as written.
    pub genre: Option<String>,
}

/// A picture embedded in the file (the front cover when one is marked so).
#[derive(Debug, Clone, PartialEq)]
pub struct Cover {
    /// Its media type, e.g. `image/jpeg`.
    pub media_type: String,
    /// The image file's bytes.
    pub data: Vec<u8>,
}

impl Cover {
    /// The picture's media type read from its own first bytes (JPEG, PNG,
    /// GIF or WebP), whatever its tag claims; `None` for anything else. A
    /// cover is served or copied only with this type: a tag saying
    /// `text/html` must not make a page of it.
    pub fn image_type(&self) -> Option<&'static str> {
        let data = &self.data;
        if data.starts_with(&[0xff, 0xd8, 0xff]) {
            Some("image/jpeg")
        } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some("image/png")
        } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
            Some("image/gif")
        } else if data.len() > 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
            Some("image/webp")
        } else {
            None
        }
    }
}

/// What decoding a file gives the analysis.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The codec, as symphonia names it (e.g. `vorbis`, `mp3`).
    pub codec: String,
    /// The file's own sample rate, Hz.
    pub sample_rate: u32,
    /// Its channel count.
    pub channels: usize,
    /// Seconds decoded (at most [`MAX_ANALYSED_S`]).
    pub duration_s: f64,
    /// Whether the song went on past [`MAX_ANALYSED_S`] (measured on its start).
    pub truncated: bool,
    /// Packets that could not be decoded and were skipped.
    pub packets_skipped: usize,
    /// EBU R128 loudness of what was decoded.
    pub loudness: Loudness,
    /// The file's tags.
    pub tags: Tags,
    /// Its embedded cover, if any.
    pub cover: Option<Cover>,
    /// The mono signal (channels averaged) at [`Decoded::analysis_rate`].
    pub samples: Vec<f32>,
    /// The rate of `samples`: the file's rate divided by a whole number, near [`ANALYSIS_RATE`].
    pub analysis_rate: u32,
}

/// Decodes a file's bytes; `extension` (e.g. `"mp3"`), when known, helps
/// find the format.
pub fn decode_bytes(bytes: Vec<u8>, extension: Option<&str>) -> Result<Decoded, AudioError> {
    if bytes.is_empty() {
        return Err(AudioError::Empty);
    }
    decode_source(Box::new(Cursor::new(bytes)), extension)
}

/// Decodes from any seekable source (an open file, or bytes).
pub fn decode_source(
    mut source: Box<dyn MediaSource>,
    extension: Option<&str>,
) -> Result<Decoded, AudioError> {
    refuse_nonsense_header(&mut source)?;
    // A decoder that panics on a file it should have refused (a bug of
    // its own) costs that file, not the scan.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode_checked(source, extension)
    }))
    .unwrap_or_else(|_| {
        Err(AudioError::Corrupt(
            "the decoder failed on this file".into(),
        ))
    })
}

/// Refuses, before symphonia reads it, an empty file and a WAV header
/// whose sample rate is zero (symphonia would divide by it).
fn refuse_nonsense_header(source: &mut Box<dyn MediaSource>) -> Result<(), AudioError> {
    let mut head = [0u8; 64];
    let mut filled = 0;
    while filled < head.len() {
        match source.read(&mut head[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    source.seek(SeekFrom::Start(0))?;
    if filled == 0 {
        return Err(AudioError::Empty);
    }
    let head = &head[..filled];
    if head.len() >= 28
        && &head[..4] == b"RIFF"
        && &head[8..12] == b"WAVE"
        && &head[12..16] == b"fmt "
    {
        let rate = u32::from_le_bytes([head[24], head[25], head[26], head[27]]);
        if !SAMPLE_RATES.contains(&rate) {
            return Err(AudioError::Corrupt(format!("a sample rate of {rate} Hz")));
        }
    }
    Ok(())
}

/// Reads a file's tags and cover without decoding its audio (what serving
/// a cover needs: milliseconds, not a decode).
pub fn read_tags_only(
    mut source: Box<dyn MediaSource>,
    extension: Option<&str>,
) -> Result<(Tags, Option<Cover>), AudioError> {
    refuse_nonsense_header(&mut source)?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut probed = probe(source, extension)?;
        Ok(tags_of(&mut probed.format, &mut probed.metadata))
    }))
    .unwrap_or_else(|_| Err(AudioError::Corrupt("the reader failed on this file".into())))
}

/// Finds the container (the extension, when known, helps); a format
/// Melodora does not read is refused with the list of those it does.
fn probe(source: Box<dyn MediaSource>, extension: Option<&str>) -> Result<ProbeResult, AudioError> {
    let mut hint = Hint::new();
    if let Some(extension) = extension {
        hint.with_extension(extension);
    }
    let stream = MediaSourceStream::new(source, Default::default());
    symphonia::default::get_probe()
        .format(
            &hint,
            stream,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymphoniaError::Unsupported(what) => AudioError::Unsupported(format!(
                "not a format Melodora reads (MP3, FLAC, Ogg Vorbis, WAV, AIFF, AAC or ALAC in MP4): {what}"
            )),
            other => AudioError::Corrupt(other.to_string()),
        })
}

/// Tags and cover: the container's own, then any found before it (ID3v2
/// ahead of MP3).
fn tags_of(
    format: &mut Box<dyn FormatReader>,
    metadata: &mut ProbedMetadata,
) -> (Tags, Option<Cover>) {
    let mut tags = Tags::default();
    let mut cover = None;
    if let Some(revision) = format.metadata().current() {
        read_tags(revision, &mut tags, &mut cover);
    }
    if let Some(metadata) = metadata.get() {
        if let Some(revision) = metadata.current() {
            read_tags(revision, &mut tags, &mut cover);
        }
    }
    (tags, cover)
}

fn decode_checked(
    source: Box<dyn MediaSource>,
    extension: Option<&str>,
) -> Result<Decoded, AudioError> {
    let mut probed = probe(source, extension)?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| AudioError::Unsupported("no audio track".into()))?;
    let track_id = track.id;
    let params = track.codec_params.clone();
    let codec = symphonia::default::get_codecs()
        .get_codec(params.codec)
        .map_or_else(|| "unknown".to_string(), |d| d.short_name.to_string());
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|e| AudioError::Unsupported(format!("its codec ({codec}): {e}")))?;

    let (tags, cover) = tags_of(&mut format, &mut probed.metadata);

    let mut sink: Option<Sink> = None;
    let mut packets_skipped = 0usize;
    let mut truncated = false;
    // Codecs that decode to another sample type (FLAC, WAV, ALAC) are
    // converted into this; f32 codecs (MP3, Vorbis, AAC) are read in place.
    let mut converted: Option<AudioBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(SymphoniaError::ResetRequired) => break,
            // A damaged stream ends the song where it breaks.
            Err(SymphoniaError::IoError(_) | SymphoniaError::DecodeError(_)) => break,
            Err(e) => return Err(AudioError::Corrupt(e.to_string())),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            Err(SymphoniaError::DecodeError(_) | SymphoniaError::IoError(_)) => {
                packets_skipped += 1;
                continue;
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(AudioError::Corrupt(e.to_string())),
        };
        let spec = *decoded.spec();
        if decoded.frames() == 0 {
            continue;
        }
        let sink = match &mut sink {
            Some(sink) => {
                if sink.rate != spec.rate || sink.channels != spec.channels.count() {
                    // A stream that changes its format mid-way: measure what came before.
                    break;
                }
                sink
            }
            None => sink.insert(Sink::new(spec.rate, spec.channels.count())?),
        };
        let planes = match &decoded {
            AudioBufferRef::F32(buffer) => buffer.planes(),
            other => {
                let buffer = converted.get_or_insert_with(|| other.make_equivalent());
                if buffer.capacity() < other.capacity() || buffer.spec() != other.spec() {
                    *buffer = other.make_equivalent();
                }
                other.convert(buffer);
                buffer.planes()
            }
        };
        if !sink.push(planes.planes()) {
            truncated = true;
            break;
        }
    }
    let sink = sink.ok_or_else(|| AudioError::Corrupt("no audio could be decoded".into()))?;
    sink.finish(codec, packets_skipped, truncated, tags, cover)
}

/// Where decoded samples go: the loudness meter (every channel) and the
/// mono analysis signal (channels averaged, decimated by a whole factor).
struct Sink {
    rate: u32,
    channels: usize,
    meter: LoudnessMeter,
    factor: usize,
    sum: f32,
    summed: usize,
    frames: u64,
    max_frames: u64,
    mono: Vec<f32>,
    /// Reused buffers: the channels summed, and copies of planes that carried non-finite samples.
    mix: Vec<f32>,
    scratch: Vec<Vec<f32>>,
}

impl Sink {
    fn new(rate: u32, channels: usize) -> Result<Sink, AudioError> {
        if !SAMPLE_RATES.contains(&rate) {
            return Err(AudioError::Corrupt(format!("a sample rate of {rate} Hz")));
        }
        if channels == 0 || channels > MAX_CHANNELS {
            return Err(AudioError::Corrupt(format!("{channels} channels")));
        }
        let factor = ((rate as f32 / ANALYSIS_RATE as f32).round() as usize).max(1);
        Ok(Sink {
            rate,
            channels,
            meter: LoudnessMeter::new(channels, rate)?,
            factor,
            sum: 0.0,
            summed: 0,
            frames: 0,
            max_frames: (MAX_ANALYSED_S * f64::from(rate)) as u64,
            mono: Vec::new(),
            mix: Vec::new(),
            scratch: vec![Vec::new(); channels],
        })
    }

    /// Takes one stretch of audio, a slice per channel; false once the
    /// song is long enough.
    fn push(&mut self, planes: &[&[f32]]) -> bool {
        let room = (self.max_frames - self.frames) as usize;
        let frames = planes.first().map_or(0, |p| p.len()).min(room);
        // A decoder's NaN or infinity would stay in the loudness filter for
        // good: a plane carrying one is read as a copy with zeros in its place.
        let mut finite: Vec<&[f32]> = Vec::with_capacity(planes.len());
        for (plane, scratch) in planes.iter().zip(&mut self.scratch) {
            let plane = &plane[..frames];
            if plane.iter().fold(true, |finite, s| finite & s.is_finite()) {
                finite.push(plane);
            } else {
                scratch.clear();
                scratch.extend(plane.iter().map(|s| if s.is_finite() { *s } else { 0.0 }));
                finite.push(scratch);
            }
        }
        self.meter.add(&finite);
        self.mix.clear();
        self.mix.extend_from_slice(finite[0]);
        for plane in &finite[1..] {
            for (sum, s) in self.mix.iter_mut().zip(*plane) {
                *sum += s;
            }
        }
        // Every `factor` frames averaged into one: first the group the last
        // stretch left open, then whole groups, then the start of the next.
        let scale = 1.0 / (self.channels * self.factor) as f32;
        let open = ((self.factor - self.summed) % self.factor).min(self.mix.len());
        let (head, rest) = self.mix.split_at(open);
        self.sum += head.iter().sum::<f32>();
        self.summed += head.len();
        if self.summed == self.factor {
            self.mono.push(self.sum * scale);
            self.sum = 0.0;
            self.summed = 0;
        }
        let tail = average_groups(rest, self.factor, scale, &mut self.mono);
        self.sum += tail.iter().sum::<f32>();
        self.summed += tail.len();
        self.frames += frames as u64;
        self.frames < self.max_frames
    }

    fn finish(
        self,
        codec: String,
        packets_skipped: usize,
        truncated: bool,
        tags: Tags,
        cover: Option<Cover>,
    ) -> Result<Decoded, AudioError> {
        let duration_s = self.frames as f64 / f64::from(self.rate);
        if duration_s < MIN_DURATION_S {
            return Err(AudioError::TooShort(duration_s));
        }
        Ok(Decoded {
            codec,
            sample_rate: self.rate,
            channels: self.channels,
            duration_s,
            truncated,
            packets_skipped,
            loudness: self.meter.finish(),
            tags,
            cover,
            samples: self.mono,
            analysis_rate: self.rate / self.factor as u32,
        })
    }
}

/// Appends each whole group of `factor` samples' sum, times `scale`, to
/// `out`; returns the samples left over. The common factors (1, 2 and 4:
/// files at 22, 44 and 88 kHz) have loops of their own with the group size
/// known, which the compiler vectorises; the sums are the same either way.
fn average_groups<'a>(
    samples: &'a [f32],
    factor: usize,
    scale: f32,
    out: &mut Vec<f32>,
) -> &'a [f32] {
    fn whole<'a, const N: usize>(samples: &'a [f32], scale: f32, out: &mut Vec<f32>) -> &'a [f32] {
        let (groups, tail) = samples.as_chunks::<N>();
        out.extend(groups.iter().map(|group| group.iter().sum::<f32>() * scale));
        tail
    }
    match factor {
        1 => whole::<1>(samples, scale, out),
        2 => whole::<2>(samples, scale, out),
        4 => whole::<4>(samples, scale, out),
        _ => {
            let groups = samples.chunks_exact(factor);
            let tail = groups.remainder();
            out.extend(groups.map(|group| group.iter().sum::<f32>() * scale));
            tail
        }
    }
}

/// Fills what `revision` tells of the tags and cover (first value wins).
fn read_tags(revision: &MetadataRevision, tags: &mut Tags, cover: &mut Option<Cover>) {
    for tag in revision.tags() {
        let Some(key) = tag.std_key else { continue };
        let text = tag.value.to_string().trim().to_string();
        if text.is_empty() {
            continue;
        }
        let slot = match key {
            StandardTagKey::TrackTitle => &mut tags.title,
            StandardTagKey::Artist => &mut tags.artist,
            StandardTagKey::Album => &mut tags.album,
            StandardTagKey::AlbumArtist => &mut tags.album_artist,
            StandardTagKey::Date | StandardTagKey::ReleaseDate => &mut tags.date,
            StandardTagKey::Genre => &mut tags.genre,
            StandardTagKey::TrackNumber => {
                if tags.track.is_none() {
                    // "3" or "3/12"
                    tags.track = text.split('/').next().and_then(|n| n.trim().parse().ok());
                }
                continue;
            }
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(text);
        }
    }
    let front = revision
        .visuals()
        .iter()
        .find(|v| v.usage == Some(StandardVisualKey::FrontCover))
        .or_else(|| revision.visuals().first());
    if cover.is_none() {
        if let Some(visual) = front {
            if !visual.data.is_empty() {
                *cover = Some(Cover {
                    media_type: visual.media_type.clone(),
                    data: visual.data.to_vec(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{average_groups, Cover};

    #[test]
    fn every_group_size_averages_as_the_general_loop_does() {
        let samples: Vec<f32> = (0..1_003).map(|i| (i as f32 * 0.37).sin()).collect();
        for factor in 1..=6 {
            let scale = 1.0 / (2 * factor) as f32;
            let mut ours = Vec::new();
            let tail = average_groups(&samples, factor, scale, &mut ours);
            let groups = samples.chunks_exact(factor);
            assert_eq!(tail, groups.remainder(), "factor {factor}");
            let general: Vec<f32> = groups
                .map(|group| group.iter().fold(0.0, |sum, s| sum + s) * scale)
                .collect();
            assert_eq!(ours.len(), samples.len() / factor);
            assert_eq!(ours, general, "factor {factor}");
        }
    }

    #[test]
    fn covers_are_typed_by_their_bytes_not_their_tags() {
        let cover = |media_type: &str, data: &[u8]| Cover {
            media_type: media_type.into(),
            data: data.to_vec(),
        };
        assert_eq!(
            cover("image/png", &[0xff, 0xd8, 0xff, 0xe0]).image_type(),
            Some("image/jpeg")
        );
        assert_eq!(
            cover("", b"\x89PNG\r\n\x1a\n....").image_type(),
            Some("image/png")
        );
        assert_eq!(
            cover("image/gif", b"GIF89a..").image_type(),
            Some("image/gif")
        );
        assert_eq!(
            cover("", b"RIFF\0\0\0\0WEBPVP8 ").image_type(),
            Some("image/webp")
        );
        assert_eq!(cover("text/html", b"<html><script>").image_type(), None);
    }
}
