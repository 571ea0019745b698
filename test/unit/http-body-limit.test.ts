import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../lib/core/limits.ts';
import { httpHandler } from '../../lib/runtime/http.ts';

/** Echoes the parsed body: a 413 shows the limit was checked before parsing. */
const echo = httpHandler(async ({ body }) => ({ status: 200, body: { received: typeof body } }), { public: true });
const call = (body: string, isBase64Encoded = false) => echo({ body, isBase64Encoded, headers: {}, pathParameters: null, queryStringParameters: null } as unknown as APIGatewayProxyEvent, {} as Context);

describe('request body limit', () => {
  const json = (bytes: number) => `"${'x'.repeat(bytes - 2)}"`;

  it('accepts a body of exactly 1 MiB and refuses one byte more with 413 before parsing it', async () => {
    expect(await call(json(MAX_BODY_BYTES))).toMatchObject({ statusCode: 200, body: '{"received":"string"}' });
    const refused = await call(`${json(MAX_BODY_BYTES)}!`);
    expect(refused.statusCode).toBe(413);
    expect(JSON.parse(refused.body)).toEqual({ error: { code: 'payload_too_large', message: 'body: the request body is 1048577 bytes; the limit is 1048576 bytes (1 MiB)' } });
  });

  it('counts bytes, not characters: 600k two-byte characters are over the limit', async () => {
    expect((await call(`"${'é'.repeat(600_000)}"`)).statusCode).toBe(413);
  });

  it('counts a base64-encoded body by its decoded size', async () => {
    const encode = (text: string) => Buffer.from(text).toString('base64');
    expect((await call(encode(json(MAX_BODY_BYTES)), true)).statusCode).toBe(200);
    expect((await call(encode(json(MAX_BODY_BYTES + 1)), true)).statusCode).toBe(413);
  });
});
