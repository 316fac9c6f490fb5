// Jest globalTeardown of the tiers that use PostgreSQL and RabbitMQ: drops the run's database and
// broker objects, lets go of the services lock.
export default async function globalTeardown() {
  const { endTestRun } = await import('../../../dist/test/support/jest/test-run.js');
  await endTestRun();
}
