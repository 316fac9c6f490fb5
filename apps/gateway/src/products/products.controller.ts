import {
  Body,
  Controller,
  Get,
  Headers,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { ProductNotFoundError, hasIdPrefix } from '#domain';
import { ApiError, ValidationError } from '#http';
import { ProductRepository, productPosition, type ProductPosition } from '#persistence';
import { ApiKeyGuard, type Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { sendOutcome } from '../http/outcome.js';
import { decodeCursor, encodeCursor } from '../http/pagination.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { presentProduct } from './product.presenter.js';
import {
  CreateProductDto,
  ListProductsQuery,
  ProductParams,
  StockChangeDto,
  UpdateProductDto,
} from './products.dto.js';

const isProductId = (id: string) => hasIdPrefix(id, 'prod');

/** The catalog (docs/api.md, "Commerce: catalog and inventory"). */
@Controller('v1/products')
@UseGuards(ApiKeyGuard)
export class ProductsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ProductRepository) private readonly products: ProductRepository,
    @Inject(IdempotencyService) private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  async create(
    @CurrentTenant() tenant: Tenant,
    @Body() input: CreateProductDto,
    @Headers('idempotency-key') key: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const outcome = await this.idempotency.execute(
      {
        tenantId: tenant.tenantId,
        key,
        required: false,
        method: 'POST',
        path: request.url,
        body: request.body,
      },
      async (manager) => {
        const product = await this.products.insert(manager, tenant.tenantId, {
          sku: input.sku,
          name: input.name,
          description: input.description ?? null,
          category: input.category ?? null,
          price: input.price,
          currency: input.currency,
          stock: input.stock ?? 0n,
          metadata: input.metadata ?? {},
        });
        return {
          status: 201,
          body: presentProduct(product),
          headers: { Location: `/v1/products/${product.id}` },
        };
      },
    );
    sendOutcome(reply, outcome);
  }

  @Patch(':id')
  async update(
    @CurrentTenant() tenant: Tenant,
    @Param() { id }: ProductParams,
    @Body() input: UpdateProductDto,
  ) {
    if (!isProductId(id)) throw new ProductNotFoundError(id);
    return presentProduct(await this.products.update(this.dataSource.manager, tenant.tenantId, id, input));
  }

  /** Stock received or written off. A retried delta must not count twice: the key is required. */
  @Post(':id/stock')
  async changeStock(
    @CurrentTenant() tenant: Tenant,
    @Param() { id }: ProductParams,
    @Body() input: StockChangeDto,
    @Headers('idempotency-key') key: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    if (key === undefined) {
      throw new ApiError(
        400,
        'idempotency_key_required',
        'POST /v1/products/{id}/stock needs an Idempotency-Key header: a retried change must not count twice.',
      );
    }
    const outcome = await this.idempotency.execute(
      {
        tenantId: tenant.tenantId,
        key,
        required: true,
        method: 'POST',
        path: request.url,
        body: request.body,
      },
      async (manager) => {
        if (!isProductId(id)) throw new ProductNotFoundError(id);
        const product = await this.products.adjustStock(manager, tenant.tenantId, id, input.delta);
        return { status: 200, body: presentProduct(product), headers: {} };
      },
    );
    sendOutcome(reply, outcome);
  }

  @Get(':id')
  async get(@CurrentTenant() tenant: Tenant, @Param() { id }: ProductParams) {
    const product = isProductId(id)
      ? await this.products.find(this.dataSource.manager, tenant.tenantId, id)
      : null;
    if (!product) throw new ProductNotFoundError(id);
    return presentProduct(product);
  }

  @Get()
  async list(@CurrentTenant() tenant: Tenant, @Query() query: ListProductsQuery) {
    const sort = query.sort ?? 'ranking';
    const limit = query.limit ?? 20;
    const after = parsePosition(
      decodeCursor(query.cursor, () => true),
      sort,
    );
    const { rows, asOf } = await this.products.list(this.dataSource.manager, tenant.tenantId, {
      status: query.status ?? 'active',
      category: query.category,
      q: query.q,
      sort,
      after,
      limit: limit + 1,
    });
    const more = rows.length > limit;
    const shown = more ? rows.slice(0, limit) : rows;
    return {
      data: shown.map(presentProduct),
      nextCursor: more
        ? encodeCursor(formatPosition(productPosition(sort, shown[shown.length - 1], asOf)))
        : null,
    };
  }
}

const INSTANT = /^\d{4}-\d{2}-\d{2}[T ][0-9:.]{8,15}(Z|[+-]\d{2}(:?\d{2})?)$/;
const PRODUCT = /^prod_[0-9A-Z]{26}$/;

/** A position as cursor text: the sort's initial, then its keys, `~`-separated (short enough for any cursor). */
function formatPosition(p: ProductPosition): string {
  switch (p.sort) {
    case 'ranking':
      return ['r', p.asOf, p.score, p.createdAt, p.id].join('~');
    case 'newest':
      return ['n', p.createdAt, p.id].join('~');
    case 'price_asc':
    case 'price_desc':
      return [p.sort === 'price_asc' ? 'a' : 'd', p.price, p.id].join('~');
  }
}

/** A cursor's position, which must belong to the list's sort (a cursor of another sort is refused). */
function parsePosition(text: string | undefined, sort: ProductPosition['sort']): ProductPosition | undefined {
  if (text === undefined) return undefined;
  const parts = text.split('~');
  const id = parts[parts.length - 1];
  const ok =
    PRODUCT.test(id) &&
    (sort === 'ranking'
      ? parts.length === 5 &&
        parts[0] === 'r' &&
        INSTANT.test(parts[1]) &&
        /^[01]\.\d{4}$/.test(parts[2]) &&
        INSTANT.test(parts[3])
      : sort === 'newest'
        ? parts.length === 3 && parts[0] === 'n' && INSTANT.test(parts[1])
        : parts.length === 3 &&
          parts[0] === (sort === 'price_asc' ? 'a' : 'd') &&
          /^\d{1,19}$/.test(parts[1]));
  if (!ok) {
    throw new ValidationError([
      { field: 'cursor', message: 'is not a cursor this API gave out for this sort' },
    ]);
  }
  switch (sort) {
    case 'ranking':
      return { sort, asOf: parts[1], score: parts[2], createdAt: parts[3], id };
    case 'newest':
      return { sort, createdAt: parts[1], id };
    default:
      return { sort, price: parts[1], id };
  }
}
