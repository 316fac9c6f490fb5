import {
  Body,
  Controller,
  Get,
  Inject,
  Param,
  Post,
  Query,
  StreamableFile,
  UseInterceptors,
} from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { OrderNotFoundError, hasIdPrefix } from '#domain';
import { Correlation } from '#observability';
import { orderView } from '#domain';
import { OrderRepository } from '#persistence';
import { ApiReceiptResponse, Receipts, receiptAnswer } from '#receipts';
import { AllowCustomer, ownAccount, ownOrder } from '../auth/access.js';
import type { Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { Answer, REPLAYED, location } from '../docs/operations.js';
import {
  RATE_LIMIT_HEADERS,
  ApiProblems,
  BODY_PROBLEMS,
  KEY_PROBLEMS,
  PATH_PROBLEMS,
  QUERY_PROBLEMS,
} from '../docs/problems.js';
import { PageOf } from '../http/fields.js';
import { decodeCursor, pageOf } from '../http/pagination.js';
import { Idempotent, idempotentWrite, type IdempotentWrite } from '../idempotency/idempotent.js';
import { CancelOrder } from './cancel-order.use-case.js';
import {
  ListOrdersQuery,
  ORDER_EXAMPLE,
  ORDER_ID,
  OrderParams,
  OrderView,
  PlaceOrderDto,
} from './orders.dto.js';
import { InventoryLocks, PlaceOrder } from './place-order.use-case.js';

const isOrderId = (id: string) => hasIdPrefix(id, 'ord');
const OrderPage = PageOf(OrderView, 'OrderPage');

/** Orders paid from wallets (docs/api.md, "Commerce: orders"). */
@ApiTags('Orders')
@Controller('v1/orders')
export class OrdersController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(OrderRepository) private readonly orders: OrderRepository,
    @Inject(PlaceOrder) private readonly placeOrder: PlaceOrder,
    @Inject(CancelOrder) private readonly cancelOrder: CancelOrder,
    @Inject(Receipts) private readonly receipts: Receipts,
  ) {}

  @Post()
  @AllowCustomer('orders:write', ownAccount.body())
  @ApiOperation({
    operationId: 'placeOrder',
    summary: 'Place an order paid from a wallet',
    description:
      'In one database transaction, all or nothing: the products are locked, each line priced at today’s price, the stock reserved ' +
      '(never more than is available: 409 `out_of_stock` lists each short line) and a hold for the total placed on the account ' +
      '(402 `insufficient_funds`). The worker then captures the hold, the reserved units become sold and the order `completed` ' +
      '(`order.completed`); if the capture fails the order is `failed` and everything is given back.',
  })
  @Idempotent({ required: true })
  // Listed after @Idempotent, so it runs first: the Redis locks are taken before the idempotent
  // write's database transaction opens (replicas queue in Redis, not in PostgreSQL).
  @UseInterceptors(InventoryLocks)
  @ApiBody({
    type: PlaceOrderDto,
    examples: {
      order: {
        value: {
          accountId: 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C',
          items: [{ productId: ORDER_EXAMPLE.items[0].productId, quantity: 2 }],
          customerEmail: 'ana@example.com',
        },
      },
    },
  })
  @Answer(201, OrderView, 'Placed: stock reserved and the total held', {
    example: ORDER_EXAMPLE,
    headers: { ...location(`/v1/orders/${ORDER_ID}`), ...REPLAYED },
  })
  @ApiProblems(
    ...BODY_PROBLEMS,
    'idempotency_key_required',
    'account_not_found',
    'product_not_found',
    'out_of_stock',
    'inventory_contention',
    'insufficient_funds',
    'currency_mismatch',
    'product_archived',
    'account_frozen',
    ...KEY_PROBLEMS,
  )
  place(@CurrentTenant() tenant: Tenant, @Body() input: PlaceOrderDto): IdempotentWrite {
    return idempotentWrite(async (manager) => {
      const order = await this.placeOrder.execute(
        manager,
        tenant.tenantId,
        {
          accountId: input.accountId,
          items: input.items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
          customerEmail: input.customerEmail ?? null,
          metadata: input.metadata ?? {},
        },
        Correlation.id() ?? null,
      );
      return { status: 201, body: orderView(order), headers: { Location: `/v1/orders/${order.id}` } };
    });
  }

  @Post(':id/cancel')
  @AllowCustomer('orders:write', ownOrder())
  @ApiOperation({
    operationId: 'cancelOrder',
    summary: 'Cancel a reserved order',
    description:
      'While the order is `reserved`: its stock and its hold are given back and it becomes `cancelled` (`order.cancelled`). ' +
      'Once completed, failed or cancelled: 409 `order_not_cancellable` (refund a completed order with a `refund` of its `transactionId`).',
  })
  @Idempotent({ required: false })
  @Answer(200, OrderView, 'Cancelled', {
    example: { ...ORDER_EXAMPLE, status: 'cancelled' },
    headers: REPLAYED,
  })
  @ApiProblems(
    ...BODY_PROBLEMS,
    ...PATH_PROBLEMS,
    'order_not_found',
    'order_not_cancellable',
    ...KEY_PROBLEMS,
  )
  cancel(@CurrentTenant() tenant: Tenant, @Param() { id }: OrderParams): IdempotentWrite {
    return idempotentWrite(async (manager) => {
      if (!isOrderId(id)) throw new OrderNotFoundError(id);
      const order = await this.cancelOrder.execute(manager, tenant.tenantId, id);
      return { status: 200, body: orderView(order), headers: {} };
    });
  }

  @Get(':id')
  @AllowCustomer('orders:read', ownOrder())
  @ApiOperation({ operationId: 'getOrder', summary: 'Read an order' })
  @Answer(200, OrderView, 'The order', { example: ORDER_EXAMPLE })
  @ApiProblems(...PATH_PROBLEMS, 'order_not_found')
  async get(@CurrentTenant() tenant: Tenant, @Param() { id }: OrderParams) {
    const order = isOrderId(id) ? await this.orders.find(this.dataSource.manager, tenant.tenantId, id) : null;
    if (!order) throw new OrderNotFoundError(id);
    return orderView(order);
  }

  @Get(':id/receipt')
  @ApiOperation({
    operationId: 'getOrderReceipt',
    summary: 'Download a completed order’s receipt (PDF)',
    description:
      'The receipt of a `completed` order as a PDF: the tenant, the order id, the completion date, each line ' +
      '(SKU, name, quantity, unit price, amount) and the total, in the currency’s format. The same order always ' +
      'gives the same file. Before the order completes (and for a failed or cancelled one): 409 `order_not_completed`.',
  })
  @ApiReceiptResponse(ORDER_ID, RATE_LIMIT_HEADERS)
  @ApiProblems(...PATH_PROBLEMS, 'order_not_found', 'order_not_completed')
  async receipt(@CurrentTenant() tenant: Tenant, @Param() { id }: OrderParams): Promise<StreamableFile> {
    const receipt = await this.receipts.of(this.dataSource.manager, id, tenant.tenantId);
    return receiptAnswer(receipt);
  }

  @Get()
  @AllowCustomer('orders:read', ownAccount.filter())
  @ApiOperation({ operationId: 'listOrders', summary: 'List orders, newest first' })
  @Answer(200, OrderPage, 'A page of orders', { example: { data: [ORDER_EXAMPLE], nextCursor: null } })
  @ApiProblems(...QUERY_PROBLEMS)
  async list(@CurrentTenant() tenant: Tenant, @Query() query: ListOrdersQuery) {
    const limit = query.limit ?? 20;
    const rows = await this.orders.list(this.dataSource.manager, tenant.tenantId, {
      accountId: query.accountId,
      status: query.status,
      before: decodeCursor(query.cursor, isOrderId),
      limit: limit + 1,
    });
    return pageOf(rows, limit, (o) => o.id, orderView);
  }
}
