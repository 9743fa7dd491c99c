// The other processes of this worker (node:cluster "event loops") keep in-memory views of state
// kept on disk (the mount table, objects' metadata). A process that changes such state announces
// it; the announcement returns once every other process applied it, so a change acknowledged to a
// client is seen by the next request whichever process serves it. server/processGroup.ts relays.

export type Change =
  /** The mount table file changed: reload it. */
  | { kind: 'mounts' }
  /** An object's metadata changed without its bytes (tags): forget cached copies. */
  | { kind: 'object-meta'; bucket: string; key: string }
  /** `strata cache free` dropped pages under a prefix: forget cached copies (memory tier, status). */
  | { kind: 'cache-free'; bucket: string; prefix: string };

export interface Siblings {
  announce(change: Change): Promise<void>;
}

/** One process: nobody else to tell. */
export const ALONE: Siblings = { announce: async () => undefined };
