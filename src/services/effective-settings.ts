/** The effective settings by their environment names, secrets hidden: what GET /api/v1/settings shows an owner. */
import { redact, type Config } from '../config.ts';
import type { SettingValue } from '../http/api/api-deps.ts';

export function effectiveSettings(config: Config): Record<string, SettingValue> {
  return {
    DATABASE_URL: redact(config.databaseUrl),
    DATA_DIR: config.dataDir,
    SMTP_URL: config.smtpUrl === null ? null : redact(config.smtpUrl),
    PORT: config.port,
    HOST: config.host,
    PUBLIC_URL: config.publicUrl,
    SECRET: `(${Buffer.byteLength(config.secret)} bytes, hidden; ${config.sources['SECRET'] ?? 'environment'})`,
    NODE_ENV: config.nodeEnv,
    LOCAL_DEVELOPMENT: config.localDevelopment,
    TRUST_PROXY: typeof config.trustProxy === 'object' ? config.trustProxy.join(',') : config.trustProxy,
    SIGNUP_RECORD_IP: config.signupRecordIp,
    SIGNUP_RATE_PER_MINUTE: config.signupRatePerMinute,
    SMTP_POOL_SIZE: config.smtpPoolSize,
    INBOX_SMTP_PORT: config.inboxSmtpPort,
    INBOX_MAX_MESSAGES: config.inboxMaxMessages,
    SMTP_RATE_PER_SECOND: config.smtpRatePerSecond,
    SEND_MAX_ATTEMPTS: config.maxAttempts,
    SEND_RETRY_BASE_SECONDS: config.retryBaseSeconds,
    SEND_MAX_RETRY_HOURS: config.maxRetryHours,
    IN_FLIGHT_POLICY: config.inFlightPolicy,
    CAMPAIGN_LEASE_SECONDS: config.campaignLeaseSeconds,
    SMTP_RETRY_SECONDS: config.smtpRetrySeconds,
    SCHEDULE_MIN_INTERVAL_MINUTES: config.scheduleMinIntervalMinutes,
    SCHEDULE_CATCH_UP_HOURS: config.scheduleCatchUpHours,
    DKIM: config.dkim ? `${config.dkim.keySelector}._domainkey.${config.dkim.domainName} (private key hidden)` : null,
    FEEDBACK_ID_SENDER: config.feedbackIdSender,
    SCHEDULER_TICK: config.schedulerTick,
  };
}
