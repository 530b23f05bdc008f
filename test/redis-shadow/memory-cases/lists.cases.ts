import type { ConformanceCase } from './case.ts';

export const listCases: ConformanceCase[] = [
  {
    name: 'LPUSH RPUSH LPUSHX RPUSHX LLEN',
    commands: [
      ['LPUSH', 'l', 'a', 'b', 'c'], ['RPUSH', 'l', 'x', 'y'], ['LRANGE', 'l', '0', '-1'], ['LLEN', 'l'], ['LLEN', 'missing'], ['LPUSHX', 'missing', 'a'], ['RPUSHX', 'missing', 'a', 'b'], ['EXISTS', 'missing'],
      ['LPUSHX', 'l', '1', '2'], ['RPUSHX', 'l', '9'], ['LRANGE', 'l', '0', '-1'], ['RPUSH', 'l', 'a', 'a'], ['LLEN', 'l'], ['TYPE', 'l'], ['RPUSH', 'e', ''], ['LRANGE', 'e', '0', '-1'], ['LLEN', 'e'],
      ['RPUSH', 'u', 'ü', '日本'], ['LPUSH', 'u', 'é'], ['LRANGE', 'u', '0', '-1'], ['LINDEX', 'u', '1'],
    ],
  },
  {
    name: 'list commands with the wrong number of arguments',
    commands: [
      ['LPUSH', 'l'], ['RPUSH'], ['LPUSHX', 'l'], ['RPUSHX', 'l'], ['LPOP'], ['RPOP', 'l', '1', '2'], ['LPOP', 'l', '1', '2'], ['LLEN'], ['LRANGE', 'l', '0'], ['LINDEX', 'l'], ['LSET', 'l', '0'], ['LREM', 'l', '0'],
      ['LTRIM', 'l', '0'], ['LINSERT', 'l', 'BEFORE', 'x'], ['LPOS', 'l'], ['LMOVE', 'a', 'b', 'LEFT'], ['RPOPLPUSH', 'a'], ['LMPOP', '1', 'l'], ['LMPOP', '1'], ['EXISTS', 'l'],
    ],
  },
  {
    name: 'list commands on a key of another type',
    commands: [
      ['SET', 's', 'v'], ['LPUSH', 's', 'a'], ['RPUSH', 's', 'a'], ['LPUSHX', 's', 'a'], ['RPUSHX', 's', 'a'], ['LPOP', 's'], ['RPOP', 's', '0'], ['LPOP', 's', 'abc'], ['LLEN', 's'], ['LRANGE', 's', '0', '-1'],
      ['LRANGE', 's', 'x', '0'], ['LINDEX', 's', '0'], ['LINDEX', 's', 'abc'], ['LSET', 's', '0', 'x'], ['LSET', 's', 'abc', 'x'], ['LREM', 's', '0', 'a'], ['LREM', 's', 'x', 'a'], ['LTRIM', 's', '0', '1'],
      ['LTRIM', 's', 'x', '1'], ['LINSERT', 's', 'BEFORE', 'a', 'b'], ['LINSERT', 's', 'MIDDLE', 'a', 'b'], ['LPOS', 's', 'a'], ['LPOS', 's', 'a', 'RANK', '0'], ['LMOVE', 's', 'd', 'LEFT', 'RIGHT'],
      ['RPOPLPUSH', 's', 'd'], ['LMPOP', '1', 's', 'LEFT'], ['GET', 's'], ['HSET', 'h', 'f', 'v'], ['LPUSH', 'h', 'a'], ['LRANGE', 'h', '0', '-1'], ['EXISTS', 'd'],
    ],
  },
  {
    name: 'LPOP RPOP with and without a count; the key goes with its last element',
    commands: [
      ['RPUSH', 'l', 'a', 'b', 'c', 'd', 'e'], ['LPOP', 'l'], ['RPOP', 'l'], ['LPOP', 'l', '1'], ['RPOP', 'l', '0'], ['LPOP', 'l', '0'], ['LPOP', 'missing', '0'], ['LPOP', 'missing'], ['RPOP', 'missing', '2'],
      ['LPOP', 'l', '-1'], ['LPOP', 'l', 'abc'], ['LPOP', 'l', '-0'], ['LPOP', 'l', '1.5'], ['RPOP', 'l', '9223372036854775808'], ['LPOP', 'missing', '-1'], ['LPOP', 'missing', 'abc'], ['LRANGE', 'l', '0', '-1'],
      ['RPOP', 'l', '5'], ['EXISTS', 'l'], ['RPUSH', 'l', 'x', 'y', 'z'], ['LPOP', 'l', '9223372036854775807'], ['EXISTS', 'l'], ['RPUSH', 'l', 'x'], ['RPOP', 'l'], ['EXISTS', 'l'], ['TYPE', 'l'], ['LPOP', 'l'],
    ],
  },
  {
    name: 'LRANGE with every kind of range',
    commands: [
      ['RPUSH', 'l', 'a', 'b', 'c', 'd', 'e'], ['LRANGE', 'l', '0', '-1'], ['LRANGE', 'l', '1', '3'], ['LRANGE', 'l', '-3', '-2'], ['LRANGE', 'l', '-100', '100'], ['LRANGE', 'l', '5', '10'], ['LRANGE', 'l', '4', '4'],
      ['LRANGE', 'l', '3', '1'], ['LRANGE', 'l', '-1', '-2'], ['LRANGE', 'l', '0', '-6'], ['LRANGE', 'l', '0', '-5'], ['LRANGE', 'l', '-9223372036854775808', '9223372036854775807'], ['LRANGE', 'l', '9223372036854775807', '0'],
      ['LRANGE', 'l', 'a', '0'], ['LRANGE', 'l', '0', 'b'], ['LRANGE', 'l', '-0', '1'], ['LRANGE', 'l', '0', '9223372036854775808'], ['LRANGE', 'missing', '0', '-1'], ['LRANGE', 'missing', 'x', '0'],
    ],
  },
  {
    name: 'LINDEX LSET',
    commands: [
      ['RPUSH', 'l', 'a', 'b', 'c'], ['LINDEX', 'l', '0'], ['LINDEX', 'l', '-1'], ['LINDEX', 'l', '-3'], ['LINDEX', 'l', '-4'], ['LINDEX', 'l', '3'], ['LINDEX', 'l', 'abc'], ['LINDEX', 'l', '-0'],
      ['LINDEX', 'l', '9223372036854775807'], ['LINDEX', 'l', '-9223372036854775808'], ['LINDEX', 'missing', '0'], ['LINDEX', 'missing', 'abc'], ['LSET', 'l', '0', 'A'], ['LSET', 'l', '-1', 'C'],
      ['LSET', 'l', '3', 'x'], ['LSET', 'l', '-4', 'x'], ['LSET', 'l', 'abc', 'x'], ['LSET', 'l', '-0', 'x'], ['LSET', 'missing', '0', 'x'], ['LSET', 'missing', 'abc', 'x'], ['EXISTS', 'missing'], ['LRANGE', 'l', '0', '-1'],
    ],
  },
  {
    name: 'LREM from the head, from the tail, everywhere',
    commands: [
      ['RPUSH', 'l', 'a', 'b', 'a', 'c', 'a', 'b', 'a'], ['LREM', 'l', '2', 'a'], ['LRANGE', 'l', '0', '-1'], ['LREM', 'l', '-1', 'b'], ['LRANGE', 'l', '0', '-1'], ['LREM', 'l', '0', 'a'], ['LRANGE', 'l', '0', '-1'],
      ['LREM', 'l', '0', 'zz'], ['LREM', 'l', '5', 'b'], ['LREM', 'l', 'x', 'c'], ['LREM', 'l', '-0', 'c'], ['LREM', 'missing', '0', 'a'], ['LREM', 'missing', 'x', 'a'], ['LREM', 'l', '-9223372036854775808', 'c'],
      ['EXISTS', 'l'], ['RPUSH', 'm', 'x', 'x', 'x'], ['LREM', 'm', '-2', 'x'], ['LRANGE', 'm', '0', '-1'], ['LREM', 'm', '9223372036854775807', 'x'], ['EXISTS', 'm'],
    ],
  },
  {
    name: 'LTRIM',
    commands: [
      ['RPUSH', 'l', 'a', 'b', 'c', 'd', 'e', 'f'], ['LTRIM', 'l', '1', '-2'], ['LRANGE', 'l', '0', '-1'], ['LTRIM', 'l', '-3', '100'], ['LRANGE', 'l', '0', '-1'], ['LTRIM', 'l', '-100', '1'], ['LRANGE', 'l', '0', '-1'],
      ['LTRIM', 'l', 'x', '1'], ['LTRIM', 'l', '0', '-0'], ['LTRIM', 'missing', '0', '1'], ['LTRIM', 'missing', 'x', '1'], ['EXISTS', 'missing'], ['LTRIM', 'l', '1', '0'], ['EXISTS', 'l'],
      ['RPUSH', 'm', 'a', 'b'], ['LTRIM', 'm', '5', '10'], ['EXISTS', 'm'], ['RPUSH', 'n', 'a', 'b'], ['LTRIM', 'n', '-1', '-2'], ['EXISTS', 'n'], ['RPUSH', 'o', 'a', 'b', 'c'], ['LTRIM', 'o', '0', '0'], ['LRANGE', 'o', '0', '-1'],
    ],
  },
  {
    name: 'LINSERT',
    commands: [
      ['RPUSH', 'l', 'a', 'b', 'a'], ['LINSERT', 'l', 'BEFORE', 'a', 'x'], ['LINSERT', 'l', 'after', 'a', 'y'], ['LINSERT', 'l', 'After', 'b', 'z'], ['LRANGE', 'l', '0', '-1'], ['LINSERT', 'l', 'BEFORE', 'nope', 'w'],
      ['LINSERT', 'l', 'MIDDLE', 'a', 'w'], ['LINSERT', 'missing', 'BEFORE', 'a', 'w'], ['LINSERT', 'missing', 'MIDDLE', 'a', 'w'], ['EXISTS', 'missing'], ['LINSERT', 'l', 'AFTER', 'a', ''], ['LRANGE', 'l', '0', '-1'], ['LLEN', 'l'],
    ],
  },
  {
    name: 'LPOS with RANK COUNT MAXLEN',
    commands: [
      ['RPUSH', 'l', 'a', 'b', 'a', 'c', 'a', 'b'], ['LPOS', 'l', 'a'], ['LPOS', 'l', 'b'], ['LPOS', 'l', 'z'], ['LPOS', 'l', 'a', 'RANK', '2'], ['LPOS', 'l', 'a', 'RANK', '-1'], ['LPOS', 'l', 'a', 'RANK', '-3'],
      ['LPOS', 'l', 'a', 'RANK', '4'], ['LPOS', 'l', 'a', 'COUNT', '0'], ['LPOS', 'l', 'a', 'COUNT', '2'], ['LPOS', 'l', 'a', 'COUNT', '10'], ['LPOS', 'l', 'z', 'COUNT', '1'], ['LPOS', 'l', 'a', 'RANK', '-1', 'COUNT', '0'],
      ['LPOS', 'l', 'a', 'RANK', '2', 'COUNT', '1'], ['LPOS', 'l', 'a', 'rank', '-2', 'count', '2'], ['LPOS', 'l', 'a', 'MAXLEN', '2'], ['LPOS', 'l', 'c', 'MAXLEN', '3'], ['LPOS', 'l', 'a', 'COUNT', '0', 'MAXLEN', '4'],
      ['LPOS', 'l', 'a', 'RANK', '-1', 'MAXLEN', '1'], ['LPOS', 'l', 'a', 'RANK', '-2', 'MAXLEN', '3'], ['LPOS', 'l', 'a', 'COUNT', '0', 'MAXLEN', '0'], ['LPOS', 'l', 'a', 'RANK', '1', 'RANK', '2'],
      ['LPOS', 'l', 'a', 'RANK', '9223372036854775807'], ['LPOS', 'l', 'a', 'RANK', '-9223372036854775807', 'COUNT', '1'], ['LPOS', 'l', 'a', 'RANK', '-9223372036854775808'],
      ['LPOS', 'l', 'a', 'RANK', '-9223372036854775808', 'COUNT', '1'], ['LPOS', 'l', 'a', 'RANK', '-9223372036854775808', 'COUNT', '0', 'MAXLEN', '2'],
      ['LPOS', 'l', 'a', 'RANK', '0'], ['LPOS', 'l', 'a', 'RANK', 'abc'], ['LPOS', 'l', 'a', 'RANK', '-0'], ['LPOS', 'l', 'a', 'COUNT', '-1'], ['LPOS', 'l', 'a', 'COUNT', 'abc'], ['LPOS', 'l', 'a', 'MAXLEN', '-1'],
      ['LPOS', 'l', 'a', 'MAXLEN', 'abc'], ['LPOS', 'l', 'a', 'COUNT'], ['LPOS', 'l', 'a', 'BOGUS', '1'], ['LPOS', 'missing', 'a'], ['LPOS', 'missing', 'a', 'COUNT', '0'], ['LPOS', 'missing', 'a', 'RANK', '0'],
    ],
  },
  {
    name: 'LMOVE and RPOPLPUSH in every direction',
    commands: [
      ['RPUSH', 'src', 'a', 'b', 'c', 'd'], ['LMOVE', 'src', 'dst', 'LEFT', 'RIGHT'], ['LMOVE', 'src', 'dst', 'RIGHT', 'LEFT'], ['LMOVE', 'src', 'dst', 'left', 'left'], ['LRANGE', 'dst', '0', '-1'],
      ['LMOVE', 'dst', 'dst', 'LEFT', 'RIGHT'], ['LRANGE', 'dst', '0', '-1'], ['LMOVE', 'dst', 'dst', 'RIGHT', 'RIGHT'], ['LRANGE', 'dst', '0', '-1'], ['LMOVE', 'src', 'dst', 'RIGHT', 'RIGHT'], ['EXISTS', 'src'],
      ['LRANGE', 'dst', '0', '-1'], ['LMOVE', 'missing', 'dst', 'LEFT', 'LEFT'], ['LMOVE', 'dst', 'x', 'MIDDLE', 'LEFT'], ['LMOVE', 'missing', 'x', 'LEFT', 'UP'], ['SET', 's', 'v'], ['LMOVE', 'dst', 's', 'LEFT', 'LEFT'],
      ['LMOVE', 'missing', 's', 'LEFT', 'LEFT'], ['LLEN', 'dst'], ['RPOPLPUSH', 'dst', 'other'], ['RPOPLPUSH', 'dst', 's'], ['RPOPLPUSH', 'missing', 's'], ['RPOPLPUSH', 'other', 'other'], ['LRANGE', 'other', '0', '-1'],
      ['RPUSH', 'one', 'x'], ['RPOPLPUSH', 'one', 'one'], ['LRANGE', 'one', '0', '-1'], ['RPOPLPUSH', 'one', 'two'], ['EXISTS', 'one'], ['LRANGE', 'two', '0', '-1'],
    ],
  },
  {
    name: 'LMPOP',
    commands: [
      ['RPUSH', 'a', '1', '2', '3'], ['RPUSH', 'b', 'x', 'y'], ['LMPOP', '2', 'missing', 'a', 'LEFT'], ['LMPOP', '2', 'missing', 'a', 'right', 'COUNT', '1'], ['LMPOP', '1', 'a', 'LEFT', 'COUNT', '10'], ['EXISTS', 'a'],
      ['LMPOP', '3', 'a', 'missing', 'b', 'RIGHT', 'count', '5'], ['EXISTS', 'b'], ['LMPOP', '2', 'a', 'b', 'LEFT'], ['RPUSH', 'c', 'z'], ['SET', 's', 'v'], ['LMPOP', '2', 's', 'c', 'LEFT'],
      ['LMPOP', '2', 'missing', 's', 'LEFT'], ['LMPOP', '2', 'c', 's', 'LEFT'], ['LMPOP', '0', 'c', 'LEFT'], ['LMPOP', '-1', 'c', 'LEFT'], ['LMPOP', 'abc', 'c', 'LEFT'], ['LMPOP', '-0', 'c', 'LEFT'],
      ['LMPOP', '2', 'c', 'LEFT'], ['LMPOP', '5', 'c', 'LEFT'], ['LMPOP', '1', 'c', 'MIDDLE'], ['LMPOP', '1', 'c', 'LEFT', 'COUNT', '0'], ['LMPOP', '1', 'c', 'LEFT', 'COUNT', '-1'], ['LMPOP', '1', 'c', 'LEFT', 'COUNT', 'x'],
      ['LMPOP', '1', 'c', 'LEFT', 'COUNT', '1', 'COUNT', '1'], ['LMPOP', '1', 'c', 'LEFT', 'BOGUS'], ['LMPOP', '1', 'c', 'LEFT', 'COUNT'], ['LMPOP', '1', 'c', 'extra', 'LEFT'], ['LMPOP', '1', 'missing', 'LEFT', 'COUNT', '0'],
      ['RPUSH', 'c', 'w'], ['LMPOP', '1', 'c', 'RIGHT', 'COUNT', '9223372036854775807'], ['EXISTS', 'c'],
    ],
  },
  {
    name: 'a list keeps its expiry when changed',
    commands: [
      ['RPUSH', 'l', 'a', 'b', 'c'], ['EXPIRE', 'l', '100'], ['LPUSH', 'l', 'z'], ['LSET', 'l', '0', 'y'], ['LINSERT', 'l', 'AFTER', 'a', 'q'], ['LREM', 'l', '1', 'q'], ['LTRIM', 'l', '0', '2'], ['LPOP', 'l'], ['TTL', 'l'],
      ['LMOVE', 'l', 'l', 'LEFT', 'RIGHT'], ['TTL', 'l'], ['RPOP', 'l', '2'], ['TTL', 'l'], ['RPUSH', 'l', 'new'], ['TTL', 'l'],
    ],
  },
];
