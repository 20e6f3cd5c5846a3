// One ONNX Runtime latency (CPU, intraOpNumThreads = THREADS): used by
// bench/infer.sh.   node infer_ort.js MODEL.onnx RUNS THREADS C H W
const ort = require("onnxruntime-node");

async function main() {
  const [model, runs, threads, c, h, w] = process.argv.slice(2);
  const sess = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
  });
  const n = Number(c) * Number(h) * Number(w);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i) * 0.5;
  const feeds = {};
  feeds[sess.inputNames[0]] = new ort.Tensor("float32", data, [1, Number(c), Number(h), Number(w)]);
  await sess.run(feeds);
  const times = [];
  for (let i = 0; i < Number(runs); i++) {
    const t = process.hrtime.bigint();
    await sess.run(feeds);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  console.log(`median_ms ${median.toFixed(2)} min_ms ${times[0].toFixed(2)} gflop 0`);
}
main().catch((e) => { console.error(String(e)); process.exit(1); });
