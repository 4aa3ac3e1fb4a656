//! `reframe-model-gen <model.onnx> <out_dir>`: writes `<out_dir>/<name>.rs` and `<name>.bpk`.
//! Weights are loaded at run time from bytes (`LoadStrategy::Bytes`), never embedded.
use burn_onnx::{LoadStrategy, ModelGen};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: {} <model.onnx> <out_dir>", args[0]);
        std::process::exit(2);
    }
    ModelGen::new()
        .input(&args[1])
        .out_dir(&args[2])
        .development(false)
        .load_strategy(LoadStrategy::Bytes)
        .run_from_cli();
}
