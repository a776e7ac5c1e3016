/** The ids of the multi-process test, shared by the test and its child processes. */

export function idOf(index: number): string {
  return `user-${index.toString(36)}@example.com`;
}

/**
 * Process p's share: `share` consecutive indices starting at p·ids/processes (wrapping), in
 * an order shuffled per process, so the processes' shares overlap and meet in every order.
 */
export function shareOf(p: number, processes: number, ids: number, share: number): number[] {
  const start = Math.floor((p * ids) / processes);
  const out = Array.from({ length: share }, (_, i) => (start + i) % ids);
  let seed = p + 1;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
