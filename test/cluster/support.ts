/** test/support/cluster.ts with this run's private build of the service (test/e2e-setup.ts). */
import path from 'node:path';
import { inject } from 'vitest';
import type { PgInstance } from '../../scripts/lib/pg-local.js';
import { makeCluster as make, type ClusterUnderTest } from '../support/cluster.js';
import { REPO_ROOT } from '../support/service-process.js';

export * from '../support/cluster.js';

const mainJs = (): string => inject('rvlMainJs') ?? path.join(REPO_ROOT, 'dist', 'src', 'main.js');

export const makeCluster = (pg: PgInstance, n: number, o: { hosts?: readonly PgInstance[] } = {}): Promise<ClusterUnderTest> =>
  make(pg, n, { ...o, mainJs: mainJs() });
