/**
 * One SQLite connection with what every catalog query needs: WAL settings
 * and the sync that makes commits durable, a cache of prepared statements,
 * the one transaction wrapper, and the mapping of SQLite failures to errnos.
 * Nothing above this file sees an SqliteError.
 *
 * Durability: commits run with synchronous=NORMAL, so COMMIT writes the WAL
 * frames (a killed process loses nothing: the kernel has them) without
 * fsync; `sync()` then fsyncs the WAL off the event loop, once for every
 * commit made before it (group commit). A durable catalog method resolves
 * only after that sync, as it did when COMMIT fsynced (synchronous=FULL),
 * but better-sqlite3 is synchronous: a FULL commit blocked every FUSE op and
 * flush for its fsync, several times per small file.
 *
 * Held writes: a write may ask to be committed later, together with the
 * writes that follow it (`defer`), at most `commitDelayMs` after the first
 * of them: the connection keeps one IMMEDIATE transaction open and runs each
 * write in a savepoint of it. A COMMIT writes every page its transaction
 * dirtied to the WAL, one frame and two pwrites each, whatever the change:
 * a file that rsync writes is five commits (create, size at close, utimens,
 * chmod, rename), mostly of the same pages. The first write that is not
 * deferred, a sync() or close() commits what is held first; reads on this
 * connection see the held writes, other connections see them once
 * committed. A held commit that fails after its writes were answered is
 * reported by the next sync(), as the kernel reports a lost page write at
 * the next fsync.
 */
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { DeimosError } from '../../core/errors.js';
import { compilePattern } from '../base.js';
import { migrate } from '../migrations.js';

/**
 * Checkpoints run on a worker thread with a connection of its own, every
 * CHECKPOINT_EVERY commits: SQLite's automatic checkpoint runs inside the
 * COMMIT that crosses 1,000 WAL pages, on the event loop, and with
 * synchronous=NORMAL it fsyncs the WAL and then the database file there —
 * every FUSE op waited for those fsyncs (every 100 or so commits on the
 * mount's small files, tens of ms each when the disk is busy). A PASSIVE
 * checkpoint never blocks writers; with synchronous=NORMAL it syncs the WAL
 * before it copies pages and the database after, as the automatic one did,
 * so sync() below holds as it did. The worker starts at the first
 * CHECKPOINT_EVERY commits (a CLI command that commits a few times never
 * starts one).
 */
const CHECKPOINT_EVERY = 200;
/**
 * The WAL starts again from its beginning only at a write that finds every
 * frame already copied into the database. Under steady writes the worker
 * never gets there (commits land while it copies): the WAL grew to 3.8 GiB
 * over five repetitions of fuse.sh's steps (100,000 small files written),
 * every page of it written to disk instead of rewritten in the page cache.
 * Once the worker reports a WAL this long, this connection copies the last
 * frames itself between two transactions, so that the next write restarts
 * the log.
 */
