import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { CellDirectory } from '#persistence';

export const CELL_OPTIONS = 'CELL_OPTIONS';

/** This deployment's cell and the directory's URL; null when it is the only cell. */
export type CellOptions = { name: string; directoryUrl: string } | null;

/**
 * Registers the tenants and API keys this cell creates in the tenant → cell directory
 * (docs/scaling.md), so the edge routes their requests here. Called inside the cell's own
 * transaction, before it commits: a failed registration rolls the creation back, and a creation
 * that fails after it leaves only an entry that routes to a cell refusing the key (401).
 * Without cells configured it does nothing.
 */
@Injectable()
export class CellRegistration implements OnApplicationShutdown {
  private readonly directory: CellDirectory | null;

  constructor(@Inject(CELL_OPTIONS) private readonly cell: CellOptions) {
    this.directory = cell ? CellDirectory.open(cell.directoryUrl, 'tally-admin-directory', 2) : null;
  }

  /**
   * A tenant of this cell and one of its keys: its first with the tenant, or one added later (a
   * tenant the directory places in another cell is refused, and its key with it).
   */
  async register(tenantId: string, keyHash: Buffer): Promise<void> {
    if (!this.directory || !this.cell) return;
    await this.directory.register(this.cell.name, [tenantId], [{ tenantId, keyHash }]);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.directory?.close();
  }
}
