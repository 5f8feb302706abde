// Times onnxruntime-node (its bundled CPU build) on GMNet exported to ONNX, for
// `regain bench --model`. Prints one JSON line per size: median wall and CPU seconds, peak RSS.
// usage: node bench.js MODEL.onnx THREADS REPS W1xH1 [W2xH2 ...]
'use strict';
const ort = require('onnxruntime-node');

async function main() {
  const [model, threads, reps, ...sizes] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const thumb = new ort.Tensor('float32', Float32Array.from({length: 3 * 256 * 256}, () => Math.random()), [1, 3, 256, 256]);
  for (const s of sizes) {
    const [w, h] = s.split('x').map(Number);
    const image = new ort.Tensor('float32', Float32Array.from({length: 3 * w * h}, () => Math.random()), [1, 3, h, w]);
    const walls = [], cpus = [];
    for (let r = 0; r <= Number(reps); ++r) {
      const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
      await session.run({image, thumbnail: thumb});
      const wall = Number(process.hrtime.bigint() - t0) / 1e9, c = process.cpuUsage(c0);
      if (r > 0) { walls.push(wall); cpus.push((c.user + c.system) / 1e6); }  // run 0 warms up
    }
    const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
    console.log(JSON.stringify({width: w, height: h, wall: med(walls), cpu: med(cpus),
                                peak_rss_mib: process.resourceUsage().maxRSS / 1024}));
  }
}
main().catch((e) => { console.error(e.message); process.exit(1); });
