// Counts in words: "1 row", "2 rows", "0 rows"; "1 record", "2 records".

/** `n` with the singular or plural of a regular noun. */
export function counted(n: number, noun: string): string {
  return `${n} ${n === 1 ? noun : `${noun}s`}`;
}

/** `n` rows, in words. */
export function rowCount(n: number): string {
  return counted(n, 'row');
}
