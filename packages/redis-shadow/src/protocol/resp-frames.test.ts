import RedisParser from 'redis-parser';
import { describe, expect, it } from 'vitest';
import { CommandReader, decodeFrame, encodeCommand, FrameSplitter, frameEnd, RespProtocolError } from './resp-frames.ts';
import { rng } from '../../../../test/support/seeded-random.ts';

/** What redis-parser (ioredis' own) reads from these bytes, fed in the given chunks: the oracle. */
function parseWithRedisParser(chunks: readonly Buffer[]): unknown[] {
  const replies: unknown[] = [];
  const parser = new RedisParser({
    returnBuffers: true,
    returnReply: (reply: unknown) => replies.push(reply),
    returnError: (error: Error) => replies.push({ error: error.message }),
    returnFatalError: (error: Error) => {
      throw error;
    },
  });
  for (const chunk of chunks) parser.execute(chunk);
  return replies;
}

function splitFrames(chunks: readonly Buffer[]): Buffer[] {
  const splitter = new FrameSplitter();
  const frames: Buffer[] = [];
  for (const chunk of chunks) splitter.feed(chunk, (frame) => frames.push(Buffer.from(frame)));
  expect(splitter.pending).toBe(0);
  return frames;
}

const random = rng;

/** A random RESP2 reply, as a server writes it. */
function resp2Reply(next: () => number, depth = 0): string {
  const pick = Math.floor(next() * (depth > 2 ? 5 : 7));
  const text = (): string => Array.from({ length: Math.floor(next() * 12) }, () => 'ab\r\n$*:-+ \u00e9x'[Math.floor(next() * 14)]).join('');
  switch (pick) {
    case 0:
      return `+${text().replaceAll(/[\r\n]/g, '')}\r\n`;
    case 1:
      return `-ERR ${text().replaceAll(/[\r\n]/g, '')}\r\n`;
    case 2:
      return `:${Math.floor((next() - 0.5) * 1e6)}\r\n`;
    case 3: {
      const value = text();
      return `$${Buffer.byteLength(value)}\r\n${value}\r\n`;
    }
    case 4:
      return '$-1\r\n';
    case 5:
      return next() < 0.5 ? '*-1\r\n' : '*0\r\n';
    default: {
      const count = 1 + Math.floor(next() * 4);
      return `*${count}\r\n${Array.from({ length: count }, () => resp2Reply(next, depth + 1)).join('')}`;
    }
  }
}

const RESP3_FRAMES = [
  '_\r\n',
  ',3.14\r\n',
  ',inf\r\n',
  '#t\r\n',
  '(3492890328409238509324850943850943825024385\r\n',
  '!21\r\nSYNTAX invalid syntax\r\n',
  '=15\r\ntxt:Some string\r\n',
  '%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n:2\r\n',
  '~3\r\n:1\r\n:2\r\n_\r\n',
  '>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n',
  '|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n',
  '*2\r\n%1\r\n+k\r\n~1\r\n#f\r\n>0\r\n',
];

