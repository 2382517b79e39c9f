// A growable byte buffer the exposition is written into, piece by piece
// (UTF-8), instead of joining one multi-megabyte string and copying it into
// a Buffer on every render. The server keeps one per format and reuses it.
export class ByteSink {
  private buf: Buffer;
  private len = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  reset(): void {
    this.len = 0;
  }

  get length(): number {
    return this.len;
  }

  write(s: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    const max = s.length * 3;
    if (this.len + max > this.buf.length) {
      const exact = Buffer.byteLength(s);
      if (this.len + exact > this.buf.length) this.grow(this.len + exact);
    }
    this.len += this.buf.write(s, this.len);
  }

  private grow(min: number): void {
    const b = Buffer.allocUnsafe(Math.max(min, Math.ceil(this.buf.length * 1.5)));
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }

  /** The bytes written since reset(); a view, valid until the next write or reset. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}
