import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { currencyExponent, formatMoney } from '#domain';
import { receiptFilename, renderReceipt, type Receipt } from '#receipts';
import { pdfText } from '#test-support';

describe('money as people read it', () => {
  it('applies the currency’s minor unit, exactly, for any amount', () => {
    assert.equal(currencyExponent('USD'), 2);
    assert.equal(currencyExponent('JPY'), 0);
    assert.equal(currencyExponent('BHD'), 3);
    assert.equal(currencyExponent('CREDITS'), 0);
    assert.equal(formatMoney(620n, 'USD'), 'USD 6.20');
    assert.equal(formatMoney(5n, 'USD'), 'USD 0.05');
    assert.equal(formatMoney(0n, 'EUR'), 'EUR 0.00');
    assert.equal(formatMoney(123456789n, 'USD'), 'USD 1,234,567.89');
    assert.equal(formatMoney(1235n, 'JPY'), 'JPY 1,235');
    assert.equal(formatMoney(1234500n, 'BHD'), 'BHD 1,234.500');
    assert.equal(formatMoney(1200n, 'CREDITS'), 'CREDITS 1,200');
    assert.equal(formatMoney(-250n, 'USD'), '-USD 2.50');
    // Past 2^53: no float on the way.
    assert.equal(formatMoney(1_000_000_000_000_000_001n, 'USD'), 'USD 10,000,000,000,000,000.01');
  });
});

describe('a receipt as a PDF', () => {
  const receipt: Receipt = {
    tenantName: 'Acme Lamps',
    order: {
      id: 'ord_01JD3ZF6G7H8J9K0M1N2P3Q4R5',
      transactionId: 'txn_01JD3ZF6G7H8J9K0M1N2P3Q4R6',
      currency: 'USD',
      total: 123_456n,
      completedAt: new Date('2026-11-21T12:34:56.000Z'),
      items: [
        {
          productId: 'prod_1',
          sku: 'LAMP-RED-01',
          name: 'Red desk lamp',
          quantity: 2n,
          unitPrice: 61_000n,
          amount: 122_000n,
        },
        {
          productId: 'prod_2',
          sku: 'BULB-01',
          name: 'Bulb',
          quantity: 1n,
          unitPrice: 1_456n,
          amount: 1_456n,
        },
      ],
    },
  };

  it('names the tenant, the order, the date, each line and the total in the currency’s format', async () => {
    const pdf = await renderReceipt(receipt);
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    const text = await pdfText(pdf);
    for (const expected of [
      'Acme Lamps',
      'ord_01JD3ZF6G7H8J9K0M1N2P3Q4R5',
      '2026-11-21 12:34 UTC',
      'LAMP-RED-01',
      'Red desk lamp',
      'USD 610.00',
      'USD 1,220.00',
      'BULB-01',
      'USD 14.56',
      'USD 1,234.56',
    ]) {
      assert.ok(text.includes(expected), `"${expected}" in:\n${text}`);
    }
    assert.equal(receiptFilename(receipt.order.id), 'receipt-ord_01JD3ZF6G7H8J9K0M1N2P3Q4R5.pdf');
  });

  it('is the same bytes every time (dated by the order’s completion, not by the clock)', async () => {
    const first = await renderReceipt(receipt);
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(first.equals(await renderReceipt(receipt)));
  });

  it('runs onto further pages when the lines do not fit one', async () => {
    const items = Array.from({ length: 100 }, (_, i) => ({
      productId: `prod_${i}`,
      sku: `SKU-${i}`,
      name: `A product whose name is long enough to be cut short by the column ${i}`,
      quantity: 1n,
      unitPrice: 100n,
      amount: 100n,
    }));
    const pdf = await renderReceipt({ ...receipt, order: { ...receipt.order, items, total: 10_000n } });
    const text = await pdfText(pdf);
    assert.ok(text.includes('SKU-99'));
    assert.ok(text.includes('USD 100.00'));
  });
});
