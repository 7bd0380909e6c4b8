// The explorer's backend in a static export (`infogan export --format web`): the generator and Q's encoder run in
// the browser with onnxruntime-web (WebAssembly), so the page needs no server beyond one that serves its files.
"use strict";

window.infoganBackend = (() => {
  let info;
  let generator;
  let encoder;

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = Object.assign(document.createElement("script"), { src });
      script.onload = resolve;
      script.onerror = () => reject(new Error(`cannot load ${src}`));
      document.head.append(script);
    });
  }

  // Seeded noise (mulberry32), so "new noise" is reproducible within the page: Unif(-1, 1) or N(0, 1).
  function noise(seed, n) {
    let a = seed >>> 0;
    const uniform = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const z = new Float32Array(n * info.noise_dim);
    for (let i = 0; i < z.length; i++) {
      z[i] =
        info.noise === "uniform"
          ? uniform() * 2 - 1
          : Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
    }
    return z;
  }

  // Images [n, C, H, W] in [0, 1] for noise z (n rows) and each code's n values.
  async function generate(z, n, codeValues) {
    const feeds = { z: new ort.Tensor("float32", z, [n, info.noise_dim]) };
    for (const code of info.codes) {
      const v = codeValues[code.name];
      feeds[`code.${code.name}`] =
        code.kind === "categorical"
          ? new ort.Tensor("int64", BigInt64Array.from(v, (x) => BigInt(x)), [n])
          : new ort.Tensor("float32", Float32Array.from(v), [n]);
    }
    return (await generator.run(feeds)).image.data;
  }

  // Tile images [n, C, H, W] in [0, 1] into one PNG with white gutters, like infogan.viz.grid.
  function tile(images, n, ncol, pad = 2) {
    const [C, H, W] = info.image_shape;
    const nrow = Math.ceil(n / ncol);
    const canvas = Object.assign(document.createElement("canvas"), {
      width: ncol * (W + pad) + pad,
      height: nrow * (H + pad) + pad,
    });
    const ctx = canvas.getContext("2d");
    const out = ctx.createImageData(canvas.width, canvas.height);
    out.data.fill(255);
    for (let i = 0; i < n; i++) {
      const x0 = pad + (i % ncol) * (W + pad);
      const y0 = pad + Math.floor(i / ncol) * (H + pad);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const o = 4 * ((y0 + y) * canvas.width + x0 + x);
          for (let ch = 0; ch < 3; ch++) {
            const v = images[((i * C + (C === 1 ? 0 : ch)) * H + y) * W + x];
            out.data[o + ch] = Math.round(Math.min(1, Math.max(0, v)) * 255);
          }
        }
      }
    }
    ctx.putImageData(out, 0, 0);
    return canvas.toDataURL("image/png");
  }

  const repeat = (n, value) => Array.from({ length: n }, () => value);

  // Q's input: the file drawn at the model's size, grey (PIL's "L" weights) or RGB planes, as uint8 [1, C, H, W].
  async function pixels(file, invert) {
    if (!["image/png", "image/jpeg"].includes(file.type)) throw new Error("not a PNG or JPEG file");
    const [C, H, W] = info.image_shape;
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch (e) {
      throw new Error("truncated or corrupt image");
    }
    const canvas = Object.assign(document.createElement("canvas"), { width: W, height: H });
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(bitmap, 0, 0, W, H);
    const rgba = ctx.getImageData(0, 0, W, H).data;
    const out = new Uint8Array(C * H * W);
    for (let p = 0; p < H * W; p++) {
      const [r, g, b] = [rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2]];
      const planes = C === 1 ? [Math.round((r * 299 + g * 587 + b * 114) / 1000)] : [r, g, b];
      planes.forEach((v, ch) => (out[ch * H * W + p] = invert ? 255 - v : v));
    }
    return out;
  }

  return {
    async init() {
      await loadScript("ort/ort.wasm.min.js");
      ort.env.wasm.wasmPaths = new URL("ort/", location.href).href;
      ort.env.wasm.numThreads = 1; // threads need cross-origin isolation, which a plain static server does not give
      info = await (await fetch("model.json")).json();
      const options = { executionProviders: ["wasm"] };
      [generator, encoder] = await Promise.all([
        ort.InferenceSession.create("generator.onnx", options),
        ort.InferenceSession.create("encoder.onnx", options),
      ]);
      return info;
    },

    async grid(state) {
      const n = info.grid * info.grid;
      const values = Object.fromEntries(info.codes.map((c) => [c.name, repeat(n, state.values[c.name])]));
      return tile(await generate(noise(state.seed, n), n, values), n, info.grid);
    },

    async traversal(state, name) {
      const code = info.codes.find((c) => c.name === name);
      const [lo, hi] = info.range;
      const steps = code.kind === "categorical" ? code.k : info.strip_steps;
      const varied = Array.from({ length: steps }, (_, i) =>
        code.kind === "categorical" ? i : lo + ((hi - lo) * i) / (steps - 1),
      );
      const values = Object.fromEntries(info.codes.map((c) => [c.name, repeat(steps, state.values[c.name])]));
      values[name] = varied;
      const z0 = noise(state.seed, 1);
      const z = new Float32Array(steps * info.noise_dim);
      for (let i = 0; i < steps; i++) z.set(z0, i * info.noise_dim);
      return tile(await generate(z, steps, values), steps, steps);
    },

    async encode(file, { invert, seed }) {
      const [C, H, W] = info.image_shape;
      const image = await pixels(file, invert);
      const out = await encoder.run({ image: new ort.Tensor("uint8", image, [1, C, H, W]) });
      const codes = {};
      const point = {};
      for (const code of info.codes) {
        if (code.kind === "categorical") {
          const probs = Array.from(out[`${code.name}.probs`].data);
          const best = probs.indexOf(Math.max(...probs));
          codes[code.name] = { class: best, probs };
          point[code.name] = best;
        } else {
          const mean = out[`${code.name}.mean`].data[0];
          codes[code.name] = { mean, std: out[`${code.name}.std`].data[0] };
          point[code.name] = mean;
        }
      }
      const n = info.encode_samples;
      const values = Object.fromEntries(info.codes.map((c) => [c.name, repeat(n, point[c.name])]));
      return {
        codes,
        input: tile(Float32Array.from(image, (v) => v / 255), 1, 1, 0),
        images: tile(await generate(noise(seed, n), n, values), n, n),
      };
    },
  };
})();