const WAL_RESTART_FRAMES = 4096;
/** A WAL that grew anyway (a reader held an old snapshot) is cut back to this at its next restart. */
const WAL_SIZE_LIMIT = 64 * 2 ** 20;
/** How long close() waits for the worker to close its connection. */
const CLOSE_WAIT_MS = 10_000;
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { timeout: workerData.busyTimeoutMs });
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage(r.log);
  } catch (e) {
    parentPort.postMessage(-1);
  }
});
`;

export interface ConnectionOptions {
  /** Milliseconds a writer waits for another process' transaction. */
  busyTimeoutMs?: number;
  readonly?: boolean;
  /** How long deferred writes may wait for their commit (ms; 0, the default: none waits). */
  commitDelayMs?: number;
}

export class Connection {
  readonly db: Database.Database;
  private readonly stmts = new Map<string, Database.Statement>();
  /** Patterns seen by the regexp() SQL function; a query calls it once per row. */
  private readonly patterns = new Map<string, RegExp>();
  /** Commits made so far (the migrations at open count as one), and how many of them a sync() made durable. */
  private commits = 1;
  private syncedCommits = 0;
  /** The fsync running now, if any: later callers wait for it, then start one that covers them. */
  private syncing: Promise<void> | null = null;
  /**
   * A failed fsync of the log, kept: Linux reports a writeback error once
   * and may drop the pages, so a later fsync that succeeds proves nothing
   * about the commits before it. Every sync fails until the catalog is
   * opened again (recovery then reads what really reached the disk).
   */
  private syncFailure: DeimosError | null = null;
  /** The WAL of the file SQLite opened (symlinks resolved as SQLite does); null in memory. */
  private walFile: string | null = null;
  /** Inode of the WAL whose name was last made durable (SQLite recreates the file after the last connection closes). */
  private walIno = -1;
  /** The checkpointing worker (see CHECKPOINT_EVERY), once started; null before, and for good once it failed. */
  private checkpointer: { worker: Worker; busy: boolean } | null = null;
  private checkpointerFailed = false;
  private sinceCheckpoint = 0;
  /** The worker found a long WAL: the next commit copies its tail (see WAL_RESTART_FRAMES). */
  private restartDue = false;
  private readonly busyTimeoutMs: number;
  private readonly commitDelayMs: number;
  /** The open transaction of held writes, and the timer that commits it. */
  private held: NodeJS.Timeout | null = null;
  /** Held writes whose commit failed after they were answered: the next sync() throws this, once. */
  private heldFailure: DeimosError | null = null;

  constructor(file: string, opts: ConnectionOptions = {}) {
    const busy = opts.busyTimeoutMs ?? 5000;
    this.busyTimeoutMs = busy;
    this.commitDelayMs = Math.max(0, opts.commitDelayMs ?? 0);
    try {
      this.db = new Database(file, { timeout: busy, readonly: opts.readonly ?? false });
    } catch (e) {
      throw mapSqliteError(e, `cannot open the catalog ${file}`);
    }
    try {
      this.db.pragma(`busy_timeout = ${busy}`);
      if (!opts.readonly) this.db.pragma('journal_mode = WAL');
      // Commits are made durable by sync(), off the event loop (see the top of this file).
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      // The default 8 MiB page cache makes every lookup in a catalog of a
      // million objects (random uuids, oid order ≠ insertion order) a read
      // syscall; a larger cache and mmap keep the hot B-tree pages in memory.
      this.db.pragma('cache_size = -65536');
      this.db.pragma('mmap_size = 268435456');
      this.db.pragma('temp_store = MEMORY');
      this.db.function('regexp', { deterministic: true }, (pattern: unknown, value: unknown) => {
        if (typeof pattern !== 'string' || typeof value !== 'string') return 0;
        let re = this.patterns.get(pattern);
        if (!re) {
          if (this.patterns.size > 64) this.patterns.clear();
          re = compilePattern(pattern);
          this.patterns.set(pattern, re);
        }
        return re.test(value) ? 1 : 0;
      });
      if (!opts.readonly) migrate(this.db);
      // The name SQLite itself uses, so that sync() fsyncs the WAL it writes (also when `file` is a symlink).
      const main = (this.db.pragma('database_list') as { name: string; file: string }[]).find((d) => d.name === 'main');
      if (main?.file) this.walFile = `${main.file}-wal`;
      // Checkpoints are the worker's (see CHECKPOINT_EVERY).
      if (this.walFile && !opts.readonly) {
        this.db.pragma('wal_autocheckpoint = 0');
        this.db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
      }
    } catch (e) {
      this.db.close();
      throw mapSqliteError(e, `cannot open the catalog ${file}`);
    }
  }

  /** A prepared statement, compiled once per connection. */
  stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /**
   * Runs `fn` as one IMMEDIATE transaction: the write lock is taken at BEGIN,
   * so a busy database shows up there (after busy_timeout) and never as a
   * failed upgrade half-way through. The commit is durable after the next
   * sync(); commits reach the disk in order, so a later one is never
   * durable without this one.
   */
  write<T>(fn: () => T, opts: { defer?: boolean } = {}): T {
    const defer = opts.defer === true && this.commitDelayMs > 0;
    if (!this.held && !defer) {
      const out = this.txn('BEGIN IMMEDIATE', fn);
      this.committed();
      return out;
    }
    this.checkOpen();
    if (!this.held) this.hold();
    const out = this.inSavepoint(fn);
    if (!defer) this.commitHeld();
    return out;
  }

  /** Commits the held writes now, if any; a failure is also kept for the next sync(). */
  private commitHeld(): void {
    const timer = this.held;
    if (!timer) return;
    clearTimeout(timer);
    this.held = null;
    try {
      this.stmt('COMMIT').run();
    } catch (e) {
      try {
        if (this.db.inTransaction) this.stmt('ROLLBACK').run();
      } catch {
        // The transaction is gone either way.
      }
      this.heldFailure = mapSqliteError(e, 'the catalog lost metadata changes of the last moments (their commit failed)');
      throw this.heldFailure;
    }
    this.committed();
  }

  private hold(): void {
    try {
      this.stmt('BEGIN IMMEDIATE').run();
    } catch (e) {
      throw mapSqliteError(e);
    }
    this.held = setTimeout(() => {
      try {
        this.commitHeld();
      } catch {
        // Kept for the next sync().
      }
    }, this.commitDelayMs);
  }

  /** One write inside the held transaction: a failure undoes it alone, unless SQLite rolled back the whole transaction. */
  private inSavepoint<T>(fn: () => T): T {
    try {
      this.stmt('SAVEPOINT w').run();
      try {
        const out = fn();
        this.stmt('RELEASE w').run();
        return out;
      } catch (e) {
        if (this.db.inTransaction) {
          this.stmt('ROLLBACK TO w').run();
          this.stmt('RELEASE w').run();
        }
        throw e;
      }
    } catch (e) {
      const err = mapSqliteError(e);
      if (!this.db.inTransaction && this.held) {
        // SQLite rolled back the held writes with it (a full disk, an I/O error): they are lost.
        clearTimeout(this.held);
        this.held = null;
        this.heldFailure = mapSqliteError(e, 'the catalog lost metadata changes of the last moments (their transaction was rolled back)');
      }
      throw err;
    }
  }

  private committed(): void {
    this.commits++;
    if (this.restartDue && !this.db.inTransaction) this.checkpointTail();
    if (this.walFile && ++this.sinceCheckpoint >= CHECKPOINT_EVERY) this.checkpoint();
  }

  /**
   * Copies the frames committed while the worker checkpointed (~1,000 pages
   * under the mount's load; two fsyncs on this thread), so that the next write
   * restarts the WAL. A failure leaves the WAL as it is: the worker's next
   * checkpoint copies it.
   */
  private checkpointTail(): void {
    this.restartDue = false;
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Left to the worker.
    }
  }

  /** Asks the worker for a checkpoint, unless one runs; starts the worker the first time. */
  private checkpoint(): void {
    if (this.checkpointer?.busy) return;
    this.sinceCheckpoint = 0;
    if (!this.checkpointer) {
      if (this.checkpointerFailed) return;
      try {
        const worker = new Worker(CHECKPOINTER, {
          eval: true,
          workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), file: this.db.name, busyTimeoutMs: this.busyTimeoutMs },
        });
        // Not what keeps a process alive; a process that exits without close() loses nothing (the WAL is the log).
        worker.unref();
        const cp = { worker, busy: false };
        worker.on('message', (walFrames: number) => {
          cp.busy = false;
          if (walFrames >= WAL_RESTART_FRAMES) this.restartDue = true;
        });
        worker.on('error', () => this.checkpointerGone());
        worker.on('exit', () => { if (this.checkpointer === cp) this.checkpointerGone(); });
        this.checkpointer = cp;
      } catch {
        this.checkpointerGone();
        return;
      }
    }
    this.checkpointer.busy = true;
    this.checkpointer.worker.postMessage('checkpoint');
  }

  /** The worker could not start or died: SQLite checkpoints on this connection again, as by default. */
  private checkpointerGone(): void {
    this.checkpointer = null;
    this.checkpointerFailed = true;
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
  }

  /** Whether checkpoints run on the worker thread now (tests). */
  get checkpointsOffThread(): boolean {
    return this.checkpointer !== null;
  }

  /** Whether a commit is not yet known durable. */
  get syncPending(): boolean {
    return this.held !== null || this.syncedCommits < this.commits;
  }

  /**
   * Makes every commit made so far durable: fsyncs the WAL file on the
   * libuv pool. Every commit has written its frames before this is called,
   * and fsync covers a file's pages whichever descriptor asks. Frames that a
   * checkpoint moved into the database file are durable already (with
   * synchronous=NORMAL SQLite fsyncs the WAL before a checkpoint and the
   * database after it), and a WAL restarted after one holds only later
   * commits, which this fsync covers. Concurrent callers share fsyncs.
   */
  async sync(): Promise<void> {
    this.checkOpen();
    try {
      this.commitHeld();
    } catch {
      // Thrown below, once.
    }
    if (this.heldFailure) {
      const e = this.heldFailure;
      this.heldFailure = null;
      throw e;
    }
    const upTo = this.commits;
    while (this.syncedCommits < upTo) {
      if (this.syncFailure) throw this.syncFailure;
      if (this.syncing) {
        // It may have started before our commit: wait, then look again.
        await this.syncing;
        continue;
      }
      const covers = this.commits;
      this.syncing = this.fsyncWal()
        .then(() => { this.syncedCommits = Math.max(this.syncedCommits, covers); }, (e: unknown) => {
          this.syncFailure = syncError(e);
          throw this.syncFailure;
        })
        .finally(() => { this.syncing = null; });
      await this.syncing;
    }
  }

  private async fsyncWal(): Promise<void> {
    if (!this.walFile) return;
    let fh;
    try {
      fh = await open(this.walFile, 'r');
    } catch (e) {
      // No WAL: the last connection checkpointed it into the database (fsynced) and removed it.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw syncError(e);
    }
    try {
      await fh.sync();
      // A new WAL file is durable only once its name is.
      const { ino } = await fh.stat();
      if (ino !== this.walIno) {
        const dir = await open(dirname(this.walFile), 'r');
        try { await dir.sync(); } finally { await dir.close(); }
        this.walIno = ino;
      }
    } catch (e) {
      throw syncError(e);
    } finally {
      await fh.close();
    }
  }

  /** Runs `fn` in one read transaction so that it sees a single snapshot. */
  read<T>(fn: () => T): T {
    if (!this.held) return this.txn('BEGIN', fn);
    // Inside the held transaction: the same snapshot, with the held writes.
    try {
      return fn();
    } catch (e) {
      throw mapSqliteError(e);
    }
  }

  /**
   * The one transaction wrapper. Cached BEGIN/COMMIT statements rather than
   * db.transaction(), which builds new wrapper functions on every call: a
   * lookup is a few microseconds and this overhead showed in its profile.
   */
  private txn<T>(begin: string, fn: () => T): T {
    this.checkOpen();
    try {
      this.stmt(begin).run();
      try {
        const out = fn();
        this.stmt('COMMIT').run();
        return out;
      } catch (e) {
        if (this.db.inTransaction) this.stmt('ROLLBACK').run();
        throw e;
      }
    } catch (e) {
      throw mapSqliteError(e);
    }
  }

  private checkOpen(): void {
    if (!this.db.open) throw new DeimosError('EBADF', 'the catalog is closed', 'open it again');
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /**
   * Resolves once the worker has closed its connection too: as the last
   * connection it may checkpoint and remove the WAL, so whoever removes or
   * copies the catalog's directory next must wait for it (a test's cleanup
   * met ENOTEMPTY). A worker that does not stop within CLOSE_WAIT_MS is
   * terminated; the WAL it leaves is replayed at the next open.
   */
  close(): Promise<void> {
    const cp = this.checkpointer;
    this.checkpointer = null;
    try {
      if (this.db.open) this.commitHeld();
    } catch {
      // Reported by the sync() that comes before a close (SqliteCatalog.close); the commits before it stay.
    }
    if (this.db.open) this.db.close();
    if (!cp) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => { void cp.worker.terminate(); }, CLOSE_WAIT_MS);
      cp.worker.once('exit', () => { clearTimeout(timer); resolve(); });
      // The worker closes its connection after any checkpoint it is running.
      cp.worker.postMessage('close');
    });
  }
}

function syncError(e: unknown): DeimosError {
  if (e instanceof DeimosError) return e;
  return new DeimosError('EIO', `cannot sync the catalog's log: ${(e as Error).message}`, 'check the disk holding the catalog', { cause: e });
}

