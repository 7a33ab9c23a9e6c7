// gpu-mlp's page beside TensorFlow.js 4.22 in one headless Chromium, on the adapter the browser
// offers (SwiftShader here): the same 784-128-10 ReLU network, Adam 1e-3, batch 128, on the same
// first N Fashion-MNIST training images, each run in a fresh tab, the runs alternated and each
// figure the median over the repeats of its last epoch's samples/s. Also records the page's long
// tasks (PerformanceObserver), split by what the page was doing when they ran.
//
//   npm ci && node run.mjs [--samples 10000] [--epochs 2] [--repeats 3] [--only NAME,NAME]
//                          [--gpu-mlp ../../target/release/gpu-mlp] [--json FILE]
//
// Needs the page built (`bash web/build.sh`), Debian's chromium and the Fashion-MNIST files where
// `gpu-mlp train --dataset fashion` finds them: `gpu-mlp serve` serves both, this script serves
// TensorFlow.js beside it on one origin.
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

function options() {
  const given = { samples: "10000", epochs: "2", repeats: "3", only: "", json: "", "gpu-mlp": path.join(root, "target/release/gpu-mlp") };
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i].replace(/^--/, "");
    if (!(key in given) || args[i + 1] === undefined) throw new Error(`unknown or valueless option ${args[i]}; known: ${Object.keys(given).map((k) => "--" + k).join(", ")}`);
    given[key] = args[i + 1];
  }
  return given;
}

/** The runs compared: gpu-mlp's page on WebGPU and on its CPU reference, TF.js on each backend. */
function runs(samples, epochs) {
  const page = (device) =>
    `/?dataset=fashion&train_samples=${samples}&hidden=128&optimizer=adam&lr=0.001&batch_size=128&epochs=${epochs}&seed=1&device=${device}&autostart=1`;
  const tfjs = (backend, loop) => `/tfjs/tfjs.html?backend=${backend}&loop=${loop}&samples=${samples}&epochs=${epochs}&batch_size=128`;
  return [
    { name: "gpu-mlp page, WebGPU", kind: "page", url: page("gpu") },
    { name: "gpu-mlp page, CPU reference (wasm)", kind: "page", url: page("cpu") },
    { name: "TF.js webgpu, model.fit", kind: "tfjs", url: tfjs("webgpu", "fit") },
    { name: "TF.js webgpu, optimizer.minimize", kind: "tfjs", url: tfjs("webgpu", "minimize") },
    { name: "TF.js webgl, model.fit", kind: "tfjs", url: tfjs("webgl", "fit") },
    { name: "TF.js cpu, model.fit", kind: "tfjs", url: tfjs("cpu", "fit") },
  ];
}

/** `gpu-mlp serve` on a free port; resolves to its address once it says where it listens. */
function servePage(binary) {
  const server = spawn(binary, ["serve", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let said = "";
    server.on("error", reject);
    server.on("exit", (code) => reject(new Error(`${binary} serve exited with ${code}: ${said}`)));
    server.stdout.on("data", (chunk) => {
      said += chunk;
      const address = said.match(/serving the page at (http:\/\/\S+)/);
      if (address) resolve({ server, address: new URL(address[1]) });
    });
  });
}

const types = { ".html": "text/html", ".js": "text/javascript", ".json": "application/json", ".wasm": "application/wasm" };

/** One origin for both: /tfjs/ from this folder, everything else from `gpu-mlp serve`. */
function frontDoor(page) {
  return http.createServer(async (request, response) => {
    const url = new URL(request.url, "http://localhost");
    if (url.pathname.startsWith("/tfjs/")) {
      const file = path.join(here, path.normalize(decodeURIComponent(url.pathname.slice(6))));
      if (!file.startsWith(here + path.sep)) return response.writeHead(403).end();
      try {
        const body = await readFile(file);
        response.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" }).end(body);
      } catch {
        response.writeHead(404).end();
      }
      return;
    }
    const upstream = http.request({ host: page.hostname, port: page.port, path: request.url, method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode, answer.headers);
      answer.pipe(response);
    });
    upstream.on("error", () => response.writeHead(502).end());
    request.pipe(upstream);
  });
}

/** Notes every long task and every change of the page's `#status` state, with its time. */
function watchTheMainThread() {
  window.longTasks = [];
  window.states = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.longTasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: "longtask", buffered: true });
  document.addEventListener("DOMContentLoaded", () => {
    const status = document.getElementById("status");
    if (!status) return;
    const note = () => {
      const state = status.dataset.state;
      if (window.states.at(-1)?.state !== state) window.states.push({ state, at: performance.now() });
    };
    new MutationObserver(note).observe(status, { attributes: true, attributeFilter: ["data-state"] });
    note();
  });
}

