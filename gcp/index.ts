/**
 * GCP Cloud Functions entry points (functions-framework). `api` serves every route of the HTTP API;
 * gcp/deploy.ts deploys it. See docs/deploy-gcp.md.
 */
import { http } from '@google-cloud/functions-framework';
import { createHttpHandler } from '../shared/http/handle.js';
import { functionsFrameworkHandler, routeBodyParserErrorsToUs } from '../shared/platform/functions-framework.js';
import { buildHttpDeps } from '../shared/runtime/deps.js';
import { cloudDiscovery } from '../shared/runtime/discovery.js';

export const api = functionsFrameworkHandler(() => createHttpHandler(buildHttpDeps({ env: process.env, configRequired: true, discovery: cloudDiscovery })));

routeBodyParserErrorsToUs(api);
http('api', api);
