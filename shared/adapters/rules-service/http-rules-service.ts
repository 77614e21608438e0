/**
 * ExternalRulesService over HTTP (docs/policy.md "External rules service"): one signed POST per
 * ask, through outboundFetch (a deadline for the whole exchange, same-host redirects only, the
 * resolved addresses checked against `outbound`).
 */
import type { OutboundSettings } from '../../domain/outbound.js';
import type { RulesAnswer, RulesRequest } from '../../domain/policy/external.js';
import type { ExternalRulesService } from '../../ports/external-rules.js';
import { outboundFetch } from '../outbound/fetch.js';
import { parseRulesAnswer } from './answer.js';
import { signedHeaders } from './signature.js';

export interface HttpRulesServiceOptions {
  name: string;
  url: URL;
  timeoutMs: number;
  /** The signing secret; may read it from afar (Secrets Manager), once. */
  secret: () => Promise<string>;
  outbound: OutboundSettings;
  /** The signature's timestamp (tests give a fixed one to check replay refusal). */
  now?: () => Date;
}

export class HttpRulesService implements ExternalRulesService {
  constructor(private readonly options: HttpRulesServiceOptions) {}

  async ask(request: RulesRequest): Promise<RulesAnswer> {
    const { name, url, timeoutMs, outbound } = this.options;
    const what = `rules service "${name}"`;
    const secret = await this.options.secret();
    const body = JSON.stringify(request);
    const now = this.options.now?.() ?? new Date();
    const answer = await outboundFetch(
      { url, method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...signedHeaders(secret, now, body) }, body, timeoutMs, what },
      outbound,
    );
    return parseRulesAnswer(what, answer.status, answer.body);
  }
}
