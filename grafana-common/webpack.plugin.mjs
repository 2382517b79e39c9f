// Shared webpack 5 + swc build for every OptiFiber Grafana plugin (datasource,
// panel, and later the remediation app). Each plugin's webpack.config.mjs is
//   export default pluginWebpackConfig(import.meta.url);
// Output: dist/module.js as an AMD module (what Grafana's SystemJS loader
// expects) whose only imports are Grafana's shared modules (GRAFANA_EXTERNALS),
// plus plugin.json (version/updated stamped from package.json and the build
// date), img/, README.md, CHANGELOG.md and LICENSE.
//
// Two choices keep the plugins working on the Grafana that loads them:
// - JSX compiles to React.createElement (the classic runtime), so the only
//   React the bundle touches is Grafana's shared `react`. The automatic
//   runtime imports `react/jsx-runtime`, which is not a shared module on every
//   Grafana: it would be bundled from our React and break on a Grafana that
//   runs another React major. plugin-checks.mjs asserts it is not bundled.
// - The public path is relative (`public/plugins/<id>/`), as
//   @grafana/create-plugin builds it: it resolves against the page's
//   <base href>, which carries root_url's sub-path (/grafana/...). An
//   absolute '/' would fetch assets from the server root under a sub-path.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import CopyWebpackPlugin from 'copy-webpack-plugin';

/** Modules Grafana shares with plugins at runtime (never bundled). */
export const GRAFANA_EXTERNALS = [
  'react',
  'react-dom',
  '@grafana/data',
  '@grafana/ui',
  '@grafana/runtime',
  '@grafana/schema',
  '@grafana/i18n',
  '@emotion/css',
  '@emotion/react',
  'rxjs',
  'rxjs/operators',
  'lodash',
  'moment',
];

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @param {string} configUrl import.meta.url of the plugin's webpack.config.mjs
 * @param {{ entry?: string, copy?: Array<{ from: string, to: string }> }} [opts] copy: extra files into dist/ (paths relative to the plugin folder)
 */
/** Where Grafana serves a plugin's dist/ files, relative to its <base href>. */
export function pluginPublicPath(pluginId) {
  return `public/plugins/${pluginId}/`;
}

export function pluginWebpackConfig(configUrl, opts = {}) {
  const dir = dirname(fileURLToPath(configUrl));
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const pluginId = JSON.parse(readFileSync(join(dir, 'src/plugin.json'), 'utf8')).id;
  const today = new Date().toISOString().slice(0, 10);
  return (env, argv) => {
    const production = argv.mode !== 'development';
    return {
      mode: production ? 'production' : 'development',
      context: dir,
      target: 'web',
      devtool: production ? 'source-map' : 'eval-source-map',
      entry: { module: opts.entry ?? './src/module.ts' },
      output: {
        path: join(dir, 'dist'),
        filename: '[name].js',
        library: { type: 'amd' },
        publicPath: pluginPublicPath(pluginId),
        clean: true,
        uniqueName: pkg.name,
      },
      externalsType: 'amd',
      externals: GRAFANA_EXTERNALS,
      resolve: {
        extensions: ['.ts', '.tsx', '.js', '.mjs'],
        // Sources use NodeNext-style './x.js' specifiers for .ts files.
        extensionAlias: { '.js': ['.ts', '.tsx', '.js'] },
        modules: [join(dir, 'node_modules'), join(repoRoot, 'node_modules'), 'node_modules'],
      },
      module: {
        rules: [
          {
            test: /\.[tj]sx?$/,
            exclude: /node_modules/,
            use: {
              loader: 'swc-loader',
              options: {
                jsc: {
                  target: 'es2020',
                  parser: { syntax: 'typescript', tsx: true },
                  transform: { react: { runtime: 'classic' } },
                },
              },
            },
          },
          { test: /\.svg$/, type: 'asset/resource', generator: { filename: 'img/[name][ext]' } },
        ],
      },
      performance: { hints: false },
      plugins: [
        new CopyWebpackPlugin({
          patterns: [
            {
              from: 'src/plugin.json',
              to: 'plugin.json',
              transform: (content) => {
                const json = JSON.parse(content.toString());
                json.info = { ...json.info, version: pkg.version, updated: today };
                return JSON.stringify(json, null, 2) + '\n';
              },
            },
            { from: 'img', to: 'img' },
            { from: 'README.md', to: 'README.md', toType: 'file' },
            { from: 'CHANGELOG.md', to: 'CHANGELOG.md', toType: 'file' },
            { from: 'LICENSE', to: 'LICENSE', toType: 'file' },
            ...(opts.copy ?? []).map((c) => ({ ...c, toType: 'file' })),
          ],
        }),
      ],
      stats: 'errors-warnings',
    };
  };
}
