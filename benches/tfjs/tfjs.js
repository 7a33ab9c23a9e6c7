// TensorFlow.js trains what gpu-mlp's page trains, for run.mjs to time: Fashion-MNIST's first
// `samples` training images, 784-128-10 ReLU (He-uniform), softmax cross-entropy, Adam 1e-3,
// batch 128, shuffled every epoch. `loop=fit` is what a TF.js user writes (`model.fit`);
// `loop=minimize` is TF.js at its fastest: `optimizer.minimize` with no readback inside an epoch.
// The result lands in `window.result` (or `window.failure`).

const PIXELS = 784;
const CLASSES = 10;

async function idx(url, headerBytes) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const plain = response.body.pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(plain).arrayBuffer()).subarray(headerBytes);
}

async function split(name, samples) {
  const images = await idx(`/data/fashion/${name}-images-idx3-ubyte.gz`, 16);
  const labels = await idx(`/data/fashion/${name}-labels-idx1-ubyte.gz`, 8);
  const n = Math.min(samples, labels.length);
  const pixels = new Float32Array(n * PIXELS);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images[i] / 255;
  return {
    n,
    xs: tf.tensor2d(pixels, [n, PIXELS]),
    labels: Int32Array.from(labels.subarray(0, n)),
  };
}

function network() {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [PIXELS], units: 128, activation: "relu", kernelInitializer: "heUniform" }),
      tf.layers.dense({ units: CLASSES, kernelInitializer: "heUniform" }),
    ],
  });
}

const loss = (ys, logits) => tf.losses.softmaxCrossEntropy(ys, logits);

async function trainWithFit(model, train, ys, epochs, batchSize) {
  model.compile({ optimizer: tf.train.adam(1e-3), loss });
  const rows = [];
  let started = 0;
  await model.fit(train.xs, ys, {
    batchSize,
    epochs,
    shuffle: true,
    verbose: 0,
    callbacks: {
      onEpochBegin: async () => { started = performance.now(); },
      onEpochEnd: async (_, logs) => { rows.push({ seconds: (performance.now() - started) / 1000, loss: logs.loss }); },
    },
  });
  return rows;
}

async function trainWithMinimize(model, train, ys, epochs, batchSize) {
  const optimizer = tf.train.adam(1e-3);
  const rows = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const started = performance.now();
    const order = tf.util.createShuffledIndices(train.n);
    let last = null;
    for (let from = 0; from < train.n; from += batchSize) {
      const picked = tf.tensor1d(Int32Array.from(order.subarray(from, from + batchSize)), "int32");
      const cost = optimizer.minimize(() => loss(tf.gather(ys, picked), model.apply(tf.gather(train.xs, picked))), true);
      picked.dispose();
      if (last) last.dispose();
      last = cost;
    }
    const value = (await last.data())[0];
    last.dispose();
    rows.push({ seconds: (performance.now() - started) / 1000, loss: value });
  }
  return rows;
}

async function accuracy(model, test) {
  const scores = model.predict(test.xs);
  const predicted = await scores.argMax(1).data();
  scores.dispose();
  return predicted.reduce((right, p, i) => right + (p === test.labels[i]), 0) / test.n;
}

async function main() {
  const query = new URLSearchParams(location.search);
  const backend = query.get("backend") ?? "webgpu";
  const samples = Number(query.get("samples") ?? 10000);
  const epochs = Number(query.get("epochs") ?? 2);
  const batchSize = Number(query.get("batch_size") ?? 128);
  const loop = query.get("loop") ?? "fit";
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js has no ${backend} backend here`);
  await tf.ready();
  const train = await split("train", samples);
  const test = await split("t10k", 10000);
  const ys = tf.oneHot(tf.tensor1d(train.labels, "int32"), CLASSES).toFloat();
  const model = network();
  const rows = await (loop === "fit" ? trainWithFit : trainWithMinimize)(model, train, ys, epochs, batchSize);
  for (const row of rows) row.samples_per_second = train.n / row.seconds;
  window.result = { backend: tf.getBackend(), loop, samples: train.n, epochs: rows, test_accuracy: await accuracy(model, test) };
  document.getElementById("out").textContent = JSON.stringify(window.result, null, 1);
}

main().catch((error) => {
  window.failure = String(error?.stack ?? error);
  document.getElementById("out").textContent = window.failure;
});
