import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { Rng } from './seeded-random.ts';

/**
 * Secrets a test plants, and the oracle that finds them again in what was written. The oracle knows
 * nothing of the redactor: it looks for each planted value, in every form a writer could have turned
 * it into, in every byte the test collected.
 */
export class PlantedSecrets {
  /** Each planted value and where it was planted (the class it tests). */
  readonly #planted = new Map<string, string>();
  readonly #rng: Rng;

  constructor(rng: Rng) {
    this.#rng = rng;
  }

  /**
   * A new random high-entropy value (24 to 40 characters), registered under `place`. Its alphabet is
   * `alphabet`'s: `base64` (with + / =, which URLs and forms percent-encode), `base64url`, `hex`, or
   * `punctuated` (base64url with ! ' ( ) * in it: characters a form keeps as they are).
   */
  plant(place: string, alphabet: 'base64' | 'base64url' | 'hex' | 'punctuated' = 'base64url'): string {
    for (;;) {
      const length = 24 + Math.floor(this.#rng() * 17);
      const bytes = Buffer.from(Array.from({ length }, () => Math.floor(this.#rng() * 256)));
      let text = (alphabet === 'hex' ? bytes.toString('hex') : bytes.toString(alphabet === 'punctuated' ? 'base64url' : alphabet)).slice(0, length);
      // What encodeURIComponent leaves as it is, and a text rule could take for the end of a value.
      if (alphabet === 'punctuated') text = [...text].map((char, index) => (index % 5 === 2 ? "!'()*"[Math.floor(this.#rng() * 5)]! : char)).join('');
      // Digits and capitals (or hex's digits and letters): a value no word or number could be.
      const random = alphabet === 'hex' ? /\d/.test(text) && /[a-f]/.test(text) : /\d/.test(text) && /[A-Z]/.test(text) && /[a-z]/.test(text);
      if (random && !this.#planted.has(text)) return this.register(place, text);
    }
  }

  /** Registers a value the test built itself (a shaped token: `AKIA…`, a JWT) under `place`. */
  register(place: string, value: string): string {
    this.#planted.set(value, place);
    return value;
  }

  /** The random source secret values are made from (for shaped tokens made elsewhere). */
  get rng(): Rng {
    return this.#rng;
  }

  get size(): number {
    return this.#planted.size;
  }

  /** Every planted value found in `haystacks`, with where it was planted and the form it was found in. */
  findIn(haystacks: ReadonlyMap<string, string | Buffer>): Leak[] {
    // Each text is scanned once: every needle is looked up by its first characters (all are longer).
    const byPrefix = new Map<string, Array<{ needle: string; form: string; secret: string }>>();
    const index = (needle: string, form: string, secret: string): void => {
      const prefix = needle.slice(0, PREFIX);
      const list = byPrefix.get(prefix) ?? [];
      list.push({ needle, form, secret });
      byPrefix.set(prefix, list);
    };
    for (const secret of this.#planted.keys()) {
      for (const [form, needle] of forms(secret)) index(needle, form, secret);
      // A redaction that stops short leaves part of a secret: any PREFIX characters of it, as planted
      // or percent-encoded, are a leak too.
      for (const [form, text] of [['as planted', secret], ['percent-encoded', encodeURIComponent(secret)]] as const) {
        for (let start = 1; start + PREFIX <= text.length; start += 1) index(text.slice(start, start + PREFIX), `a ${PREFIX}-character part of it, ${form}`, secret);
      }
    }
    const found = new Map<string, Leak>();
    for (const [source, content] of haystacks) {
      for (const { source: where, text } of expand(source, content)) {
        for (let index = 0; index + PREFIX <= text.length; index += 1) {
          const candidates = byPrefix.get(text.slice(index, index + PREFIX));
          if (candidates === undefined) continue;
          for (const { needle, form, secret } of candidates) {
            if (!found.has(secret) && text.startsWith(needle, index)) found.set(secret, { place: this.#planted.get(secret)!, form, source: where, excerpt: excerpt(text, needle) });
          }
        }
      }
    }
    return [...found.values()];
  }
}

/** How many first characters index a needle: every form of every secret is longer. */
const PREFIX = 12;

export interface Leak {
  /** Where the test planted the secret. */
  readonly place: string;
  /** How it was written: as planted, percent-encoded, base64 … */
  readonly form: string;
  /** Which collected output held it (and, for decoded bodies, which decoding). */
  readonly source: string;
  readonly excerpt: string;
}

const excerpt = (text: string, needle: string): string => {
  const at = text.indexOf(needle);
  return JSON.stringify(text.slice(Math.max(0, at - 60), at + needle.length + 20));
};

/** The base64 text that any base64 encoding of a stream holding `bytes` must contain, at each of the three alignments. */
function base64Cores(bytes: Buffer): Buffer[] {
  return [0, 1, 2].map((skip) => {
    const rest = bytes.subarray(skip);
    return rest.subarray(0, rest.length - (rest.length % 3));
  });
}

/** The forms a secret can take on its way into a file: as is, percent-encoded (once, twice, as a form writes `+`), JSON-escaped, base64 and base64url. */
function forms(secret: string): Array<[string, string]> {
  const percent = encodeURIComponent(secret);
  const result: Array<[string, string]> = [
    ['as planted', secret],
    ['percent-encoded', percent],
    ['percent-encoded twice', encodeURIComponent(percent)],
    ['percent-encoded, lower-case hex', percent.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase())],
    ['JSON-escaped', JSON.stringify(secret).slice(1, -1)],
    ['JSON-escaped twice', JSON.stringify(JSON.stringify(secret)).slice(2, -2)],
  ];
  for (const core of base64Cores(Buffer.from(secret))) {
    if (core.length < 12) continue;
    result.push(['base64', core.toString('base64')], ['base64url', core.toString('base64url')]);
  }
  return result;
}

const DECOMPRESSORS: Array<[string, (bytes: Buffer) => Buffer]> = [
  ['gunzip', gunzipSync],
  ['inflate', inflateSync],
  ['inflate raw', inflateRawSync],
  ['brotli', brotliDecompressSync],
];

/**
 * A collected output as the texts to search: as written (latin1 keeps every byte), every base64 value
 * in it decoded, and each of those decompressed where it decompresses (a body stored base64, a gzip
 * body kept compressed).
 */
function expand(source: string, content: string | Buffer): Array<{ readonly source: string; readonly text: string }> {
  const raw = typeof content === 'string' ? content : content.toString('latin1');
  const texts = [{ source, text: raw }];
  const blobs: Array<{ source: string; bytes: Buffer }> = [{ source, bytes: Buffer.from(raw, 'latin1') }];
  // Long runs of the base64 alphabet (a HAR's base64 content, a Redis entry's bodies).
  for (const match of raw.matchAll(/[A-Za-z0-9+/_-]{16,}={0,2}/g)) {
    const bytes = Buffer.from(match[0], match[0].includes('-') || match[0].includes('_') ? 'base64url' : 'base64');
    texts.push({ source: `${source} (base64 decoded)`, text: bytes.toString('latin1') });
    blobs.push({ source: `${source} (base64 decoded)`, bytes });
  }
  for (const blob of blobs) {
    for (const [name, decompress] of DECOMPRESSORS) {
      try {
        texts.push({ source: `${blob.source} (${name})`, text: decompress(blob.bytes).toString('latin1') });
      } catch {
        // Not in that format.
      }
    }
  }
  return texts;
}
