/**
 * The least total cost of giving every row its own column (rows <= cols):
 * the Hungarian algorithm with potentials (Kuhn–Munkres, shortest
 * augmenting paths), O(rows² · cols). `cost[r * cols + c]` is row r's cost
 * of column c; a forbidden cell is Infinity (there must be a finite
 * assignment). Exact, deterministic, no tolerance.
 */
export function minAssignment(cost: Float64Array, rows: number, cols: number): number {
  if (rows > cols) throw new RangeError(`minAssignment: ${rows} rows for ${cols} columns`);
  if (cost.length !== rows * cols) throw new RangeError(`minAssignment: ${cost.length} cells for ${rows}×${cols}`);
  // 1-based: row 0 and column 0 are the virtual start of each augmenting path.
  const u = new Float64Array(rows + 1);
  const v = new Float64Array(cols + 1);
  const rowOf = new Int32Array(cols + 1);
  const way = new Int32Array(cols + 1);
  const minv = new Float64Array(cols + 1);
  const used = new Uint8Array(cols + 1);
  for (let i = 1; i <= rows; i++) {
    rowOf[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = rowOf[j0]!;
      let delta = Infinity;
      let j1 = -1;
      for (let j = 1; j <= cols; j++) {
        if (used[j]) continue;
        const cur = cost[(i0 - 1) * cols + (j - 1)]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) { minv[j] = cur; way[j] = j0; }
        if (minv[j]! < delta) { delta = minv[j]!; j1 = j; }
      }
      if (j1 < 0 || delta === Infinity) throw new RangeError('minAssignment: no finite assignment');
      for (let j = 0; j <= cols; j++) {
        if (used[j]) { u[rowOf[j]!] += delta; v[j] -= delta; } else minv[j] -= delta;
      }
      j0 = j1;
    } while (rowOf[j0] !== 0);
    do {
      const j1 = way[j0]!;
      rowOf[j0] = rowOf[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  let total = 0;
  for (let j = 1; j <= cols; j++) if (rowOf[j] !== 0) total += cost[(rowOf[j]! - 1) * cols + (j - 1)]!;
  return total;
}
