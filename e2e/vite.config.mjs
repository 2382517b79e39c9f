// Vite 7 harness: renders the panel, the query editor and the config editor
// with the real @grafana/ui theme and real DataFrames (applyFieldOverrides).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createReadStream, existsSync } from 'node:fs';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const icons = join(here, '..', 'node_modules', '@grafana', 'ui', 'dist', 'public', 'img', 'icons');

// @grafana/ui loads its icons from Grafana's /public/build/img/icons/...; serve
// them from the package (they ship in @grafana/ui/dist/public).
const grafanaIcons = {
  name: 'grafana-icons',
  configureServer(server) {
    server.middlewares.use((req, res, next) => {
      const m = /^\/public\/build\/img\/icons\/([a-z0-9/_-]+\.svg)/.exec(req.url ?? '');
      if (!m || !existsSync(join(icons, m[1]))) return next();
      res.setHeader('Content-Type', 'image/svg+xml');
      createReadStream(join(icons, m[1])).pipe(res);
    });
  },
};

export default defineConfig({
  root: join(here, 'harness'),
  cacheDir: join(here, '..', 'node_modules', '.vite-optifiber-e2e'),
  plugins: [grafanaIcons],
  publicDir: false,
  logLevel: 'error',
  clearScreen: false,
  esbuild: { jsx: 'automatic' },
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  server: { host: '127.0.0.1', strictPort: false, fs: { allow: [join(here, '..')] }, hmr: false },
  optimizeDeps: {
    include: ['react', 'react-dom', 'react-dom/client', '@grafana/data', '@grafana/ui', '@grafana/runtime', '@emotion/css', 'rxjs'],
    esbuildOptions: { define: { global: 'globalThis' } },
  },
});
