import type { ComponentType } from 'react';
import { Accounts } from './pages/Accounts';
import { Audit } from './pages/Audit';
import { DeadLetters } from './pages/DeadLetters';
import { Events } from './pages/Events';
import { Orders } from './pages/Orders';
import { Overview } from './pages/Overview';
import { Payouts } from './pages/Payouts';
import { Products } from './pages/Products';
import { Tenants } from './pages/Tenants';
import { Transactions } from './pages/Transactions';
import { Usage } from './pages/Usage';
import { Webhooks } from './pages/Webhooks';
import type { PageProps } from './types';

/** The pages, in the navigation's order: the hash path, the link's label, what renders there. */
export const ROUTES: { path: string; label: string; Page: ComponentType<PageProps> }[] = [
  { path: '/overview', label: 'Overview', Page: Overview },
  { path: '/transactions', label: 'Transactions', Page: Transactions },
  { path: '/accounts', label: 'Accounts', Page: Accounts },
  { path: '/products', label: 'Products', Page: Products },
  { path: '/orders', label: 'Orders', Page: Orders },
  { path: '/payouts', label: 'Payouts', Page: Payouts },
  { path: '/dead-letters', label: 'Dead letters', Page: DeadLetters },
  { path: '/usage', label: 'Usage', Page: Usage },
  { path: '/events', label: 'Events', Page: Events },
  { path: '/webhooks', label: 'Webhooks', Page: Webhooks },
  { path: '/audit', label: 'Audit log', Page: Audit },
  { path: '/tenants', label: 'Tenants', Page: Tenants },
];
