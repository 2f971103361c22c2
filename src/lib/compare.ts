/** Code-unit order, locale-independent: rendered files and record batches must be the same bytes everywhere. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
