import { Body, Controller, Get, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Answer, REPLAYED, location } from '../docs/operations.js';
import { ApiProblems, BODY_PROBLEMS, KEY_PROBLEMS, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { DataSource } from 'typeorm';
import {
  AccountNotFoundError,
  NotPurchasedError,
  ProductNotFoundError,
  hasIdPrefix,
  tallyRating,
} from '#domain';
import { ApiError, ValidationError } from '#http';
import {
  AccountRepository,
  ProductRepository,
  RatingRepository,
  productPosition,
  type ProductPosition,
} from '#persistence';
import { AllowCustomer, ownAccount } from '../auth/access.js';
import type { Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { decodeCursor, encodeCursor } from '../http/pagination.js';
import { Idempotent, idempotentWrite, type IdempotentWrite } from '../idempotency/idempotent.js';
import { ProductCache } from './product-cache.js';
import { presentProduct } from './product.presenter.js';
import {
  CreateProductDto,
  ListProductsQuery,
  PRODUCT_EXAMPLE,
  PRODUCT_ID,
  ProductPage,
  ProductParams,
  ProductView,
  StockChangeDto,
  UpdateProductDto,
} from './products.dto.js';
import { RATING_EXAMPLE, RateProductDto, RatingOut } from './ratings.dto.js';

const isProductId = (id: string) => hasIdPrefix(id, 'prod');

/** The catalog (docs/api.md, "Commerce: catalog and inventory"). */
@ApiTags('Products')
@Controller('v1/products')
export class ProductsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ProductRepository) private readonly products: ProductRepository,
    @Inject(RatingRepository) private readonly ratings: RatingRepository,
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
    @Inject(ProductCache) private readonly cache: ProductCache,
  ) {}

  @Post()
  @ApiOperation({
    operationId: 'createProduct',
    summary: 'Add a product to the catalog',
    description: 'The SKU is unique per tenant. `stock` is the units received so far (0 if absent).',
  })
  @Idempotent({ required: false })
  @ApiBody({
    type: CreateProductDto,
    examples: {
      product: {
        value: {
          sku: 'LAMP-RED-01',
          name: 'Red desk lamp',
          category: 'lighting',
          price: 2500,
          currency: 'USD',
          stock: 100,
        },
      },
    },
  })
  @Answer(201, ProductView, 'Created', {
    example: PRODUCT_EXAMPLE,
    headers: { ...location(`/v1/products/${PRODUCT_ID}`), ...REPLAYED },
  })
  @ApiProblems(...BODY_PROBLEMS, 'sku_taken', ...KEY_PROBLEMS)
  create(@CurrentTenant() tenant: Tenant, @Body() input: CreateProductDto): IdempotentWrite {
    return idempotentWrite(async (manager) => {
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
    });
  }

  @Patch(':id')
  @ApiOperation({
    operationId: 'updateProduct',
    summary: 'Change a product',
    description:
      'Only the fields given change. A new price applies to orders placed after it; placed orders keep theirs. An archived product cannot be ordered and leaves the default list.',
  })
  @ApiBody({
    type: UpdateProductDto,
    examples: { price: { value: { price: 2200 } }, archive: { value: { status: 'archived' } } },
  })
  @Answer(200, ProductView, 'The product as changed', { example: PRODUCT_EXAMPLE })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS, 'product_not_found')
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
  @ApiOperation({
    operationId: 'changeProductStock',
    summary: 'Receive or write off stock',
    description:
      "Under the product's row lock: `delta` units are added to (or taken from) what was received. On hand may never drop below what live orders reserve (409 `insufficient_stock`). The Idempotency-Key is required: a retried change must not count twice.",
  })
  @Idempotent({ required: true, because: 'a retried change must not count twice' })
  @ApiBody({
    type: StockChangeDto,
    examples: { receive: { value: { delta: 25 } }, writeOff: { value: { delta: -2 } } },
  })
  @Answer(200, ProductView, 'The product with its new stock', { example: PRODUCT_EXAMPLE, headers: REPLAYED })
  @ApiProblems(
    ...BODY_PROBLEMS,
    ...PATH_PROBLEMS,
    'idempotency_key_required',
    'product_not_found',
    'insufficient_stock',
    ...KEY_PROBLEMS,
  )
  changeStock(
    @CurrentTenant() tenant: Tenant,
    @Param() { id }: ProductParams,
    @Body() input: StockChangeDto,
  ): IdempotentWrite {
    return idempotentWrite(async (manager) => {
      if (!isProductId(id)) throw new ProductNotFoundError(id);
      const product = await this.products.adjustStock(manager, tenant.tenantId, id, input.delta);
      return { status: 200, body: presentProduct(product), headers: {} };
    });
  }

  /**
   * Under the product's row lock, so the product's count and total move in step with its ratings
   * however many accounts rate it at once.
   */
  @Post(':id/ratings')
  @AllowCustomer('ratings:write', ownAccount.body())
  @ApiOperation({
    operationId: 'rateProduct',
    summary: 'Rate a product (buyers only)',
    description:
      "One rating per account and product: 201 for the first, 200 when it replaces the account's earlier one. Only an account with a completed order for the product may rate it (422 `not_purchased`). The product's `rating` and `score` change at once.",
  })
  @Idempotent({ required: false })
  @ApiBody({
    type: RateProductDto,
    examples: {
      rating: { value: { accountId: RATING_EXAMPLE.accountId, rating: 5, comment: 'Warm light, sturdy.' } },
    },
  })
  @Answer(201, RatingOut, 'The first rating of this account for the product', {
    example: RATING_EXAMPLE,
    headers: REPLAYED,
  })
  @Answer(200, RatingOut, "The account's earlier rating, replaced", {
    example: RATING_EXAMPLE,
    headers: REPLAYED,
  })
  @ApiProblems(
    ...BODY_PROBLEMS,
    ...PATH_PROBLEMS,
    'product_not_found',
    'account_not_found',
    'not_purchased',
    ...KEY_PROBLEMS,
  )
  rate(
    @CurrentTenant() tenant: Tenant,
    @Param() { id }: ProductParams,
    @Body() input: RateProductDto,
  ): IdempotentWrite {
    return idempotentWrite(async (manager) => {
      const product = isProductId(id)
        ? (await this.products.lockMany(manager, tenant.tenantId, [id])).get(id)
        : undefined;
      if (!product) throw new ProductNotFoundError(id);
      if (!(await this.accounts.find(manager, tenant.tenantId, input.accountId))) {
        throw new AccountNotFoundError(input.accountId);
      }
      if (!(await this.ratings.hasPurchased(manager, tenant.tenantId, input.accountId, id))) {
        throw new NotPurchasedError(input.accountId, id);
      }
      const previous = await this.ratings.find(manager, id, input.accountId);
      const rating = await this.ratings.save(
        manager,
        tenant.tenantId,
        { productId: id, accountId: input.accountId, rating: input.rating, comment: input.comment ?? null },
        tallyRating(product.ratings, input.rating, previous?.rating ?? null),
      );
      return {
        status: previous ? 200 : 201,
        body: {
          ...rating,
          createdAt: rating.createdAt.toISOString(),
          updatedAt: rating.updatedAt.toISOString(),
        },
        headers: {},
      };
    });
  }

  @Get(':id')
  @AllowCustomer('products:read')
  @ApiOperation({ operationId: 'getProduct', summary: 'Read a product' })
  @Answer(200, ProductView, 'The product', { example: PRODUCT_EXAMPLE })
  @ApiProblems(...PATH_PROBLEMS, 'product_not_found')
  async get(@CurrentTenant() tenant: Tenant, @Param() { id }: ProductParams) {
    const product = isProductId(id)
      ? await this.cache.product(tenant.tenantId, id, async () => {
          const found = await this.products.find(this.dataSource.manager, tenant.tenantId, id);
          return found && presentProduct(found);
        })
      : null;
    // A storefront sees what is for sale: an archived product is the tenant's alone.
    if (!product || (tenant.customer && product.status === 'archived')) throw new ProductNotFoundError(id);
    return product;
  }

  @Get()
  @AllowCustomer('products:read')
  @ApiOperation({
    operationId: 'listProducts',
    summary: 'List and search the catalog',
    description:
      '`q` searches name, category and description (any word order, stemmed). `sort`: `ranking` (default: score, then newest), `newest`, `price_asc`, `price_desc`; ties are broken by id, so pages never skip or repeat. Archived products only with `status=archived`, and only with an API key (a customer token gets 403).',
  })
  @Answer(200, ProductPage, 'A page of products', { example: { data: [PRODUCT_EXAMPLE], nextCursor: null } })
  @ApiProblems(...QUERY_PROBLEMS)
  async list(@CurrentTenant() tenant: Tenant, @Query() query: ListProductsQuery) {
    const sort = query.sort ?? 'ranking';
    const limit = query.limit ?? 20;
    const after = parsePosition(
      decodeCursor(query.cursor, () => true),
      sort,
    );
    // A storefront sees what is for sale: archived products are the tenant's (an API key's) only.
    if (tenant.customer && query.status === 'archived') {
      throw new ApiError(403, 'forbidden', 'A customer access token lists active products only.');
    }
    const status = query.status ?? 'active';
    const shape = [status, query.category, query.q, sort, limit, query.cursor];
    return this.cache.list(tenant.tenantId, shape, async () => {
      const { rows, asOf } = await this.products.list(this.dataSource.manager, tenant.tenantId, {
        status,
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
    });
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
