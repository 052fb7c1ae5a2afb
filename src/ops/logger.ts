/**
 * The server's one log: JSON lines on stdout (pino), one object per line, so
 * that a log shipper needs no multi-line parsing. Every line the server writes
 * goes through here, including the first-start key notice.
 */
import { type DestinationStream, pino } from "pino";
import type { LogLevel } from "../config.js";

export type Logger = pino.Logger;

/** A JSON logger at `level`, writing to `destination` (default: stdout). */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "traintrack" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Callers pass `err` through errorField, which decides about stacks; pino's
      // own serializer would add an empty stack to it.
      serializers: { err: (value: unknown) => value },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/**
 * An error as a log field: message and code always, the stack only when asked
 * for. Stacks go with INTERNAL errors, whose cause is a bug to find; a refused
 * request or an unreachable database needs none.
 */
export function errorField(error: unknown, withStack: boolean): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  const field: Record<string, unknown> = { type: error.name, message: error.message };
  if (code !== undefined) field.code = code;
  if (withStack && error.stack) field.stack = error.stack;
  if (error.cause !== undefined) field.cause = errorField(error.cause, withStack);
  return field;
}
