//! Errors of the pipeline, each with a message a user understands.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Everything that can stop a job. `Display` is the sentence shown in the page.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ReframeError {
    #[error("The file is empty.")]
    EmptyFile,
    #[error("This file is not a video Reframe can read (it is not an MP4, MOV, MKV or WebM file).")]
    NotAVideo,
    /// A file Reframe recognises but does not read (its common name, e.g. "an AVI video").
    #[error("This file is {0}. Reframe reads MP4, MOV, MKV and WebM videos: {advice}", advice = convert_advice())]
    UnsupportedContainer(String),
    /// A file that is not a video at all, recognised (its common name, e.g. "a PNG image").
    #[error("This file is {0}, not a video. Choose a video file (MP4, MOV, MKV or WebM).")]
    NotVideoFile(String),
    #[error("The file looks damaged or incomplete: {0}.")]
    Corrupt(String),
    #[error("The file has no video track.")]
    NoVideoTrack,
    /// The browser cannot decode the video's codec (a WebCodecs codec string, or the sample
    /// entry's four letters when Reframe does not read the codec at all).
    #[error("{}", unsupported_codec_message(.0))]
    UnsupportedCodec(String),
    #[error("This browser cannot encode video here (no H.264, VP9 or AV1 encoder is available).")]
    NoEncoder,
    #[error("This browser has no WebCodecs support. Use a recent Chrome, Edge or Safari.")]
    NoWebCodecs,
    #[error("The disk is full: the browser refused to store more data. The job is paused and kept: free some space, then resume it.")]
    StorageFull,
    #[error("Could not store the output: {0}.")]
    Storage(String),
    #[error("Could not read the file: {0}.")]
    Read(String),
    #[error("Could not load the person detector's weights: {0}.")]
    DetectorWeights(String),
    /// The detector failed on frames (its cause: a failed load, a crashed helper worker, ...).
    #[error("Finding people failed: {0}.")]
    Detection(String),
    #[error("This browser could not start Reframe's background worker.")]
    NoWorker,
    #[error("Reframe's background worker failed: {0}. Reload the page to try again.")]
    WorkerFailed(String),
    #[error("The finished video could not be opened ({0}). It is still stored; reload the page.")]
    OutputUnreadable(String),
    #[error("Decoding failed: {0}.")]
    Decode(String),
    #[error("Encoding failed: {0}.")]
    Encode(String),
    #[error("The aspect ratio {0} is not valid. Use two positive numbers, like 9:16.")]
    BadRatio(String),
    #[error("The pinned framing \"{0}\" is not valid. Write each pin as seconds:x,y (the crop's top-left in pixels), e.g. 2.5:640,0, separated by semicolons.")]
    BadPin(String),
    #[error("The person to follow \"{0}\" is not valid. Write the number shown on their box or in the list of people, or leave the field empty.")]
    BadSubject(String),
    #[error("This is not the file of the job you are resuming: {0}. Choose the original file.")]
    WrongFile(String),
    #[error("This video is already being processed in another tab or window. Finish or close it there first.")]
    JobBusy,
    #[error("This analysis file cannot be used: {0}.")]
    BadAnalysis(String),
    #[error("Internal error: {0}.")]
    Internal(String),
}

/// What to convert a video to when its codec cannot be decoded here, with the command.
const CONVERT_ADVICE: &str = "or convert the video to H.264 first, for example with ffmpeg: \
     ffmpeg -i input.mov -c:v libx264 -crf 18 -c:a copy output.mp4";

/// How to turn a file Reframe does not read into one it does.
fn convert_advice() -> &'static str {
    "convert it first, for example with ffmpeg: ffmpeg -i your-video -c:v libx264 -crf 18 -c:a aac output.mp4"
}

/// The sentence for a codec the browser cannot decode: its common name, and what to do.
fn unsupported_codec_message(codec: &str) -> String {
    match codec.split('.').next().unwrap_or(codec) {
        "hvc1" | "hev1" => format!(
            "This video is HEVC (H.265, codec {codec}), which this browser cannot decode. Open it in a browser \
             that decodes HEVC (Safari, or Chrome or Edge on a Mac or on a Windows PC with hardware HEVC \
             decoding), {CONVERT_ADVICE}."
        ),
        "apcn" | "apch" | "apcs" | "apco" | "ap4h" | "ap4x" => format!(
            "This video is Apple ProRes (codec {codec}), which browsers do not decode. Export it as H.264 from the \
             editor that made it, {CONVERT_ADVICE}."
        ),
        "mp4v" => format!(
            "This video is MPEG-4 Part 2 (codec {codec}), which browsers do not decode. Export it again as \
             H.264 from the program that made it, {CONVERT_ADVICE}."
        ),
        _ => match deep_color_name(codec) {
            Some(name) => format!(
                "This video is {name} (codec {codec}), which this browser cannot decode. Use another browser, \
                 {CONVERT_ADVICE} (add -pix_fmt yuv420p for an 8-bit 4:2:0 copy)."
            ),
            None => format!(
                "The video codec {codec} is not supported by this browser. Use another browser, {CONVERT_ADVICE}."
            ),
        },
    }
}

