import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { grows, trend } from '../../bench/trend.js';

describe('the soak judges growth against its own noise', () => {
  // A deterministic wobble, as garbage collection makes of RSS: ±8 around 150.
  const wobble = (i: number) => 150 + 8 * Math.sin(i * 1.7);

  it('finds the slope of a straight line, and no noise around it', () => {
    const { slope, noise } = trend(Array.from({ length: 10 }, (_, i) => [i, 3 * i + 2] as [number, number]));
    assert.ok(Math.abs(slope - 3) < 1e-9);
    assert.ok(noise < 1e-9);
  });

  it('a flat series that wobbles has not grown', () => {
    const points = Array.from({ length: 60 }, (_, i) => [i / 6, wobble(i)] as [number, number]);
    assert.equal(grows(points, 16).grew, false);
  });

  it('a leak of 5 MiB a minute under the same wobble has grown, over ten minutes', () => {
    const points = Array.from({ length: 60 }, (_, i) => [i / 6, wobble(i) + 5 * (i / 6)] as [number, number]);
    const verdict = grows(points, 16);
    assert.equal(verdict.grew, true);
    assert.ok(verdict.growth > 40 && verdict.growth < 60, `growth ${verdict.growth}`);
  });

  it('growth under the floor is not a leak (a few MiB come and go)', () => {
    const points = Array.from({ length: 60 }, (_, i) => [i / 6, 150 + 0.5 * (i / 6)] as [number, number]);
    assert.equal(grows(points, 16).grew, false);
  });
});
