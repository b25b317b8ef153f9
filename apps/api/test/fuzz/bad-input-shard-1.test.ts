import { defineFuzzShard } from './lib/shard.js';

// Property-based bad-input tests, shard 1 of lib/shard.ts SHARDS (see docs/ARCHITECTURE.md "Faults and bad input").
await defineFuzzShard(0);
