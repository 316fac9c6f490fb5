import { randomBytes } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import request from 'supertest';
import { newId } from '#domain';
import { openDataSource } from './env.js';

export type OperatorRole = 'viewer' | 'operator' | 'admin';

/** Creates an operator straight in the run's database (as the schema owner) and signs it in. */
export async function signedInOperator(adminUrl: string, role: OperatorRole): Promise<string> {
  const { email, password } = await createOperator(role);
  return (await signIn(adminUrl, email, password)).accessToken;
}

/** An operator with a random email and password, in the run's database. */
export async function createOperator(role: OperatorRole): Promise<{ email: string; password: string }> {
  const email = `${role}-${randomBytes(4).toString('hex')}@tally.test`;
  const password = randomBytes(12).toString('hex');
  const db = await openDataSource(1);
  try {
    await db.query(`INSERT INTO operators (id, email, password_hash, role) VALUES ($1, $2, $3, $4)`, [
      newId('op'),
      email,
      await hash(password, { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 }),
      role,
    ]);
  } finally {
    await db.destroy();
  }
  return { email, password };
}

export async function signIn(
  adminUrl: string,
  email: string,
  password: string,
): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await request(adminUrl).post('/admin/api/auth/login').send({ email, password });
  if (res.status !== 200) throw new Error(`sign-in as ${email} failed: ${res.status} ${res.text}`);
  return res.body as { accessToken: string; refreshToken: string };
}
