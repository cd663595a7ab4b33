import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The UI is served by the blastradius server from web/dist. Nothing is inlined (the server's
// Content-Security-Policy allows scripts, styles and fonts from its own origin only) and nothing
// is fetched from elsewhere at run time.
export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1500,
    sourcemap: false,
  },
  server: {
    // `npm run dev:web`: the API comes from a server started with `npm start`.
    proxy: { "/api": "http://127.0.0.1:3000" },
  },
});
