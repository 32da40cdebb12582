/**
 * How finely to chunk an attention's queries so that its probability tensor stays within a memory
 * budget. At the full-size 64² level of the orbit UNet's cond pass (B 8, 8 heads, Nq 4096,
 * Nk 4096·3) the unchunked tensor is 3.2 G values (12.9 GB as float32); the graphs split the queries
 * into sequential chunks (layers.ts `attention`) so that only one chunk's probabilities exist at once.
 */

export interface AttentionBudget {
  /** Largest float32 [batch, heads, Nq/chunks, Nk] probability tensor one attention may hold, in bytes. */
  bytes: number;
  /** The batch the graph is sized for (the frame batch B; 1 for the appearance net). */
  batch: number;
}

/**
 * The number of query chunks: the smallest power of two that divides Nq and brings the
 * probability tensor within the budget (at most Nq, one query per chunk).
 */
export function attentionChunks(budget: AttentionBudget, heads: number, queries: number, keys: number): number {
  const bytesPerQuery = budget.batch * heads * keys * 4;
  let chunks = 1;
  while (chunks < queries && (queries / chunks) * bytesPerQuery > budget.bytes && queries % (chunks * 2) === 0) chunks *= 2;
  return chunks;
}
