// One ONNX Runtime latency (CPU, intraOpNumThreads = THREADS): used by
// bench/infer.sh.   node infer_ort.js MODEL.onnx RUNS THREADS C H W
// Prints the median and minimum wall time and the median process CPU time
// of RUNS runs after a warm-up.
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
  const times = [], cpu = [];
  for (let i = 0; i < Number(runs); i++) {
    const u = process.cpuUsage();
    const t = process.hrtime.bigint();
    await sess.run(feeds);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    const du = process.cpuUsage(u);
    cpu.push((du.user + du.system) / 1e3);
  }
  const median = (a) => {
    a.sort((x, y) => x - y);
    const mid = a.length >> 1;
    return a.length % 2 ? a[mid] : (a[mid - 1] + a[mid]) / 2;
  };
  const med = median(times);
  console.log(`median_ms ${med.toFixed(2)} min_ms ${times[0].toFixed(2)} ` +
              `cpu_ms ${median(cpu).toFixed(2)} gflop 0`);
}
main().catch((e) => { console.error(String(e)); process.exit(1); });
