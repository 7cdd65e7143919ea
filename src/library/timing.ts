import type { Config } from '../core/config.js';

/**
 * The physical timing model of a tape drive and its cartridges (LTO-9
 * full-height defaults, see ARCHITECTURE.md §3). Pure functions of the
 * parameters: the sim charges these durations to its Clock, and the
 * scheduler uses the same figures to estimate costs.
 */
export interface TapeTiming {
  robotMoveS: number;
  loadS: number;
  unloadS: number;
  rateBytesPerS: number;
  locateFixedS: number;
  tapeLengthM: number;
  locateSpeedMPerS: number;
  wraps: number;
  bands: number;
  wrapChangeS: number;
  bandChangeS: number;
  reversalS: number;
  syncS: number;
  indexBytes: number;
}

export function timingFromConfig(c: Config): TapeTiming {
  return {
    robotMoveS: c.num('library', 'robot_move_s'),
    loadS: c.num('library', 'load_s'),
    unloadS: c.num('library', 'unload_s'),
    rateBytesPerS: c.num('library', 'rate_mb_s') * 1e6,
    locateFixedS: c.num('library', 'locate_fixed_s'),
    tapeLengthM: c.num('library', 'tape_length_m'),
    locateSpeedMPerS: c.num('library', 'locate_speed_m_s'),
    wraps: c.num('library', 'wraps'),
    bands: c.num('library', 'bands'),
    wrapChangeS: c.num('library', 'wrap_change_s'),
    bandChangeS: c.num('library', 'band_change_s'),
    reversalS: c.num('library', 'reversal_s'),
    syncS: c.num('library', 'sync_s'),
    indexBytes: c.size('library', 'index_bytes'),
  };
}

/** Where a byte position lies on a serpentine tape. */
export interface TapePoint {
  wrap: number;
  band: number;
  /** Metres from the physical beginning of tape. */
  x: number;
  /** +1 on even (forward) wraps, -1 on odd (backward) wraps. */
  dir: 1 | -1;
}

/**
 * Geometry is a fraction of capacity, so small test cartridges keep
 * realistic locate times: position p lies on wrap floor(p / (capacity/wraps)).
 */
export function pointAt(t: TapeTiming, capacity: number, position: number): TapePoint {
  const perWrap = capacity / t.wraps;
  const p = Math.min(Math.max(position, 0), capacity - 1e-9);
  const wrap = Math.min(t.wraps - 1, Math.floor(p / perWrap));
  const frac = (p - wrap * perWrap) / perWrap;
  const dir: 1 | -1 = wrap % 2 === 0 ? 1 : -1;
  const x = dir === 1 ? frac * t.tapeLengthM : (1 - frac) * t.tapeLengthM;
  const band = Math.floor(wrap / (t.wraps / t.bands));
  return { wrap, band, x, dir };
}

/**
 * Seconds to move the head from byte `from` to byte `to`. A short forward gap
 * on the same wrap is read through when that is cheaper than a locate
 * (drives do not stop and seek for a few megabytes).
 */
export function locateSeconds(t: TapeTiming, capacity: number, from: number, to: number): number {
  if (from === to) return 0;
  const a = pointAt(t, capacity, from);
  const b = pointAt(t, capacity, to);
  let s = t.locateFixedS + Math.abs(b.x - a.x) / t.locateSpeedMPerS;
  if (a.wrap !== b.wrap) s += t.wrapChangeS;
  if (a.band !== b.band) s += t.bandChangeS;
  const move = Math.sign(b.x - a.x);
  let reversals = 0;
  if (move !== 0 && move !== a.dir) reversals++;
  if (move !== 0 && move !== b.dir) reversals++;
  if (move === 0 && a.dir !== b.dir) reversals++;
  s += reversals * t.reversalS;
  if (to > from && a.wrap === b.wrap) s = Math.min(s, (to - from) / t.rateBytesPerS);
  return s;
}

export function transferSeconds(t: TapeTiming, bytes: number): number {
  return bytes / t.rateBytesPerS;
}

/** Robot move from slot + load/thread. */
export function mountSeconds(t: TapeTiming): number {
  return t.robotMoveS + t.loadS;
}

/** Rewind from `position`, unthread/unload, robot move back. */
export function unmountSeconds(t: TapeTiming, capacity: number, position: number): number {
  return locateSeconds(t, capacity, position, 0) + t.unloadS + t.robotMoveS;
}

export function syncSeconds(t: TapeTiming): number {
  return t.syncS + t.indexBytes / t.rateBytesPerS;
}
