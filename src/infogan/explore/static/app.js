// The explorer page: controls per code, a grid and a traversal strip that follow them, and an image encoder.
// It draws through window.infoganBackend: server.js (the `infogan explore` server) or onnx.js (the static export).
"use strict";

(async () => {
  const $ = (selector) => document.querySelector(selector);
  const backend = window.infoganBackend;
  const status = $("#status");
  const say = (text, isError = false) => {
    status.textContent = text;
    status.classList.toggle("error", isError);
  };

  let info;
  try {
    info = await backend.init();
  } catch (e) {
    say(`cannot load the model: ${e.message}`, true);
    return;
  }
  const state = { seed: 1, values: {} };
  const [lo, hi] = info.range;
  const inputs = {};

  $("#model-info").textContent =
    `step ${info.step} · images ${info.image_shape.join("x")} · ` +
    info.codes.map((c) => (c.kind === "categorical" ? `${c.name} (${c.k} classes)` : c.name)).join(", ");

  // One control per code: a slider for a continuous code, a selector for a categorical one.
  for (const code of info.codes) {
    const row = document.createElement("label");
    row.className = "control";
    row.append(code.name);
    let input;
    if (code.kind === "categorical") {
      input = document.createElement("select");
      for (let i = 0; i < code.k; i++) input.add(new Option(String(i), String(i)));
      row.append(input, document.createElement("span"));
      state.values[code.name] = 0;
    } else {
      input = Object.assign(document.createElement("input"), { type: "range", min: lo, max: hi, step: 0.05, value: 0 });
      const shown = document.createElement("output");
      shown.textContent = "0.00";
      row.append(input, shown);
      state.values[code.name] = 0;
    }
    input.id = `code-${code.name}`;
    input.addEventListener("input", () => {
      state.values[code.name] = Number(input.value);
      if (code.kind !== "categorical") row.querySelector("output").textContent = Number(input.value).toFixed(2);
      refresh();
    });
    inputs[code.name] = input;
    $("#controls").append(row);
    $("#traverse-code").add(new Option(code.name, code.name));
  }

  // At most one request per image in flight; moves made meanwhile become one more request with the latest state.
  function latestWins(render) {
    let running = false;
    let again = false;
    return async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      do {
        again = false;
        try {
          await render();
        } catch (e) {
          say(e.message, true);
        }
      } while (again);
      running = false;
    };
  }

  async function show(img, url) {
    const old = img.src;
    img.src = url;
    await img.decode();
    if (old.startsWith("blob:")) URL.revokeObjectURL(old);
    img.dataset.version = String(Number(img.dataset.version) + 1);
  }

  const snapshot = () => ({ seed: state.seed, values: { ...state.values } });
  const updateGrid = latestWins(async () => {
    const t0 = performance.now();
    await show($("#grid"), await backend.grid(snapshot()));
    $("#grid-time").textContent = `updated in ${Math.round(performance.now() - t0)} ms`;
  });
  const updateStrip = latestWins(async () => {
    const name = $("#traverse-code").value;
    const code = info.codes.find((c) => c.name === name);
    await show($("#strip"), await backend.traversal(snapshot(), name));
    $("#strip-caption").textContent =
      code.kind === "categorical"
        ? `the first image with ${name} = 0..${code.k - 1}`
        : `the first image with ${name} from ${lo} to ${hi}`;
  });
  const refresh = () => {
    say("");
    updateGrid();
    updateStrip();
  };

  $("#traverse-code").addEventListener("change", updateStrip);
  $("#new-noise").addEventListener("click", () => {
    state.seed = 1 + Math.floor(Math.random() * 2147483646);
    refresh();
  });
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => selectTab(tab.dataset.tab));
  }
  function selectTab(name) {
    for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t.dataset.tab === name);
    $("#tab-explore").hidden = name !== "explore";
    $("#tab-encode").hidden = name !== "encode";
  }

  // ---- encoding a real image ----------------------------------------------------------
  let lastFile = null;
  let lastCodes = null;
  async function encode(file) {
    lastFile = file;
    say(`encoding ${file.name}...`);
    try {
      const result = await backend.encode(file, { invert: $("#invert").checked, seed: state.seed });
      $("#input-image").src = result.input;
      $("#encoded-samples").src = result.images;
      showCodes(result.codes);
      lastCodes = result.codes;
      $("#use-codes").disabled = false;
      say(`${file.name}: Q's estimates of the codes`);
    } catch (e) {
      say(`${file.name}: ${e.message}`, true);
    }
  }

  function showCodes(codes) {
    const table = document.createElement("table");
    for (const code of info.codes) {
      const est = codes[code.name];
      if (code.kind === "categorical") {
        const head = table.insertRow();
        head.innerHTML = `<th colspan="3">${code.name}: class ${est.class}</th>`;
        est.probs.forEach((p, i) => {
          const row = table.insertRow();
          row.className = i === est.class ? "best" : "";
          row.insertCell().textContent = String(i);
          row.insertCell().innerHTML = `<span class="bar" style="width:${(p * 160).toFixed(1)}px"></span>`;
          Object.assign(row.insertCell(), { className: "prob", textContent: p.toFixed(3) });
        });
      } else {
        const row = table.insertRow();
        row.innerHTML = "<th></th><td></td><td></td>";
        row.cells[0].textContent = code.name;
        row.cells[1].textContent = `mean ${est.mean.toFixed(3)}`;
        row.cells[2].textContent = `std ${est.std.toFixed(3)}`;
      }
    }
    const box = $("#codes");
    box.replaceChildren(table);
    box.dataset.version = String(Number(box.dataset.version) + 1);
  }

  $("#file").addEventListener("change", (e) => e.target.files.length && encode(e.target.files[0]));
  $("#invert").addEventListener("change", () => lastFile && encode(lastFile));
  const drop = $("#drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) encode(e.dataTransfer.files[0]);
  });
  $("#use-codes").addEventListener("click", () => {
    for (const code of info.codes) {
      const est = lastCodes[code.name];
      const value = code.kind === "categorical" ? est.class : Math.min(hi, Math.max(lo, est.mean));
      state.values[code.name] = value;
      inputs[code.name].value = String(value);
      inputs[code.name].dispatchEvent(new Event("input"));
    }
    selectTab("explore");
  });

  refresh();
})();