/** Maps anything thrown inside a transaction to a DeimosError. */
export function mapSqliteError(e: unknown, context = 'catalog operation failed'): DeimosError {
  if (e instanceof DeimosError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const msg = e instanceof Error ? e.message : String(e);
  const opts = { cause: e };
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return new DeimosError('EBUSY', 'the catalog is locked by another process', 'retry in a moment', opts);
    }
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      return new DeimosError('EEXIST', `${context}: an entry with the same key already exists`, 'list the existing entries first', opts);
    }
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
      return new DeimosError('ENOENT', `${context}: it refers to an entry that does not exist`, 'create the referenced entry first', opts);
    }
    if (code.startsWith('SQLITE_CONSTRAINT')) {
      return new DeimosError('EINVAL', `${context}: a value is out of range`, 'check the arguments', opts);
    }
    if (code === 'SQLITE_FULL') return new DeimosError('ENOSPC', `${context}: the disk holding the catalog is full`, 'free space on that file system', opts);
    if (code.startsWith('SQLITE_READONLY')) return new DeimosError('EROFS', `${context}: the catalog is read-only`, 'check the permissions of the catalog file and its directory', opts);
    if (code.startsWith('SQLITE_CANTOPEN')) return new DeimosError('ENOENT', `${context}: cannot open the file`, 'check that its directory exists and is writable', opts);
    if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
      return new DeimosError('EIO', `${context}: the catalog file is damaged or not a catalog`, 'restore it from a backup or rebuild it from the media', opts);
    }
    if (code.startsWith('SQLITE_IOERR')) return new DeimosError('EIO', `${context}: I/O error on the catalog file`, 'check the disk holding it', opts);
  }
  return new DeimosError('EIO', `${context}: ${msg}`, 'see the service log for details', opts);
}
