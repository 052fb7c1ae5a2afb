/**
 * SHA-256 of staged uploads, computed off the event loop with a hash whose
 * state can be saved and loaded, so that a resume continues from the state
 * saved at its last durable segment instead of re-reading every stored byte.
 *
 * hash-wasm's SHA-256 can save its state but runs at about a quarter of
 * node:crypto's speed, so it runs in worker threads: a small pool, created on
 * first use and unref'd so it never keeps the process alive. Chunks are
 * copied into 256 KiB batches and transferred; a stream waits while too many
 * of its bytes are queued, so a slow worker slows its stream, not memory.
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

// Small batches keep what each stream holds for hashing to about 1 MiB, so
// that 16 concurrent uploads add ~16 MiB, not hundreds; 4 messages a MiB cost
// nothing next to hashing it.
const BATCH_BYTES = 256 * 1024;
/** Bytes of one stream that may wait in its worker's queue. */
const MAX_QUEUED_BYTES = 4 * BATCH_BYTES;
/** Batches kept for reuse per stream. */
const SPARE_BATCHES = 2;

/**
 * Runs in the worker. A string with `eval: true` so that the same code works
 * under tsx from src/ and compiled from dist/, with no worker file to locate.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createSHA256 } = require(workerData.hashWasm);
// Creating a hasher is asynchronous: each stream's messages run in order on its own chain.
const chains = new Map();
parentPort.on("message", (m) => {
  const run = (h) => {
    if (m.op === "update") {
      h.update(new Uint8Array(m.data, 0, m.length));
      // The batch's memory goes back to be filled again: no allocation (and no GC) per batch.
      parentPort.postMessage({ stream: m.stream, ack: m.length, data: m.data }, [m.data]);
    } else if (m.op === "save") {
      parentPort.postMessage({ stream: m.stream, reply: m.reply, value: h.save() });
    } else if (m.op === "digest") {
      parentPort.postMessage({ stream: m.stream, reply: m.reply, value: h.digest("hex") });
    }
    return h;
  };
  if (m.op === "open") {
    chains.set(m.stream, createSHA256().then((h) => (h.init(), m.state ? h.load(m.state) : undefined, h)));
  } else if (m.op === "close" || m.op === "digest") {
    const chain = chains.get(m.stream);
    chains.delete(m.stream);
    if (m.op === "digest") chain.then(run).catch((e) => fail(m, e));
  } else {
    chains.set(m.stream, chains.get(m.stream).then(run).catch((e) => fail(m, e)));
  }
});
function fail(m, error) {
  parentPort.postMessage({ stream: m.stream, reply: m.reply, error: String((error && error.message) || error) });
}
`;

/** One stream's hash, fed in order; `save` and `digest` cover every byte fed before them. */
export interface StreamHasher {
  /** Feeds a chunk (copied); resolves when the stream may feed more. */
  update(chunk: Uint8Array): Promise<void>;
  /** The state after every byte fed so far, to be loaded by a resume. */
  save(): Promise<Uint8Array>;
  /** The hex digest of every byte fed; the hasher is done afterwards. */
  digest(): Promise<string>;
  /** Frees the worker's state. Idempotent. */
  close(): void;
}

interface Reply {
  stream: number;
  reply?: number;
  ack?: number;
  /** An acknowledged batch's memory, returned for reuse. */
  data?: ArrayBuffer;
  value?: Uint8Array | string;
  error?: string;
}

interface Slot {
  worker: Worker;
  streams: Map<number, (reply: Reply) => void>;
  /** Messages awaiting an answer: while any are, the worker keeps the process alive. */
  outstanding: number;
}

export interface HasherPool {
  /** A hasher starting empty, or from a state saved by `save`. */
  open(state?: Uint8Array): StreamHasher;
}

