import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { formatMoney, minorUnitsOf } from '../../apps/admin/web/src/money.js';

describe("the dashboard's money format", () => {
  it('applies the currency’s minor units, in the locale given', () => {
    assert.equal(formatMoney(2450, 'USD', 'en-US'), '$24.50');
    assert.equal(formatMoney('5', 'EUR', 'de-DE'), '0,05\u00a0€');
    assert.equal(formatMoney(2500, 'JPY', 'en-US'), '¥2,500');
    assert.equal(formatMoney(1234, 'KWD', 'en-US'), 'KWD\u00a01.234');
    assert.equal(formatMoney(-150, 'USD', 'en-US'), '-$1.50');
  });

  it('is exact beyond 2^53 (the digits are split as text, never a float)', () => {
    assert.equal(formatMoney('123456789012345678901', 'USD', 'en-US'), '$1,234,567,890,123,456,789.01');
  });

  it('keeps minor units and the code for a currency Intl does not know, and shows a non-number as given', () => {
    assert.equal(formatMoney(2500, 'CREDITS', 'en-US'), '2500 CREDITS');
    assert.equal(formatMoney('n/a', 'USD', 'en-US'), 'n/a USD');
  });

  it("knows each currency's exponent (the usage charts draw major units with it)", () => {
    assert.deepEqual(
      ['JPY', 'USD', 'KWD', 'CREDITS'].map((c) => minorUnitsOf(c, 'en-US')),
      [0, 2, 3, 0],
    );
  });
});
