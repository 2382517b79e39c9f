import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  timeout: 60_000,
  use: {
    baseURL: process.env.GRAFANA_URL,
    httpCredentials: { username: process.env.GRAFANA_USER ?? 'admin', password: process.env.GRAFANA_PASSWORD ?? 'admin' },
    launchOptions: { executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] },
  },
  projects: [{ name: 'auth', testMatch: /auth\.setup\.ts/ }, { name: 'run', dependencies: ['auth'], testMatch: /\.spec\.ts/ }],
});
