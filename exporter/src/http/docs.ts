// The API explorer at /docs: swagger-ui (swagger-ui-dist, vendored by npm,
// served from this process, never a CDN) over the server's OpenAPI document.
// Used by the exporter and the remediation service; each mounts it behind its
// own authentication, so the explorer and its "try it out" calls need the
// same credentials as the API itself.
//   GET /docs                redirect to docs/ (relative: works behind a proxy prefix)
//   GET /docs/               the page (no inline script or style: a strict CSP holds)
//   GET /docs/openapi.yaml   the document, its servers rewritten to "../" so
//                            "try it out" calls the origin (and prefix) the page came from
//   GET /docs/assets/<file>  swagger-ui's bundle and CSS, our init.js and theme.css
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type Router } from 'express';
import YAML from 'yaml';

const require = createRequire(import.meta.url);

/** The files of swagger-ui-dist the page needs; nothing else of the package is served. */
const VENDORED: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

// BaseLayout: no top bar with a free URL field (the explorer shows this server's document only).
// deepLinking off: its anchors sit inside the operation's toggle button (nested interactive controls);
// syntaxHighlight off: its themes colour numbers and strings below 4.5:1; the schema list
// (defaultModelsExpandDepth -1) is hidden: each operation shows its own schemas.
// swagger-ui leaves the server and parameter fields without an accessible name: they get one here.
const INIT_JS = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({ url: 'openapi.yaml', dom_id: '#swagger-ui', deepLinking: false, syntaxHighlight: false, defaultModelsExpandDepth: -1, presets: [SwaggerUIBundle.presets.apis], layout: 'BaseLayout' });
  new MutationObserver(function () {
    document.querySelectorAll('tr[data-param-name] select, tr[data-param-name] input, tr[data-param-name] textarea').forEach(function (el) {
      if (!el.hasAttribute('aria-label')) el.setAttribute('aria-label', el.closest('tr').getAttribute('data-param-name'));
    });
    document.querySelectorAll('#servers, .body-param-content-type select, .content-type').forEach(function (el) {
      if (!el.hasAttribute('aria-label')) el.setAttribute('aria-label', el.id === 'servers' ? 'Server' : 'Media type');
    });
    // a response body scrolls: it must be reachable by keyboard
    document.querySelectorAll('.highlight-code pre:not([tabindex])').forEach(function (el) { el.setAttribute('tabindex', '0'); });
  }).observe(document.body, { childList: true, subtree: true });
});
`;

// Dark theme by the browser's preference: swagger-ui has none of its own.
// Inverting the light page keeps its contrast ratios; images and the
// method badges are inverted back so their colours keep their meaning.
const THEME_CSS = `html { color-scheme: light dark; }
main h1 { font-family: sans-serif; font-size: 1.25rem; margin: 1rem 20px 0; color: #1b1b1b; }
/* swagger-ui's own colours below 4.5:1 (axe-core, WCAG AA): darker shades of the same hues */
.swagger-ui .info .title small { background: #555b66; }
.swagger-ui .info .title small.version-stamp { background: #3f6a00; }
.swagger-ui .info .url, .swagger-ui .info .base-url { color: #3b4151; }
.swagger-ui .opblock.opblock-get .opblock-summary-method { background: #1a5fb4; }
.swagger-ui .opblock.opblock-post .opblock-summary-method { background: #1a7a4c; }
.swagger-ui .opblock.opblock-put .opblock-summary-method { background: #9a4d00; }
.swagger-ui .btn.cancel { color: #b00020; border-color: #b00020; }
.swagger-ui .parameter__in, .swagger-ui .parameter__type { color: #4a4f5a; }
.swagger-ui .btn.execute { background: #1a5fb4; border-color: #1a5fb4; }
.swagger-ui .download-contents { background: #555b66; }
.swagger-ui .info a, .swagger-ui a.link { color: #1a5fb4; text-decoration: underline; }
.swagger-ui .json-schema-2020-12__constraint--string { background: #7a5300; }
.swagger-ui .btn.authorize { color: #1a7a4c; border-color: #1a7a4c; }
.swagger-ui .btn.authorize svg { fill: #1a7a4c; }
@media (prefers-color-scheme: dark) {
  html { background: #111217; }
  body { filter: invert(0.9) hue-rotate(180deg); background: #fff; }
  body img, body .opblock-summary-method { filter: invert(1) hue-rotate(180deg); }
}
`;

/** The CSP of the explorer's responses (unless the operator's web config set one). */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

function page(title: string): string {
  const esc = title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc} — API explorer</title>
<link rel="icon" href="assets/favicon-32x32.png">
<link rel="stylesheet" href="assets/swagger-ui.css">
<link rel="stylesheet" href="assets/theme.css">
</head>
<body>
<main><h1>${esc} — API explorer</h1><div id="swagger-ui"></div></main>
<script src="assets/swagger-ui-bundle.js"></script>
<script src="assets/init.js"></script>
</body>
</html>
`;
}

export interface DocsOptions {
  /** The OpenAPI document (YAML). */
  specFile: string;
  /** Shown in the page title; defaults to the document's info.title. */
  title?: string;
}

/** The /docs router. Mount it after the server's authentication. A missing document fails here, at start-up. */
export function docsRouter(opts: DocsOptions): Router {
  const doc = YAML.parse(readFileSync(opts.specFile, 'utf8')) as { info?: { title?: string }; servers?: unknown };
  doc.servers = [{ url: '../', description: 'this server (the origin and path prefix the explorer was loaded from)' }];
  const spec = YAML.stringify(doc);
  const html = page(opts.title ?? doc.info?.title ?? 'API');
  const dist = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  const ours: Record<string, [string, string]> = { 'init.js': ['text/javascript; charset=utf-8', INIT_JS], 'theme.css': ['text/css; charset=utf-8', THEME_CSS] };

  const r = express.Router();
  r.use('/docs', (_req, res, next) => {
    if (!res.getHeader('Content-Security-Policy')) res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  r.get('/docs', (req, res, next) => {
    // Express matches /docs and /docs/ alike; only the bare one redirects.
    if (req.originalUrl.split('?')[0]!.endsWith('/')) return next();
    res.redirect(302, 'docs/');
  });
  r.get('/docs/', (_req, res) => {
    res.type('text/html; charset=utf-8').setHeader('Cache-Control', 'no-cache').send(html);
  });
  r.get('/docs/openapi.yaml', (_req, res) => {
    res.type('application/yaml; charset=utf-8').setHeader('Cache-Control', 'no-cache').send(spec);
  });
  r.get('/docs/assets/:file', (req, res, next) => {
    const f = req.params.file;
    const own = ours[f];
    if (own) {
      res.setHeader('Content-Type', own[0]).send(own[1]);
      return;
    }
    const type = VENDORED[f];
    if (!type) return next();
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.sendFile(path.join(dist, f), { headers: { 'Content-Type': type } }, (e) => e && next(e));
  });
  return r;
}
