import 'reflect-metadata';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './app-process.js';

export interface Route {
  method: string;
  /** Nest's template, e.g. /v1/accounts/:id */
  path: string;
  controller: string;
  handler: string;
  /** The handler function itself, which carries its decorators' metadata. */
  target: object;
}

// Nest's RequestMethod enum, by value.
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'ALL', 'OPTIONS', 'HEAD', 'SEARCH'];

function controllerFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return controllerFiles(full);
    return entry.endsWith('.controller.ts') ? [full] : [];
  });
}

/** The routes one Nest controller class declares (method and full path, from its metadata). */
export function controllerRoutes(controller: unknown): Route[] {
  if (typeof controller !== 'function') return [];
  const base = Reflect.getMetadata('path', controller) as string | undefined;
  if (base === undefined) return [];
  const routes: Route[] = [];
  const proto = (controller as { prototype: Record<string, unknown> }).prototype;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const handler = proto[name];
    if (name === 'constructor' || typeof handler !== 'function') continue;
    const method = Reflect.getMetadata('method', handler) as number | undefined;
    const sub = Reflect.getMetadata('path', handler) as string | string[] | undefined;
    if (method === undefined || sub === undefined) continue;
    for (const p of Array.isArray(sub) ? sub : [sub]) {
      const joined = `/${[base, p]
        .map((s) => s.replace(/^\/+|\/+$/g, ''))
        .filter(Boolean)
        .join('/')}`;
      routes.push({
        method: METHODS[method],
        path: joined,
        controller: controller.name,
        handler: name,
        target: handler,
      });
    }
  }
  return routes;
}

/**
 * Every HTTP route an app declares, read from its controllers' Nest metadata (the sources, as the
 * tests load them) — so a test that walks them covers a route the day it is added.
 */
export async function routesOf(app: 'gateway' | 'admin'): Promise<Route[]> {
  const routes: Route[] = [];
  for (const file of controllerFiles(path.join(repoRoot, `apps/${app}/src`))) {
    const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const exported of Object.values(module)) routes.push(...controllerRoutes(exported));
  }
  return routes.sort((a, b) => (a.path + a.method).localeCompare(b.path + b.method));
}
