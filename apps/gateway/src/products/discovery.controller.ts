import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { AccountNotFoundError, ProductNotFoundError, hasIdPrefix, productView } from '#domain';
import { AccountRepository, ProductRepository } from '#persistence';
import { AccountParams } from '../accounts/accounts.dto.js';
import { AllowCustomer, ownAccount } from '../auth/access.js';
import type { Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { Answer } from '../docs/operations.js';
import { ApiProblems, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { Discovery } from './discovery.js';
import {
  ALSO_BOUGHT_EXAMPLE,
  AlsoBoughtList,
  DiscoveryQuery,
  RECOMMENDATIONS_EXAMPLE,
  RecommendationList,
} from './discovery.dto.js';
import { ProductParams } from './products.dto.js';

/** "Bought together" and "recommended for you" (docs/api.md, Commerce: ratings and discovery). */
@ApiTags('Products')
@Controller('v1')
export class DiscoveryController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ProductRepository) private readonly products: ProductRepository,
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
    @Inject(Discovery) private readonly discovery: Discovery,
  ) {}

  @Get('products/:id/also-bought')
  @AllowCustomer('products:read')
  @ApiOperation({
    operationId: 'listAlsoBought',
    summary: 'Products bought together with this one',
    description:
      'The active products most often in the same completed order as this one, by that count, then score. Counted by a periodic job from order history (so a just-completed order shows after its next run).',
  })
  @Answer(200, AlsoBoughtList, 'Neighbours, most often bought together first', {
    example: ALSO_BOUGHT_EXAMPLE,
  })
  @ApiProblems(...QUERY_PROBLEMS, ...PATH_PROBLEMS, 'product_not_found')
  async alsoBought(
    @CurrentTenant() tenant: Tenant,
    @Param() { id }: ProductParams,
    @Query() query: DiscoveryQuery,
  ) {
    // Only whether it exists: the neighbours are scored below, this one need not be.
    const known = hasIdPrefix(id, 'prod')
      ? (await this.products.readMany(this.dataSource.manager, tenant.tenantId, [id])).has(id)
      : false;
    if (!known) throw new ProductNotFoundError(id);
    const items = await this.discovery.alsoBought(tenant.tenantId, id, query.limit ?? 10);
    return { data: items.map((i) => ({ product: productView(i.product), count: i.n })) };
  }

  @Get('accounts/:id/recommendations')
  @AllowCustomer('account:read', ownAccount.param())
  @ApiOperation({
    operationId: 'listRecommendations',
    summary: 'Products recommended for an account',
    description:
      "Active products the account has not bought, by the summed co-occurrence with what it has bought, then score. Empty until the account's completed orders have been counted.",
  })
  @Answer(200, RecommendationList, 'Recommendations, strongest first', { example: RECOMMENDATIONS_EXAMPLE })
  @ApiProblems(...QUERY_PROBLEMS, ...PATH_PROBLEMS, 'account_not_found')
  async recommendations(
    @CurrentTenant() tenant: Tenant,
    @Param() { id }: AccountParams,
    @Query() query: DiscoveryQuery,
  ) {
    const account = hasIdPrefix(id, 'acc')
      ? await this.accounts.find(this.dataSource.manager, tenant.tenantId, id)
      : null;
    if (!account) throw new AccountNotFoundError(id);
    const items = await this.discovery.recommendations(tenant.tenantId, id, query.limit ?? 10);
    return { data: items.map((i) => ({ product: productView(i.product), strength: i.n })) };
  }
}
