// Splits a LIST response body, chunk by chunk as it arrives, into its items, each parsed on its own, and the rest
// of the list (kind, metadata with resourceVersion and continue). The page is never held whole, as bytes, string or
// parsed tree: memory is one item plus one network chunk, whatever the page size, and each parsed item is garbage as
// soon as the caller has made its record of it. A byte scanner, linear, no backtracking: JSON's structural
// characters are ASCII and never occur inside a multi-byte UTF-8 sequence, so bytes can be scanned before decoding.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const ITEMS = 'items';

type Region = 'rest' | 'item' | 'skip';

export class ListItemSplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** At depth 1, the string just closed (a key if a colon follows), capped: only "items" matters. */
  private lastString = '';
  private collecting = false;
  /** The top-level key whose value is being read. */
  private key = '';
  private inItems = false;
  private region: Region = 'rest';
  private readonly rest: Buffer[] = [];
  private item: Buffer[] = [];
  private itemBytes = 0;
  private count = 0;

  /** onItem gets each item as parsed JSON; maxItemBytes bounds one item (the apiserver's own limit is ~1.5 MiB). */
  constructor(private readonly onItem: (item: unknown) => void, private readonly maxItemBytes = 16 * 2 ** 20) {}

  get items(): number { return this.count; }

  push(chunk: Buffer): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) { this.inString = false; this.collecting = false; }
        if (this.collecting && !this.escaped && this.lastString.length <= ITEMS.length) this.lastString += String.fromCharCode(b);
        continue;
      }
      switch (b) {
        case QUOTE:
          this.inString = true;
          if (this.depth === 1) { this.collecting = true; this.lastString = ''; }
          break;
        case COLON:
          if (this.depth === 1) this.key = this.lastString;
          break;
        case OPEN_BRACE:
        case OPEN_BRACKET:
          this.depth++;
          if (this.depth === 2 && b === OPEN_BRACKET && this.key === ITEMS) this.inItems = true;
          else if (this.inItems && this.depth === 3) start = this.switchTo('item', chunk, start, i);
          break;
        case CLOSE_BRACE:
        case CLOSE_BRACKET:
          if (this.inItems && this.depth === 3) {
            this.depth--;
            start = this.switchTo('rest', chunk, start, i + 1);
            this.emit();
            continue;
          }
          if (this.inItems && this.depth === 2) this.inItems = false;
          this.depth--;
          if (this.depth < 0) throw new Error('list body is not JSON: unbalanced brackets');
          break;
        case COMMA:
          // The commas between items go too, so that what remains is a list with "items": [].
          if (this.inItems && this.depth === 2) { start = this.switchTo('skip', chunk, start, i); start = this.switchTo('rest', chunk, start, i + 1); }
          break;
        default:
      }
    }
    this.flush(chunk, start, chunk.length);
  }

  /** The list without its items (they went to onItem), once the whole body has been pushed. */
  end<T>(): T {
    if (this.depth !== 0 || this.inString) throw new Error('list body ended early (truncated JSON)');
    return JSON.parse(Buffer.concat(this.rest).toString('utf8')) as T;
  }

  private switchTo(region: Region, chunk: Buffer, start: number, at: number): number {
    this.flush(chunk, start, at);
    this.region = region;
    return at;
  }

  private flush(chunk: Buffer, start: number, end: number): void {
    if (end <= start) return;
    if (this.region === 'rest') this.rest.push(Buffer.from(chunk.subarray(start, end))); // a copy: never pin the chunk
    else if (this.region === 'item') {
      this.itemBytes += end - start;
      if (this.itemBytes > this.maxItemBytes) throw new Error(`list item larger than ${this.maxItemBytes} bytes`);
      this.item.push(chunk.subarray(start, end));
    }
  }

  private emit(): void {
    const bytes = this.item.length === 1 ? this.item[0]! : Buffer.concat(this.item);
    this.item = [];
    this.itemBytes = 0;
    this.count++;
    this.onItem(JSON.parse(bytes.toString('utf8')));
  }
}
