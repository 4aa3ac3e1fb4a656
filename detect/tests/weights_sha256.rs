//! `Model::weights_sha256` (what the worker verifies fetched and cached weights against, and keys
//! its cache with) must be the checksum of the committed weights file: after a regeneration of
//! `models/*/*.bpk` this test fails until the constant is updated.

use reframe_detect::Model;
use sha2::{Digest, Sha256};

#[test]
fn weights_sha256_is_the_committed_files_checksum() {
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for model in Model::ALL {
        let path = models.join(model.weights_path());
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let hex: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(model.weights_sha256(), hex, "{}: update Model::weights_sha256", path.display());
    }
}
