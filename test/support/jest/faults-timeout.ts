import { jest } from '@jest/globals';

// Each fault scenario runs the four apps under load for tens of seconds, then waits for the drain.
jest.setTimeout(900_000);
