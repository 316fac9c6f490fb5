import { Reason } from './fields.js';

/** The body of an intervention that needs only its reason. */
export class ReasonBody {
  @Reason()
  reason!: string;
}
