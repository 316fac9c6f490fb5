import { jest } from '@jest/globals';

/**
 * Fakes the clock `Date` reads (new Date(), Date.now()) and nothing else: timers, immediates and
 * ticks stay real, so drivers and the apps' own scheduling go on working. jest.useRealTimers()
 * undoes it.
 */
export function fakeDate(now: number | Date): void {
  jest.useFakeTimers({
    now,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}