/** The longest task while the page trained and in all (ms). */
function longest(tasks, states) {
  const training = states.find((s) => s.state === "training")?.at ?? 0;
  const ended = states.find((s) => s.state === "finished" || s.state === "error")?.at ?? Infinity;
  const durations = (keep) => tasks.filter(keep).map((t) => t.duration);
  const whileTraining = durations((t) => t.start >= training && t.start < ended);
  return {
    while_training_ms: Math.max(0, ...whileTraining),
    over_50ms_while_training: whileTraining.filter((d) => d > 50).length,
    any_ms: Math.max(0, ...durations(() => true)),
  };
}

async function measure(browser, origin, run) {
  const tab = await browser.newPage();
  await tab.evaluateOnNewDocument(watchTheMainThread);
  try {
    await tab.goto(origin + run.url);
    const done =
      run.kind === "page"
        ? "['finished', 'error'].includes(document.getElementById('status')?.dataset.state)"
        : "window.result || window.failure";
    await tab.waitForFunction(done, { timeout: 20 * 60 * 1000, polling: 500 });
    const seen = await tab.evaluate(() => {
      const status = document.getElementById("status")?.dataset ?? {};
      return { status: { ...status }, result: window.result, failure: window.failure, longTasks: window.longTasks, states: window.states };
    });
    const tasks = longest(seen.longTasks, seen.states);
    if (run.kind === "page") {
      if (seen.status.state !== "finished") throw new Error(`${run.name}: ${seen.status.error}`);
      return { samples_per_second: Number(seen.status.samples_per_second), test_accuracy: Number(seen.status.test_accuracy), adapter: seen.status.adapter, ...tasks };
    }
    if (seen.failure) throw new Error(`${run.name}: ${seen.failure}`);
    const last = seen.result.epochs.at(-1);
    return { samples_per_second: last.samples_per_second, test_accuracy: seen.result.test_accuracy, epochs: seen.result.epochs, ...tasks };
  } finally {
    await tab.close();
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function main() {
  const given = options();
  const chosen = runs(given.samples, given.epochs).filter((r) => !given.only || given.only.split(",").some((o) => r.name.includes(o)));
  const flags = JSON.parse(await readFile(path.join(root, "webdriver.json"), "utf8"))["goog:chromeOptions"].args;
  const { server, address } = await servePage(given["gpu-mlp"]);
  const door = frontDoor(address);
  await new Promise((resolve) => door.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${door.address().port}`;
  const browser = await puppeteer.launch({ executablePath: "/usr/bin/chromium", headless: true, args: flags.filter((f) => !f.startsWith("--headless")) });
  const measured = new Map(chosen.map((r) => [r.name, []]));
  try {
    for (let repeat = 0; repeat < Number(given.repeats); repeat++) {
      for (const run of chosen) {
        const result = await measure(browser, origin, run);
        measured.get(run.name).push(result);
        console.error(`${run.name}, repeat ${repeat + 1}: ${result.samples_per_second.toFixed(0)} samples/s, ${(100 * result.test_accuracy).toFixed(2)}% test, longest task while training ${result.while_training_ms.toFixed(0)} ms`);
      }
    }
  } finally {
    await browser.close();
    door.close();
    server.kill();
  }
  const summary = chosen.map((run) => {
    const results = measured.get(run.name);
    return {
      name: run.name,
      samples_per_second: median(results.map((r) => r.samples_per_second)),
      test_accuracy: median(results.map((r) => r.test_accuracy)),
      longest_task_while_training_ms: Math.max(...results.map((r) => r.while_training_ms)),
      adapter: results[0].adapter,
      results,
    };
  });
  const ours = summary.find((s) => s.name === "gpu-mlp page, WebGPU")?.samples_per_second;
  console.log(`Fashion-MNIST, first ${given.samples} training images, 784-128-10, Adam 1e-3, batch 128; epoch ${given.epochs} of ${given.epochs}, median of ${given.repeats}`);
  console.log("| Run | samples/s | gpu-mlp WebGPU ÷ this | test accuracy | longest task while training |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const s of summary) {
    const ratio = ours ? (ours / s.samples_per_second).toFixed(2) + "×" : "–";
    // The observer reports tasks over 50 ms only.
    const longest = s.longest_task_while_training_ms > 0 ? `${s.longest_task_while_training_ms.toFixed(0)} ms` : "none over 50 ms";
    console.log(`| ${s.name} | ${s.samples_per_second.toFixed(0)} | ${ratio} | ${(100 * s.test_accuracy).toFixed(2)}% | ${longest} |`);
  }
  if (given.json) await writeFile(given.json, JSON.stringify({ options: given, summary }, null, 1));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
