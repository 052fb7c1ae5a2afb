/**
 * A reader of Thrift's compact protocol, enough for a Parquet footer: every
 * struct becomes a map from field id to value (lists to arrays, binaries to
 * bytes, integers to bigint), so the caller picks the fields it knows and
 * skips the rest. Pure and bounded by its input: a malformed footer throws.
 */
export type ThriftValue = boolean | number | bigint | Uint8Array | ThriftValue[] | ThriftStruct;
export type ThriftStruct = Map<number, ThriftValue>;

const T = { TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;
/** Deeper nesting than any Parquet footer has: a corrupt file must not overflow the stack. */
const MAX_DEPTH = 64;

export class ThriftReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  private byte(): number {
    if (this.at >= this.bytes.length) throw new Error("the Parquet footer ends early");
    return this.bytes[this.at++] as number;
  }

  private varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new Error("the Parquet footer has a malformed integer");
  }

  private zigzag(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  private value(type: number, depth: number): ThriftValue {
    switch (type) {
      case T.TRUE:
        return true;
      case T.FALSE:
        return false;
      case T.BYTE:
        return this.byte();
      case T.I16:
      case T.I32:
      case T.I64:
        return this.zigzag();
      case T.DOUBLE: {
        if (this.at + 8 > this.bytes.length) throw new Error("the Parquet footer ends early");
        const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.at, 8).getFloat64(0, true);
        this.at += 8;
        return v;
      }
      case T.BINARY: {
        const length = Number(this.varint());
        if (this.at + length > this.bytes.length) throw new Error("the Parquet footer ends early");
        const v = this.bytes.subarray(this.at, this.at + length);
        this.at += length;
        return v;
      }
      case T.LIST:
      case T.SET: {
        const header = this.byte();
        const size = header >> 4 === 15 ? Number(this.varint()) : header >> 4;
        const elementType = header & 0x0f;
        if (size > this.bytes.length - this.at) throw new Error("the Parquet footer has a list longer than itself");
        const out: ThriftValue[] = [];
        // Booleans in lists are a byte each (1 true), not folded into a type.
        for (let i = 0; i < size; i++) out.push(elementType === T.TRUE || elementType === T.FALSE ? this.byte() === 1 : this.value(elementType, depth + 1));
        return out;
      }
      case T.MAP: {
        const size = Number(this.varint());
        if (size === 0) return [];
        const kinds = this.byte();
        const out: ThriftValue[] = [];
        for (let i = 0; i < size; i++) out.push([this.value(kinds >> 4, depth + 1), this.value(kinds & 0x0f, depth + 1)]);
        return out;
      }
      case T.STRUCT:
        return this.struct(depth + 1);
      default:
        throw new Error(`the Parquet footer has an unknown Thrift type ${type}`);
    }
  }

  struct(depth = 0): ThriftStruct {
    if (depth > MAX_DEPTH) throw new Error("the Parquet footer is nested too deeply");
    const out: ThriftStruct = new Map();
    let field = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return out;
      const delta = header >> 4;
      field = delta === 0 ? Number(this.zigzag()) : field + delta;
      out.set(field, this.value(header & 0x0f, depth));
    }
  }
}
