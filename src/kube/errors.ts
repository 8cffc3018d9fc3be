// Error text for logs, conditions and events, written once: an Error's message, or anything else as a string.
// The lowest layer that needs it (kube), so every feature uses the same one.

/** The message of an Error, or String(err) for anything thrown that is not one. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
