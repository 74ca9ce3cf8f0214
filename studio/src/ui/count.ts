// Counts in words: "1 row", "2 rows", "0 rows".

/** `n` with the singular or plural of a regular noun. */
export function rowCount(n: number): string {
  return `${n} ${n === 1 ? 'row' : 'rows'}`;
}