/// A common name for the 10-bit, 12-bit and 4:2:2/4:4:4 kinds of H.264, VP9 and AV1, which
/// browsers often do not decode (None for others).
fn deep_color_name(codec: &str) -> Option<&'static str> {
    let mut parts = codec.split('.');
    let (kind, first) = (parts.next()?, parts.next().unwrap_or(""));
    match kind {
        // avc1.PPCCLL: the profile_idc in hex.
        "avc1" | "avc3" => match first.get(..2)?.to_ascii_lowercase().as_str() {
            "6e" => Some("10-bit H.264 (High 10)"),
            "7a" => Some("H.264 4:2:2 (High 4:2:2)"),
            "f4" => Some("H.264 4:4:4 (High 4:4:4)"),
            _ => None,
        },
        // vp09.PP.LL.DD: profiles 1 and 3 are 4:2:2/4:4:4, 2 and 3 are 10 or 12 bits.
        "vp09" => match first {
            "01" => Some("VP9 4:2:2/4:4:4 (profile 1)"),
            "02" => Some("10- or 12-bit VP9 (profile 2)"),
            "03" => Some("10- or 12-bit VP9 4:2:2/4:4:4 (profile 3)"),
            _ => None,
        },
        // av01.P.LLT.DD
        "av01" => match (first, parts.nth(1)) {
            (_, Some("10")) => Some("10-bit AV1"),
            (_, Some("12")) => Some("12-bit AV1"),
            ("1" | "2", _) => Some("AV1 4:4:4/4:2:2 (High or Professional profile)"),
            _ => None,
        },
        _ => None,
    }
}

/// The stable code of an error kind, for tests and logs.
impl ReframeError {
    pub fn code(&self) -> &'static str {
        match self {
            ReframeError::EmptyFile => "empty_file",
            ReframeError::NotAVideo => "not_a_video",
            ReframeError::UnsupportedContainer(_) => "unsupported_container",
            ReframeError::NotVideoFile(_) => "not_a_video",
            ReframeError::Corrupt(_) => "corrupt",
            ReframeError::NoVideoTrack => "no_video_track",
            ReframeError::UnsupportedCodec(_) => "unsupported_codec",
            ReframeError::NoEncoder => "no_encoder",
            ReframeError::NoWebCodecs => "no_webcodecs",
            ReframeError::StorageFull => "storage_full",
            ReframeError::Storage(_) => "storage",
            ReframeError::Read(_) => "read",
            ReframeError::DetectorWeights(_) => "detector_weights",
            ReframeError::Detection(_) => "detection",
            ReframeError::NoWorker => "no_worker",
            ReframeError::WorkerFailed(_) => "worker",
            // Stored but not readable now: a storage problem for the user, like `Storage`.
            ReframeError::OutputUnreadable(_) => "storage",
            ReframeError::Decode(_) => "decode",
            ReframeError::Encode(_) => "encode",
            ReframeError::BadRatio(_) => "bad_ratio",
            ReframeError::BadPin(_) => "bad_pin",
            ReframeError::BadSubject(_) => "bad_subject",
            ReframeError::WrongFile(_) => "wrong_file",
            ReframeError::JobBusy => "job_busy",
            ReframeError::BadAnalysis(_) => "bad_analysis",
            ReframeError::Internal(_) => "internal",
        }
    }

    pub fn to_user(&self) -> UserError {
        UserError { code: self.code().to_string(), message: self.to_string() }
    }
}

/// An error as sent to the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserError {
    pub code: String,
    pub message: String,
}

pub type Result<T, E = ReframeError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsupported_codec_is_named_with_what_to_do() {
        let hevc = ReframeError::UnsupportedCodec("hvc1.1.6.L60.90".into()).to_string();
        assert!(hevc.contains("HEVC (H.265, codec hvc1.1.6.L60.90)"), "{hevc}");
        assert!(hevc.contains("ffmpeg -i input.mov -c:v libx264"), "{hevc}");
        assert!(ReframeError::UnsupportedCodec("hev1.2.4.L120.B0".into()).to_string().contains("HEVC"));
        let mp4v = ReframeError::UnsupportedCodec("mp4v".into()).to_string();
        assert!(mp4v.contains("MPEG-4 Part 2"), "{mp4v}");
        let deep = ReframeError::UnsupportedCodec("avc1.6e001e".into()).to_string();
        assert!(deep.contains("10-bit H.264 (High 10)") && deep.contains("-pix_fmt yuv420p"), "{deep}");
        assert!(ReframeError::UnsupportedCodec("vp09.02.10.10".into()).to_string().contains("10- or 12-bit VP9"));
        assert!(ReframeError::UnsupportedCodec("av01.0.08M.10".into()).to_string().contains("10-bit AV1"));
        assert!(ReframeError::UnsupportedCodec("avc1.64001f".into()).to_string().starts_with("The video codec"));
        assert!(ReframeError::UnsupportedCodec("apcn".into()).to_string().contains("Apple ProRes"));
        let other = ReframeError::UnsupportedCodec("cvid".into()).to_string();
        assert!(other.starts_with("The video codec cvid is not supported"), "{other}");
        assert_eq!(ReframeError::UnsupportedCodec("hvc1".into()).code(), "unsupported_codec");
    }
}
