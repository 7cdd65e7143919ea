/**
 * Schema of the SQLite catalog as numbered migrations. `PRAGMA user_version`
 * holds the number of the last one applied; each is applied in its own
 * IMMEDIATE transaction that re-reads the version first, so two processes
 * opening a fresh file at once apply every step exactly once.
 *
 * Never edit a migration that has shipped: append a new one.
 */
import type Database from 'better-sqlite3';
import { DeimosError } from '../core/errors.js';

export interface Migration {
  version: number;
  name: string;
  steps: string[];
}

const attrs = `
  mode INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  gid INTEGER NOT NULL,
  atime INTEGER NOT NULL,
  mtime INTEGER NOT NULL,
  ctime INTEGER NOT NULL`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    steps: [
      // `parent` is the oid's directory, stored so that readdir is an index
      // range instead of a scan of every object.
      `CREATE TABLE objects (
        id INTEGER PRIMARY KEY,
        oid TEXT NOT NULL,
        parent TEXT NOT NULL,
        uuid TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        size INTEGER NOT NULL CHECK (size >= 0),
        user_md TEXT NOT NULL DEFAULT '{}',
        ${attrs},
        ino INTEGER NOT NULL,
        grouping TEXT,
        created_at INTEGER NOT NULL,
        deprecated_at INTEGER,
        UNIQUE (uuid, version)
      )`,
      `CREATE UNIQUE INDEX objects_alive_oid ON objects (oid) WHERE deprecated_at IS NULL`,
      `CREATE INDEX objects_oid_version ON objects (oid, version)`,
      `CREATE INDEX objects_alive_parent ON objects (parent, oid) WHERE deprecated_at IS NULL`,

      `CREATE TABLE copies (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL,
        version INTEGER NOT NULL,
        copy_name TEXT NOT NULL,
        family TEXT NOT NULL CHECK (family IN ('dir', 'tape')),
        layout TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('incomplete', 'readable', 'complete')),
        created_at INTEGER NOT NULL,
        UNIQUE (uuid, version, copy_name),
        FOREIGN KEY (uuid, version) REFERENCES objects (uuid, version) ON DELETE CASCADE
      )`,

      `CREATE TABLE reservations (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('put', 'copy')),
        oid TEXT NOT NULL,
        uuid TEXT NOT NULL,
        version INTEGER NOT NULL,
        owner INTEGER NOT NULL,
        overwrite INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      )`,
      // The reservation is the lock: one put per oid, one copy creation per version.
      `CREATE UNIQUE INDEX reservations_put ON reservations (oid) WHERE kind = 'put'`,
      `CREATE UNIQUE INDEX reservations_copy ON reservations (uuid, version) WHERE kind = 'copy'`,

      // Pending extents have no copy yet (it is created at commit) and orphan
      // ones have lost it, so copy_id is nullable; it still guards sync extents.
      `CREATE TABLE extents (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL,
        version INTEGER NOT NULL,
        copy_name TEXT NOT NULL,
        copy_id INTEGER REFERENCES copies (id) ON DELETE SET NULL,
        reservation_id INTEGER REFERENCES reservations (id) ON DELETE SET NULL,
        layout_index INTEGER NOT NULL,
        split_index INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'sync', 'orphan')),
        family TEXT NOT NULL CHECK (family IN ('dir', 'tape')),
        medium TEXT NOT NULL,
        address TEXT NOT NULL,
        position INTEGER NOT NULL,
        size INTEGER NOT NULL CHECK (size >= 0),
        offset INTEGER NOT NULL,
        length INTEGER NOT NULL,
        checksums TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL
      )`,
      `CREATE INDEX extents_uuid_version ON extents (uuid, version)`,
      `CREATE INDEX extents_medium ON extents (family, medium, state)`,
      `CREATE INDEX extents_state ON extents (state)`,
      `CREATE INDEX extents_copy ON extents (copy_id)`,
      `CREATE INDEX extents_reservation ON extents (reservation_id)`,

      `CREATE TABLE media (
        family TEXT NOT NULL CHECK (family IN ('dir', 'tape')),
        name TEXT NOT NULL,
        model TEXT,
        adm_status TEXT NOT NULL CHECK (adm_status IN ('locked', 'unlocked', 'failed')),
        fs_status TEXT NOT NULL CHECK (fs_status IN ('blank', 'empty', 'used', 'full')),
        fs_type TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '[]',
        size_total INTEGER NOT NULL DEFAULT 0,
        size_used INTEGER NOT NULL DEFAULT 0,
        size_free INTEGER NOT NULL DEFAULT 0,
        nb_obj INTEGER NOT NULL DEFAULT 0,
        nb_load INTEGER NOT NULL DEFAULT 0,
        nb_errors INTEGER NOT NULL DEFAULT 0,
        last_load INTEGER,
        put_access INTEGER NOT NULL DEFAULT 1,
        get_access INTEGER NOT NULL DEFAULT 1,
        delete_access INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (family, name)
      )`,

      `CREATE TABLE drives (
        name TEXT PRIMARY KEY,
        serial TEXT NOT NULL,
        model TEXT NOT NULL,
        path TEXT NOT NULL,
        adm_status TEXT NOT NULL CHECK (adm_status IN ('locked', 'unlocked', 'failed')),
        loaded TEXT,
        nb_errors INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      )`,

      `CREATE TABLE library_elements (
        kind TEXT NOT NULL CHECK (kind IN ('slot', 'drive', 'ie')),
        address INTEGER NOT NULL,
        medium TEXT,
        PRIMARY KEY (kind, address)
      )`,

      `CREATE TABLE logs (
        id INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('drive', 'medium', 'library')),
        device TEXT,
        medium TEXT,
        cause TEXT NOT NULL,
        errno INTEGER NOT NULL,
        message TEXT NOT NULL
      )`,
      `CREATE INDEX logs_time ON logs (time)`,
      `CREATE INDEX logs_device ON logs (device, time)`,
      `CREATE INDEX logs_medium ON logs (medium, time)`,

      // The root directory has parent NULL so that it is nobody's child.
      `CREATE TABLE dirs (
        path TEXT PRIMARY KEY,
        parent TEXT,
        ino INTEGER NOT NULL UNIQUE,
        ${attrs}
      )`,
      `CREATE INDEX dirs_parent ON dirs (parent, path)`,

      `CREATE TABLE symlinks (
        path TEXT PRIMARY KEY,
        parent TEXT NOT NULL,
        target TEXT NOT NULL,
        ino INTEGER NOT NULL UNIQUE,
        ${attrs}
      )`,
      `CREATE INDEX symlinks_parent ON symlinks (parent, path)`,

      `CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,

      // Inode numbers of dirs, objects and symlinks come from one counter and
      // are never reused; 1 is the root.
      `CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
      `INSERT INTO counters (name, value) VALUES ('ino', 1)`,
    ],
  },
  {
    version: 2,
    name: 'disk cache entries',
    steps: [
      // The oid is not stored: it is the object's, which renames change.
      // Entries go with their version (hard delete); the cache then finds
      // their files unclaimed and removes them.
      `CREATE TABLE cache_entries (
        uuid TEXT NOT NULL,
        version INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('dirty', 'flushing', 'clean', 'staging')),
        size INTEGER NOT NULL CHECK (size >= 0),
        file TEXT NOT NULL,
        dirty_since INTEGER,
        last_access INTEGER NOT NULL,
        flush_attempts INTEGER NOT NULL DEFAULT 0,
        flush_after INTEGER,
        PRIMARY KEY (uuid, version),
        FOREIGN KEY (uuid, version) REFERENCES objects (uuid, version) ON DELETE CASCADE
      )`,
      `CREATE INDEX cache_entries_state ON cache_entries (state)`,
    ],
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Brings the schema up to date; returns the version it ends at. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const latest = migrations.length ? migrations[migrations.length - 1]!.version : 0;
  const current = (): number => db.pragma('user_version', { simple: true }) as number;
  if (current() > latest) {
    throw new DeimosError('ENOTSUP', `the catalog schema (version ${current()}) is newer than this deimos knows (${latest})`,
      'upgrade deimos before opening this catalog');
  }
  for (const m of migrations) {
    try {
      db.transaction(() => {
        // Another process may have applied it while we waited for the lock.
        if (current() >= m.version) return;
        for (const sql of m.steps) db.exec(sql);
        db.pragma(`user_version = ${m.version}`);
      }).immediate();
    } catch (e) {
      const code = String((e as { code?: unknown }).code ?? '');
      // A busy database is worth a retry, not a report of a broken migration.
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) throw e;
      throw new DeimosError('EIO', `catalog migration ${m.version} (${m.name}) failed: ${(e as Error).message}`,
        'the catalog was left at the previous schema version; report this with the service log', { cause: e });
    }
  }
  return current();
}
