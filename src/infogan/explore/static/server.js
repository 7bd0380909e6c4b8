// The explorer's backend when `infogan explore` serves the page: images come from the server's PyTorch model.
"use strict";

window.infoganBackend = (() => {
  async function call(url, options) {
    const response = await fetch(url, options);
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try {
        message = (await response.json()).error;
      } catch (e) {
        // not JSON: keep the status
      }
      throw new Error(message);
    }
    return response;
  }

  function query(state, extra = {}) {
    return new URLSearchParams({ seed: String(state.seed), ...state.values, ...extra }).toString();
  }

  const imageUrl = async (url) => URL.createObjectURL(await (await call(url)).blob());

  return {
    init: async () => (await call("api/model")).json(),
    grid: (state) => imageUrl(`api/grid?${query(state)}`),
    traversal: (state, code) => imageUrl(`api/traversal?${query(state, { code })}`),
    encode: async (file, { invert, seed }) =>
      (await call(`api/encode?seed=${seed}&invert=${invert ? 1 : 0}`, { method: "POST", body: file })).json(),
  };
})();
