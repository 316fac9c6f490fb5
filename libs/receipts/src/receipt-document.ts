import PDFDocument from 'pdfkit';
import { formatMoney, type OrderFacts } from '#domain';

/** What a receipt shows: a completed order and the tenant that sold it. */
export interface Receipt {
  tenantName: string;
  order: Pick<OrderFacts, 'id' | 'items' | 'total' | 'currency' | 'transactionId'> & { completedAt: Date };
}

export const RECEIPT_CONTENT_TYPE = 'application/pdf';

/** The file name a receipt is served and attached under. */
export const receiptFilename = (orderId: string) => `receipt-${orderId}.pdf`;

const MARGIN = 50;
// Columns of the lines table: x and width, in points of an A4 page (595 wide).
const COLUMNS = {
  sku: { x: MARGIN, width: 90 },
  name: { x: 145, width: 170 },
  quantity: { x: 320, width: 40 },
  unitPrice: { x: 365, width: 85 },
  amount: { x: 455, width: 90 },
} as const;
type Column = keyof typeof COLUMNS;

const when = (at: Date) => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/**
 * The receipt as a PDF (pdfkit, the built-in Helvetica: nothing to embed). The same receipt gives
 * the same bytes: the document's dates (and the file id pdfkit derives from them) are the
 * order's completion, not the time of rendering — so the copy served and the copy emailed agree.
 */
export function renderReceipt({ tenantName, order }: Receipt): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    info: {
      Title: `Receipt for order ${order.id}`,
      Author: tenantName,
      Creator: 'Tally',
      Producer: 'Tally',
      CreationDate: order.completedAt,
      ModDate: order.completedAt,
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const money = (amount: bigint) => formatMoney(amount, order.currency);
  const bottom = doc.page.height - MARGIN;
  const row = (cells: Record<Column, string>, font: string) => {
    if (doc.y + 20 > bottom) doc.addPage();
    const y = doc.y;
    doc.font(font).fontSize(10);
    for (const [column, text] of Object.entries(cells) as [Column, string][]) {
      const { x, width } = COLUMNS[column];
      const numeric = column === 'quantity' || column === 'unitPrice' || column === 'amount';
      doc.text(text, x, y, { width, align: numeric ? 'right' : 'left', lineBreak: false, ellipsis: true });
    }
    doc.x = MARGIN;
    doc.y = y + 18;
  };

  doc.font('Helvetica-Bold').fontSize(20).text(tenantName, { lineBreak: false, ellipsis: true });
  doc.moveDown(0.3).font('Helvetica').fontSize(14).text('Receipt');
  doc.moveDown(1).fontSize(10);
  doc.text(`Order: ${order.id}`);
  doc.text(`Date: ${when(order.completedAt)}`);
  if (order.transactionId) doc.text(`Payment: ${order.transactionId}`);
  doc.moveDown(1.5);

  row(
    { sku: 'SKU', name: 'Item', quantity: 'Qty', unitPrice: 'Unit price', amount: 'Amount' },
    'Helvetica-Bold',
  );
  for (const item of order.items) {
    row(
      {
        sku: item.sku,
        name: item.name,
        quantity: item.quantity.toString(),
        unitPrice: money(item.unitPrice),
        amount: money(item.amount),
      },
      'Helvetica',
    );
  }
  doc
    .moveTo(MARGIN, doc.y)
    .lineTo(COLUMNS.amount.x + COLUMNS.amount.width, doc.y)
    .stroke();
  doc.y += 8;
  row({ sku: '', name: '', quantity: '', unitPrice: 'Total', amount: money(order.total) }, 'Helvetica-Bold');

  doc.end();
  return done;
}
