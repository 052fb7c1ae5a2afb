/**
 * Cuts an upload's byte stream into segments and streams each into object
 * storage as it arrives (one part of the upload's object per segment), hashing
 * it on the way. A segment is durable once its part is stored and `onDurable`
 * has recorded it, with its etag and the hash state after its last byte, in order. One segment may be storing while the next one
 * fills, so receiving and storing overlap without unbounded memory.
 */
import { PassThrough } from "node:stream";
import type { BudgetAccount } from "./byte-budget.js";
import type { StreamHasher } from "./stream-hasher.js";

export interface DurableSegment {
  seq: number;
  size: number;
  etag: string;
  hashState: Uint8Array;
}

/** Stores segment `seq` (its bytes start at `offset`; `size` of them when known up front); resolves to the stored part's etag. */
export type StoreSegment = (seq: number, offset: number, body: PassThrough, size: number | undefined) => Promise<string>;

export interface SegmentWriterOptions {
  storeSegment: StoreSegment;
  segmentBytes: number;
  /** Sequence number and byte offset of the first segment this writer creates. */
  firstSeq: number;
  offset: number;
  /** When known, every segment's size is known before its first byte, so stores need not buffer. */
  declaredSize: number | undefined;
  onDurable: (segment: DurableSegment) => Promise<void>;
  /**
   * Runs when a segment has its last byte, before its body ends (a store that
   * buffers a part sends it only then): a writer that lost its claim on the
   * upload throws here, and its part is never sent.
   */
  beforeSeal?: () => Promise<void>;
  /** Holds each chunk's bytes from arrival until its segment's put settles; shared by all uploads of the server. */
  budget: BudgetAccount;
  /** Sees every byte in order; saved at each segment's end. */
  hasher: StreamHasher;
  /** Ends waits for budget. */
  signal: AbortSignal;
}

interface OpenSegment {
  seq: number;
  body: PassThrough;
  stored: Promise<string>;
  size: number;
  capacity: number;
}

const ignore = () => undefined;

export class SegmentWriter {
  readonly #opts: SegmentWriterOptions;
  #open: OpenSegment | undefined;
  #nextSeq: number;
  /** Bytes handed to segments so far, durable or not. */
  #assigned: number;
  #durable: number;
  /** The previous segment's store-and-record; awaited before another segment closes. */
  #flushing: Promise<void> = Promise.resolve();

  constructor(opts: SegmentWriterOptions) {
    this.#opts = opts;
    this.#nextSeq = opts.firstSeq;
    this.#assigned = opts.offset;
    this.#durable = opts.offset;
  }

  /** Bytes durably stored and recorded: where a resume would start. */
  get durableOffset(): number {
    return this.#durable;
  }

  /** Writes a chunk, waiting for budget and while storage or hashing applies backpressure. */
  async write(chunk: Uint8Array): Promise<void> {
    // Reserved as it arrives, released as the puts of the segments it lands in settle.
    await this.#opts.budget.take(chunk.length, this.#opts.signal);
    let data = chunk;
    while (data.length > 0) {
      const segment = this.#open ?? this.#openSegment();
      const part = data.subarray(0, segment.capacity - segment.size);
      data = data.subarray(part.length);
      segment.size += part.length;
      await this.#opts.hasher.update(part);
      if (!segment.body.write(part)) await drained(segment.body, segment.stored);
      if (segment.size === segment.capacity) await this.#close(segment);
    }
  }

  /** Stores the last, partial segment and waits until every segment is durable. */
  async finish(): Promise<void> {
    if (this.#open && this.#open.size > 0) await this.#close(this.#open);
    await this.#flushing;
  }

  /** Drops the unfinished segment and waits for any in-flight one to settle. Idempotent. */
  async abandon(): Promise<void> {
    this.#open?.body.destroy(new Error("upload stream abandoned"));
    this.#open = undefined;
    await this.#flushing.catch(ignore);
  }

  #openSegment(): OpenSegment {
    const { declaredSize, segmentBytes, budget } = this.#opts;
    const capacity = declaredSize === undefined ? segmentBytes : Math.min(segmentBytes, declaredSize - this.#assigned);
    const body = new PassThrough();
    body.on("error", ignore); // surfaced through `stored`
    const seq = this.#nextSeq++;
    const segment: OpenSegment = { seq, body, stored: Promise.resolve(""), size: 0, capacity };
    // Read when the put settles: by then the segment has every byte it will get.
    segment.stored = this.#opts
      .storeSegment(seq, this.#assigned, body, declaredSize === undefined ? undefined : capacity)
      .finally(() => budget.release(segment.size));
    segment.stored.catch(ignore); // observed when the segment closes or the writer is abandoned
    this.#open = segment;
    return segment;
  }

  async #close(segment: OpenSegment): Promise<void> {
    try {
      await this.#opts.beforeSeal?.();
    } catch (error) {
      segment.body.destroy(error instanceof Error ? error : new Error(String(error)));
      this.#open = undefined;
      throw error;
    }
    this.#open = undefined;
    this.#assigned += segment.size;
    // Its bytes now leave without more input: a budget deadlock check counts on them.
    this.#opts.budget.seal(segment.size);
    const hashState = this.#opts.hasher.save();
    hashState.catch(ignore);
    segment.body.end();
    await this.#flushing;
    const { seq, size } = segment;
    this.#flushing = Promise.all([segment.stored, hashState])
      .then(([etag, state]) => this.#opts.onDurable({ seq, size, etag, hashState: state }))
      .then(() => {
        this.#durable += size;
      });
    this.#flushing.catch(ignore);
  }
}

/** Resolves when `body` drains, or settles with `stored` if the store finishes or fails first. */
function drained(body: PassThrough, stored: Promise<unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      body.off("drain", done);
      resolve();
    };
    body.on("drain", done);
    stored.then(done, (error: unknown) => {
      body.off("drain", done);
      reject(error);
    });
  });
}
