/**
 * Which cartridges a grouped put goes to (pure, so it is tested alone):
 *  1. mounted ones where the whole request fits — same grouping as their
 *     last writer first, then those nobody is writing on, then the fullest;
 *  2. unmounted ones where it fits, best fit (least room that is enough),
 *     so big free cartridges stay for big objects;
 *  3. when nothing holds it whole, the most room first (mounted ones
 *     before others): the layout writes what fits and splits the rest.
 */
export interface WriteCandidate {
  name: string;
  room: number;
  mounted: boolean;
  /** A writer holds it or waits for it. */
  writing: boolean;
  lastGrouping: string | null;
}

export function chooseWriteMedia(cands: readonly WriteCandidate[], count: number, size: number, grouping: string | null): string[] | null {
  const usable = cands.filter((c) => c.room > 0);
  if (usable.length < count) return null;
  const tier = (c: WriteCandidate): number => {
    if (c.room >= size) return c.mounted ? 0 : 1;
    return c.mounted ? 2 : 3;
  };
  const sorted = [...usable].sort((a, b) => {
    const ta = tier(a);
    const tb = tier(b);
    if (ta !== tb) return ta - tb;
    if (ta === 0) {
      const ga = grouping !== null && a.lastGrouping === grouping ? 0 : 1;
      const gb = grouping !== null && b.lastGrouping === grouping ? 0 : 1;
      if (ga !== gb) return ga - gb;
      if (a.writing !== b.writing) return a.writing ? 1 : -1;
      return a.room - b.room || a.name.localeCompare(b.name);
    }
    if (ta === 1) return a.room - b.room || a.name.localeCompare(b.name);
    return b.room - a.room || a.name.localeCompare(b.name);
  });
  return sorted.slice(0, count).map((c) => c.name);
}
