import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { productView } from '#domain';
import { ProductRepository, type ProductRecord } from '#persistence';
import { Needs, RolesGuard } from '../auth/roles.guard.js';
import { ApiProblems, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { notFound } from '../http/errors.js';
import { pageOf } from '../http/page.js';
import { AdminProductView, ProductPage, ProductParams, ProductSearchQuery } from './products.dto.js';

const present = (p: ProductRecord) => ({ ...productView(p), tenantId: p.tenantId });

/** Operators' view of the tenants' catalogs: stock, sales and search, read-only. */
@ApiTags('Products')
@Controller('admin/api/products')
@UseGuards(RolesGuard)
export class ProductsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ProductRepository) private readonly products: ProductRepository,
  ) {}

  @Get()
  @Needs('viewer')
  @ApiOperation({
    summary: 'Search products',
    description:
      'Across tenants unless `tenantId` names one, newest first; `q` searches the text; `before` pages.',
  })
  @ApiOkResponse({ type: ProductPage })
  @ApiProblems(...QUERY_PROBLEMS)
  async search(@Query() q: ProductSearchQuery) {
    const limit = q.limit ?? 50;
    const rows = await this.products.search(this.dataSource.manager, {
      ...q,
      q: q.q?.trim() || undefined,
      status: q.status as ProductRecord['status'] | undefined,
      limit: limit + 1,
    });
    const page = pageOf(rows, limit);
    return { ...page, data: page.data.map(present) };
  }

  @Get(':id')
  @Needs('viewer')
  @ApiOperation({ summary: 'One product', description: 'With its stock, purchases and price.' })
  @ApiOkResponse({ type: AdminProductView })
  @ApiProblems(...PATH_PROBLEMS)
  async detail(@Param() { id }: ProductParams) {
    const product = await this.products.findAny(this.dataSource.manager, id);
    if (!product) throw notFound(`Product ${id}`);
    return present(product);
  }
}
