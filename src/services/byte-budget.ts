/**
 * A server-wide cap on bytes held in flight, shared by every upload. Object
 * stores may buffer a whole segment before sending it (S3 signs each part's
 * payload), so without a cap memory would grow with the number of concurrent
 * uploads; with it, an upload waits for room, stops reading its stream, and
 * HTTP/2 flow control pushes back on its client.
 */
export class ByteBudget {
  #available: number;
  readonly #waiting: { bytes: number; grant: () => void }[] = [];

  constructor(readonly capacity: number) {
    this.#available = capacity;
  }

  /** Resolves once `bytes` (at most the capacity) are reserved; first come, first served. */
  async acquire(bytes: number): Promise<void> {
    const wanted = Math.min(bytes, this.capacity);
    if (this.#waiting.length === 0 && this.#available >= wanted) {
      this.#available -= wanted;
      return;
    }
    await new Promise<void>((grant) => this.#waiting.push({ bytes: wanted, grant }));
  }

  release(bytes: number): void {
    this.#available += Math.min(bytes, this.capacity);
    for (let next = this.#waiting[0]; next && this.#available >= next.bytes; next = this.#waiting[0]) {
      this.#waiting.shift();
      this.#available -= next.bytes;
      next.grant();
    }
  }
}
