import { readFileSync, existsSync } from 'node:fs';
import { DeimosError } from './errors.js';
import { parseSize } from './units.js';

/**
 * Every option is declared once here: its default, and one line of help.
 * Loading order: defaults < INI file < DEIMOS_<SECTION>_<KEY> environment.
 */
export interface OptionSpec { section: string; key: string; default: string; help: string }

export const OPTIONS: readonly OptionSpec[] = [
  // store
  { section: 'store', key: 'default_family', default: 'dir', help: 'family of a put without --family (dir|tape)' },
  { section: 'store', key: 'default_layout', default: 'raid1', help: 'layout of a put without --layout (raid1|raid4)' },
  { section: 'store', key: 'default_checksum', default: 'xxh128', help: 'checksum of extents (xxh128|md5|xxh128,md5)' },
  { section: 'store', key: 'default_copy_name', default: 'source', help: 'name of the first copy of an object' },
  { section: 'store', key: 'io_block_size', default: '4M', help: 'size of one read/write buffer' },
  { section: 'store', key: 'fsync', default: 'true', help: 'fsync extents on directory media before a put is acknowledged' },
  { section: 'layout_raid1', key: 'repl_count', default: '1', help: 'replicas of a raid1 put' },
  { section: 'copy', key: 'get_preferred_order', default: '', help: 'copy names a get tries first, in order (comma list)' },
  // scheduler (Phobos' LRS)
  { section: 'lrs', key: 'sync_time_ms', default: 'tape=10000,dir=0', help: 'max time a written extent waits for its sync, per family' },
  { section: 'lrs', key: 'sync_nb_req', default: 'tape=5,dir=1', help: 'sync after this many writes on a medium, per family' },
  { section: 'lrs', key: 'sync_wsize_kb', default: 'tape=1048576,dir=1', help: 'sync after this many KiB written on a medium, per family' },
  { section: 'lrs', key: 'idle_unload_s', default: '600', help: 'unload an idle cartridge after this many seconds (0: only when a drive is needed)' },
  { section: 'io_sched', key: 'policy', default: 'cost', help: 'read ordering policy (fifo|grouped-fifo|grouped-sorted|nearest|cost)' },
  { section: 'io_sched', key: 'ageing_s', default: '1800', help: 'a queued request older than this is served before any newer one' },
  { section: 'io_sched', key: 'read_gather_s', default: '2', help: 'cost policy: before a cartridge takes a drive from another, gather its burst of reads until none came for a quarter of this, at most this long (simulated seconds; 0: off)' },
  { section: 'io_sched', key: 'cold_gather_s', default: '5', help: 'cost policy: with no cartridge in any drive and the robot idle, the first read load waits for its burst until no read came for cold_quiet_s, at most this long after the first, so that the longest job goes first (simulated seconds; 0: off)' },
  { section: 'io_sched', key: 'cold_quiet_s', default: '0.02', help: 'cost policy: the burst cold_gather_s waits for is over when no read came for this long (simulated seconds)' },
  { section: 'io_sched', key: 'counters_save_s', default: '60', help: 'save the scheduler counters (kept across restarts) this often, in wall-clock seconds, if they changed; also at stop (0: only at stop)' },
  { section: 'io_sched', key: 'fair_share_min', default: '', help: 'per model minimum drives per request type, e.g. LTO9=read:1,write:1,format:0' },
  { section: 'io_sched', key: 'fair_share_max', default: '', help: 'per model maximum drives per request type, e.g. LTO9=read:4,write:2,format:1' },
  // library
  { section: 'library', key: 'driver', default: 'sim', help: 'library driver (sim)' },
  { section: 'library', key: 'time_scale', default: '1', help: 'scale of simulated durations on the real clock (0.001: 17 s take 17 ms)' },
  { section: 'library', key: 'drives', default: 'st[0-3]', help: 'drive names of the sim library' },
  { section: 'library', key: 'drive_model', default: 'LTO9', help: 'model of the sim drives (LTO8|LTO9), or name=model list' },
  { section: 'library', key: 'cartridges', default: 'L[00000-00039]L9', help: 'cartridge labels of the sim library' },
  { section: 'library', key: 'cartridge_model', default: 'LTO9', help: 'model of the sim cartridges' },
  { section: 'library', key: 'capacity_LTO8', default: '12T', help: 'native capacity of an LTO-8 cartridge' },
  { section: 'library', key: 'capacity_LTO9', default: '18T', help: 'native capacity of an LTO-9 cartridge' },
  { section: 'library', key: 'robots', default: '1', help: 'robots that move cartridges (one cartridge each at a time)' },
  { section: 'library', key: 'robot_move_s', default: '10', help: 'robot move slot <-> drive' },
  { section: 'library', key: 'load_s', default: '17', help: 'load and thread' },
  { section: 'library', key: 'unload_s', default: '30', help: 'unthread and unload (plus locate back to start)' },
  { section: 'library', key: 'rate_mb_s', default: '400', help: 'streaming rate, MB/s' },
  { section: 'library', key: 'locate_fixed_s', default: '3', help: 'fixed cost of a locate' },
  { section: 'library', key: 'tape_length_m', default: '1000', help: 'tape length' },
  { section: 'library', key: 'locate_speed_m_s', default: '12', help: 'locate speed along the tape' },
  { section: 'library', key: 'wraps', default: '280', help: 'wraps on a cartridge' },
  { section: 'library', key: 'bands', default: '4', help: 'bands on a cartridge' },
  { section: 'library', key: 'wrap_change_s', default: '4', help: 'cost of a wrap change' },
  { section: 'library', key: 'band_change_s', default: '3', help: 'cost of a band change' },
  { section: 'library', key: 'reversal_s', default: '5', help: 'cost of a direction reversal' },
  { section: 'library', key: 'sync_s', default: '3', help: 'back-hitch of a sync (filemark + index)' },
  { section: 'library', key: 'index_bytes', default: '1M', help: 'size of the LTFS index written at each sync' },
  { section: 'library', key: 'fail_load', default: '', help: 'inject: drives or cartridges whose load fails (comma list, name or name:count)' },
  { section: 'library', key: 'fail_read', default: '', help: 'inject: cartridges whose reads fail (comma list)' },
  { section: 'library', key: 'health_max', default: '5', help: 'errors after which a drive or cartridge is marked failed' },
  // cache and FUSE
  { section: 'cache', key: 'dir', default: '', help: 'cache directory (default: $DEIMOS_HOME/cache)' },
  { section: 'cache', key: 'size', default: '10G', help: 'cache size' },
  { section: 'cache', key: 'high_watermark', default: '90', help: 'eviction starts above this % of size' },
  { section: 'cache', key: 'low_watermark', default: '75', help: 'eviction stops below this % of size' },
  { section: 'cache', key: 'flush_age_ms', default: '30000', help: 'a dirty file is flushed at the latest after this age' },
  { section: 'cache', key: 'flush_delay_ms', default: '5000', help: 'a dirty file is flushed no sooner than this after its last close (unless forced), so one read, renamed or rewritten right after it is written is not flushed meanwhile' },
  { section: 'cache', key: 'flush_yield_ms', default: '2000', help: 'while files are open through the mount, the flusher\'s disk I/O waits (at most this long after they started being open; 0: never waits), so a flush backlog does not slow the reads and writes of users' },
  { section: 'cache', key: 'flush_nb', default: '64', help: 'flush when this many files are dirty' },
  { section: 'cache', key: 'flush_bytes', default: '1G', help: 'flush when this many bytes are dirty' },
  { section: 'cache', key: 'family', default: 'tape', help: 'family of flushed files' },
  { section: 'cache', key: 'layout', default: 'raid1', help: 'layout of flushed files' },
  { section: 'cache', key: 'lyt_params', default: '', help: 'layout parameters of flushed files' },
  { section: 'cache', key: 'tags', default: '', help: 'tags of the media flushed files go to' },
  { section: 'fuse', key: 'spin_us', default: '', help: 'µs a libfuse worker polls for the answer of an op before it sleeps (empty: 0 on 2 CPUs or fewer, where polling takes a core from the programs using the mount; 50 above)' },
  { section: 'fuse', key: 'commit_delay_ms', default: '5', help: 'metadata changes made through the mount (mkdir, rename, chmod, chown, utimens, atime, the size at close) are committed to the catalog together, at most this long after the first of them (0: each at once); a kill -9 of the service may lose those of its last moments, never a created file or its data: fsync makes them durable' },
  { section: 'fuse', key: 'direct', default: 'true', help: 'reads and writes of open files served on the libfuse threads (pread/pwrite on the cache file), not each through the event loop' },
  // logs
  { section: 'log', key: 'level', default: 'warn', help: 'log level of the CLI (trace|debug|info|warn|error)' },
  { section: 'log', key: 'daemon_level', default: 'info', help: 'log level of the service' },
];

