/**
 * The API's own documentation: the OpenAPI document at `/openapi.json` and Swagger UI at `/docs`.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { openApiDocument } from '../openapi.js';

const docsRoutes: FastifyPluginAsync = async (app: FastifyInstance) => {
  await app.register(swagger, { mode: 'static', specification: { document: openApiDocument() as never } });
  // Swagger UI's standalone layout has a top bar whose logo is an SVG with an inline <style>, which
  // the CSP (style-src 'self') blocks; the base layout has no top bar, so the page needs nothing
  // inline. The top bar's only other part, a box to load another document, is of no use here.
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { layout: 'BaseLayout' },
    theme: { title: 'Receivable Voucher Ledger API 应收凭证账本接口' },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => openApiDocument());
};

export default docsRoutes;
