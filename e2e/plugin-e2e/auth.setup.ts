export { test as default } from '@grafana/plugin-e2e';
