import { StreamableFile, applyDecorators } from '@nestjs/common';
import { ApiProduces, ApiResponse } from '@nestjs/swagger';
import { RECEIPT_CONTENT_TYPE } from './receipt-document.js';
import type { ReceiptFile } from './receipts.js';

type HeaderDocs = Record<string, { description?: string; schema?: object }>;

/** The 200 answer of a receipt route, as both the gateway and the admin document it. */
export const ApiReceiptResponse = (exampleOrderId: string, headers: HeaderDocs = {}) =>
  applyDecorators(
    ApiProduces(RECEIPT_CONTENT_TYPE),
    ApiResponse({
      status: 200,
      description: 'The receipt',
      content: { [RECEIPT_CONTENT_TYPE]: { schema: { type: 'string', format: 'binary' } } },
      headers: {
        ...headers,
        'Content-Disposition': {
          description: 'attachment, with the file name `receipt-<order id>.pdf`.',
          schema: { type: 'string', example: `attachment; filename="receipt-${exampleOrderId}.pdf"` },
        },
      },
    }),
  );

/** A receipt as the HTTP answer: the PDF, as an attachment under its file name. */
export const receiptAnswer = ({ filename, pdf }: ReceiptFile) =>
  new StreamableFile(pdf, {
    type: RECEIPT_CONTENT_TYPE,
    disposition: `attachment; filename="${filename}"`,
    length: pdf.length,
  });
