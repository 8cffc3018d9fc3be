// The one logger: pino JSON (or pino-pretty for people), with redaction as a second line of defence. The first line
// is that no code ever puts a secret value into a log field; redaction catches the field names where one could hide.

import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Field paths censored wherever they appear (one or two levels down, as pino's redaction needs paths). */
export const REDACTED_PATHS: readonly string[] = [
  'data', 'stringData', 'binaryData', 'encryptedData', 'password', 'token', 'bearerToken', 'identity', 'privateKey', 'secret',
  '*.data', '*.stringData', '*.binaryData', '*.encryptedData', '*.password', '*.token', '*.bearerToken', '*.identity',
  '*.privateKey', '*.secret', 'headers.authorization', '*.headers.authorization', 'req.headers.authorization',
];

export interface LoggerOptions {
  readonly level: string;
  readonly format: 'json' | 'pretty';
  readonly name?: string;
}

export function createLogger(opts: LoggerOptions, destination?: DestinationStream): Logger {
  const base = {
    level: opts.level,
    name: opts.name ?? 'keelson',
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err },
  };
  if (destination) return pino(base, destination);
  if (opts.format === 'pretty') {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'name' } } });
  }
  return pino(base);
}

/** A logger that writes nowhere, for library use and tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
