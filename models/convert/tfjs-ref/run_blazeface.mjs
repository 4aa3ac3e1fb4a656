// Runs the ORIGINAL tfjs BlazeFace graph model (blazeface.json + .bin) with tfjs' own CPU backend,
// as @vladmandic/human does, on inputs prepared by make_fixtures_blazeface.py. Reference only: run
// by hand from convert_blazeface.sh (npm ci with the pinned package-lock.json), never by the build.
//
//   node run_blazeface.mjs <model.json> <out_dir> <input.f32> [<input.f32> ...]
//
// Each input is a raw little-endian float32 NHWC [1,256,256,3] tensor, already resized and
// normalised to -1..1. Writes <out_dir>/<stem>.tfjs.Identity{,_1,_2,_3}.f32 (the four outputs).
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';

const [modelJson, outDir, ...inputs] = process.argv.slice(2);
const json = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
const base = path.dirname(modelJson);
const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(base, p))));
const all = Buffer.concat(shards);
const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
const handler = { load: async () => ({ modelTopology: json.modelTopology, weightSpecs, weightData, format: json.format, signature: json.signature }) };

await tf.setBackend('cpu');
const model = await loadGraphModel(handler);
const names = ['Identity', 'Identity_1', 'Identity_2', 'Identity_3'];
for (const file of inputs) {
  const b = fs.readFileSync(file);
  const x = tf.tensor4d(new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4), [1, 256, 256, 3]);
  const outs = model.execute(x, names);
  const stem = path.basename(file).replace(/\.f32$/, '');
  for (const [i, t] of outs.entries()) {
    const d = await t.data();
    fs.writeFileSync(path.join(outDir, `${stem}.tfjs.${names[i]}.f32`), Buffer.from(d.buffer, d.byteOffset, d.byteLength));
  }
  console.log(stem, outs.map((t) => t.shape.join('x')).join(' '), 'tfjs', tf.version_core, tf.getBackend());
}