/** A pool of `size` hashing workers, each started on first use; streams are spread over them in turn. */
export function createHasherPool(size = Math.max(1, Math.min(4, availableParallelism() - 1))): HasherPool {
  const slots: (Slot | undefined)[] = [];
  let nextStream = 0;

  function slotFor(stream: number): Slot {
    const at = stream % size;
    let slot = slots[at];
    if (!slot) {
      const hashWasm = createRequire(import.meta.url).resolve("hash-wasm");
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { hashWasm } });
      const streams = new Map<number, (reply: Reply) => void>();
      const created: Slot = { worker, streams, outstanding: 0 };
      worker.on("message", (reply: Reply) => {
        if (--created.outstanding === 0) worker.unref();
        streams.get(reply.stream)?.(reply);
      });
      const fail = (message: string) => {
        if (slots[at] === created) slots[at] = undefined;
        for (const deliver of streams.values()) deliver({ stream: -1, error: message });
      };
      worker.on("error", (error) => fail(error.message));
      worker.on("exit", (code) => fail(`the hashing worker exited with code ${code}`));
      // Idle, the worker never keeps the process alive; it costs one thread.
      worker.unref();
      slot = slots[at] = created;
    }
    return slot;
  }

  function open(state?: Uint8Array): StreamHasher {
    const stream = nextStream++;
    const slot = slotFor(stream);
    const { worker, streams } = slot;
    const post = (message: object, transfer?: ArrayBuffer[]) => {
      if (slot.outstanding++ === 0) worker.ref();
      worker.postMessage(message, transfer);
    };
    const pending = new Map<number, { resolve: (v: Reply) => void; reject: (e: Error) => void }>();
    let failure: Error | undefined;
    let queued = 0;
    let drained: (() => void) | undefined;
    const spare: ArrayBuffer[] = [];
    let batch = new Uint8Array(BATCH_BYTES);
    let filled = 0;
    let replies = 0;

    streams.set(stream, (reply) => {
      if (reply.error !== undefined) {
        failure = new Error(`hashing failed: ${reply.error}`);
        for (const p of pending.values()) p.reject(failure);
        pending.clear();
        drained?.();
        return;
      }
      if (reply.ack !== undefined) {
        queued -= reply.ack;
        if (reply.data && spare.length < SPARE_BATCHES) spare.push(reply.data);
        if (queued <= MAX_QUEUED_BYTES) drained?.();
      } else if (reply.reply !== undefined) {
        pending.get(reply.reply)?.resolve(reply);
        pending.delete(reply.reply);
      }
    });
    worker.postMessage({ op: "open", stream, state });

    function flush(): void {
      if (filled === 0) return;
      const data = batch.buffer as ArrayBuffer;
      queued += filled;
      post({ op: "update", stream, data, length: filled }, [data]);
      const reused = spare.pop();
      batch = reused ? new Uint8Array(reused) : new Uint8Array(BATCH_BYTES);
      filled = 0;
    }

    function ask(op: "save" | "digest"): Promise<Reply> {
      flush();
      if (failure) return Promise.reject(failure);
      const reply = replies++;
      post({ op, stream, reply });
      return new Promise((resolve, reject) => pending.set(reply, { resolve, reject }));
    }

    return {
      async update(chunk) {
        if (failure) throw failure;
        for (let at = 0; at < chunk.length; ) {
          const n = Math.min(chunk.length - at, BATCH_BYTES - filled);
          batch.set(chunk.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === BATCH_BYTES) flush();
        }
        while (queued > MAX_QUEUED_BYTES && !failure) await new Promise<void>((resolve) => (drained = resolve));
        drained = undefined;
        if (failure) throw failure;
      },
      async save() {
        return (await ask("save")).value as Uint8Array;
      },
      async digest() {
        const hex = (await ask("digest")).value as string;
        streams.delete(stream);
        return hex;
      },
      close() {
        if (!streams.delete(stream)) return;
        worker.postMessage({ op: "close", stream });
      },
    };
  }

  return { open };
}

