import type { ConformanceCase } from './case.ts';

const LONG = 'x'.repeat(70);

export const hashCases: ConformanceCase[] = [
  {
    name: 'HSET HSETNX HMSET HGET, in a listpack hash\'s order',
    commands: [
      ['HSET', 'h', 'f1', 'v1', 'f2', 'v2'], ['HSET', 'h', 'f1', 'x', 'f3', 'y'], ['HSET', 'h', 'f3', 'z'], ['HGET', 'h', 'f1'], ['HGET', 'h', 'nope'], ['HGET', 'missing', 'f'],
      ['HSETNX', 'h', 'f1', 'z'], ['HSETNX', 'h', 'f4', 'z'], ['HSETNX', 'new', 'f', 'v'], ['HGETALL', 'new'], ['HMSET', 'h', 'a', '1', 'b', '2'], ['HMSET', 'h2', 'a', '1'],
      ['HGETALL', 'h'], ['HKEYS', 'h'], ['HVALS', 'h'], ['HLEN', 'h'], ['HSET', 'h', 'a', '1', 'a', '2'], ['HGET', 'h', 'a'], ['HSET', 'h', 'e', ''], ['HGET', 'h', 'e'], ['HSTRLEN', 'h', 'e'], ['TYPE', 'h'],
    ],
  },
  {
    name: 'hash commands with the wrong number of arguments',
    commands: [
      ['HSET', 'h', 'f'], ['HSET', 'h', 'a', '1', 'b'], ['HMSET', 'h', 'a'], ['HMSET', 'h', 'a', '1', 'b'], ['HSETNX', 'h', 'f'], ['HGET', 'h'], ['HMGET', 'h'], ['HGETALL'], ['HDEL', 'h'],
      ['HLEN'], ['HEXISTS', 'h'], ['HKEYS'], ['HVALS', 'h', 'x'], ['HINCRBY', 'h', 'f'], ['HINCRBYFLOAT', 'h', 'f'], ['HSTRLEN', 'h'], ['HRANDFIELD'], ['HSCAN', 'h'], ['EXISTS', 'h'],
    ],
  },
  {
    name: 'hash commands on a key of another type',
    commands: [
      ['SET', 's', 'v'], ['HSET', 's', 'a', '1'], ['HSET', 's', 'a', '1', 'b'], ['HSETNX', 's', 'a', '1'], ['HMSET', 's', 'a', '1'], ['HGET', 's', 'a'], ['HMGET', 's', 'a'], ['HGETALL', 's'], ['HDEL', 's', 'a'],
      ['HLEN', 's'], ['HEXISTS', 's', 'a'], ['HKEYS', 's'], ['HVALS', 's'], ['HINCRBY', 's', 'a', '1'], ['HINCRBY', 's', 'a', 'x'], ['HINCRBYFLOAT', 's', 'a', '1'], ['HINCRBYFLOAT', 's', 'a', 'x'],
      ['HSTRLEN', 's', 'a'], ['HRANDFIELD', 's'], ['HRANDFIELD', 's', '0'], ['HRANDFIELD', 's', '1', 'BOGUS'], ['HSCAN', 's', '0'], ['HSCAN', 's', '0', 'COUNT', '0'], ['HSCAN', 's', 'x'], ['GET', 's'],
      ['RPUSH', 'l', 'a'], ['HGET', 'l', 'a'], ['HSET', 'l', 'a', '1'], ['LRANGE', 'l', '0', '-1'],
    ],
  },
  {
    name: 'HMGET HDEL HEXISTS HSTRLEN HLEN, and the key going with its last field',
    commands: [
      ['HSET', 'h', 'a', '1', 'b', '22', 'c', '333', 'n', '-12345'], ['HMGET', 'h', 'a', 'nope', 'c', 'a'], ['HMGET', 'missing', 'a', 'b'], ['HEXISTS', 'h', 'a'], ['HEXISTS', 'h', 'nope'], ['HEXISTS', 'missing', 'a'],
      ['HSTRLEN', 'h', 'c'], ['HSTRLEN', 'h', 'n'], ['HSTRLEN', 'h', 'nope'], ['HSTRLEN', 'missing', 'a'], ['HLEN', 'h'], ['HLEN', 'missing'], ['HDEL', 'h', 'a', 'a', 'nope'], ['HDEL', 'missing', 'a'],
      ['HLEN', 'h'], ['HDEL', 'h', 'b', 'c'], ['EXISTS', 'h'], ['HDEL', 'h', 'n'], ['EXISTS', 'h'], ['TYPE', 'h'], ['HGETALL', 'h'], ['HKEYS', 'h'], ['HVALS', 'h'], ['HLEN', 'h'], ['HGET', 'h', 'n'],
    ],
  },
  {
    name: 'HKEYS HVALS HGETALL on a hash kept as a hash table',
    unordered: ['HKEYS', 'HVALS', 'HGETALL', 'HMGET'],
    commands: [
      ['HSET', 'h', 'one', '1', 'two', '2', 'three', '3', 'long', LONG], ['HKEYS', 'h'], ['HVALS', 'h'], ['HGETALL', 'h'], ['HLEN', 'h'], ['HSTRLEN', 'h', 'long'], ['HDEL', 'h', 'long'],
      ['HMGET', 'h', 'one', 'long'], ['HKEYS', 'h'], ['HGETALL', 'h'],
    ],
  },
  {
    name: 'binary and UTF-8 fields and values',
    commands: [
      ['HSET', 'h', 'ü', 'é', 'naïve', '日本', '', 'empty field'], ['HGET', 'h', 'ü'], ['HGET', 'h', ''], ['HSTRLEN', 'h', 'naïve'], ['HKEYS', 'h'], ['HVALS', 'h'], ['HEXISTS', 'h', 'u'], ['HDEL', 'h', 'ü'], ['HGETALL', 'h'],
    ],
  },
  {
    name: 'HINCRBY: counters, values that are not integers, overflow',
    commands: [
      ['HINCRBY', 'h', 'n', '5'], ['HINCRBY', 'h', 'n', '-7'], ['HGET', 'h', 'n'], ['HINCRBY', 'h', 'z', '0'], ['HSET', 'h', 's', 'abc', 'sp', ' 1', 'plus', '+1', 'neg0', '-0', 'lead', '007', 'e', '', 'f', '1.5', 'big', '9223372036854775808'],
      ['HINCRBY', 'h', 's', '1'], ['HINCRBY', 'h', 'sp', '1'], ['HINCRBY', 'h', 'plus', '1'], ['HINCRBY', 'h', 'neg0', '1'], ['HINCRBY', 'h', 'lead', '1'], ['HINCRBY', 'h', 'e', '1'], ['HINCRBY', 'h', 'f', '1'], ['HINCRBY', 'h', 'big', '1'],
      ['HINCRBY', 'h', 'n', 'abc'], ['HINCRBY', 'h', 'n', '1.5'], ['HINCRBY', 'h', 'n', '-0'], ['HINCRBY', 'h', 'n', '9223372036854775808'], ['HINCRBY', 'h', 'n', ''], ['HINCRBY', 'missing', 'n', 'x'], ['EXISTS', 'missing'],
      ['HSET', 'h', 'max', '9223372036854775806'], ['HINCRBY', 'h', 'max', '1'], ['HINCRBY', 'h', 'max', '1'], ['HGET', 'h', 'max'], ['HINCRBY', 'h', 'min', '-9223372036854775808'], ['HINCRBY', 'h', 'min', '-1'], ['HINCRBY', 'h', 'min', '9223372036854775807'],
      ['HINCRBY', 'h', 'n', '-9223372036854775808'], ['HGET', 'h', 'n'], ['HINCRBY', 'fresh', 'a', '-3'], ['HGETALL', 'fresh'],
    ],
  },
  {
    name: 'HINCRBYFLOAT: decimal, exponent and hexadecimal forms, infinities, values that are not floats',
    commands: [
      ['HINCRBYFLOAT', 'h', 'f', '10.5'], ['HINCRBYFLOAT', 'h', 'f', '0.1'], ['HINCRBYFLOAT', 'h', 'f', '-5'], ['HGET', 'h', 'f'], ['HINCRBYFLOAT', 'h', 'g', '0.1'], ['HINCRBYFLOAT', 'h', 'g', '0.2'],
      ['HINCRBYFLOAT', 'h', 'e', '5.0e3'], ['HINCRBYFLOAT', 'h', 'e', '1E+2'], ['HINCRBYFLOAT', 'h', 'e', '-1e-2'], ['HINCRBYFLOAT', 'h', 'd', '.5'], ['HINCRBYFLOAT', 'h', 'd', '5.'], ['HINCRBYFLOAT', 'h', 'd', '+1.5'],
      ['HINCRBYFLOAT', 'h', 'x', '0x10'], ['HINCRBYFLOAT', 'h', 'x', '-0x1p-2'], ['HINCRBYFLOAT', 'h', 'x', '0X.8P1'], ['HINCRBYFLOAT', 'h', 'x', '0x'], ['HINCRBYFLOAT', 'h', 'x', '0x1p'], ['HINCRBYFLOAT', 'h', 'x', '1e'],
      ['HINCRBYFLOAT', 'h', 'z', '-0.0'], ['HINCRBYFLOAT', 'h', 'tiny', '1e-400'], ['HINCRBYFLOAT', 'h', 'tiny', '1e-5000'], ['HINCRBYFLOAT', 'h', 'tiny', '1.8e-4951'], ['HINCRBYFLOAT', 'h', 'tiny', '1.9e-4951'],
      ['HINCRBYFLOAT', 'h', 'tiny', '0x1p-16446'], ['HINCRBYFLOAT', 'h', 'tiny', '0x1.8p-16446'], ['HINCRBYFLOAT', 'h', 'tiny', '0e-99999'],
      ['HINCRBYFLOAT', 'h', 'f', 'inf'], ['HINCRBYFLOAT', 'h', 'f', '-Infinity'], ['HINCRBYFLOAT', 'h', 'f', 'nan'], ['HINCRBYFLOAT', 'h', 'f', 'abc'], ['HINCRBYFLOAT', 'h', 'f', '1.5 '], ['HINCRBYFLOAT', 'h', 'f', ' 1.5'], ['HINCRBYFLOAT', 'h', 'f', ''],
      ['HSET', 'h', 'i', 'inf', 'n', 'nan', 's', ' 1.5', 'e2', '', 'hx', '0x10', 'int', '7', 'w', 'abc'], ['HINCRBYFLOAT', 'h', 'i', '1'], ['HINCRBYFLOAT', 'h', 'n', '1'], ['HINCRBYFLOAT', 'h', 's', '1'],
      ['HINCRBYFLOAT', 'h', 'e2', '1'], ['HINCRBYFLOAT', 'h', 'hx', '1'], ['HINCRBYFLOAT', 'h', 'int', '1.25'], ['HINCRBYFLOAT', 'h', 'w', '1'], ['HINCRBYFLOAT', 'missing', 'f', 'x'], ['EXISTS', 'missing'],
      ['HINCRBYFLOAT', 'h', 'big', '1e20'], ['HINCRBYFLOAT', 'h', 'big', '1'], ['HINCRBYFLOAT', 'h', 'huge', '1e308'], ['HINCRBYFLOAT', 'h', 'huge', '1e308'], ['HINCRBYFLOAT', 'h', 'vast', '1e400'],
      ['HINCRBYFLOAT', 'h', 'vast', '-1e400'], ['HINCRBYFLOAT', 'h', 'max', '1e4932'], ['HINCRBYFLOAT', 'h', 'max', '1e4932'], ['HINCRBYFLOAT', 'h', 'max', '1e4933'], ['HINCRBYFLOAT', 'h', 'p', '123456789.987654321'], ['HINCRBY', 'h', 'g', '1'], ['HINCRBYFLOAT', 'h', 'int', '0.75'], ['HINCRBY', 'h', 'int', '1'], ['HSTRLEN', 'h', 'f'],
    ],
  },
  {
    name: 'HRANDFIELD: counts on a one-field hash, counts beyond the hash, errors',
    unordered: ['HRANDFIELD'],
    commands: [
      ['HRANDFIELD', 'missing'], ['HRANDFIELD', 'missing', '3'], ['HRANDFIELD', 'missing', '-3', 'WITHVALUES'], ['HRANDFIELD', 'missing', '0'], ['HSET', 'one', 'f', 'v'], ['HRANDFIELD', 'one'],
      ['HRANDFIELD', 'one', '1'], ['HRANDFIELD', 'one', '5'], ['HRANDFIELD', 'one', '-3'], ['HRANDFIELD', 'one', '-3', 'WITHVALUES'], ['HRANDFIELD', 'one', '2', 'withvalues'], ['HRANDFIELD', 'one', '0'],
      ['HRANDFIELD', 'one', '0', 'WITHVALUES'], ['HSET', 'h', 'a', '1', 'b', '2', 'c', '3'], ['HRANDFIELD', 'h', '3'], ['HRANDFIELD', 'h', '10'], ['HRANDFIELD', 'h', '10', 'WITHVALUES'],
      ['HRANDFIELD', 'h', '9223372036854775807'], ['HRANDFIELD', 'h', '-9223372036854775808'], ['HRANDFIELD', 'h', '-9223372036854775808', 'WITHVALUES'], ['HRANDFIELD', 'h', '4611686018427387904', 'WITHVALUES'],
      ['HRANDFIELD', 'h', '-4611686018427387904', 'WITHVALUES'], ['HRANDFIELD', 'h', '9223372036854775807', 'WITHVALUES'], ['HRANDFIELD', 'h', '4611686018427387903', 'WITHVALUES'], ['HRANDFIELD', 'h', 'abc'], ['HRANDFIELD', 'h', '-0'],
      ['HRANDFIELD', 'h', '1.5'], ['HRANDFIELD', 'h', '1', 'BOGUS'], ['HRANDFIELD', 'h', '1', 'WITHVALUES', 'x'], ['HRANDFIELD', 'missing', 'abc', 'BOGUS'], ['HRANDFIELD', 'missing', '1', 'BOGUS'],
    ],
  },
  {
    name: 'HSCAN: a listpack hash whole in one reply, MATCH, cursors, errors',
    commands: [
      ['HSET', 'h', 'a', '1', 'b', '2', 'c', '3', 'ab', '4', 'abc', '5'], ['HSCAN', 'h', '0'], ['HSCAN', 'h', '0', 'COUNT', '1'], ['HSCAN', 'h', '5', 'COUNT', '2'], ['HSCAN', 'h', '0', 'MATCH', 'a*'],
      ['HSCAN', 'h', '0', 'match', '?b*', 'count', '100'], ['HSCAN', 'h', '0', 'MATCH', 'nothing*'], ['HSCAN', 'h', '0', 'MATCH', '*'], ['HSCAN', 'h', '0', 'COUNT', '1', 'COUNT', '2'], ['HSCAN', 'h', '0', 'MATCH', 'a', 'MATCH', 'b'],
      ['HSCAN', 'h', '-1'], ['HSCAN', 'h', '+1'], ['HSCAN', 'h', ''], ['HSCAN', 'h', '18446744073709551615'], ['HSCAN', 'h', '-18446744073709551615'], ['HSCAN', 'h', '18446744073709551616'], ['HSCAN', 'h', ' 1'],
      ['HSCAN', 'h', '1 '], ['HSCAN', 'h', 'x'], ['HSCAN', 'h', '0x10'], ['HSCAN', 'h', '-'], ['HSCAN', 'h', '+'], ['HSCAN', 'h', '1.5'], ['HSCAN', 'h', '0', 'COUNT', '0'], ['HSCAN', 'h', '0', 'COUNT', '-1'],
      ['HSCAN', 'h', '0', 'COUNT', 'abc'], ['HSCAN', 'h', '0', 'COUNT', '-0'], ['HSCAN', 'h', '0', 'COUNT'], ['HSCAN', 'h', '0', 'MATCH'], ['HSCAN', 'h', '0', 'TYPE', 'string'], ['HSCAN', 'h', '0', 'NOVALUES'],
      ['HSCAN', 'missing', '0'], ['HSCAN', 'missing', '0', 'COUNT', '0'], ['HSCAN', 'missing', '0', 'TYPE', 'string'], ['HSCAN', 'missing', 'x'],
      ['HSET', 'big', 'f', LONG], ['HSCAN', 'big', '0'], ['HSCAN', 'big', '0', 'MATCH', 'g*'],
    ],
  },
  {
    name: 'a hash keeps its expiry when changed',
    commands: [
      ['HSET', 'h', 'a', '1'], ['EXPIRE', 'h', '100'], ['HSET', 'h', 'b', '2'], ['HINCRBY', 'h', 'a', '1'], ['HINCRBYFLOAT', 'h', 'a', '1.5'], ['HSETNX', 'h', 'c', '3'], ['HDEL', 'h', 'b'], ['TTL', 'h'],
      ['HDEL', 'h', 'a', 'c'], ['TTL', 'h'], ['HSET', 'h', 'a', '1'], ['TTL', 'h'],
    ],
  },
];
