import { IsNotEmpty, IsString, Matches } from 'class-validator';
import type { OrderRequested } from '#domain';

/** The `order.requested` command as the worker takes it. */
export class OrderRequestedMessage implements OrderRequested {
  @IsString()
  @Matches(/^ord_[0-9A-Z]{26}$/)
  orderId!: string;

  @IsString()
  @IsNotEmpty()
  tenantId!: string;
}