describe('frameEnd / FrameSplitter', () => {
  it('finds the frames redis-parser reads, across a split at every byte offset (generated RESP2)', () => {
    for (let seed = 1; seed <= 60; seed += 1) {
      const next = random(seed);
      const stream = Buffer.from(Array.from({ length: 1 + Math.floor(next() * 6) }, () => resp2Reply(next)).join(''), 'utf8');
      const expected = parseWithRedisParser([stream]);
      const whole = splitFrames([stream]);
      expect(whole.length, `seed ${seed}`).toBe(expected.length);
      // Each frame alone is what redis-parser reads as one reply.
      whole.forEach((frame, index) => expect(parseWithRedisParser([frame]), `seed ${seed} frame ${index}`).toEqual([expected[index]]));
      for (let cut = 0; cut <= stream.length; cut += 1) {
        const chunks = [stream.subarray(0, cut), stream.subarray(cut)];
        expect(splitFrames(chunks).map((frame) => frame.toString('latin1')), `seed ${seed} cut ${cut}`).toEqual(whole.map((frame) => frame.toString('latin1')));
        expect(parseWithRedisParser(chunks), `seed ${seed} cut ${cut}`).toEqual(expected);
      }
    }
  });

  it('splits at two offsets and byte by byte alike', () => {
    const next = random(99);
    const stream = Buffer.from(Array.from({ length: 8 }, () => resp2Reply(next)).join(''), 'utf8');
    const whole = splitFrames([stream]).map(String);
    for (let first = 0; first <= stream.length; first += 3) {
      for (let second = first; second <= stream.length; second += 5) {
        expect(splitFrames([stream.subarray(0, first), stream.subarray(first, second), stream.subarray(second)]).map(String)).toEqual(whole);
      }
    }
    expect(splitFrames([...stream].map((byte) => Buffer.from([byte]))).map(String)).toEqual(whole);
  });

  it('finds RESP3 frames (null, double, boolean, big number, bulk error, verbatim, map, set, push, attribute) at every split', () => {
    const stream = Buffer.from(RESP3_FRAMES.join(''), 'latin1');
    const whole = splitFrames([stream]).map((frame) => frame.toString('latin1'));
    expect(whole).toEqual(RESP3_FRAMES);
    for (let cut = 0; cut <= stream.length; cut += 1) {
      expect(splitFrames([stream.subarray(0, cut), stream.subarray(cut)]).map((frame) => frame.toString('latin1'))).toEqual(RESP3_FRAMES);
    }
  });

  it('reports an incomplete frame as -1 and refuses what is not RESP', () => {
    expect(frameEnd(Buffer.from('$5\r\nhel'), 0)).toBe(-1);
    expect(frameEnd(Buffer.from('*2\r\n:1\r\n'), 0)).toBe(-1);
    expect(frameEnd(Buffer.from('*-1\r\n'), 0)).toBe(5);
    expect(() => frameEnd(Buffer.from('?x\r\n'), 0)).toThrow(RespProtocolError);
    expect(() => frameEnd(Buffer.from('$2\r\nabcd'), 0)).toThrow(RespProtocolError);
  });

  it('decodes what the stream reads itself', () => {
    expect(decodeFrame(Buffer.from('*3\r\n$7\r\nmessage\r\n:0\r\n$-1\r\n')).value).toEqual([Buffer.from('message'), 0, null]);
  });
});

describe('CommandReader', () => {
  function readAll(chunks: readonly Buffer[]): string[][] {
    const reader = new CommandReader();
    const commands: string[][] = [];
    for (const chunk of chunks) reader.feed(chunk, ({ argv, raw }) => {
      commands.push(argv.map((arg) => arg.toString('latin1')));
      expect(raw.length).toBeGreaterThan(0);
    });
    expect(reader.pending).toBe(0);
    return commands;
  }

  it('reads the argv ioredis writes, at every split, as redis-parser reads the same bytes', () => {
    for (let seed = 1; seed <= 40; seed += 1) {
      const next = random(seed);
      const commands = Array.from({ length: 1 + Math.floor(next() * 4) }, () =>
        Array.from({ length: 1 + Math.floor(next() * 4) }, () => Buffer.from(Array.from({ length: Math.floor(next() * 9) }, () => Math.floor(next() * 256)))),
      );
      const stream = Buffer.concat(commands.map((argv) => encodeCommand(argv)));
      const expected = parseWithRedisParser([stream]).map((argv) => (argv as Buffer[]).map((arg) => arg.toString('latin1')));
      expect(expected).toEqual(commands.map((argv) => argv.map((arg) => arg.toString('latin1'))));
      for (let cut = 0; cut <= stream.length; cut += 1) {
        expect(readAll([stream.subarray(0, cut), stream.subarray(cut)]), `seed ${seed} cut ${cut}`).toEqual(expected);
      }
    }
  });

  it('reads inline commands', () => {
    expect(readAll([Buffer.from('PING\r\nset  a\tb\r\n\r\nGET a\n')])).toEqual([['PING'], ['set', 'a', 'b'], ['GET', 'a']]);
  });

  it('keeps each command\'s exact bytes', () => {
    const reader = new CommandReader();
    const raws: string[] = [];
    const stream = Buffer.concat([encodeCommand(['SET', 'k', 'v']), encodeCommand(['GET', 'k'])]);
    reader.feed(stream, ({ raw }) => raws.push(raw.toString('latin1')));
    expect(raws.join('')).toBe(stream.toString('latin1'));
  });
});
