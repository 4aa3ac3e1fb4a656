//! `Model::weights_sha256` (what the worker verifies fetched and cached weights against, and keys
//! its cache with) must be the checksum of the committed weights file: after a regeneration of
//! `models/*/*.bpk` this test fails until the constant is updated. The same for the face
//! detector's `face::FACE_WEIGHTS_SHA256`.

use reframe_detect::face::{FACE_WEIGHTS_SHA256, FACE_WEIGHTS_URL};
use reframe_detect::Model;
use sha2::{Digest, Sha256};

fn sha256_of(weights_url: &str) -> (std::path::PathBuf, String) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(weights_url.trim_start_matches('/'));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (path, Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect())
}

#[test]
fn weights_sha256_is_the_committed_files_checksum() {
    for model in Model::ALL {
        let (path, hex) = sha256_of(model.weights_url());
        assert_eq!(model.weights_sha256(), hex, "{}: update reframe_core::models", path.display());
    }
}

#[test]
fn face_weights_sha256_is_the_committed_files_checksum() {
    let (path, hex) = sha256_of(FACE_WEIGHTS_URL);
    assert_eq!(FACE_WEIGHTS_SHA256, hex, "{}: update reframe_core::models::FACE_WEIGHTS", path.display());
}
