export { startRemediationService, type RemediationService } from './service.js';
export { startRemediationStack, type RemediationStack, type RemediationStackOptions } from './stack.js';
export { loadConfig, ConfigError, configHelp, KEYS, type Config, type ConfigInput } from './config.js';
export { decide, validatePolicy, episodeKey, idempotencyKey, DEFAULT_POLICY, type Policy, type KillSwitch, type AlertIn, type Decision } from './policy.js';
export { validateWebhook, checkWebhookAuth, WEBHOOK_SCHEMA } from './webhook.js';
export { McpClient, McpPermanentError, McpDeadlineError } from './mcp-client.js';
export { CRASH_POINTS, type CrashPoint } from './engine.js';
export { ROLES, ROLE_HEADER, USER_HEADER } from './http.js';