const known = new Map(OPTIONS.map((o) => [`${o.section}.${o.key}`, o]));

export function envName(section: string, key: string): string {
  return `DEIMOS_${section}_${key}`.toUpperCase();
}

/** Parses INI text: [section], key = value, '#' or ';' comments. */
export function parseIni(text: string, source: string): Map<string, string> {
  const out = new Map<string, string>();
  let section = '';
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec) { section = sec[1]!.trim(); return; }
    const eq = line.indexOf('=');
    if (eq < 0 || section === '') {
      throw new DeimosError('EINVAL', `${source}:${i + 1}: cannot parse '${line}'`, 'write "[section]" headers and "key = value" lines');
    }
    out.set(`${section}.${line.slice(0, eq).trim()}`, line.slice(eq + 1).trim());
  });
  return out;
}

export class Config {
  private readonly values = new Map<string, string>();
  readonly source: string | null;

  constructor(opts: { file?: string | null; env?: NodeJS.ProcessEnv; overrides?: Record<string, string> } = {}) {
    const env = opts.env ?? process.env;
    for (const o of OPTIONS) this.values.set(`${o.section}.${o.key}`, o.default);
    let file = opts.file ?? env.DEIMOS_CONFIG ?? null;
    if (file === null && existsSync('/etc/deimos.conf')) file = '/etc/deimos.conf';
    this.source = file;
    if (file) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new DeimosError('ENOENT', `cannot read config file ${file}: ${(e as Error).message}`, 'check --config or $DEIMOS_CONFIG');
      }
      for (const [k, v] of parseIni(text, file)) this.values.set(k, v);
    }
    // Unknown keys are allowed in files (other tools share them), but environment
    // names map onto declared options only, so typos there are not silently ignored.
    for (const o of OPTIONS) {
      const v = env[envName(o.section, o.key)];
      if (v !== undefined) this.values.set(`${o.section}.${o.key}`, v);
    }
    for (const [k, v] of Object.entries(opts.overrides ?? {})) this.values.set(k, v);
  }

  str(section: string, key: string): string {
    const v = this.values.get(`${section}.${key}`);
    if (v === undefined) {
      if (!known.has(`${section}.${key}`)) throw new Error(`undeclared config option ${section}.${key}`);
      return '';
    }
    return v;
  }

  /** An option that may be absent from OPTIONS (e.g. per-model keys). */
  maybe(section: string, key: string): string | undefined {
    return this.values.get(`${section}.${key}`);
  }

  num(section: string, key: string): number {
    const v = this.str(section, key);
    const n = Number(v);
    if (v === '' || !Number.isFinite(n)) throw this.invalid(section, key, v, 'a number');
    return n;
  }

  bool(section: string, key: string): boolean {
    const v = this.str(section, key).toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
    throw this.invalid(section, key, v, 'true or false');
  }

  size(section: string, key: string): number {
    return parseSize(this.str(section, key), `${section}.${key}`);
  }

  list(section: string, key: string): string[] {
    return this.str(section, key).split(',').map((s) => s.trim()).filter(Boolean);
  }

  /** "tape=10000,dir=0" → value for `family`; a bare number applies to all. */
  perFamily(section: string, key: string, family: string): number {
    const v = this.str(section, key);
    if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v);
    for (const part of v.split(',')) {
      const [k, n] = part.split('=').map((s) => s.trim());
      if (k === family && n !== undefined && Number.isFinite(Number(n))) return Number(n);
    }
    throw this.invalid(section, key, v, `a value for family '${family}' (e.g. tape=10000,dir=0)`);
  }

  set(section: string, key: string, value: string): void {
    this.values.set(`${section}.${key}`, value);
  }

  entries(): [string, string][] {
    return [...this.values.entries()];
  }

  private invalid(section: string, key: string, v: string, want: string): DeimosError {
    return new DeimosError('EINVAL', `config ${section}.${key} = '${v}' is invalid`, `set it to ${want} (${envName(section, key)} overrides the file)`);
  }
}
