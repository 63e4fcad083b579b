// @ts-check
import { defineConfig } from "astro/config";
import react from "@astrojs/react";

// The same variables as run_ui.sh and server/serve.mjs, so `./run_ui.sh --dev` and the built
// site reach the trainer the same way: the browser only ever talks to /api on its own origin.
const trainerUrl = process.env.ACC_TRAINER_URL || "http://127.0.0.1:8787";
const port = Number(process.env.ACC_UI_PORT || 4321);

/** Answer like server/serve.mjs does when the trainer is down (vite's default is a bare 500). */
function answerUnreachable(err, res) {
  if (!res || !("req" in res) || res.headersSent || res.writableEnded) return;
  const code = /** @type {NodeJS.ErrnoException} */ (err).code || err.message;
  res.writeHead(502, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(
    JSON.stringify({
      error: "trainer_unreachable",
      detail: `Trainer at ${trainerUrl} is not reachable (${code})`,
    }),
  );
}

export default defineConfig({
  output: "static",
  integrations: [react()],
  devToolbar: { enabled: false },
  server: { host: "127.0.0.1", port },
  vite: {
    server: {
      proxy: {
        // /api/health -> <trainer>/health; matches /api and /api/..., not /apix.
        "^/api(/|$)": {
          target: trainerUrl,
          changeOrigin: true,
          rewrite: (path) => path.replace(/^\/api/, "") || "/",
          configure: (proxy) => proxy.on("error", (err, _req, res) => answerUnreachable(err, res)),
        },
      },
    },
  },
});
