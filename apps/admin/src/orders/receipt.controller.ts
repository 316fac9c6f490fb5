import { Controller, Get, Inject, Param, StreamableFile, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { ApiReceiptResponse, Receipts, receiptAnswer } from '#receipts';
import { Needs, RolesGuard } from '../auth/roles.guard.js';
import { ApiProblems, PATH_PROBLEMS } from '../docs/problems.js';
import { PathId } from '../http/fields.js';

const ORDER_ID = 'ord_01JD3ZF6G7H8J9K0M1N2P3Q4R5';

export class ReceiptParams {
  @PathId(ORDER_ID)
  id!: string;
}

/** A completed order's receipt, of any tenant: the PDF the customer was sent. */
@ApiTags('Orders')
@Controller('admin/api/orders')
@UseGuards(RolesGuard)
export class ReceiptController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(Receipts) private readonly receipts: Receipts,
  ) {}

  @Get(':id/receipt')
  @Needs('viewer')
  @ApiOperation({
    summary: 'A completed order’s receipt (PDF)',
    description:
      'The same file the tenant’s API serves and the customer is emailed. Not completed: 409 `order_not_completed`.',
  })
  @ApiReceiptResponse(ORDER_ID)
  @ApiProblems(...PATH_PROBLEMS, 'order_not_found', 'order_not_completed')
  async receipt(@Param() { id }: ReceiptParams): Promise<StreamableFile> {
    const receipt = await this.receipts.of(this.dataSource.manager, id, null);
    return receiptAnswer(receipt);
  }
}
