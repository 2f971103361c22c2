/**
 * Skip reasons carry values a container chose, and end up in log lines and /status: one 120 kB label
 * must not become a 120 kB log line on every change. So a quoted value is cut to {@link MAX_QUOTED}
 * characters and a whole reason to {@link MAX_REASON}, each with an ellipsis where it was cut.
 */

export const MAX_QUOTED = 64;
export const MAX_REASON = 300;

/** At most `max` characters (UTF-16 units), the last one an ellipsis if cut; never half a surrogate pair. */
export function clip(value: string, max: number): string {
  if (value.length <= max) return value;
  let end = max - 1;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${value.slice(0, end)}…`;
}

/** A container-supplied value as JSON (quotes, escapes), cut first so that any length costs the same. */
export function quote(value: string): string {
  return JSON.stringify(clip(value, MAX_QUOTED));
}
